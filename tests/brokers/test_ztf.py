import pandas as pd
import pytest

from tests.brokers.contract import BrokerContract, stored, update
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.ztf import ZtfBroker
from tom_bhtom_brokers.transports.http import Response
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.target_info import TargetInfo

RA, DEC = 90.26701, -18.96770
FIXTURE = pd.read_csv(DATA_DIR / "ztf" / "cone_Gaia20fnr.csv", dtype={"oid": str})


class TestZtfContract(BrokerContract):
    broker_class = ZtfBroker
    covered_target = {"name": "Gaia20fnr", "ra": RA, "dec": DEC}
    uncovered_target = {"name": "empty sky", "ra": 0.0, "dec": 0.0}
    expected_path = "/cgi-bin/ZTF/nph_light_curves"
    expected_params = {"POS": "CIRCLE 90.2670100 -18.9677000 0.00041667", "BAD_CATFLAGS_MASK": "32768",
                       "FORMAT": "CSV"}
    expected_points = len(FIXTURE)
    expected_filters = ("g", "r", "i")
    expected_mjd_range = (FIXTURE["mjd"].min(), FIXTURE["mjd"].max())
    fault_path = "/cgi-bin/ZTF/"


@pytest.mark.django_db
def test_every_oid_is_kept_and_recorded_and_flags_stored(archive, make_target):
    target = make_target("Gaia20fnr", RA, DEC, **{"ZTF name": "ZTF20abcdefg"})
    outcome = update(target, ZtfBroker)
    assert outcome.status == "ok"
    points = stored(target, "ZTF")
    per_band = FIXTURE["filtercode"].map({"zg": "g(ZTF)", "zr": "r(ZTF)", "zi": "i(ZTF)"}).value_counts()
    for bandpass, count in per_band.items():
        assert points.filter(bandpass=bandpass).count() == count
    assert {p.value["oid"] for p in points} == set(FIXTURE["oid"])
    assert points.filter(value__catflags=4).count() == 1
    row = LightcurveUpdate.objects.get(target=target, source="ZTF")
    assert row.matched_identifier == "ZTF DR oid " + ",".join(sorted(FIXTURE["oid"].unique()))
    # the DR oids are not the alert-stream name: the user's "ZTF name" is left alone
    assert target.targetextra_set.get(key="ZTF name").value == "ZTF20abcdefg"
    first = points.order_by("timestamp").first()
    assert (first.telescope, first.instrument, first.exposure_time) == ("Palomar P48", "ZTF", 30.0)


def test_bad_epochs_are_dropped_and_hex_flags_read():
    text = (DATA_DIR / "ztf" / "cone_Gaia20fnr.csv").read_text().splitlines()
    text[1] = text[1].replace(",0,zr,", ",0x8000,zr,")  # bit 15 set, written in hex
    text[2] = text[2].replace(",0,zr,", ",0x4,zr,")
    lightcurve = ZtfBroker().parse_response(Response("http://x", 200, {}, ("\n".join(text) + "\n").encode()),
                                            TargetInfo(1, "x", RA, DEC))
    assert len(lightcurve) == len(FIXTURE) - 1
    assert sorted(lightcurve.frame["catflags"].unique().tolist()) == [0, 4]


@pytest.mark.django_db
def test_irsa_400_usage_fault_is_a_clear_error(archive, make_target):
    target = make_target("awkward cone", 200.0, -45.0)
    outcome = update(target, ZtfBroker)
    assert outcome.status == "error" and "HTTP 400" not in outcome.message
    assert "UsageFault" in outcome.message and outcome.url.startswith(archive.url)
    assert len([r for r in archive.requests if "ZTF" in r["path"]]) == 1  # a 400 is not retried
