"""The fleet's shared limits (transports/fleet.py) on a cache object: slots with leases, the circuit breaker's
closed / open / half-open states, the account's write budget; and which site caches are shared at all. The same
classes on a real Redis with real worker processes: tests/test_fleet_workers.py."""
import threading
import time

import pytest
from django.core.cache.backends.locmem import LocMemCache

from tom_bhtom_brokers.exceptions import ArchiveUnreachable
from tom_bhtom_brokers.transports import fleet, hosts

HOST = "archive.example:443"


@pytest.fixture
def cache():
    made = LocMemCache(f"fleet-test-{time.monotonic_ns()}", {})
    yield made
    made.clear()


def test_slots_hold_the_limit_across_callers_and_free_a_dead_holders_after_its_lease(cache):
    slots = fleet.FleetSlots(cache, per_host=3, lease=1)
    # another process's two slots, one of which it never gives back (it died)
    slots.take(HOST)
    slots.take(HOST)
    open_now, peak, lock = [0], [0], threading.Lock()

    def request():
        with slots.slot(HOST):
            with lock:
                open_now[0] += 1
                peak[0] = max(peak[0], open_now[0])
            time.sleep(0.1)
            with lock:
                open_now[0] -= 1

    started = time.monotonic()
    threads = [threading.Thread(target=request) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # one slot was free until the dead holders' leases ran out (1 s: ten requests, one at a time), then all three
    assert peak[0] == 3
    assert 1.0 <= time.monotonic() - started < 2.0
    assert all(cache.get(key) is None for key in slots.keys(HOST))


def test_a_slot_whose_lease_ran_out_is_not_freed_by_its_late_holder(cache):
    slots = fleet.FleetSlots(cache, per_host=1, lease=1)
    key, token = slots.take(HOST)
    time.sleep(1.1)
    key2, token2 = slots.take(HOST)  # another process's, after the lease
    slots.give_back(key, token)
    assert cache.get(key2) == token2


def test_the_breaker_opens_after_the_threshold_then_lets_one_probe_through(cache):
    breaker = fleet.CircuitBreaker(cache, threshold=3, open_seconds=1, probe_seconds=5)
    for _ in range(2):
        assert breaker.observe(HOST, answered=False, reason="no answer within the 5 s timeout") is None
        assert breaker.refusal(HOST) is None
    assert breaker.observe(HOST, answered=True) is None  # an answer resets the count
    for _ in range(2):
        breaker.observe(HOST, answered=False, reason="timeout")
    assert breaker.refusal(HOST) is None
    opened = breaker.observe(HOST, answered=False, reason="timeout")
    assert opened and "did not answer 3 request(s) in a row" in opened
    other = fleet.CircuitBreaker(cache, threshold=3, open_seconds=1)  # another worker sees it
    assert other.refusal(HOST) == opened
    time.sleep(1.05)
    assert other.refusal(HOST) is None  # half-open: this request is the probe
    assert "probe request is out" in breaker.refusal(HOST)
    # the probe gets no answer: open again at once, not after another threshold
    assert breaker.observe(HOST, answered=False, reason="timeout")
    assert breaker.refusal(HOST)
    time.sleep(1.05)
    assert breaker.refusal(HOST) is None
    breaker.observe(HOST, answered=True)  # the probe answered: closed
    assert breaker.refusal(HOST) is None and other.refusal(HOST) is None


def test_host_health_refuses_what_the_fleet_found_down_and_counts_it(cache):
    breaker = fleet.CircuitBreaker(cache, threshold=2, open_seconds=60)
    first, second = hosts.HostHealth(threshold=2, breaker=breaker), hosts.HostHealth(threshold=2, breaker=breaker)
    for _ in range(2):
        assert first.admit(HOST) is None
        first.observe(HOST, ArchiveUnreachable("no answer within the 5 s timeout", url=f"https://{HOST}/"))
    refused = second.admit(HOST)  # a new run (another task) never sends a request to it
    assert refused is not None and refused.host == HOST
    assert "this site's workers" in str(refused) and HOST in second.down
    assert second.admit("other.example") is None


def test_the_write_budget_is_one_for_every_process_sharing_the_cache(cache):
    budgets = [fleet.FleetBudget(cache, "ATLAS", 60, per_seconds=1.0) for _ in range(3)]
    # start at a window's beginning, so the 90 tries below fall in one window
    time.sleep(budgets[0].seconds_to_next())
    taken = sum(budget.take() for _ in range(30) for budget in budgets)
    assert taken == 60
    # the next window still counts the previous one's uses by how much of it lies within the last 1 s
    time.sleep(budgets[0].seconds_to_next() + 0.25)
    assert sum(budgets[0].take() for _ in range(60)) == pytest.approx(15, abs=4)


@pytest.mark.parametrize("backend, shared", [
    ("django.core.cache.backends.locmem.LocMemCache", False),
    ("django.core.cache.backends.filebased.FileBasedCache", False),
    ("django.core.cache.backends.db.DatabaseCache", True),
    ("django.core.cache.backends.redis.RedisCache", True),
])
def test_only_a_cache_every_process_shares_atomically_carries_the_fleet(settings, tmp_path, backend, shared):
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": str(tmp_path) if "file" in backend
                                   else "redis://127.0.0.1:1" if "redis" in backend else "fleet_cache_table"}}
    # (Django's setting_changed handler makes the cache handler read CACHES again)
    assert (fleet.shared_cache() is not None) is shared
    settings.BHTOM_BROKERS = {**settings.BHTOM_BROKERS, "fleet_cache": None}
    assert fleet.shared_cache() is None


