import json
import logging
import re
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from tests.brokers.contract import JobQueueContract, stored, update
from tests.data.make_fixtures import ATLAS_PASTED_JOB, ATLAS_TEST_TOKEN
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers import updating
from tom_bhtom_brokers.brokers.atlas import AtlasBroker
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.target_info import PairInput, TargetInfo
from tom_bhtom_brokers.target_tab import status_rows

RA, DEC = 90.26701, -18.96770
PASTED_URL = f"https://fallingstar-data.com/forcedphot/static/results/{ATLAS_PASTED_JOB}.txt"


def result(name):
    text = (DATA_DIR / "atlas" / name).read_text()
    frame = pd.read_csv(DATA_DIR / "atlas" / name, sep=r"\s+")
    frame.columns = text.splitlines()[0].lstrip("#").split()
    return frame


QUEUED = result("queue_Gaia20fnr.txt")
GOOD = QUEUED[(QUEUED["err"] == 0) & (QUEUED["mag5sig"] >= 10)]


class TestAtlasContract(JobQueueContract):
    """The queue route (the tests' settings hold a token the emulated queue accepts)."""
    transport_faults = True

    broker_class = AtlasBroker
    covered_target = {"name": "Gaia20fnr", "ra": RA, "dec": DEC}
    uncovered_target = {"name": "empty sky", "ra": 0.0, "dec": 0.0}
    expected_path = "/forcedphot/queue/"
    expected_method = "POST"      # the task list is read from the same path
    expected_params = {"ra": "90.2670100", "dec": "-18.9677000", "use_reduced": "false"}
    expected_points = len(GOOD)
    expected_filters = tuple(sorted(set(GOOD["F"])))
    expected_mjd_range = (GOOD["MJD"].min(), GOOD["MJD"].max())
    fault_path = "/forcedphot/"


@pytest.mark.django_db
def test_the_queue_is_submitted_polled_read_and_the_job_deleted(archive, make_target):
    target = make_target("Gaia20fnr", RA, DEC)
    outcome = update(target, AtlasBroker)
    assert outcome.status == "ok", outcome.message
    steps = [(r["method"], r["path"].rstrip("/").rsplit("/", 1)[0]) for r in archive.requests]
    # the job is asked through the account's task list (one request serves every job of a pass)
    assert steps == [("POST", "/forcedphot"), ("GET", "/forcedphot"), ("GET", "/forcedphot"),
                     ("GET", "/forcedphot/static/results"), ("DELETE", "/forcedphot/queue")]
    assert all(r["params"] == {"pagesize": "100"} for r in archive.requests[1:3])
    assert all(r["headers"]["Authorization"] == f"Token {ATLAS_TEST_TOKEN}" for r in archive.requests
               if "/queue/" in r["path"])
    assert archive.atlas.jobs == {} and len(archive.atlas.deleted) == 1
    points = stored(target, "ATLAS")
    snr = GOOD["uJy"] / GOOD["duJy"]
    limits = GOOD[snr < 3]
    assert points.filter(brightness__isnull=True).count() == len(limits) and (limits["uJy"] < 0).any()
    row = limits.iloc[0]
    limit = points.get(value__exposure=row["Obs"])
    assert limit.limit == pytest.approx(23.9 - 2.5 * np.log10(3 * row["duJy"]), abs=1e-3)
    detection = GOOD[snr >= 3].iloc[0]
    point = points.get(value__exposure=detection["Obs"])
    assert (point.brightness, point.brightness_error) == (pytest.approx(detection["m"]), pytest.approx(detection["dm"]))
    assert point.value["flux_ujy"] == detection["uJy"] and point.bandpass == f"{detection['F']}(ATLAS)"
    assert not points.filter(value__mag5sig__lt=10).exists()          # the junk rows (negative mag5sig)
    assert "PA_DEG" in (DATA_DIR / "atlas" / "queue_Gaia20fnr.txt").read_text().splitlines()[0]


