"""ZTF forced photometry through the emulated IPAC service (tests/sample_archive/ztf_fps_queue.py) on the two real
result files (tests/data/ztf_fps/PROVENANCE.md). What is expected is computed here from the files with pandas and
the guide's rules written out again: the cuts, S/N 3 detections, 5-sigma limits, mid-exposure times."""
import numpy as np
import pandas as pd
import pytest
from astropy.time import Time
from django.utils import timezone

from tests.brokers.contract import JobQueueContract, stored, update
from tests.data.make_fixtures import ZTF_FPS_TEST_ACCOUNT
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers import updating
from tom_bhtom_brokers.brokers.ztf_fps import RequestTable, ZtfFpsBroker
from tom_bhtom_brokers.brokers.ztf_fps_file import BAD_PROCSTATUS
from tom_bhtom_brokers.exceptions import BrokerParseError
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.steps import Located, QueuedJob
from tom_bhtom_brokers.target_info import TargetInfo

FOLDER = DATA_DIR / "ztf_fps"
RA, DEC = 245.3167016, 14.55266508  # ZTF21aaqwjlz, req00012234
OTHER_RA, OTHER_DEC = 169.522886, 18.799654  # req00010458


def result(name):
    lines = [line for line in (FOLDER / name).read_text().splitlines() if line.strip() and not line.startswith("#")]
    names = [name.strip() for name in lines[0].split(",") if name.strip()]
    frame = pd.DataFrame([line.split() for line in lines[1:]], columns=names).replace({"null": np.nan})
    numeric = [name for name in names if name not in ("filter", "procstatus")]
    frame[numeric] = frame[numeric].apply(pd.to_numeric)
    return frame


def expected(frame):
    """(kept rows with kind/brightness/limit columns, rows left out): IPAC's guide, written out again."""
    flux, unc = frame["forcediffimflux"].astype(float), frame["forcediffimfluxunc"].astype(float)
    measured = flux.notna() & (flux != -99999) & unc.notna() & (unc > 0)
    bad_status = frame["procstatus"].astype(str).apply(lambda text: bool({"56", "59", "60", "61", "64"}
                                                                          & set(text.split(","))))
    quality = (frame["infobitssci"] < 33554432) & (frame["scisigpix"] <= 25) & (frame["sciinpseeing"] <= 4)
    kept = frame[measured & ~bad_status & quality].copy()
    snr = kept["forcediffimflux"] / kept["forcediffimfluxunc"]
    kept["mjd"] = kept["jd"] + kept["exptime"] / 2 / 86400 - 2400000.5
    kept["limit_mag"] = kept["zpdiff"] - 2.5 * np.log10(5 * kept["forcediffimfluxunc"])
    kept["mag"] = kept["zpdiff"] - 2.5 * np.log10(kept["forcediffimflux"].where(snr >= 3))
    return kept, len(frame) - len(kept)


REAL = result("forcedphotometry_req00012234_lc_ZTF21aaqwjlz.txt")
KEPT, LEFT_OUT = expected(REAL)


class TestZtfFpsContract(JobQueueContract):
    """The job queue's second archive: its HTML request list and position-named jobs (ATLAS stands for the
    transport's faults)."""

    broker_class = ZtfFpsBroker
    covered_target = {"name": "ZTF21aaqwjlz", "ra": RA, "dec": DEC}
    uncovered_target = {"name": "empty sky", "ra": 10.0, "dec": 30.0}
    expected_path = "/cgi-bin/batchfp.py/submit"
    expected_method = "POST"
    expected_params = {"ra": "245.3167016", "dec": "14.5526651", "email": ZTF_FPS_TEST_ACCOUNT["email"]}
    expected_points = len(KEPT)
    expected_filters = tuple(sorted(set(KEPT["filter"].str.removeprefix("ZTF_"))))
    expected_mjd_range = (KEPT["mjd"].min(), KEPT["mjd"].max())
    units = {"mag"} | ({"uJy"} if ((KEPT["forcediffimflux"] / KEPT["forcediffimfluxunc"]) <= -3).any() else set())
    fault_path = "/ztf/ops/forcedphot/"


