import pandas as pd
import pytest
from astropy.time import Time

from tests.brokers.contract import BrokerContract, stored, update
from tests.data.make_fixtures import AAVSO_EDGE_JD
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.aavso import AavsoBroker
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.target_info import TargetInfo

RA, DEC = 88.0717, 9.0680
RAW = pd.read_csv(DATA_DIR / "aavso" / "FU_Ori.txt", sep="@@@", engine="python", dtype=str, keep_default_na=False)
KEPT = RAW[RAW["val"].isin(["V", "Z"]) & (RAW["mtype"] != "DIF")]
JD = KEPT["JD"].astype(float)


class TestAavsoContract(BrokerContract):
    broker_class = AavsoBroker
    covered_target = {"name": "FU Ori", "ra": RA, "dec": DEC, "AAVSO name": "FU Ori"}
    uncovered_target = {"name": "unobserved", "ra": 1.0, "dec": 1.0, "AAVSO name": "V9999 Nowhere"}
    expected_path = "/index.php"
    expected_params = {"view": "api.delim", "ident": "FU Ori", "delimiter": "@@@"}
    expected_points = len(KEPT)
    expected_filters = tuple(sorted(set(KEPT["band"].replace({"Vis.": "Vis"}))))
    expected_mjd_range = (JD.min() - 2400000.5, JD.max() - 2400000.5)
    fault_path = "/index.php"
    errors_may_be_missing = True
    empty_answer_is_no_data = True


@pytest.mark.django_db
def test_the_history_comes_in_jd_chunks_and_each_observation_once(archive, make_target):
    target = make_target("FU Ori", RA, DEC, **{"AAVSO name": "FU Ori"})
    outcome = update(target, AavsoBroker)
    assert outcome.status == "ok", outcome.message
    chunks = [(float(r["params"]["fromjd"]), float(r["params"]["tojd"])) for r in archive.requests]
    assert len(chunks) == 13 and chunks[0][0] == 2415020.5 and chunks[-1][1] > Time.now().jd
    assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:]))        # contiguous, no gaps, no overlaps
    points = stored(target, "AAVSO")
    assert points.count() == len(KEPT)
    at_edge = [p for p in points if abs(p.value["time_original"] - AAVSO_EDGE_JD) < 1e-6]
    assert len(at_edge) == 1                                             # a chunk boundary: stored once
    row = LightcurveUpdate.objects.get(target=target, source="AAVSO")
    assert len(RAW) - len(KEPT) > 0 and row.message == (f"{len(RAW) - len(KEPT)} observation(s) left out "
                                                        "(not V/Z-validated, or differential)")
    assert "observations_left_out" not in points.first().value


@pytest.mark.django_db
def test_limits_visual_estimates_and_what_is_kept_of_each_observation(archive, make_target):
    target = make_target("FU Ori", RA, DEC, **{"AAVSO name": "FU Ori"})
    update(target, AavsoBroker)
    points = stored(target, "AAVSO")
    limits = KEPT[KEPT["fainterThan"] == "1"]
    assert points.filter(brightness__isnull=True).count() == len(limits) > 0
    visual = points.get(value__aavso_obs_id=KEPT[(KEPT["obsType"] == "Visual") & (KEPT["fainterThan"] == "0")]
                        ["obsID"].iloc[0])
    assert visual.bandpass == "Vis(AAVSO)" and visual.brightness_error is None
    ccd_row = KEPT[KEPT["obsType"] == "CCD"].iloc[0]
    ccd = points.get(value__aavso_obs_id=ccd_row["obsID"])
    assert ccd.brightness == pytest.approx(float(ccd_row["mag"]))
    assert ccd.brightness_error == pytest.approx(float(ccd_row["uncert"]))
    assert ccd.value["observer_code"] == ccd_row["by"] and ccd.value["measurement_type"] == "STD"
    assert Time(ccd.timestamp).jd == pytest.approx(float(ccd_row["JD"]), abs=1e-7)
    assert not any("Surname" in str(p.value) for p in points)         # observers' names are not stored
    assert not points.filter(value__validation="T").exists()


@pytest.mark.django_db
def test_validation_flags_and_differential_photometry_are_configurable(archive, make_target, settings):
    settings.DATA_SERVICES["AAVSO"].update({"validation_flags": ["V", "Z", "T"], "include_differential": True})
    target = make_target("FU Ori", RA, DEC, **{"AAVSO name": "FU Ori"})
    update(target, AavsoBroker)
    assert stored(target, "AAVSO").count() == len(RAW)


@pytest.mark.django_db
def test_a_malformed_name_is_refused_without_a_request(archive, make_target):
    target = make_target("x", RA, DEC, **{"AAVSO name": "FU Ori; DROP TABLE"})
    outcome = update(target, AavsoBroker)
    assert outcome.status == LightcurveUpdate.Status.INVALID_NAME and "AAVSO name" in outcome.message
    assert archive.requests == []