def test_a_request_to_a_suspect_host_waits_for_the_verdict_of_those_out(cache):
    """Three requests out to a host that answers nothing: the first one's timeout makes it suspect, and a request
    taking the freed slot waits for the other two instead of going out; their timeouts open the circuit and it
    is refused: one round of timeouts, not two."""
    slots = fleet.FleetSlots(cache, per_host=3, lease=60)
    breaker = fleet.CircuitBreaker(cache, threshold=3, open_seconds=60, slots=slots)
    held = [slots.take(HOST) for _ in range(3)]
    slots.give_back(*held[0])
    breaker.observe(HOST, answered=False, reason="timeout")  # the first request's timeout
    mine = slots.take(HOST)  # the freed slot
    verdict = []
    waiting = threading.Thread(target=lambda: verdict.append(breaker.refusal(HOST)))
    waiting.start()
    time.sleep(0.3)
    assert not verdict  # still waiting: two requests are out
    for key_token in held[1:]:
        slots.give_back(*key_token)
        breaker.observe(HOST, answered=False, reason="timeout")
    waiting.join(5)
    assert verdict and "did not answer 3 request(s)" in verdict[0]
    slots.give_back(*mine)


class BrokenCache:
    """A shared cache that is down: every call fails, as Django's Redis cache does when Redis is."""

    def __getattr__(self, name):
        def fails(*args, **kwargs):
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        return fails


def test_a_shared_cache_that_is_down_leaves_each_process_its_own_limits(caplog):
    broken = BrokenCache()
    fleet._warned.clear()  # noqa: SLF001 - another test's warning within the minute would silence this one
    slots = fleet.FleetSlots(broken, per_host=2)
    breaker = fleet.CircuitBreaker(broken, threshold=2, slots=slots)
    health = hosts.HostHealth(threshold=2, breaker=breaker)
    with caplog.at_level("WARNING"):
        with slots.slot(HOST):  # no slot to hold: the request goes, within this process's own cap
            assert health.admit(HOST) is None
            health.observe(HOST, None)
        assert fleet.FleetBudget(broken, "ATLAS", 60).take() is True
    assert "the fleet's shared cache failed (ConnectionError" in caplog.text
