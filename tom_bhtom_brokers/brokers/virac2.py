"""VVV/VVVX VIRAC2 (Smith et al. 2025): near-infrared PSF photometry of the Galactic bulge and southern disc from a
decade of VISTA's VVV and VVVX surveys, Z Y J H Ks, with hundreds of Ks epochs per star.

Archive: ESO's catalogue TAP service (``https://archive.eso.org/tap_cat``), keyless; two ADQL queries: the nearest
source of the sources table within 1 arcsec that is not a duplicate (``duplicate``, the catalogue's flag for a
second entry of one star in overlapping tiles), then its time series by ``sourceid``. Cite Smith et al. 2025,
MNRAS 536, 3707 (VIRAC2), Minniti et al. 2010 (VVV), Saito et al. 2024 (VVVX), and ESO.

The table and column names are those of the VIRAC2 release as this adapter knows them (sources: ``sourceid``,
``ra``, ``dec``, ``duplicate``; time series: ``sourceid``, ``mjdobs``, ``filter``, ``hfad_mag``, ``hfad_emag``,
``phot_flag``, ``ambiguous_match``); no answer of the live service could be read here to confirm them, so the
tables are settings (``source_table``, ``timeseries_table``) and the ``--remote-data`` test and ``check_archives``
are the check. Photometry: ``hfad_mag`` +- ``hfad_emag`` (Vega), bands as written (``Ks(VIRAC2)``). A detection
with ``phot_flag`` other than 0 (a poor PSF fit) or an ``ambiguous_match`` (two sources matched to one detection) is
left out, as the catalogue's authors advise, and so is one without a magnitude or a positive error; each counted.
Times: ``mjdobs``, UTC MJD as the catalogue gives it. A finished survey's catalogue: read once.
"""
import astropy.units as u
import numpy as np

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Request
from tom_bhtom_brokers.brokers.catalogue import NearestObjectCone
from tom_bhtom_brokers.brokers.reading import filled
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.sources import DataSource
from tom_bhtom_brokers.transports.tap import read_votable

TAP_PATH = "/tap_cat"
SOURCE_TABLE, TIMESERIES_TABLE = "vvvx_virac_v2_sources", "vvvx_virac_v2_lc"
SOURCE_COLUMNS = ("sourceid", "ra", "dec", "duplicate")
TIMESERIES_COLUMNS = ("mjdobs", "filter", "hfad_mag", "hfad_emag", "phot_flag", "ambiguous_match")
TRUE_WORDS = ("true", "t", "1", "yes")


def truth(column):
    """A boolean column however the service writes it (a boolean, 0/1, 't'/'f', 'true'/'false')."""
    values = np.asarray(filled(column, False))
    if values.dtype.kind == "b":
        return values
    return np.isin(np.char.lower(np.char.strip(values.astype(str))), TRUE_WORDS)


class Virac2Broker(NearestObjectCone, BHTOMBroker):
    """VIRAC2 Z Y J H Ks time series of the non-duplicate source nearest to the target."""

    source = DataSource.VIRAC2
    default_url = "https://archive.eso.org"
    match_radius = 1 * u.arcsec
    cadence = None  # VVV/VVVX ended in 2023: read once, again only with --force
    telescope = "VISTA 4.1m"
    instrument = "VIRCAM"
    verbose_name = "VVV/VVVX VIRAC2 (ESO catalogue TAP)"
    citation = "Smith et al. 2025, MNRAS 536, 3707"
    probe = {"name": "Gaia17bcu", "ra": 266.54918, "dec": -25.62171}
    tap_path, object_columns, object_noun = TAP_PATH, SOURCE_COLUMNS, "VIRAC2 source (not a duplicate)"
    tally_notes = {"flagged": "{n} VIRAC2 detection(s) with phot_flag set left out",
                   "ambiguous": "{n} VIRAC2 detection(s) with an ambiguous match left out",
                   "no measurement": "{n} VIRAC2 detection(s) without a magnitude or error left out"}

    @property
    def object_table(self):
        return str(self.setting("source_table", SOURCE_TABLE))

    def usable_objects(self, objects):
        return ~truth(objects["duplicate"])

    def query(self, located):
        source_id = int(located.identifier)  # an integer from the catalogue's own table: nothing else reaches ADQL
        table = str(self.setting("timeseries_table", TIMESERIES_TABLE))
        return [Request(TAP_PATH, adql=f"SELECT {', '.join(TIMESERIES_COLUMNS)} FROM {table} "
                                       f"WHERE sourceid = {source_id}")]

    def parse(self, payload, target):
        table = read_votable(payload, TIMESERIES_COLUMNS, "VIRAC2 time series")
        band = self.known_bands(table["filter"])
        mag, error = (filled(table[name], np.nan).astype(float) for name in ("hfad_mag", "hfad_emag"))
        with np.errstate(invalid="ignore"):
            measured = np.isfinite(mag) & np.isfinite(error) & (error > 0)
        flagged = measured & (filled(table["phot_flag"], 1).astype(int) != 0)
        ambiguous = measured & ~flagged & truth(table["ambiguous_match"])
        good = measured & ~flagged & ~ambiguous
        lightcurve = Lightcurve.from_columns(
            mjd=filled(table["mjdobs"], np.nan).astype(float)[good], brightness=mag[good], brightness_error=error[good],
            filter=band[good].astype(object), unit="mag", telescope=self.telescope, instrument=self.instrument,
            extras={"time_system": "MJD (UTC), as the catalogue gives it (mjdobs)",
                    "magnitude_system": "VIRAC2 hfad_mag (Vega)"})
        lightcurve.tallies = {"flagged": int(flagged.sum()), "ambiguous": int(ambiguous.sum()),
                              "no measurement": int((~measured).sum())}
        return lightcurve