@pytest.mark.django_db
def test_a_throttled_submission_is_postponed_as_long_as_the_server_says(archive, make_target):
    archive.atlas.throttles_left = 1               # 429 "Expected available in 1 second.", no Retry-After header
    target = make_target("Gaia20fnr", RA, DEC)
    started = time.monotonic()
    outcome = update(target, AtlasBroker)
    assert outcome.status == "ok", outcome.message
    posts = [r["time"] for r in archive.requests if r["method"] == "POST"]
    assert len(posts) == 2 and posts[1] - posts[0] >= 0.95 and time.monotonic() - started < 5


@pytest.mark.django_db
def test_a_job_still_queued_after_the_run_is_recorded_and_collected_by_the_next(archive, make_target, settings):
    target = make_target("Gaia20fnr", RA, DEC)
    archive.atlas.config["polls_queued"] = 1000
    settings.DATA_SERVICES["ATLAS"]["max_wait_seconds"] = 0.3
    try:
        outcome = update(target, AtlasBroker)
    finally:
        archive.atlas.config["polls_queued"] = 1
    assert outcome.status == "queued" and outcome.message.startswith("queued at ATLAS since "), outcome.message
    assert not outcome.failed and stored(target, "ATLAS").count() == 0
    row = LightcurveUpdate.objects.get(target=target, source="ATLAS")
    (job_id,) = archive.atlas.jobs
    assert row.job_path == f"/forcedphot/queue/{job_id}/" and row.job_attempts == 1 and row.job_submitted_at
    (status,) = [r for r in status_rows(target, TargetInfo.from_target(target)) if r["source"] == "ATLAS"]
    assert status["status"] == "queued" and status["message"].startswith("queued at ATLAS since ")  # the page
    assert status["next_due"].startswith("next update (asked again: the last attempt ended 'queued')")
    posts = len([r for r in archive.requests if r["method"] == "POST"])

    archive.atlas.jobs[job_id]["polls_left"] = 0       # ATLAS finished it between the runs
    outcome = update(target, AtlasBroker, force=False)
    assert outcome.status == "ok" and outcome.added == len(GOOD), outcome.message
    assert len([r for r in archive.requests if r["method"] == "POST"]) == posts        # not submitted again
    assert archive.atlas.jobs == {} and archive.atlas.deleted == [job_id]
    row.refresh_from_db()
    assert (row.job_path, row.job_submitted_at, row.job_attempts) == ("", None, 0)


@pytest.mark.django_db
def test_a_job_the_server_lost_is_submitted_again(archive, make_target, settings):
    target = make_target("Gaia20fnr", RA, DEC)
    settings.DATA_SERVICES["ATLAS"]["max_wait_seconds"] = 0
    assert update(target, AtlasBroker).status == "queued"
    archive.atlas.jobs.clear()                         # gone on ATLAS's side (results are kept a short time)
    assert update(target, AtlasBroker, force=False).status == "queued"
    row = LightcurveUpdate.objects.get(target=target, source="ATLAS")
    (job_id,) = archive.atlas.jobs
    assert row.job_attempts == 2 and row.job_path.endswith(f"/{job_id}/") and "submission 2" in row.message
    settings.DATA_SERVICES["ATLAS"]["max_wait_seconds"] = 5
    assert update(target, AtlasBroker, force=False).status == "ok"


def queue_requests(archive):
    """(task list pages read, jobs asked by their own path) among the archive's requests."""
    gets = [r for r in archive.requests if r["method"] == "GET"]
    return ([r for r in gets if r["path"] == "/forcedphot/queue/"],
            [r for r in gets if re.fullmatch(r"/forcedphot/queue/\d+/?", r["path"])])


