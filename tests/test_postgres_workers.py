"""Distributed updates on a real PostgreSQL: `update_lightcurves --enqueue` with django-tasks' database
backend, drained by two `db_worker` processes at once; and two concurrent `update_lightcurves` runs."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import debian
from tests.fleet import db_workers, source_options
from tests.postgres import PostgresServer, PostgresUnavailable

REPO = Path(__file__).resolve().parent.parent
#: enough for two workers (or two runs) to interleave on every fleet source (tests/fleet.py's FLEET_SOURCES, fixed,
#: so this test's time does not grow with the number of archives): 240 pairs over 6 sources
N_TARGETS = 40

CREATE_TARGETS = f"""
from tests.fleet import create_fleet
create_fleet({N_TARGETS})
"""

CHECK = """
import json
from django.db.models import Count
from tom_dataproducts.models import PhotometryReducedDatum as P
from tom_bhtom_brokers.models import LightcurveUpdate as U
from tom_targets.models import Target
dups = (P.objects.values('target', 'source_name', 'bandpass', 'timestamp', 'brightness', 'limit')
        .annotate(n=Count('id')).filter(n__gt=1).count())
per_target = {t: dict(P.objects.filter(target_id=t).values_list('source_name').annotate(n=Count('id')))
              for t in Target.objects.values_list('id', flat=True)}
rows = list(U.objects.values_list('target_id', 'source', 'status', 'points_total'))
from django_tasks.backends.database.models import DBTaskResult
tasks = dict(DBTaskResult.objects.values_list('status').annotate(n=Count('id')))
print(json.dumps({'dups': dups, 'per_target': per_target, 'rows': rows, 'tasks': tasks}))
"""


@pytest.fixture(scope="module")
def postgres():
    yield from debian.serving(PostgresServer, PostgresUnavailable, "PostgreSQL")


def manage(env, *args, timeout=600):
    return subprocess.run([sys.executable, "-m", "django", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


def site_env(pg, database, archive_url, tasks="database"):
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(REPO),
            "BHTOM_TEST_PG": pg.create_database(database), "BHTOM_TEST_ARCHIVE_URL": archive_url,
            "BHTOM_TEST_TASKS": tasks}


def prepared(env):
    for args in (("migrate", "--no-input", "-v", "0"), ("shell", "-c", CREATE_TARGETS)):
        done = manage(env, *args)
        assert done.returncode == 0, done.stderr[-2000:]


def state(env):
    import json

    done = manage(env, "shell", "-c", CHECK)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_complete(result, expected):
    assert result["dups"] == 0
    assert len(result["per_target"]) == N_TARGETS
    for counts in result["per_target"].values():
        assert counts == expected
    assert len(result["rows"]) == len(expected) * N_TARGETS
    assert {status for _, _, status, _ in result["rows"]} == {"ok"}
    totals = {(t, s): n for t, s, _, n in result["rows"]}
    for target, counts in result["per_target"].items():
        assert totals[(int(target), "Gaia Alerts")] == counts["Gaia Alerts"]


def test_two_db_workers_drain_the_queue(postgres, sample_archive_server, capsys):
    from tests.fleet import expected_points

    sample_archive_server.reset()
    sample_archive_server.latency = 0.02
    env = site_env(postgres, "workers", sample_archive_server.url)
    prepared(env)
    enqueued = manage(env, "update_lightcurves", "--enqueue", *source_options())
    assert enqueued.returncode == 0 and f"enqueued {N_TARGETS} target update(s)" in enqueued.stdout, enqueued.stderr
    ran = db_workers(env, 2)
    # the tasks queued ATLAS's jobs and deferred a task each to collect them: a worker batch runs what is due
    for _ in range(30):
        result = state(env)
        if {status for _, source, status, _ in result["rows"] if source == "ATLAS"} == {"ok"}:
            break
        time.sleep(0.2)
        manage(env, "db_worker", "--batch", "--no-startup-delay", "--interval", "0.1")
    assert_complete(result, expected_points())
    with capsys.disabled():
        print(f"\n[postgres workers] targets={N_TARGETS} tasks run per worker={ran} points lost=0 "
              f"duplicates={result['dups']}")
    assert sum(ran) >= N_TARGETS and all(n > 0 for n in ran), "both workers should have taken tasks"
    assert set(result["tasks"]) == {"SUCCEEDED"} and result["tasks"]["SUCCEEDED"] > N_TARGETS


def test_two_concurrent_runs_end_consistent(postgres, sample_archive_server, capsys):
    from tests.fleet import expected_points

    sample_archive_server.reset()
    sample_archive_server.latency = 0.02
    env = site_env(postgres, "concurrent", sample_archive_server.url, tasks="immediate")
    prepared(env)
    runs = [subprocess.Popen([sys.executable, "-m", "django", "update_lightcurves", "--force", "--no-progress",
                              *source_options()],
                             cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [r.communicate(timeout=600) for r in runs]
    assert all(r.returncode == 0 for r in runs), [o[1][-1500:] for o in outputs]
    result = state(env)
    assert_complete(result, expected_points())
    # again: now every answer is the one stored, and both runs write their unchanged pairs in bulk, each batch
    # locking its rows in one order (PostgreSQL would end one run with a deadlock error otherwise)
    again = [subprocess.Popen([sys.executable, "-m", "django", "update_lightcurves", "--force", "--no-progress",
                               *source_options()],
                              cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [r.communicate(timeout=600) for r in again]
    assert all(r.returncode == 0 for r in again), [o[1][-1500:] for o in outputs]
    assert all("deadlock" not in o[0] + o[1] for o in outputs)
    result = state(env)
    assert_complete(result, expected_points())
    with capsys.disabled():
        print(f"\n[postgres concurrent runs] pairs={len(expected_points()) * N_TARGETS} "
              f"duplicates={result['dups']} points lost=0")
