"""What the TAP catalogue adapters share (SkyMapper, NSC, VIRAC2): the nearest object of an object table within the
cone, found by one ADQL query, its measurements asked by its identifier in a second, their bands checked."""
import numpy as np

from tom_bhtom_brokers.brokers.reading import filled, nearest_row
from tom_bhtom_brokers.exceptions import BrokerParseError, NoData
from tom_bhtom_brokers.sources import SURVEY
from tom_bhtom_brokers.steps import Located, Request
from tom_bhtom_brokers.transports.tap import cone_adql, read_votable


class NearestObjectCone:
    """``locate_by_cone`` of a catalogue on a TAP service (a mixin of an adapter): the object table's nearest row."""

    #: the TAP service's path under the base URL
    tap_path = "/tap"
    #: the object table and its identifier, RA and Dec columns (in that order; more may follow, e.g. a flag that
    #: ``usable_objects`` reads)
    object_table = ""
    object_columns = ("id", "ra", "dec")
    #: what the status line calls an object ("SkyMapper DR4 object")
    object_noun = "object"

    def locate_by_cone(self, target):
        self.require_position(target)
        identifier, ra, dec = self.object_columns[:3]
        objects = self.ask(Request(self.tap_path, adql=cone_adql(self.object_columns, self.object_table, ra, dec,
                                                                 target, self.radius)),
                           lambda payload: read_votable(payload, self.object_columns, f"{self.name} object table"))
        objects = objects[self.usable_objects(objects)] if len(objects) else objects
        if len(objects) == 0:
            raise NoData(self.radius_note(self.object_noun))
        nearest, note = nearest_row(filled(objects[ra], np.nan), filled(objects[dec], np.nan), target)
        return Located(target, self.object_identifier(objects[identifier][nearest]), note=note)

    def usable_objects(self, objects):
        """Which rows of the cone's objects may be chosen (a boolean mask; all by default: VIRAC2 skips its
        duplicates)."""
        return np.ones(len(objects), dtype=bool)

    def known_bands(self, column):
        """The stripped filter names of a measurement table's column, refused when one is not among the archive's
        declared filters (a band the plot and the bandpass convention do not know)."""
        band = np.char.strip(np.asarray(filled(column, ""), dtype=str))
        unknown = sorted(set(band.tolist()) - set(SURVEY[self.source].filters))
        if unknown:
            raise BrokerParseError(f"unexpected {self.name} filter(s) {unknown}")
        return band

    def object_identifier(self, value):
        """The identifier the measurements are asked by, checked: it goes into the next query."""
        return str(int(value))