@pytest.mark.django_db
def test_a_job_is_submitted_found_on_the_request_list_and_its_file_read(archive, make_target):
    target = make_target("ZTF21aaqwjlz", RA, DEC)
    outcome = update(target, ZtfFpsBroker)
    assert outcome.status == "ok", outcome.message
    steps = [(r["method"], r["path"]) for r in archive.requests]
    assert steps[0] == ("POST", "/cgi-bin/batchfp.py/submit")
    assert steps[1:3] == [("GET", "/cgi-bin/getBatchForcedPhotometryRequests.cgi")] * 2  # pending, then ended
    assert steps[3][1].startswith("/ztf/ops/forcedphot/lc/") and len(steps) == 4
    assert all(r["headers"]["Authorization"].startswith("Basic ") for r in archive.requests)
    points = sorted(stored(target, "ZTF FPS"), key=lambda p: p.timestamp)
    # procstatus 57 on every row (no reference source within 5 arcsec) is only a note: the rows left out are the
    # ones the image-quality filter refuses (seeing above 4 arcsec)
    assert set(REAL["procstatus"].astype(str)) == {"57"} and len(points) == len(KEPT)
    assert f"{LEFT_OUT} ZTF FPS epoch(s) failing the image-quality filter left out" in outcome.message
    stamps = Time([p.timestamp for p in points]).utc.mjd
    assert np.abs(stamps - np.sort(KEPT["mjd"].to_numpy())).max() * 86400 < 1
    rows = KEPT.sort_values("mjd")
    for point, (_, row) in zip(points, rows.iterrows()):
        # no reference source at all (nearestref* null): a detection is the object's brightness, else a limit
        if np.isfinite(row["mag"]):
            assert point.value["magnitude_kind"] == "total (no reference source)"
            assert point.brightness == pytest.approx(row["mag"], abs=1e-6)
        elif row["forcediffimflux"] / row["forcediffimfluxunc"] > -3:
            assert point.value["magnitude_kind"] == "upper limit"
            assert point.limit == pytest.approx(row["limit_mag"], abs=1e-6)
        assert point.bandpass == f"{row['filter'].removeprefix('ZTF_')}(ZTF FPS)"
    assert {p.value["rfid"] for p in points} == set(KEPT["rfid"].astype(str))


@pytest.mark.django_db
def test_the_account_never_reaches_a_message_a_point_or_the_status(archive, make_target, settings, caplog):
    """A wrong password: the service's 401 page echoes the e-mail and password; both are masked."""
    settings.DATA_SERVICES["ZTF FPS"]["password"] = "wrong-secret-91"
    target = make_target("ZTF21aaqwjlz", RA, DEC)
    outcome = update(target, ZtfFpsBroker)
    assert outcome.status == "error"
    row = LightcurveUpdate.objects.get(target=target, source="ZTF FPS")
    for text in (outcome.message, row.message, row.url, caplog.text):
        assert "wrong-secret-91" not in text and ZTF_FPS_TEST_ACCOUNT["email"] not in text


@pytest.mark.django_db
def test_a_run_submits_its_positions_in_one_batch(archive, make_target):
    targets = [make_target("ZTF21aaqwjlz", RA, DEC), make_target("req10458", OTHER_RA, OTHER_DEC),
               make_target("empty", 10.0, 30.0)]
    outcomes = updating.run(updating.plan(targets, [ZtfFpsBroker()], force=True), workers=2)
    assert archive.ztf_fps.submissions == [3]
    assert sorted(o.status for o in outcomes) == ["no_data", "ok", "ok"]
    other = result("forcedphotometry_req00010458_lc.txt")
    kept, left_out = expected(other)
    assert stored(targets[1], "ZTF FPS").count() == len(kept) and left_out > 0
    message = next(o.message for o in outcomes if o.target_id == targets[1].id)
    assert "failing the image-quality filter left out" in message


def test_the_request_list_is_read_from_the_html_table():
    table = RequestTable()
    table.feed("<html><table><tr><th>reqId</th><th>ra</th><th>dec</th></tr><tr><td>7</td><td> 1.5 </td>"
               "<td>-2</td></tr></table><table><tr><td>not this one</td></tr></table></html>")
    assert table.header == ["reqId", "ra", "dec"] and table.rows == [{"reqId": "7", "ra": "1.5", "dec": "-2"}]


def test_an_address_off_the_service_is_never_followed(monkeypatch):
    """The request list names the result file: a path outside the service's own prefix is refused unasked."""
    broker = ZtfFpsBroker()
    monkeypatch.setattr(broker.task_list, "task", lambda job: {"ended": "2026-01-01", "lightcurve": "/etc/passwd"})
    monkeypatch.setattr(broker, "request", lambda *args, **kwargs: pytest.fail("nothing may be asked"))
    request = broker.query(Located(TargetInfo(None, "x", 1.0, 2.0)))[0]
    request.job = QueuedJob("/job/1.00000/+2.00000/2458194.50", timezone.now())
    with pytest.raises(BrokerParseError, match="not on the archive's job server"):
        broker.send(request)


def test_a_bad_procstatus_is_found_in_a_list_of_codes_and_never_inside_another_number():
    codes = pd.Series(["0", "57", "56", "57,59", "560", "156", "61, 57"])
    assert codes.str.contains(BAD_PROCSTATUS).tolist() == [False, False, True, True, False, False, True]
