"""A day in production (#17): a daily refresh asks only for what is new, a weekly full read re-validates the
history, an ATLAS job waits in ATLAS's queue without holding a worker, and the plan reads any number of targets
in chunks. On the real FU Ori AAVSO history and the real ATLAS forced-photometry result of Gaia20fnr, with the
sample archive's clock standing in for the days passing."""
import math
from datetime import timedelta

import numpy as np
import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from tests.brokers.contract import stored, update
from tests.brokers.test_aavso import DEC, JD, RA
from tests.brokers.test_atlas import GOOD
from tests.sample_archive.server import DATA_DIR, rows_between
from tom_bhtom_brokers import planning, updating
from tom_bhtom_brokers.brokers.aavso import AavsoBroker
from tom_bhtom_brokers.brokers.atlas import AtlasBroker
from tom_bhtom_brokers.brokers.gaia_alerts import GaiaAlertsBroker
from tom_bhtom_brokers.models import LightcurveUpdate

MJD_TO_JD = 2400000.5
GAIA20FNR = (90.26701, -18.96770)


def a_day_passes(target, source, full_read_days_ago=None):
    """The pair was last read a day ago (so a daily archive is due), its last full read as long ago as said."""
    changes = {"last_attempt": F("last_attempt") - timedelta(days=1)}
    if full_read_days_ago is not None:
        changes["last_full_read"] = F("last_full_read") - timedelta(days=full_read_days_ago)
    LightcurveUpdate.objects.filter(target=target, source=source).update(**changes)


def aavso_jd(point):
    return point.value["time_original"]


@pytest.mark.django_db
def test_a_daily_aavso_refresh_asks_one_chunk_and_keeps_the_older_points(archive, make_target):
    newest = np.sort(JD.to_numpy())[-3]
    archive.until_jd = newest                      # the last three observations are not made yet
    target = make_target("FU Ori", RA, DEC, **{"AAVSO name": "FU Ori"})
    first = update(target, AavsoBroker, force=False)
    assert first.status == "ok" and first.added == int((JD < newest).sum()), first.message
    older = set(stored(target, "AAVSO").values_list("pk", flat=True))
    last_jd = max(aavso_jd(p) for p in stored(target, "AAVSO"))

    archive.until_jd, archive.requests = math.inf, []  # a day later, three new observations
    a_day_passes(target, "AAVSO")
    (item,) = updating.plan([target], [AavsoBroker()])
    assert item.due and "recent part asked (full read every 7 d)" in item.reason
    second = update(target, AavsoBroker, force=False)
    assert second.status == "ok" and (second.added, second.removed) == (3, 0), second.message
    (request,) = archive.requests                  # one chunk instead of the century's 13
    assert float(request["params"]["fromjd"]) == pytest.approx(last_jd - 30, abs=1e-5)
    assert older < set(stored(target, "AAVSO").values_list("pk", flat=True))
    assert stored(target, "AAVSO").count() == len(JD)

    for day in ("third", "fourth"):                # nothing new: from the second day on, the same answer is not parsed
        archive.requests = []
        a_day_passes(target, "AAVSO")
        later = update(target, AavsoBroker, force=False)
        assert later.status == "ok" and (later.added, later.removed) == (0, 0) and len(archive.requests) == 1
    assert "unchanged" in later.message


@pytest.mark.django_db
def test_a_recent_part_cut_short_removes_nothing(archive, make_target, settings):
    """The shrink guard counts the range asked: a daily answer cut short (complete as far as any client can tell)
    that would drop most of the recent points is held, however many older points are stored."""
    settings.DATA_SERVICES["AAVSO"]["overlap_days"] = 5000            # FU Ori's recent years are sparse
    target = make_target("FU Ori", RA, DEC, **{"AAVSO name": "FU Ori"})
    assert update(target, AavsoBroker, force=False).added == len(JD)
    kept = set(stored(target, "AAVSO").values_list("pk", flat=True))
    recent = int((JD >= JD.max() - 5000).sum())
    assert 20 <= recent < len(JD) / 4                                 # the range is a small part of the history
    a_day_passes(target, "AAVSO")
    (item,) = updating.plan([target], [AavsoBroker()])
    assert "recent part asked" in item.reason
    archive.add_fault(kind="cut_at_line", path="/index.php", keep=0.3)
    outcome = update(target, AavsoBroker, force=False)
    assert outcome.status == "shrank" and outcome.removed == 0, outcome.message
    assert set(stored(target, "AAVSO").values_list("pk", flat=True)) == kept