@pytest.mark.django_db
def test_one_read_of_the_task_list_serves_every_job_of_a_pass(archive, make_target, settings):
    """Seven jobs, each queued for two asks: the task list (three pages of three, as 100 a page would be for 250
    jobs) is read once for all of them per pass; no job is asked by its own path."""
    archive.atlas.config.update(max_page_size=3, polls_queued=2)
    settings.DATA_SERVICES["ATLAS"]["task_list_seconds"] = 0.5
    targets = [make_target(f"north {i}", 40.0 * i, 85.0) for i in range(7)]
    outcomes = updating.run(updating.plan(targets, [AtlasBroker()], force=True), workers=4)
    assert [o.status for o in outcomes] == ["ok"] * 7, [o.message for o in outcomes]
    (post,) = [r for r in archive.requests if r["method"] == "POST"]     # one submission for all seven
    assert post["params"]["radeclist"].splitlines() == [f"{40.0 * i:.7f} +85.0000000" for i in range(7)]
    assert not {"ra", "dec"} & set(post["params"])             # (a position in those fields would be an eighth)
    pages, own = queue_requests(archive)
    reads = [r for r in pages if "cursor" not in r["params"]]
    assert own == [] and 3 <= len(reads) <= 5, len(reads)     # two asks queued, the third finished
    assert len(pages) <= 3 * len(reads)
    assert all(r["params"]["cursor"] for r in pages if r not in reads)
    assert len(archive.atlas.deleted) == 7 and archive.atlas.jobs == {}
    per_pair = len(archive.requests) / 7                       # result and delete, a share of submission and list
    assert per_pair == pytest.approx(2 + (1 + len(pages)) / 7)


@pytest.mark.django_db
def test_jobs_are_deleted_within_the_accounts_write_budget(archive, make_target, settings):
    """ATLAS allows an account 60 writes a minute: a run deletes at most ``deletes_per_minute`` jobs and leaves
    the rest to the server's own sweep, instead of sending deletes the server would refuse."""
    settings.DATA_SERVICES["ATLAS"]["deletes_per_minute"] = 2
    targets = [make_target(f"north {i}", 200.0 + i, 85.0) for i in range(4)]
    outcomes = updating.run(updating.plan(targets, [AtlasBroker()], force=True), workers=2)
    assert [o.status for o in outcomes] == ["ok"] * 4, [o.message for o in outcomes]
    assert len([r for r in archive.requests if r["method"] == "DELETE"]) == 2
    assert len(archive.atlas.deleted) == 2 and len(archive.atlas.jobs) == 2


@pytest.mark.django_db
def test_a_throttled_delete_is_not_waited_for(archive, make_target):
    archive.add_fault(kind="status", status=429, retry_after="30", path="/forcedphot/queue/900001/")
    target = make_target("Gaia20fnr", RA, DEC)
    started = time.monotonic()
    outcome = update(target, AtlasBroker)
    assert outcome.status == "ok" and outcome.added == len(GOOD), outcome.message
    assert time.monotonic() - started < 10
    assert [r["method"] for r in archive.requests if r["path"] == "/forcedphot/queue/900001/"] == ["DELETE"]


@pytest.mark.django_db
def test_submissions_group_targets_asking_from_about_the_same_time(archive, make_target):
    """Full reads go together; recent-part jobs within overlap_days (30) of each other share one submission,
    which asks from the earliest of them; more than BATCH_LIMIT positions take another submission."""
    broker = AtlasBroker()
    starts = [None, 60000.0, None, 60010.0, 60100.0]
    infos = [replace(TargetInfo.from_target(make_target(f"t{i}", 10.0 + i, 85.0)),
                     pair=PairInput(refresh_from=start)) for i, start in enumerate(starts)]
    queued = broker.submit_jobs(infos)
    posts = [r["params"] for r in archive.requests if r["method"] == "POST"]
    assert [(len(p["radeclist"].splitlines()), p["mjd_min"]) for p in posts] == [
        (2, "57000.00000"), (2, "60000.00000"), (1, "60100.00000")]
    assert {info.id: queued[info.id].job.asked_from_mjd for info in infos} == {
        infos[0].id: None, infos[1].id: 60000.0, infos[2].id: None, infos[3].id: 60000.0, infos[4].id: 60100.0}
    archive.requests = []
    many = [TargetInfo(id=i, name=f"n{i}", ra=i * 0.3, dec=86.0) for i in range(130)]
    assert len(broker.submit_jobs(many)) == 130
    assert [len(r["params"]["radeclist"].splitlines()) for r in archive.requests] == [100, 30]


