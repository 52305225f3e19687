"""A fleet that shares its limits (#29): three ``db_worker`` processes on a real PostgreSQL, sharing a real Redis
as the site's cache (Django's RedisCache), against the sample archive over HTTP.

- The archive host counts its concurrent requests: never more than the fleet-wide ``max_requests_per_host``,
  though each worker process alone may open that many; ATLAS's jobs of every target arrive in one submission;
  every pair stored, no duplicates.
- A host that answers nothing (Gaia Alerts pointed at a server that never answers) costs the fleet one round
  of timeouts: the requests already out when it was found silent, not one per task.
"""
import json
import time

import pytest

from tests import debian
from tests.fleet import db_workers, source_options
from tests.redis_server import RedisServer, RedisUnavailable
from tests.sample_archive.server import SampleArchive
from tests.test_postgres_workers import N_TARGETS, assert_complete, manage, postgres, prepared, site_env, state

__all__ = ["postgres"]  # the module-scoped PostgreSQL fixture, shared with the two-worker tests

#: the fleet-wide limit of requests at once to one archive host (all the sample archive's routes are one host)
PER_HOST = 3
WORKERS = 3


@pytest.fixture(scope="module")
def redis():
    yield from debian.serving(RedisServer, RedisUnavailable, "Redis")


def fleet_env(pg, redis_server, database, archive_url, services=None):
    env = site_env(pg, database, archive_url)
    env.update({"BHTOM_TEST_REDIS": redis_server.url,
                "BHTOM_TEST_BROKERS": json.dumps({"max_requests_per_host": PER_HOST, "circuit_open_seconds": 600}),
                "BHTOM_TEST_SERVICES": json.dumps(services or {})})
    return env


def collect_deferred(env):
    """Run the deferred tasks that collect ATLAS's jobs as they come due; the final state."""
    for _ in range(60):
        result = state(env)
        if {status for _, source, status, _ in result["rows"] if source == "ATLAS"} == {"ok"}:
            return result
        time.sleep(0.2)
        db_workers(env, 1)
    return state(env)


def test_three_workers_share_the_per_host_limit_and_batch_atlas(postgres, redis, sample_archive_server, capsys):
    from tests.fleet import expected_points

    sample_archive_server.reset()
    sample_archive_server.latency = 0.03
    env = fleet_env(postgres, redis, "fleet_limits", sample_archive_server.url)
    prepared(env)
    enqueued = manage(env, "update_lightcurves", "--enqueue", *source_options())
    assert enqueued.returncode == 0, enqueued.stderr[-2000:]
    assert f"enqueued {N_TARGETS} target update(s) and 1 batch(es)" in enqueued.stdout, enqueued.stdout
    ran = db_workers(env, WORKERS)
    result = collect_deferred(env)
    assert_complete(result, expected_points())
    submissions = [r for r in sample_archive_server.requests
                   if r["method"] == "POST" and r["path"].rstrip("/") == "/forcedphot/queue"]
    peak = sample_archive_server.max_in_flight
    with capsys.disabled():
        print(f"\n[fleet workers] workers={WORKERS} tasks run={ran} limit={PER_HOST} peak concurrent requests={peak} "
              f"ATLAS submissions={len(submissions)} requests={len(sample_archive_server.requests)}")
    assert all(n > 0 for n in ran), "every worker should have taken tasks"
    assert peak <= PER_HOST
    # all targets' ATLAS jobs in one submission (at most 100 positions each), not one per target
    assert len(submissions) == 1 and len(submissions[0]["params"]["radeclist"].splitlines()) == N_TARGETS


def test_a_silent_host_costs_the_fleet_one_round_of_timeouts(postgres, redis, sample_archive_server, capsys):
    sample_archive_server.reset()
    sample_archive_server.latency = 0.02
    with SampleArchive() as silent:
        silent.add_fault(kind="stall", seconds=60)  # accepts every request, never answers
        env = fleet_env(postgres, redis, "fleet_silent", sample_archive_server.url,
                        services={"Gaia Alerts": {"url": silent.url, "timeout": 2}})
        prepared(env)
        enqueued = manage(env, "update_lightcurves", "--enqueue", "--source", "Gaia Alerts", "--source", "NEOWISE")
        assert enqueued.returncode == 0, enqueued.stderr[-2000:]
        started = time.monotonic()
        ran = db_workers(env, WORKERS)
        took = time.monotonic() - started
        asked = len(silent.requests)
        silent.reset()
    result = state(env)
    statuses = {}
    for _, source, status, _ in result["rows"]:
        statuses.setdefault(source, []).append(status)
    with capsys.disabled():
        print(f"\n[fleet silent host] tasks={sum(ran)} requests to the silent host={asked} (timeout 2 s, limit "
              f"{PER_HOST}) workers done in {took:.1f} s")
    # one round: the requests out when the first timed out, at most the per-host limit; not one per task (40)
    assert 1 <= asked <= PER_HOST
    assert set(statuses["NEOWISE"]) == {"ok"} and len(statuses["NEOWISE"]) == N_TARGETS
    assert statuses["Gaia Alerts"].count("unavailable") >= N_TARGETS - asked
    assert result["dups"] == 0