@pytest.mark.django_db
def test_the_weekly_full_read_picks_up_a_changed_old_observation(archive, make_target):
    target = make_target("FU Ori", RA, DEC, **{"AAVSO name": "FU Ori"})
    assert update(target, AavsoBroker, force=False).added == len(JD)
    old = stored(target, "AAVSO").filter(brightness__isnull=False).order_by("timestamp").first()
    jd = aavso_jd(old)
    edges = AavsoBroker().chunk_edges()
    start, stop = next((a, b) for a, b in zip(edges, edges[1:]) if a <= jd < b)
    chunk = rows_between((DATA_DIR / "aavso" / "FU_Ori.txt").read_bytes(), "@@@", start, stop).decode()
    line = next(row for row in chunk.splitlines() if row.startswith(f"{jd:.5f}@@@"))
    fields = line.split("@@@")
    revised = fields[:1] + [f"{float(fields[1]) + 0.5:.3f}"] + fields[2:]   # AAVSO revised the magnitude
    fault = archive.add_fault(kind="replace", path="/index.php", query=f"fromjd={start:.5f}",
                              body=chunk.replace(line, "@@@".join(revised)))

    a_day_passes(target, "AAVSO")                  # the daily refresh does not reach back that far
    daily = update(target, AavsoBroker, force=False)
    assert daily.status == "ok" and fault.served == 0 and daily.added == 0
    a_day_passes(target, "AAVSO", full_read_days_ago=7)
    archive.requests = []
    weekly = update(target, AavsoBroker, force=False)
    assert weekly.status == "ok" and (weekly.added, weekly.removed) == (1, 1), weekly.message
    assert len(archive.requests) == 13 and fault.served == 1
    revised_point = stored(target, "AAVSO").get(value__aavso_obs_id=old.value["aavso_obs_id"])
    assert revised_point.brightness == pytest.approx(old.brightness + 0.5)
    assert stored(target, "AAVSO").count() == len(JD)


@pytest.mark.django_db
def test_an_atlas_job_waits_in_the_queue_while_the_only_worker_fetches_other_archives(archive, make_target,
                                                                                        settings):
    archive.atlas.config["queue_seconds"] = 1.5    # ATLAS works on the job for 1.5 s
    archive.latency = 0.1
    settings.DATA_SERVICES["ATLAS"]["poll_seconds"] = 0.3
    target = make_target("Gaia20fnr", *GAIA20FNR, **{"AAVSO name": "FU Ori", "Gaia Alerts name": "Gaia20fnr"})
    brokers = [AavsoBroker(), GaiaAlertsBroker(), AtlasBroker()]
    outcomes = updating.run(updating.plan([target], brokers), workers=1)
    assert {o.source: o.status for o in outcomes} == {"AAVSO": "ok", "Gaia Alerts": "ok", "ATLAS": "ok"}
    assert stored(target, "ATLAS").count() == len(GOOD)
    submitted = next(r["time"] for r in archive.requests if r["method"] == "POST")
    collected = next(r["time"] for r in archive.requests if "/static/results/" in r["path"])
    meanwhile = [r for r in archive.requests if submitted < r["time"] < collected and "/forcedphot/" not in r["path"]]
    # one worker: had it waited on ATLAS's queue, nothing else would have been asked in the meantime
    assert collected - submitted >= 1.5 and len(meanwhile) >= 13, (collected - submitted, len(meanwhile))
    polls = [r for r in archive.requests if r["method"] == "GET" and "/forcedphot/queue/" in r["path"]]
    assert 2 <= len(polls) <= 1.5 / 0.3 + 2

    # a day later ATLAS is asked for the recent part only, and the older points stay
    a_day_passes(target, "ATLAS")
    archive.requests = []
    again = update(target, AtlasBroker, force=False)
    assert again.status == "ok" and (again.added, again.removed) == (0, 0), again.message
    mjd_min = float(next(r for r in archive.requests if r["method"] == "POST")["params"]["mjd_min"])
    assert mjd_min == pytest.approx(GOOD["MJD"].max() - 30, abs=1e-4)
    assert stored(target, "ATLAS").count() == len(GOOD)

    # a recent-part job still queued when the run ends is collected as one, though a full read fell due meanwhile
    a_day_passes(target, "ATLAS")
    settings.DATA_SERVICES["ATLAS"]["max_wait_seconds"] = 0
    assert update(target, AtlasBroker, force=False).status == "queued"
    assert LightcurveUpdate.objects.get(target=target, source="ATLAS").job_asked_from == pytest.approx(mjd_min)
    a_day_passes(target, "ATLAS", full_read_days_ago=7)
    settings.DATA_SERVICES["ATLAS"]["max_wait_seconds"] = 60
    collected = update(target, AtlasBroker, force=False)
    assert collected.status == "ok" and (collected.added, collected.removed) == (0, 0), collected.message
    assert stored(target, "ATLAS").count() == len(GOOD)


