"""Faults, bad input and concurrency over many targets and sources: nothing lost, nothing duplicated."""
import os
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tom_dataproducts.models import PhotometryReducedDatum
from tom_targets.models import Target

from tests.fleet import create_fleet, expected_points, fleet, fleet_brokers, source_options
from tom_bhtom_brokers import updating
from tom_bhtom_brokers.transports import hosts
from tom_bhtom_brokers.models import LightcurveUpdate

REPO = Path(__file__).resolve().parent.parent

# (kind, extra switches, survives): a fault that survives is retried into success.
FAULTS = [
    ("stall", {"seconds": 2.5}, False),
    ("reset", {}, False),
    ("reset", {"times": 1}, True),
    ("status", {"status": 429, "retry_after": "1", "times": 1}, True),
    ("status", {"status": 500, "times": 1}, True),
    ("status", {"status": 503, "times": 2}, True),
    ("status", {"status": 503}, False),
    ("html", {}, False),
    ("truncate", {}, False),
    ("garbage", {}, False),
    ("oversize", {"size": 300_000}, False),
    ("empty", {}, False),
]


def make_fleet(n):
    return create_fleet(n)


def snapshot():
    return {(p["target"], p["source_name"], p["bandpass"], p["timestamp"], p["brightness"], p["limit"])
            for p in PhotometryReducedDatum.objects.values("target", "source_name", "bandpass", "timestamp",
                                                           "brightness", "limit")}


def duplicates():
    return (PhotometryReducedDatum.objects.values("target", "source_name", "bandpass", "timestamp", "brightness",
                                                  "limit").annotate(n=Count("id")).filter(n__gt=1).count())


