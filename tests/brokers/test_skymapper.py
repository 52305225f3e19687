"""SkyMapper DR4 through its TAP service, on synthetic tables in the archive's documented columns (no real answer
was found: tests/data/skymapper/PROVENANCE.md); the expectations are counted from the files with pandas, the cuts
written out again here."""
import pandas as pd
import pytest
from astropy.coordinates import SkyCoord

from tests.brokers.contract import BrokerContract, stored, update
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.skymapper import SkymapperBroker
from tom_bhtom_brokers.models import LightcurveUpdate

RA, DEC = 90.26701, -18.96770
TABLE = pd.read_csv(DATA_DIR / "skymapper" / "photometry_100012345.csv")
MEASURED = TABLE["mag_psf"].notna() & (TABLE["e_mag_psf"] > 0)
FLAGGED = (TABLE["flags"] >= 4) | (TABLE["nimaflags"] >= 5)
GOOD = TABLE[MEASURED & ~FLAGGED]
MIDDLE = GOOD["date"] + GOOD["exp_time"] / 2 / 86400


class TestSkymapperContract(BrokerContract):
    broker_class = SkymapperBroker
    covered_target = {"name": "Gaia20fnr", "ra": RA, "dec": DEC}
    uncovered_target = {"name": "empty sky", "ra": 10.0, "dec": -60.0}
    expected_path = "/public/tap/sync"
    query_path = "/public/tap"
    expected_params = {"QUERY": "FROM dr4.photometry AS p JOIN dr4.images AS i ON p.image_id = i.image_id "
                                "WHERE p.object_id = 100012345"}
    expected_points = len(GOOD)
    expected_filters = ("u", "v", "g", "r", "i", "z")
    expected_mjd_range = (MIDDLE.min(), MIDDLE.max())
    fault_path = "/public/tap/"


@pytest.mark.django_db
def test_the_nearest_object_its_detections_at_mid_exposure_and_what_was_left_out(archive, make_target):
    target = make_target("Gaia20fnr", RA, DEC)
    outcome = update(target, SkymapperBroker)
    assert outcome.status == "ok", outcome.message
    row = LightcurveUpdate.objects.get(target=target, source="SkyMapper")
    assert row.matched_identifier == "100012345"  # the nearer of the cone's two objects
    objects = pd.read_csv(DATA_DIR / "skymapper" / "master_Gaia20fnr.csv")
    separation = SkyCoord(objects["raj2000"], objects["dej2000"], unit="deg").separation(
        SkyCoord(RA, DEC, unit="deg")).arcsec.min()
    assert f"nearest source {separation:.2f} arcsec away, 1 other object(s) in the cone" in outcome.message
    flagged, unmeasured = int((MEASURED & FLAGGED).sum()), int((~MEASURED).sum())
    assert (flagged, unmeasured) == (2, 1)
    assert f"{flagged} SkyMapper detection(s) failing flags/nimaflags left out" in outcome.message
    assert f"{unmeasured} SkyMapper detection(s) without a magnitude or error left out" in outcome.message
    points = {p.value["image_id"]: p for p in stored(target, "SkyMapper")}
    assert set(points) == set(GOOD["image_id"].astype(str))
    for _, detection in GOOD.iterrows():
        point = points[str(detection["image_id"])]
        assert point.value["time_original"] == pytest.approx(detection["date"], abs=1e-9)
        # a 100 s exposure's middle is 50 s after its start; the Shallow Survey's 5 s, 2.5 s
        start = pd.Timestamp("1858-11-17", tz="UTC") + pd.to_timedelta(detection["date"], unit="D")
        assert abs((point.timestamp - start).total_seconds() - detection["exp_time"] / 2) < 1e-3
        assert point.brightness == pytest.approx(detection["mag_psf"])
        assert point.bandpass == f"{detection['filter']}(SkyMapper)"
