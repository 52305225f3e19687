"""The Throwaway archive: a test's archive of V magnitudes, one CSV per object (``/lightcurve.csv?id=TW0001``:
``mjd,mag,err``, MJD in UTC). Cite: nobody; it exists for tests/test_throwaway_archive.py."""
from tom_bhtom_brokers.brokers.base import BHTOMBroker, Request
from tom_bhtom_brokers.brokers.reading import number, read_csv
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.sources import DataSource


class ThrowawayBroker(BHTOMBroker):
    """V magnitudes of a Throwaway object, by its Throwaway id."""

    source = DataSource.THROWAWAY
    default_url = "http://127.0.0.1:9"
    located_by = ("name",)
    name_hint = "a Throwaway id, e.g. TW0001"
    telescope = "Throwaway"
    citation = "a throwaway test archive"
    probe = {"name": "TW0001", "survey_names": {"Throwaway id": "TW0001"}}

    def query(self, located):
        return [Request("/lightcurve.csv", params={"id": located.identifier})]

    def parse(self, payload, target):
        rows = read_csv(payload, ("mjd", "mag", "err"), "Throwaway light curve")
        return Lightcurve.from_columns(mjd=number(rows["mjd"]), brightness=number(rows["mag"]),
                                       brightness_error=number(rows["err"]), filter="V", unit="mag",
                                       telescope=self.telescope)
