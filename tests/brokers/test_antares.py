import io
import json

import pandas as pd
import pytest

from tests.brokers.contract import BrokerContract, stored, update
from tests.data.make_fixtures import ANTARES_GAIA19DKE, ANTARES_GAIA20FNR
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.antares import AntaresBroker
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.target_info import TargetInfo

RA, DEC = 90.26701, -18.96770
LOCUS, ZTF_NAME = ANTARES_GAIA20FNR
DOCUMENT = json.loads((DATA_DIR / "antares" / f"locus_{LOCUS}.json").read_text())["data"]
ROWS = pd.read_csv(io.StringIO(DOCUMENT["lightcurve"]))
ZTF_ROWS = ROWS[ROWS["alert_id"].str.startswith("ztf_")]


class TestAntaresContract(BrokerContract):
    broker_class = AntaresBroker
    covered_target = {"name": "Gaia20fnr", "ra": RA, "dec": DEC}
    uncovered_target = {"name": "empty sky", "ra": 0.0, "dec": 0.0}
    expected_path = f"/v2/loci/{LOCUS}"
    expected_points = len(ZTF_ROWS)
    expected_filters = ("g", "r", "i")
    expected_mjd_range = (ZTF_ROWS["ant_mjd"].min(), ZTF_ROWS["ant_mjd"].max())
    fault_path = "/v2/loci"


@pytest.mark.django_db
def test_the_cone_takes_the_nearest_locus_and_records_its_ztf_name(archive, make_target):
    target = make_target("Gaia20fnr", RA, DEC)
    outcome = update(target, AntaresBroker)
    assert outcome.status == "ok", outcome.message
    listing = archive.requests[0]
    query = json.loads(listing["params"]["elasticsearch_query"])["query"]["bool"]["filter"]["sky_distance"]
    assert query == {"distance": "0.00041667 degree", "htm16": {"center": "90.2670100 -18.9677000"}}
    # the listing names a neighbour 1.2" away first; the locus at the target is the one read
    assert archive.requests[-1]["path"] == f"/v2/loci/{LOCUS}"
    assert target.targetextra_set.get(key="ZTF name").value == ZTF_NAME
    row = LightcurveUpdate.objects.get(target=target, source="ANTARES")
    assert row.matched_identifier == ZTF_NAME
    points = stored(target, "ANTARES")
    limits = points.filter(brightness__isnull=True)
    assert limits.count() == (ZTF_ROWS["ant_survey"] == 2).sum() > 0
    assert all(p.limit is not None for p in limits)
    point = points.exclude(brightness__isnull=True).first()
    assert point.value["locus_id"] == LOCUS and point.value["alert_id"].startswith("ztf_candidate:")
    assert point.value["other_survey_alerts_left_out"] == 3
    # the next update goes by the recorded name, and finds nothing new
    again = update(target, AntaresBroker)
    assert again.status == "ok" and again.added == 0
    assert ZTF_NAME in archive.requests[-2]["params"]["elasticsearch_query"]


@pytest.mark.django_db
def test_by_ztf_name_and_the_older_list_of_rows_layout(archive, make_target):
    locus, name = ANTARES_GAIA19DKE
    target = make_target("Gaia19dke", 304.7108, 55.1547, **{"ZTF name": name})
    outcome = update(target, AntaresBroker)
    assert outcome.status == "ok", outcome.message
    term = json.loads(archive.requests[0]["params"]["elasticsearch_query"])["query"]["bool"]["filter"]["term"]
    assert term == {"properties.ztf_object_id": name}
    rows = json.loads((DATA_DIR / "antares" / f"locus_{locus}.json").read_text())["data"]["lightcurve"]
    assert isinstance(rows, list) and stored(target, "ANTARES").count() == len(rows)
    assert set(stored(target, "ANTARES").values_list("bandpass", flat=True)) <= {"g(ANTARES)", "r(ANTARES)",
                                                                                   "i(ANTARES)"}


@pytest.mark.django_db
def test_a_name_antares_does_not_know_and_a_malformed_one(archive, make_target):
    target = make_target("quiet", 10.0, 10.0, **{"ZTF name": "ZTF21aaaaaaa"})
    outcome = update(target, AntaresBroker)
    assert outcome.status == LightcurveUpdate.Status.NO_DATA and "ZTF21aaaaaaa" in outcome.message
    archive.reset()
    wrong = make_target("typo", 10.0, 10.0, **{"ZTF name": "ZTF21AAA"})
    outcome = update(wrong, AntaresBroker)
    assert outcome.status == LightcurveUpdate.Status.INVALID_NAME and "ZTF name" in outcome.message
    assert archive.requests == []


@pytest.mark.parametrize("document, reason", [
    ({"data": {"id": "ANT1"}}, "no 'lightcurve'"),
    ({"data": {"id": "ANT1", "lightcurve": "time,alert_id\n1,ztf_candidate:1\n"}}, "no column(s)"),
    ({"data": {"id": "ANT1", "lightcurve": 17}}, "neither CSV text"),
    ([1, 2], "not a JSON object"),
])
def test_malformed_loci_are_refused(document, reason):
    from tom_bhtom_brokers.exceptions import BrokerParseError
    from tom_bhtom_brokers.http import Response

    broker = AntaresBroker()
    response = Response(url="http://x/v2/loci/ANT1", status=200, headers={}, content=json.dumps(document).encode())
    with pytest.raises(BrokerParseError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        broker.parse_response(response, TargetInfo(id=1, name="x", ra=1.0, dec=1.0))
