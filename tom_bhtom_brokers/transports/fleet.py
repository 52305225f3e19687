"""What the processes of a fleet share about the archive hosts, through Django's cache framework: how many
requests each host has open across every worker (:class:`FleetSlots`), which hosts stopped answering
(:class:`CircuitBreaker`) and how many writes an archive account made this minute (:class:`FleetBudget`).

A site with several processes (``db_worker`` processes on several machines, a cron run beside the web server)
shares them through the cache named by ``settings.BHTOM_BROKERS['fleet_cache']`` (default ``"default"``) when
that cache is one every process reaches and whose ``add`` is atomic: Django's Redis, Memcached or database cache.
TOM's default file cache (``tom_setup``) is reached by every process of one machine, but its ``add`` is a check
and then a write, so two processes could take one slot; with it, and with local memory, each process keeps its
own limits and host health, as a one-machine site needs (``shared_cache`` is None).

What an archive host sees from a fleet of N workers: at most ``max_requests_per_host`` requests at once from
all of them together (each process also keeps its own cap, so the shared slots are asked only by requests the
process would send); a slot held by a process that died is free again after ``slot_lease_seconds``. A host that
answers nothing costs the fleet one round of timeouts (at most the per-host limit of requests), after which
every worker skips it for ``circuit_open_seconds``; then one request is let through as a probe (half-open), and
its answer closes the circuit, or its silence opens it again.
"""
import functools
import logging
import math
import random
import time
import uuid
from contextlib import contextmanager

from django.core.cache import InvalidCacheBackendError, caches

from tom_bhtom_brokers.app_settings import app_setting

logger = logging.getLogger(__name__)

#: the cache backends whose ``add`` is atomic across processes (a slot taken once, whoever asks)
SHARED_BACKENDS = ("RedisCache", "PyMemcacheCache", "PyLibMCCache", "DatabaseCache")
PREFIX = "bhtom-brokers:fleet"


def shared_cache():
    """The cache the fleet shares through, or None when the site has none every process can share safely."""
    alias = app_setting("fleet_cache", "default")
    if not alias:
        return None
    try:
        cache = caches[alias]
    except InvalidCacheBackendError:
        logger.warning("BHTOM_BROKERS['fleet_cache'] names no cache (%r): limits are kept per process", alias)
        return None
    return cache if type(cache).__name__ in SHARED_BACKENDS else None


#: a failing shared cache is logged at most this often for each of its uses
WARN_EVERY_SECONDS = 60.0
_warned = {}


