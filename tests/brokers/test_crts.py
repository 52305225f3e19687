import pandas as pd
import pytest

from tests.brokers.contract import BrokerContract, stored, update
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.crts import CrtsBroker
from tom_bhtom_brokers.exceptions import BrokerParseError
from tom_bhtom_brokers.transports.http import Response
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.target_info import TargetInfo

RA, DEC = 90.26701, -18.96770
CSV = pd.read_csv(DATA_DIR / "crts" / "result_web_fileQ7tx2K.csv", dtype={"MasterID": str})
NEAREST = CSV[CSV["MasterID"] == "1118084012345"]
CGI = "/cgi-bin/getcssconedb_release_img.cgi"


class TestCrtsContract(BrokerContract):
    broker_class = CrtsBroker
    covered_target = {"name": "Gaia20fnr", "ra": RA, "dec": DEC}
    uncovered_target = {"name": "outside the survey", "ra": 283.61614, "dec": 0.81912}
    expected_path = "/DataRelease/upload/result_web_fileQ7tx2K.csv"
    expected_points = len(NEAREST)
    expected_filters = ("CL",)
    expected_mjd_range = (NEAREST["MJD"].min(), NEAREST["MJD"].max())
    fault_path = "/DataRelease/upload/"


@pytest.mark.django_db
def test_the_cone_request_and_the_nearest_object(archive, make_target):
    target = make_target("Gaia20fnr", RA, DEC)
    outcome = update(target, CrtsBroker)
    assert outcome.status == "ok", outcome.message
    page = next(r for r in archive.requests if r["path"] == CGI)
    assert page["params"] == {"RA": "90.267010", "Dec": "-18.967700", "Rad": "0.1000", "DB": "photcat",
                              "OUT": "csv", "SHORT": "short"}
    row = LightcurveUpdate.objects.get(target=target, source="CRTS")
    assert row.matched_identifier == "1118084012345"
    points = stored(target, "CRTS")
    assert {p.value["master_id"] for p in points} == {"1118084012345"}
    assert points.filter(value__blend=1).count() == (NEAREST["Blend"] == 1).sum() == 2
    # how many other objects the cone held is the answer's, said in the status line, not kept in the points
    assert "2 other object(s) in the cone" in outcome.message and "other_objects_in_cone" not in points[0].value
    assert set(points.values_list("bandpass", flat=True)) == {"CL(CRTS)"}


@pytest.mark.django_db
def test_covered_but_empty_is_no_data(archive, make_target):
    target = make_target("FU Ori", 88.0717, 9.0680)
    outcome = update(target, CrtsBroker)
    assert outcome.status == LightcurveUpdate.Status.NO_DATA
    assert "no Catalina object within 6 arcsec" in outcome.message
    assert [r["path"] for r in archive.requests] == [CGI]


@pytest.mark.django_db
def test_not_covered_says_so(archive, make_target):
    target = make_target("outside", 283.61614, 0.81912)
    outcome = update(target, CrtsBroker)
    assert outcome.status == LightcurveUpdate.Status.NO_DATA and "not covered" in outcome.message


@pytest.mark.django_db
def test_an_error_page_instead_of_the_result_page_is_an_error(archive, make_target):
    target = make_target("Gaia20fnr", RA, DEC)
    assert update(target, CrtsBroker).status == "ok"
    before = stored(target, "CRTS").count()
    archive.add_fault(path=CGI, kind="html")
    outcome = update(target, CrtsBroker)
    assert outcome.status == "error" and "links to no CSV file" in outcome.message
    assert outcome.url.startswith(archive.url + CGI)
    assert stored(target, "CRTS").count() == before


def test_a_cut_csv_row_is_an_error_not_a_partial_light_curve():
    lines = (DATA_DIR / "crts" / "result_web_fileQ7tx2K.csv").read_text().splitlines()
    broken = "\n".join(lines[:10] + [lines[10][:20]] + lines[11:]) + "\n"
    with pytest.raises(BrokerParseError, match="empty fields"):
        CrtsBroker().parse_response(Response("http://x", 200, {}, broken.encode()), TargetInfo(1, "x", RA, DEC))
