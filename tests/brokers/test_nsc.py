"""NSC DR2 through Astro Data Lab's TAP, on synthetic tables in the columns public users query (no real answer was
found: tests/data/nsc/PROVENANCE.md); the expectations are counted from the files with pandas, the cuts written out
again here."""
import pandas as pd
import pytest

from tests.brokers.contract import BrokerContract, stored, update
from tests.sample_archive.server import DATA_DIR, as_votable
from tom_bhtom_brokers.brokers.nsc import NscBroker
from tom_bhtom_brokers.exceptions import BrokerParseError
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.target_info import TargetInfo
from tom_bhtom_brokers.transports.http import Response

RA, DEC = 90.26701, -18.96770
TABLE = pd.read_csv(DATA_DIR / "nsc" / "meas_187654_1234.csv")
MEASURED = (TABLE["mag_auto"] < 50) & (TABLE["magerr_auto"] > 0) & (TABLE["magerr_auto"] < 9)
FLAGGED = TABLE["flags"] >= 4
GOOD = TABLE[MEASURED & ~FLAGGED]


class TestNscContract(BrokerContract):
    broker_class = NscBroker
    covered_target = {"name": "Gaia20fnr", "ra": RA, "dec": DEC}
    uncovered_target = {"name": "empty sky", "ra": 10.0, "dec": -60.0}
    expected_path = "/tap/sync"
    query_path = "/tap"
    expected_params = {"QUERY": "FROM nsc_dr2.meas WHERE objectid = '187654_1234'"}
    expected_points = len(GOOD)
    expected_filters = tuple(sorted(set(GOOD["filter"])))
    expected_mjd_range = (GOOD["mjd"].min(), GOOD["mjd"].max())
    fault_path = "/tap/"


@pytest.mark.django_db
def test_sentinels_and_flags_are_left_out_and_each_point_names_its_instrument(archive, make_target):
    target = make_target("Gaia20fnr", RA, DEC)
    outcome = update(target, NscBroker)
    assert outcome.status == "ok", outcome.message
    assert LightcurveUpdate.objects.get(target=target, source="NSC").matched_identifier == "187654_1234"
    assert (int((MEASURED & FLAGGED).sum()), int((~MEASURED).sum())) == (1, 1)
    assert "1 NSC measurement(s) with flags 4 or more left out" in outcome.message
    assert "1 NSC measurement(s) without a magnitude (99.99) left out" in outcome.message
    points = {p.value["exposure"]: p for p in stored(target, "NSC")}
    assert set(points) == set(GOOD["exposure"])
    for _, row in GOOD.iterrows():
        point = points[row["exposure"]]
        assert point.instrument == ("DECam" if row["exposure"].startswith("c4d_") else "Mosaic3")
        assert point.brightness == pytest.approx(row["mag_auto"]) and point.bandpass == f"{row['filter']}(NSC)"


def test_an_object_id_of_another_shape_never_reaches_the_second_query(monkeypatch):
    """The id the cone found goes into the next ADQL query: an answer cannot inject one."""
    broker = NscBroker()
    answer = b"id,ra,dec\n1' OR '1'='1,90.26701,-18.9677\n"
    monkeypatch.setattr(broker, "send", lambda req: Response("https://datalab/tap", 200, {}, as_votable(answer)))
    with pytest.raises(BrokerParseError, match="not <healpix>_<number>"):
        broker.locate_by_cone(TargetInfo(None, "x", RA, DEC))