@pytest.mark.django_db
def test_the_plan_reads_targets_in_chunks_with_a_few_queries_each(monkeypatch):
    from tom_targets.models import Target

    monkeypatch.setattr(planning, "PLAN_CHUNK", 40)
    Target.objects.bulk_create([Target(name=f"t{i}", type=Target.SIDEREAL, ra=i, dec=0) for i in range(100)])
    brokers = updating.installed_brokers()
    with CaptureQueriesContext(connection) as queries:
        items = updating.plan(Target.objects.order_by("pk"), brokers)
    assert len(items) == 100 * len(brokers) and all(item.due for item in items)
    # the targets (one cursor), then per chunk of 40: survey names, status rows, point counts
    assert len(queries) == 1 + 3 * 3, [q["sql"][:80] for q in queries]


def test_a_free_thread_goes_to_the_first_pair_whose_host_has_a_free_slot():
    from types import SimpleNamespace

    from tom_bhtom_brokers.scheduling import PairQueue

    def pair(host, n):
        return SimpleNamespace(broker=SimpleNamespace(base_url=f"http://{host}"), n=n)

    queue = PairQueue([pair("a", 0), pair("a", 1), pair("a", 2), pair("b", 3)], per_host=2)
    first, second, third = queue.take(), queue.take(), queue.take()
    assert [first.n, second.n, third.n] == [0, 1, 3]      # host a is at its limit: b's pair, not a third of a's
    assert queue.take() is None
    queue.again(first, 0)                                  # a pair back for its job, due now; a is still full
    assert queue.take() is None
    queue.done(second)
    assert queue.take() is first and queue.take() is None  # the pair put off goes before a's waiting one
    queue.done(third), queue.done(first)
    assert queue.take().n == 2 and not queue


def test_a_free_thread_goes_to_the_host_with_the_most_pairs_waiting():
    """The busiest host sets a run's length: its slots are filled first, whatever the run's order."""
    from types import SimpleNamespace

    from tom_bhtom_brokers.scheduling import PairQueue

    def pair(host, n):
        return SimpleNamespace(broker=SimpleNamespace(base_url=f"http://{host}"), n=n)

    queue = PairQueue([pair("b", 0), pair("c", 1)] + [pair("a", n) for n in range(2, 7)], per_host=2)
    assert [queue.take().n for _ in range(4)] == [2, 3, 0, 1]  # a's two slots, then b and c in the run's order


def test_a_free_thread_goes_to_the_host_with_the_most_work_waiting(monkeypatch):
    """Work is pairs times what a host's pairs took so far: a host whose pairs take ten times as long (AAVSO's
    chunks) goes before one with more pairs waiting; a host not measured yet goes first of all."""
    from types import SimpleNamespace

    from tom_bhtom_brokers import scheduling

    clock = [0.0]
    monkeypatch.setattr(scheduling.time, "monotonic", lambda: clock[0])

    def pair(host, n):
        return SimpleNamespace(broker=SimpleNamespace(base_url=f"http://{host}"), n=n)

    queue = scheduling.PairQueue([pair("slow", n) for n in range(4)] + [pair("fast", n) for n in range(10, 20)],
                                 per_host=1)
    fast, slow = queue.take(), queue.take()  # neither measured: the one with more pairs, then the other
    assert (fast.n, slow.n) == (10, 0) and queue.take() is None
    clock[0] = 0.1
    queue.done(fast)   # fast: 0.1 s a pair, 9 waiting = 0.9 s of work
    clock[0] = 1.0
    queue.done(slow)   # slow: 1 s a pair, 3 waiting = 3 s of work
    assert [queue.take().n, queue.take().n] == [1, 11]


def test_a_pair_put_off_whose_host_is_full_holds_back_no_other_hosts_pair():
    """ATLAS's jobs and ZTF's forced photometry both come back for their jobs: ATLAS's pairs waiting for its slots
    must not keep ZTF's, due later, from theirs."""
    from types import SimpleNamespace

    from tom_bhtom_brokers.scheduling import PairQueue

    def pair(host, n):
        return SimpleNamespace(broker=SimpleNamespace(base_url=f"http://{host}"), n=n)

    atlas = [pair("atlas", n) for n in range(3)]
    ztf = pair("ztf", 9)
    queue = PairQueue([], per_host=1)
    for item in atlas:
        queue.again(item, 0)
    queue.again(ztf, 0)
    assert queue.take() is atlas[0]              # the earliest due pair whose host is free
    assert queue.take() is ztf                   # atlas is full: the next due pair of a free host
    assert queue.take() is None and len(queue) == 2
    queue.done(atlas[0])
    assert queue.take() is atlas[1]