@pytest.mark.django_db
def test_other_archives_go_on_while_a_batch_waits_for_its_answer(archive, make_target):
    """The batches are submitted by one of the pool's threads: a slow submission holds up ATLAS's pairs only."""
    from tom_bhtom_brokers.brokers.neowise import NeowiseBroker

    archive.atlas.config["submit_seconds"] = 0.8
    targets = [make_target(f"north {i}", 300.0 + i, 85.0) for i in range(3)]
    outcomes = updating.run(updating.plan(targets, [AtlasBroker(), NeowiseBroker()], force=True), workers=4)
    assert all(o.status in ("ok", "no_data") for o in outcomes), [o.message for o in outcomes]
    (post,) = [r for r in archive.requests if r["method"] == "POST" and r["path"].startswith("/forcedphot/")]
    others = [r["time"] for r in archive.requests if not r["path"].startswith("/forcedphot/")]
    # all asked while the batch waited 0.8 s for its answer (a run submitting first would ask them after it)
    assert len(others) >= 3 and all(t < post["time"] + 0.7 for t in others)


ODD_SUBMISSION_ANSWERS = {
    "refused": {"kind": "status", "status": 400},
    "throttled": {"kind": "status", "status": 429, "retry_after": "1"},
    "fewer tasks": {"kind": "replace", "body": "[]"},
    "not a list": {"kind": "replace", "body": '{"url": "/forcedphot/queue/5/"}'},
    "other positions": {"kind": "replace", "body": json.dumps([{"url": f"/forcedphot/queue/{i}/", "ra": 1.0,
                                                                "dec": 2.0} for i in range(3)])},
}


@pytest.mark.django_db
@pytest.mark.parametrize("fault", ODD_SUBMISSION_ANSWERS.values(), ids=ODD_SUBMISSION_ANSWERS.keys())
def test_a_batch_the_server_does_not_take_is_submitted_one_by_one(archive, make_target, fault):
    archive.add_fault(path="/forcedphot/queue/", query="radeclist", times=1, **fault)
    targets = [make_target(f"north {i}", 100.0 + i, 85.0) for i in range(3)]
    outcomes = updating.run(updating.plan(targets, [AtlasBroker()], force=True), workers=2)
    assert [o.status for o in outcomes] == ["ok"] * 3, [o.message for o in outcomes]
    posts = [r["params"] for r in archive.requests if r["method"] == "POST"]
    assert "radeclist" in posts[0] and sorted(p["ra"] for p in posts[1:]) == [f"{100.0 + i:.7f}" for i in range(3)]


HOSTILE_TASK_LISTS = {
    "server error": {"kind": "status", "status": 500},
    "html page": {"kind": "replace", "body": "<html><body>Maintenance</body></html>"},
    "no results list": {"kind": "replace", "body": '{"next": null, "results": "many"}'},
    "next page off the server": {"kind": "replace",
                                 "body": '{"next": "https://elsewhere.example/forcedphot/queue/?cursor=x", '
                                         '"results": []}'},
}


@pytest.mark.django_db
@pytest.mark.parametrize("fault", HOSTILE_TASK_LISTS.values(), ids=HOSTILE_TASK_LISTS.keys())
def test_a_task_list_that_cannot_be_read_leaves_each_job_asked_by_itself(archive, make_target, fault):
    archive.add_fault(path="/forcedphot/queue/", query="pagesize", **fault)
    target = make_target("Gaia20fnr", RA, DEC)
    outcome = update(target, AtlasBroker)
    assert outcome.status == "ok" and outcome.added == len(GOOD), outcome.message
    _, own = queue_requests(archive)
    assert own and not any("elsewhere" in r["path"] for r in archive.requests)


@pytest.mark.django_db
def test_a_task_list_whose_next_page_is_itself_is_read_once(archive, make_target):
    """A ``next`` link back to the same page (a loop) ends the read; an absurd queue position and error are not
    carried into the status."""
    page = {"next": f"{archive.url}/forcedphot/queue/?pagesize=100", "results": [
        {"url": f"{archive.url}/forcedphot/queue/900001/", "finishtimestamp": None, "queuepos": "9" * 5000}]}
    archive.add_fault(path="/forcedphot/queue/", query="pagesize", kind="replace", body=json.dumps(page), times=4)
    archive.atlas.config["polls_queued"] = 1000
    target = make_target("Gaia20fnr", RA, DEC)
    broker = AtlasBroker()
    queued = broker.fetch(TargetInfo.from_target(target))
    again = broker.fetch(replace(TargetInfo.from_target(target), pair=PairInput(job=queued.job)))
    assert queued.job is not None and again.job == queued.job  # a state of the answer, not an error
    pages, own = queue_requests(archive)
    assert len(pages) == 2 and own == []                       # the first page and its loop, then stop
    assert again.note.startswith("queued at ATLAS since ") and "999" not in again.note
    archive.atlas.config["polls_queued"] = 1