@pytest.mark.django_db
def test_faults_over_many_pairs_lose_nothing_and_duplicate_nothing(archive, settings, capsys):
    for name in settings.DATA_SERVICES:
        settings.DATA_SERVICES[name]["max_bytes"] = 200_000
    targets = make_fleet(30)
    brokers = fleet_brokers()
    first = updating.run(updating.plan(targets, brokers), workers=8)
    assert {o.status for o in first} == {"ok"}
    before = snapshot()

    # one fault per pair, on its own path (Gaia: the alert name) or query (NEOWISE: the cone's RA)
    injected = {}
    for i, (kind, switches, survives) in enumerate(FAULTS):
        gaia_target, neowise_target = targets[i], targets[len(FAULTS) + i]
        archive.add_fault(kind=kind, path=f"/alerts/alert/{fleet(30)[i][3]}/", **switches)
        archive.add_fault(kind=kind, path="/TAP/sync", query=["neowiser_p1bs_psd", f"{neowise_target.ra:.7f}"],
                          **switches)
        injected[(gaia_target.pk, "Gaia Alerts")] = (kind, survives)
        injected[(neowise_target.pk, "NEOWISE")] = (kind, survives)

    outcomes = updating.run(updating.plan(targets, brokers, force=True), workers=8)
    after = snapshot()
    lost = len(before - after)
    survived = 0
    for outcome in outcomes:
        kind, survives = injected.get((outcome.target_id, outcome.source), (None, True))
        expected = "ok" if survives else "error"
        assert outcome.status == expected, (kind, outcome)
        if kind and not survives:
            assert outcome.message and outcome.url.startswith(archive.url), outcome
            row = LightcurveUpdate.objects.get(target_id=outcome.target_id, source=outcome.source)
            assert row.status == "error" and row.points_total > 0 and row.last_success is not None
        survived += bool(kind)
    counts = {"pairs tried": len(outcomes), "faults injected": len(injected), "faults survived": survived,
              "points lost": lost, "duplicates": duplicates()}
    with capsys.disabled():
        print("\n[faults] " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    assert counts["points lost"] == 0 and counts["duplicates"] == 0 and after == before
    assert survived == len(injected) == 2 * len(FAULTS)


@pytest.mark.django_db
def test_no_archive_host_sees_more_than_the_limit(archive, settings):
    settings.BHTOM_BROKERS = {"max_requests_per_host": 3}
    hosts.reset_host_limiter()
    archive.latency = 0.05
    targets = make_fleet(10)
    outcomes = updating.run(updating.plan(targets, fleet_brokers()), workers=16)
    assert {o.status for o in outcomes} == {"ok"}
    assert archive.max_in_flight == 3  # both brokers talk to the one sample-archive host


@pytest.mark.django_db
def test_a_target_deleted_while_its_update_runs(archive):
    archive.latency = 0.2
    targets = make_fleet(4)
    items = updating.plan(targets, fleet_brokers())
    deleted = []

    def delete_the_others(outcome):
        if not deleted:
            doomed = [t for t in targets if t.pk != outcome.target_id]
            deleted.extend(t.pk for t in doomed)
            Target.objects.filter(pk__in=deleted).delete()

    outcomes = updating.run(items, workers=8, on_outcome=delete_the_others)
    gone = [o for o in outcomes if o.target_id in deleted]
    assert gone and all(o.status == updating.DELETED and "deleted" in o.message for o in gone)
    assert not PhotometryReducedDatum.objects.filter(target_id__in=deleted).exists()


@pytest.mark.django_db
def test_a_rerun_with_nothing_due_downloads_and_writes_nothing(archive, django_assert_max_num_queries):
    targets = make_fleet(10)
    brokers = fleet_brokers()
    updating.run(updating.plan(targets, brokers))
    requests = len(archive.requests)
    with django_assert_max_num_queries(4):  # targets, their extras, the status rows: no writes
        outcomes = updating.run(updating.plan(Target.objects.all(), brokers))
    assert len(archive.requests) == requests and {o.status for o in outcomes} == {"skipped"}


@pytest.mark.django_db
def test_enqueue_with_the_immediate_backend_updates_here_with_its_summary(archive):
    """tom_setup's immediate backend would run each task inside the command and say only "enqueued 3": the
    command says what it does instead and updates as a plain run, ATLAS's jobs collected in its passes."""
    make_fleet(3)
    out = StringIO()
    call_command("update_lightcurves", "--enqueue", "--no-progress", *source_options(), stdout=out)
    assert "updating here instead of enqueueing" in out.getvalue() and "total" in out.getvalue()
    assert PhotometryReducedDatum.objects.count() == 3 * sum(expected_points().values())
    assert set(LightcurveUpdate.objects.filter(source="ATLAS").values_list("status", flat=True)) == {"ok"}


@pytest.mark.django_db(transaction=True)  # the worker closes and reopens connections, as in production
def test_enqueue_with_the_database_backend_then_a_worker(archive, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.database.DatabaseBackend"}}
    make_fleet(3)
    call_command("update_lightcurves", "--enqueue", *source_options(), stdout=StringIO())
    assert not PhotometryReducedDatum.objects.exists()  # queued, not run in the caller
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0.1", stdout=StringIO())
    # ATLAS's jobs went in one batch task, which submitted them together and deferred one task to collect them
    # (poll_seconds later); a deferred task that finds jobs still queued defers itself again for those
    from django_tasks.backends.database.models import DBTaskResult

    batches = DBTaskResult.objects.filter(task_path="tom_bhtom_brokers.tasks.update_archive_batch")
    first, *deferred = batches.order_by("enqueued_at")
    assert first.args_kwargs["args"][0] == "ATLAS" and len(first.args_kwargs["args"][1]) == 3 and deferred
    assert all(r.args_kwargs["args"][0] == "ATLAS" and r.run_after is not None for r in deferred)
    assert not DBTaskResult.objects.filter(task_path="tom_bhtom_brokers.tasks.update_target_lightcurves",
                                           run_after__isnull=False).exists()
    for _ in range(30):
        if not LightcurveUpdate.objects.filter(source="ATLAS", status="queued").exists():
            break
        time.sleep(0.2)
        call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0.1", stdout=StringIO())
    assert PhotometryReducedDatum.objects.count() == 3 * sum(expected_points().values())
    assert LightcurveUpdate.objects.filter(status="ok").count() == 3 * len(expected_points())


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_on_sqlite_end_consistent(archive):
    targets = make_fleet(12)
    archive.latency = 0.02
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(REPO),
           "BHTOM_TEST_SQLITE": connection.settings_dict["NAME"], "BHTOM_TEST_ARCHIVE_URL": archive.url}
    runs = [subprocess.Popen([sys.executable, "-m", "django", "update_lightcurves", "--force", "--no-progress",
                              *source_options()],
                             cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [r.communicate(timeout=300) for r in runs]
    assert all(r.returncode == 0 for r in runs), [o[1][-2000:] for o in outputs]
    assert duplicates() == 0
    assert PhotometryReducedDatum.objects.count() == len(targets) * sum(expected_points().values())
    rows = LightcurveUpdate.objects.all()
    assert rows.count() == len(expected_points()) * len(targets) and {r.status for r in rows} == {"ok"}
    for row in rows:
        assert row.points_total == PhotometryReducedDatum.objects.filter(target=row.target,
                                                                         source_name=row.source).count()


@pytest.mark.django_db
def test_unchanged_pairs_status_rows_are_written_in_bulk(archive):
    """A daily refresh's usual answer is the stored one: results that arrive together while the writing thread is
    busy are recorded in one locking read and one UPDATE, not a transaction each, and every row still says when
    it was last read."""
    targets = make_fleet(6)
    brokers = [b for b in fleet_brokers() if not b.queues_jobs]
    updating.run(updating.plan(targets, brokers))
    before = timezone.now()
    fetched = [updating.fetch_one(item) for item in updating.plan(targets, brokers, force=True)]
    assert len(fetched) == 30 and all(updating.plainly_unchanged(result) for result in fetched)
    with CaptureQueriesContext(connection) as queries:
        recorded = updating.record_many(fetched)
    # (Django logs an executemany as "30 times: UPDATE ...")
    status_writes = [q["sql"] for q in queries.captured_queries
                     if "UPDATE" in q["sql"][:20] and "lightcurveupdate" in q["sql"]]
    assert len(status_writes) == 1 and status_writes[0].startswith("30 times: UPDATE"), status_writes
    assert {outcome.message for _, outcome in recorded} == {"unchanged since the last update"}
    rows = LightcurveUpdate.objects.filter(target__in=targets)
    assert rows.count() == 30
    assert all(row.last_success >= before and row.status == "ok" and row.points_added == 0 for row in rows)


@pytest.mark.django_db(transaction=True)
def test_a_first_read_batch_creates_its_status_rows_first_and_locks_them_in_one_read(archive):
    """Results that arrive together on a first read: their status rows are created before the batch's transaction
    (one insert) and taken in one locking read, not looked up and created pair by pair; a target deleted while its
    update ran is reported, and every other pair is recorded."""
    targets = make_fleet(6)
    brokers = [b for b in fleet_brokers() if not b.queues_jobs]
    fetched = [updating.fetch_one(item) for item in updating.plan(targets, brokers)]
    assert len(fetched) == 30 and not LightcurveUpdate.objects.exists()
    gone = targets[-1].id
    targets[-1].delete()
    with CaptureQueriesContext(connection) as queries:
        recorded = updating.record_many(fetched)
    status_sql = [q["sql"] for q in queries.captured_queries if "lightcurveupdate" in q["sql"].lower()]
    inserts = [sql for sql in status_sql if sql.lstrip().upper().startswith("INSERT")]
    reads = [sql for sql in status_sql if sql.lstrip().upper().startswith("SELECT")]
    # one read of which rows exist, one insert of the 25 missing, one locking read; then one write per pair
    assert len(inserts) == 1 and len(reads) == 2, status_sql
    outcomes = [outcome for _, outcome in recorded]
    assert sorted(o.status for o in outcomes if o.target_id == gone) == ["deleted"] * 5
    assert {o.status for o in outcomes if o.target_id != gone} == {"ok"}
    assert LightcurveUpdate.objects.count() == 25 and set(LightcurveUpdate.objects.values_list("status", flat=True)) \
        == {"ok"}
    assert duplicates() == 0


@pytest.mark.django_db
def test_an_identical_answer_is_not_parsed_or_compared_unless_points_went_missing(archive):
    targets = make_fleet(2)
    brokers = fleet_brokers()
    updating.run(updating.plan(targets, brokers))
    again = updating.run(updating.plan(targets, brokers, force=True))
    assert {o.message for o in again} == {"unchanged since the last update"}
    assert {o.status for o in again} == {"ok"} and sum(o.added for o in again) == 0

    victim = PhotometryReducedDatum.objects.filter(target=targets[0], source_name="NEOWISE").first()
    victim.delete()  # points went missing by hand: the stored answer is no longer intact
    repaired = {o.source: o for o in updating.run(updating.plan([targets[0]], brokers, force=True))}
    # the status line says only where the source lies (a fact of the answer, kept out of the points)
    assert repaired["NEOWISE"].added == 1 and repaired["NEOWISE"].message.startswith("nearest source")
    assert repaired["Gaia Alerts"].message == "unchanged since the last update"


@pytest.mark.django_db(transaction=True)
def test_two_atlas_batch_tasks_for_the_same_targets_at_once_lose_and_double_nothing(archive, capsys):
    """Two overlapping ``--enqueue`` runs give two batch tasks for the same targets, run by two workers at once:
    both may submit (neither has recorded its jobs yet when the other plans), but whichever job's result is
    collected, every target ends with its ATLAS points once and its pair ok."""
    import threading

    from django.db import close_old_connections

    from tom_bhtom_brokers import tasks

    targets = make_fleet(6)
    ids, errors = [t.id for t in targets], []

    def worker():
        try:
            for _ in range(30):  # the task and the collections it defers, as a worker would run them when due
                tasks.update_archive_batch.call("ATLAS", ids)
                if not LightcurveUpdate.objects.filter(source="ATLAS", status="queued").exists():
                    break
        except Exception as exc:  # noqa: BLE001 - recorded for the assertion below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    submissions = [r for r in archive.requests if r["method"] == "POST"]
    with capsys.disabled():
        print(f"\n[overlapping ATLAS batches] submissions={len(submissions)} for {len(ids)} targets")
    assert errors == []
    assert set(LightcurveUpdate.objects.filter(source="ATLAS").values_list("status", flat=True)) == {"ok"}
    assert duplicates() == 0
    assert PhotometryReducedDatum.objects.filter(source_name="ATLAS").count() == 6 * expected_points()["ATLAS"]
