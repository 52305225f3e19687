import io
import json

import numpy as np
import pandas as pd
import pytest

from tests.brokers.contract import BrokerContract, stored, update
from tests.data.make_fixtures import ANTARES_GAIA19DKE, ANTARES_GAIA20FNR
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.antares import AntaresBroker
from tom_bhtom_brokers.brokers.antares_client import read_loci
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
    # the form antares-client 2.0.2 sends (search.cone_search): radius in degrees, centre as h m s d m s
    assert query == {"radius": "0.00041667 degree", "location": "06h01m04.0824s -18d58m03.72s"}
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
    # what the answer left out is said in the status, never kept in the points (it would change their identity)
    assert "3 alert(s) of other surveys left out" in outcome.message
    assert not [key for key in point.value if key.endswith("left_out")]
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
    from tom_bhtom_brokers.transports.http import Response

    broker = AntaresBroker()
    response = Response(url="http://x/v2/loci/ANT1", status=200, headers={}, content=json.dumps(document).encode())
    with pytest.raises(BrokerParseError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        broker.parse_response(response, TargetInfo(id=1, name="x", ra=1.0, dec=1.0))


@pytest.mark.parametrize("locus_id", ["../../v2/admin", "ANT1?x=1", "ANT 1", "A" * 65])
def test_a_locus_id_that_is_not_a_plain_id_is_refused(locus_id):
    """The id goes into the next request's path and is kept with the pair: an archive's answer cannot steer it."""
    from tom_bhtom_brokers.exceptions import BrokerParseError

    listing = {"data": [{"locus_id": locus_id, "ra": 1.0, "dec": 1.0, "properties": {}}]}
    with pytest.raises(BrokerParseError, match="odd locus id"):
        read_loci(json.dumps(listing).encode())


def _parse_lightcurve_csv(text):
    from tom_bhtom_brokers.transports.http import Response

    document = {"data": {"id": "ANT1", "properties": {"ztf_object_id": "ZTF19aapreis"}, "lightcurve": text}}
    response = Response(url="http://x/v2/loci/ANT1", status=200, headers={}, content=json.dumps(document).encode())
    return AntaresBroker().parse_response(response, TargetInfo(1, "x", 314.2624, 14.2045)).frame


HEADER = ("time,alert_id,ant_mjd,ant_survey,ant_ra,ant_dec,ant_passband,ant_mag,ant_magerr,ant_maglim,"
          "ant_mag_corrected,ant_magerr_corrected\n")


def test_the_total_magnitude_is_the_brightness_where_the_alert_has_it():
    frame = _parse_lightcurve_csv(
        HEADER
        + "2019-04-20 10:42:10.995,ztf_candidate:839445965515015001,58593.4459606,1,314.26,14.20,R,18.2997,"
          "0.0944,19.2356,16.9012,0.0231\n"
        + "2019-04-22 10:42:10.995,ztf_candidate:841445965515015001,58595.4459606,1,314.26,14.20,g,18.5000,"
          "0.1000,19.5000,,\n"
        + "2019-04-24 10:42:10.995,ztf_candidate:843445965515015001,58597.4459606,1,314.26,14.20,R,19.0000,"
          "0.2000,19.5000,,\n"
        + "2019-04-26 10:42:10.995,ztf_candidate:845445965515015001,58599.4459606,2,314.26,14.20,R,,,19.8000,,\n"
        + "2019-04-26 10:42:10.995,ztf_candidate:845445965515015002,58599.4459606,2,314.26,14.20,g,,,19.7000,,\n")
    total, new_source, change, change_limit, upper_limit = (frame.iloc[i] for i in range(5))
    assert (total["brightness"], total["brightness_error"], total["magnitude_kind"]) == (16.9012, 0.0231, "total")
    assert (total["difference_mag"], total["difference_mag_error"]) == (18.2997, 0.0944)
    # g: no alert was corrected, the object is absent from the reference: the difference is its brightness
    assert (new_source["brightness"], new_source["magnitude_kind"]) == (18.5, "total (no reference source)")
    assert np.isnan(new_source["difference_mag"])
    assert (upper_limit["limit"], upper_limit["unit"], upper_limit["magnitude_kind"]) == (19.7, "mag", "upper limit")
    # R: a reference source; an uncorrected alert is a change of its flux, a limit bounds only the change
    assert change["unit"] == "uJy" and change["magnitude_kind"] == "difference"
    assert change["brightness"] == pytest.approx(10 ** ((23.9 - 19.0) / 2.5))
    assert change["brightness_error"] == pytest.approx(change["brightness"] * 0.2 * np.log(10) / 2.5)
    assert change_limit["unit"] == "uJy" and change_limit["magnitude_kind"] == "limit on the change"
    assert change_limit["limit"] == pytest.approx(10 ** ((23.9 - 19.8) / 2.5))


def test_repeated_alerts_of_one_exposure_are_stored_once():
    """The same exposure as a detection in its own alert and again in a later alert, and as a limit: one point,
    the detection with its total magnitude."""
    row = ("2019-04-20 10:42:10.995,ztf_candidate:{id},58593.4459606,{survey},314.26,14.20,R,{mag},{err},19.2356,"
           "{cor},{cer}\n")
    frame = _parse_lightcurve_csv(
        HEADER
        + row.format(id="1", survey=1, mag="18.2997", err="0.0944", cor="", cer="")
        + row.format(id="2", survey=1, mag="18.2997", err="0.0944", cor="16.9012", cer="0.0231")
        + row.format(id="3", survey=2, mag="", err="", cor="", cer=""))
    assert len(frame) == 1
    assert frame.iloc[0]["brightness"] == 16.9012 and frame.iloc[0]["alert_id"] == "ztf_candidate:2"


@pytest.mark.django_db
def test_a_daily_update_reads_the_remembered_locus_in_one_request(archive, make_target):
    """The locus id found by the first update is kept with the pair: later updates ask ANTARES once, not twice;
    a locus ANTARES no longer has (404) is searched for again; a forced update searches."""
    from tests.test_incremental import a_day_passes

    locus, name = ANTARES_GAIA19DKE
    target = make_target("Gaia19dke", 304.7108, 55.1547, **{"ZTF name": name})
    assert update(target, AntaresBroker, force=False).status == "ok"
    assert [r["path"] for r in archive.requests] == ["/v2/loci", f"/v2/loci/{locus}"]
    assert LightcurveUpdate.objects.get(target=target, source="ANTARES").located == locus

    archive.requests = []
    a_day_passes(target, "ANTARES")
    again = update(target, AntaresBroker, force=False)
    assert again.status == "ok" and again.added == 0, again.message
    assert [r["path"] for r in archive.requests] == [f"/v2/loci/{locus}"]

    archive.requests = []                          # the locus is gone from ANTARES: search, then read
    archive.add_fault(kind="status", status=404, path=f"/v2/loci/{locus}", times=1)
    a_day_passes(target, "ANTARES")
    gone = update(target, AntaresBroker, force=False)
    assert gone.status == "ok", gone.message
    assert [r["path"] for r in archive.requests] == [f"/v2/loci/{locus}", "/v2/loci", f"/v2/loci/{locus}"]

    archive.requests = []                          # the name changed: the remembered locus is for another object
    target.targetextra_set.filter(key="ZTF name").update(value="ZTF20abkfnrq")
    changed = update(target, AntaresBroker, force=False)
    assert changed.status == "ok" and archive.requests[0]["path"] == "/v2/loci", changed.message
    assert LightcurveUpdate.objects.get(target=target, source="ANTARES").located == ANTARES_GAIA20FNR[0]

    archive.requests = []
    assert update(target, AntaresBroker).status == "ok"     # forced: searched again
    assert archive.requests[0]["path"] == "/v2/loci"