@pytest.mark.django_db
def test_a_pasted_result_without_a_token(archive, make_target, settings):
    del settings.DATA_SERVICES["ATLAS"]["token"]
    assert AtlasBroker.cadence_interval() is None
    target = make_target("Gaia20fnr", RA, DEC, **{"ATLAS URL": PASTED_URL})
    outcome = update(target, AtlasBroker)
    assert outcome.status == "ok", outcome.message
    assert [r["path"] for r in archive.requests] == [f"/forcedphot/static/results/{ATLAS_PASTED_JOB}.txt"]
    pasted = result(f"{ATLAS_PASTED_JOB}.txt")
    good = pasted[(pasted["err"] == 0) & (pasted["mag5sig"] >= 10)].drop_duplicates(["MJD", "F"])
    assert pasted["MJD"].duplicated().any() and stored(target, "ATLAS").count() == len(good)
    nobody = make_target("no url", RA, DEC)
    assert update(nobody, AtlasBroker).status == LightcurveUpdate.Status.NOT_APPLICABLE


@pytest.mark.django_db
@pytest.mark.parametrize("url", [
    "http://127.0.0.1/forcedphot/static/results/job1.txt", "file:///etc/passwd",
    "https://evil.example.org/forcedphot/static/results/job1.txt", "job170001",
    "https://fallingstar-data.com/forcedphot/queue/",
    "https://fallingstar-data.com:8443/forcedphot/static/results/job1.txt",
])
def test_a_pasted_url_off_the_result_files_is_refused_without_a_request(archive, make_target, settings, url):
    del settings.DATA_SERVICES["ATLAS"]["token"]
    target = make_target("x", RA, DEC, **{"ATLAS URL": url})
    outcome = update(target, AtlasBroker)
    assert outcome.status == LightcurveUpdate.Status.INVALID_NAME and "ATLAS URL" in outcome.message
    assert archive.requests == []


@pytest.mark.django_db
def test_the_token_is_never_kept_even_when_the_server_echoes_it(archive, make_target, settings, caplog):
    caplog.set_level(logging.DEBUG)
    target = make_target("Gaia20fnr", RA, DEC)
    update(target, AtlasBroker)
    stored_text = str([[p.value, p.telescope, p.source_location] for p in stored(target, "ATLAS")])
    row = LightcurveUpdate.objects.get(target=target, source="ATLAS")
    assert ATLAS_TEST_TOKEN not in stored_text + row.url + row.message + row.queried_with
    wrong = "wrong-token-7f3a1b2c9d"                       # the emulated server answers 401 "Invalid token <it>."
    settings.DATA_SERVICES["ATLAS"]["token"] = wrong
    outcome = update(target, AtlasBroker)
    assert outcome.status == "error" and "Invalid token ***" in outcome.message, outcome.message
    row = LightcurveUpdate.objects.get(target=target, source="ATLAS")
    assert wrong not in outcome.message + outcome.url + row.message + row.url + caplog.text
    assert ATLAS_TEST_TOKEN not in caplog.text


@pytest.mark.django_db
def test_a_queue_post_that_may_have_reached_the_server_is_not_sent_again(archive, make_target):
    """A 502 after the POST: the job may be queued already, so no second POST (a GET is retried as usual)."""
    archive.add_fault(path="/forcedphot/queue/", kind="status", status=502, times=1)
    target = make_target("Gaia20fnr", RA, DEC)
    outcome = update(target, AtlasBroker)
    assert outcome.status == "error" and "server error" in outcome.message
    assert len([r for r in archive.requests if r["method"] == "POST"]) == 1
    assert update(target, AtlasBroker).status == "ok"  # the next run asks again
