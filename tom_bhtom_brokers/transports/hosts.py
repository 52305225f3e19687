"""What every worker of a run knows about the archive hosts: how many requests one host may have open at once
(:class:`HostLimiter`, ``settings.BHTOM_BROKERS['max_requests_per_host']``) and which hosts stopped answering
(:class:`HostHealth`), so a dead host costs one timeout, not one per request. The HTTP client asks both before
each request (``http.HttpClient.request``); a run's worker threads report to one HostHealth (``watching_hosts``).
Where the site has a cache every process shares (``fleet.shared_cache``), both also hold across processes: the
limit counts every worker's requests (``fleet.FleetSlots``) and a host one worker found down is skipped by all
(``fleet.CircuitBreaker``).
"""
import logging
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

from tom_bhtom_brokers.app_settings import app_setting
from tom_bhtom_brokers.exceptions import ArchiveUnavailable, ArchiveUnreachable
from tom_bhtom_brokers.transports import fleet

logger = logging.getLogger(__name__)


@dataclass
class HostLimiter:
    """Caps how many requests this process has open at once against one archive host, and, with ``shared``
    (fleet.FleetSlots), how many every process of the fleet has."""

    per_host: int = 4
    shared: fleet.FleetSlots | None = None
    _semaphores: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def for_host(self, host):
        with self._lock:
            if host not in self._semaphores:
                self._semaphores[host] = threading.BoundedSemaphore(self.per_host)
            return self._semaphores[host]

    @contextmanager
    def slot(self, host, lease=None):
        """Inside the block, this request holds one of ``host``'s slots: this process's, then the fleet's (for
        ``lease`` seconds at most: the request's own deadline, if longer than the fleet's lease)."""
        with self.for_host(host):
            if self.shared is None:
                yield
            else:
                with self.shared.slot(host, lease):
                    yield


def _default_per_host():
    return int(app_setting("max_requests_per_host", 4))


_limiter = None
_limiter_lock = threading.Lock()


def host_limiter():
    """The process-wide limiter, sized from ``settings.BHTOM_BROKERS['max_requests_per_host']`` (default 4)."""
    global _limiter
    with _limiter_lock:
        if _limiter is None:
            per_host = _default_per_host()
            cache = fleet.shared_cache()
            _limiter = HostLimiter(per_host=per_host,
                                   shared=fleet.FleetSlots(cache, per_host) if cache is not None else None)
        return _limiter


def reset_host_limiter(per_host=None):
    """Forget the limiter so the next request builds it anew (used when settings change, e.g. in tests)."""
    global _limiter
    with _limiter_lock:
        _limiter = HostLimiter(per_host=per_host) if per_host else None


def site_breaker(threshold):
    """The fleet's circuit breaker on the site's shared cache, watching the limiter's own slots (the requests out to
    a host); None where the site has no shared cache."""
    slots = host_limiter().shared
    return fleet.CircuitBreaker(slots.cache, threshold, slots=slots) if slots is not None else None


class HostHealth:
    """Which archive hosts stopped answering during one run. After ``threshold`` requests in a row to a host that
    got no answer at all (connection refused or not made, or no answer within the timeout: ArchiveUnreachable),
    the host is down for the rest of the run: requests to it are refused before they are sent
    (ArchiveUnavailable). Any answer from the host (data, a 404, a 503, a reset) resets its count. Shared by a
    run's worker threads; a thread's requests report to it inside ``watching_hosts``.

    While a host is suspect (its last request got no answer) and other requests to it are still out, a new request
    waits for their verdict instead of going out: they either answer (the host is fine, it goes) or fail too (the
    host is down, it is refused). So a host that answers nothing costs one timeout, not one per wave of
    requests.

    With a fleet's ``breaker`` (fleet.CircuitBreaker; by default the site's, when its cache is shared), what one
    worker found holds for all: a host whose circuit is open is refused here too, and this run's results on
    each host are reported to it."""

    #: the longest a request waits for the verdict of those already out to a suspect host
    MAX_VERDICT_WAIT = 600.0

    def __init__(self, threshold=None, breaker="site"):
        if threshold is None:
            threshold = app_setting("host_down_after", 3)
        self.threshold = max(1, int(threshold))
        self.breaker = site_breaker(self.threshold) if breaker == "site" else breaker
        self._lock = threading.Condition()
        self._in_a_row = Counter()
        self._out = Counter()
        #: host -> why it was found down; what the fleet's breaker said, for a host it found down
        self.down, self._fleet_words = {}, {}
        #: host -> pairs not asked because of it (counted by the updater)
        self.skipped = Counter()

    def admit(self, host):
        """Before a request to ``host``: the error refusing it if the host is down (after waiting for the verdict
        of the requests still out to a suspect host), else None, and the request counts as out until ``observe``."""
        with self._lock:
            self._lock.wait_for(lambda: host in self.down or not (self._in_a_row[host] and self._out[host]),
                                timeout=self.MAX_VERDICT_WAIT)
            if host in self.down:
                return self.refusal(host)
            self._out[host] += 1
        words = self.breaker.refusal(host) if self.breaker is not None else None
        if words is None:
            return None
        self.observe(host, None, counted=False)
        self.found_down_by_fleet(host, words)
        return self.refusal(host)

    def found_down_by_fleet(self, host, words):
        with self._lock:
            if host not in self.down:
                self.down[host], self._fleet_words[host] = words, words

    def refusal(self, host):
        """The error for a request to ``host`` if the host is down, else None."""
        with self._lock:
            reason, fleet_words = self.down.get(host), self._fleet_words.get(host)
        if reason is None:
            return None
        error = ArchiveUnavailable(fleet_words or f"not asked: {host} did not answer {self.threshold} requests in a "
                                   f"row earlier in this run (last: {reason}); the next run asks again")
        error.host = host
        return error

    def observe(self, host, error, counted=True):
        """One request's result on ``host`` (a request ``admit`` let out): ``error`` None when it answered.
        ``counted`` False: the request did not go after all (the fleet refused it)."""
        opened = None
        if counted and self.breaker is not None:
            opened = self.breaker.observe(host, not isinstance(error, ArchiveUnreachable),
                                          getattr(error, "reason", ""))
        if opened is not None:
            self.found_down_by_fleet(host, opened)
        with self._lock:
            self._out[host] = max(0, self._out[host] - 1)
            self._lock.notify_all()
            if not counted:
                return
            if not isinstance(error, ArchiveUnreachable):
                self._in_a_row[host] = 0
                return
            self._in_a_row[host] += 1
            if self._in_a_row[host] >= self.threshold and host not in self.down:
                self.down[host] = error.reason
                logger.warning("%s did not answer %d requests in a row: its other requests in this run are not sent",
                               host, self.threshold)


#: the HostHealth this thread's requests report to (``watching_hosts``)
_watched = threading.local()


@contextmanager
def watching_hosts(health):
    """Inside the block, this thread's requests report to ``health`` (a HostHealth, or None for none)."""
    previous = getattr(_watched, "health", None)
    _watched.health = health
    try:
        yield
    finally:
        _watched.health = previous


def watched_health():
    """The HostHealth this thread's requests report to, or None."""
    return getattr(_watched, "health", None)