def guarded(when_failed):
    """A method that asks the shared cache, made to answer ``when_failed`` (and log why) when the cache fails
    (Redis down, a network error): the fleet's limits then hold per process only, and updates go on."""
    def wrap(method):
        @functools.wraps(method)
        def asked(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - every cache backend fails in its own exception classes
                now = time.monotonic()
                if now - _warned.get(method.__qualname__, -math.inf) > WARN_EVERY_SECONDS:  # not once a request
                    _warned[method.__qualname__] = now
                    logger.warning("the fleet's shared cache failed (%s: %s): %s goes by this process's limits only",
                                   type(exc).__name__, exc, method.__qualname__)
                return when_failed
        return asked
    return wrap


def whole_seconds(seconds):
    """A time to live as every cache backend takes it: whole seconds, at least one (Redis and Memcached round a
    fraction down, and 0 there means "expired at once")."""
    return max(1, math.ceil(float(seconds)))


def lease_seconds():
    """How long a slot is held at most: a process that died holding one loses it after this."""
    return float(app_setting("slot_lease_seconds", 600))


class FleetSlots:
    """At most ``per_host`` requests at once to one host across every process sharing ``cache``. A slot is a cache
    key added with a lease (``lease`` seconds) and deleted when the request ends."""

    #: the first and the longest wait between tries for a free slot, in seconds
    FIRST_WAIT, LONGEST_WAIT = 0.005, 0.2

    def __init__(self, cache, per_host, lease=None):
        self.cache, self.per_host = cache, max(1, int(per_host))
        self.lease = whole_seconds(lease if lease is not None else lease_seconds())

    def keys(self, host):
        return [f"{PREFIX}:slot:{host}:{i}" for i in range(self.per_host)]

    @guarded(when_failed=None)
    def take(self, host, lease=None):
        """(key, token) of a free slot on ``host``, once one is free (the caller then holds it, for ``lease``
        seconds at most: by default the fleet's ``slot_lease_seconds``)."""
        token, wait, lease = uuid.uuid4().hex, self.FIRST_WAIT, whole_seconds(max(lease or 0, self.lease))
        keys = self.keys(host)
        while True:
            random.shuffle(keys)  # no slot is everyone's first try
            for key in keys:
                if self.cache.add(key, token, timeout=lease):
                    return key, token
            time.sleep(wait * (0.5 + random.random()))
            wait = min(self.LONGEST_WAIT, wait * 2)

    @guarded(when_failed=None)
    def give_back(self, key, token):
        """Free the slot, unless its lease ran out and another process holds it now."""
        if self.cache.get(key) == token:
            self.cache.delete(key)

    @contextmanager
    def slot(self, host, lease=None):
        """Inside the block, this request holds one of ``host``'s slots (none if the cache failed)."""
        held = self.take(host, lease)
        try:
            yield
        finally:
            if held is not None:
                self.give_back(*held)


class CircuitBreaker:
    """Host health every process sharing ``cache`` sees. Closed: requests go; each one that got no answer at all
    counts, any answer resets the count. After ``threshold`` in a row the circuit opens: every process refuses
    requests to the host for ``open_seconds``. Then it is half-open: one request (the probe) goes, the others are
    refused while it is out; its answer closes the circuit, its silence opens it again.

    While the host is suspect (its last request got no answer) and other requests hold its slots (``slots``), a
    request waits for their verdict instead of going out, so a silent host costs the fleet one round of timeouts,
    not one per wave of requests."""

    #: how often a request waiting for a verdict asks again, in seconds
    VERDICT_POLL = 0.05

    def __init__(self, cache, threshold, open_seconds=None, probe_seconds=None, slots=None):
        self.cache, self.threshold, self.slots = cache, max(1, int(threshold)), slots
        self.open_seconds = whole_seconds(open_seconds if open_seconds is not None
                                          else app_setting("circuit_open_seconds", 300))
        self.probe_seconds = whole_seconds(probe_seconds if probe_seconds is not None else lease_seconds())

    def keys(self, host):
        return {part: f"{PREFIX}:host:{host}:{part}" for part in ("open", "tripped", "probe", "silent")}

    @guarded(when_failed=None)
    def refusal(self, host):
        """Why a request to ``host`` may not go now (open, or half-open with the probe out), else None, after
        waiting for the verdict of the requests out to a suspect host; a request this lets go while the circuit
        is half-open is the probe."""
        keys, waited_until = self.keys(host), time.monotonic() + self.probe_seconds
        while True:
            state = self.cache.get_many([keys["open"], keys["tripped"], keys["silent"]])
            if keys["open"] in state:
                return state[keys["open"]]
            if keys["tripped"] in state:
                if self.cache.add(keys["probe"], 1, timeout=self.probe_seconds):
                    return None
                return f"{state[keys['tripped']]}; another worker's probe request is out"
            if not state.get(keys["silent"]) or self.others_out(host) == 0 or time.monotonic() > waited_until:
                return None
            time.sleep(self.VERDICT_POLL)

    @guarded(when_failed=0)
    def others_out(self, host):
        """How many other requests hold the host's slots (this one holds one)."""
        if self.slots is None:
            return 0
        return max(0, len(self.cache.get_many(self.slots.keys(host))) - 1)

    @guarded(when_failed=None)
    def observe(self, host, answered, reason=""):
        """One request's result: ``answered`` False when the host gave no answer at all (``reason``: what
        happened). Returns the reason the circuit is open, when this result opened it."""
        keys = self.keys(host)
        if answered:
            if self.cache.get_many([keys["silent"], keys["tripped"]]):
                self.cache.delete_many(list(keys.values()))
            return None
        silent = counted(self.cache, keys["silent"], self.open_seconds * 4)
        if silent < self.threshold and self.cache.get(keys["tripped"]) is None:
            return None
        words = (f"not asked: {host} did not answer {silent} request(s) in a row from this site's workers "
                 f"(last: {reason}); asked again after {self.open_seconds} s")
        self.cache.set(keys["open"], words, timeout=self.open_seconds)
        self.cache.set(keys["tripped"], words, timeout=None)
        self.cache.delete(keys["probe"])
        logger.warning("%s did not answer %d requests in a row: every worker skips it for %d s", host, silent,
                       self.open_seconds)
        return words


def counted(cache, key, timeout):
    """Add one to the counter ``key`` (made with ``timeout`` seconds to live if missing); its new value."""
    for _ in range(3):
        cache.add(key, 0, timeout=whole_seconds(timeout))
        try:
            return cache.incr(key)
        except ValueError:  # it expired between the add and the incr
            continue
    return 1


class FleetBudget:
    """At most ``count`` uses in any ``per_seconds`` by every process sharing ``cache`` (an archive account's
    writes), counted in windows of ``per_seconds``: a use is allowed while this window's uses plus the previous
    window's, weighed by how much of it still lies within ``per_seconds``, stay within ``count``."""

    def __init__(self, cache, name, count, per_seconds=60.0):
        self.cache, self.name, self.count, self.per_seconds = cache, name, int(count), float(per_seconds)

    def key(self, window):
        return f"{PREFIX}:budget:{self.name}:{window}"

    @guarded(when_failed=True)  # the archive's own throttling (a 429, postponed) is the last word
    def take(self):
        """Use one if the budget allows it now."""
        now = time.time()
        window = int(now // self.per_seconds)
        current = self.key(window)
        used = counted(self.cache, current, self.per_seconds * 3)
        earlier = self.cache.get(self.key(window - 1)) or 0
        overlap = 1.0 - (now - window * self.per_seconds) / self.per_seconds
        if used + earlier * overlap <= self.count:
            return True
        self.cache.decr(current)
        return False

    def seconds_to_next(self):
        """Seconds until the next window starts (when a refused use may be asked for again)."""
        return self.per_seconds - time.time() % self.per_seconds