@pytest.mark.parametrize("payload, reason", [
    (b"<?xml version='1.0'?><VOTABLE/>", "no column(s)"),
    (b"JD,mag,uncert,band\n2459000.5,12.1,0.01,V\n", "no column(s)"),
    ("@@@".join(RAW.columns).encode() + b"\n2459000.5@@@12.1@@@0.01\n", "cut short"),
])
def test_answers_that_are_not_api_delim_are_refused(payload, reason):
    from tom_bhtom_brokers.exceptions import BrokerParseError
    from tom_bhtom_brokers.transports.http import Response

    response = Response(url="http://x/index.php", status=200, headers={}, content=payload)
    with pytest.raises(BrokerParseError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        AavsoBroker().parse_response(response, TargetInfo(id=1, name="x", ra=1.0, dec=1.0))


@pytest.mark.django_db
@pytest.mark.parametrize("kind, body", [("empty", b""), ("replace", "@@@".join(RAW.columns).encode() + b"\n")])
def test_a_chunk_without_observations_is_no_observations_in_that_range(archive, make_target, kind, body):
    """An empty body or a header line alone for one JD chunk: the pair is fine, the other chunks are stored."""
    target = make_target("FU Ori", RA, DEC, **{"AAVSO name": "FU Ori"})
    archive.add_fault(path="/index.php", query="fromjd=2415020.50000&", kind=kind, body=body)
    outcome = update(target, AavsoBroker)
    assert outcome.status == "ok", outcome.message
    assert stored(target, "AAVSO").count() == len(KEPT[JD >= 2415020.5 + 3652.5])
    assert any(r["params"].get("fromjd") == "2415020.50000" for r in archive.requests)


@pytest.mark.remote_data
def test_live_api_answers_a_range_without_observations_with_its_header_or_nothing():
    broker = AavsoBroker()
    (request,) = [r for r in broker.chunks("SS Cyg") if float(r.params["tojd"]) < 2415100]
    response = broker.http.get("https://vsx.aavso.org/index.php", params=request.params)
    assert response.content.decode().startswith("JD@@@mag@@@") or not response.content.strip()


@pytest.mark.django_db
def test_by_position_the_nearest_vsx_star_is_found_recorded_and_read(archive, make_target):
    target = make_target("a variable", RA, DEC)
    outcome = update(target, AavsoBroker)
    assert outcome.status == "ok", outcome.message
    cone = archive.requests[0]
    assert cone["path"] == "/viz-bin/asu-tsv" and cone["params"]["-source"] == "B/vsx/vsx"
    assert cone["params"]["-c"] == "88.0717000 +9.0680000" and cone["params"]["-c.rs"] == "3"
    assert {r["params"]["ident"] for r in archive.requests[1:]} == {"FU Ori"}  # the nearest, not the neighbour
    assert target.targetextra_set.get(key="AAVSO name").value == "FU Ori"
    assert stored(target, "AAVSO").count() == len(KEPT)
    assert update(target, AavsoBroker, force=False).status == "skipped"  # asked as before: not due for a day
    archive.reset()
    assert update(target, AavsoBroker).status == "ok"
    assert not [r for r in archive.requests if r["path"] == "/viz-bin/asu-tsv"]  # by the recorded name now


@pytest.mark.django_db
def test_no_vsx_star_is_no_data_and_an_odd_name_is_refused(archive, make_target):
    outcome = update(make_target("empty", 10.0, 10.0), AavsoBroker)
    assert outcome.status == "no_data" and "no VSX star within 3 arcsec" in outcome.message
    table = (DATA_DIR / "aavso" / "vsx_FU_Ori.tsv").read_text().replace("FU Ori", "FU Ori@@@&ident=x")
    archive.add_fault(kind="replace", path="/viz-bin/asu-tsv", body=table)
    outcome = update(make_target("odd", RA, DEC), AavsoBroker)
    assert outcome.status == "error" and "not a VSX name" in outcome.message
    assert not [r for r in archive.requests if r["path"] == "/index.php"]


@pytest.mark.django_db
def test_an_odd_name_of_another_star_in_the_cone_does_not_stop_the_search(archive, make_target):
    """Only the chosen (nearest) star's name becomes a parameter: a neighbour's odd name is no reason to refuse."""
    table = (DATA_DIR / "aavso" / "vsx_FU_Ori.tsv").read_text()
    assert "\tsynthetic neighbour" in table  # 0.8 arcsec from FU Ori, which is nearer the target
    archive.add_fault(kind="replace", path="/viz-bin/asu-tsv",
                      body=table.replace("\tsynthetic neighbour", "\tODD<script>&ident=x"))
    target = make_target("FU Ori", RA, DEC)
    outcome = update(target, AavsoBroker)
    assert outcome.status == "ok", outcome.message
    assert target.targetextra_set.get(key="AAVSO name").value == "FU Ori"
