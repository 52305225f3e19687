"""Which pair a run's pool works on next: ``PairQueue``.

The pool gets only as many pairs as it has threads, and each free thread goes to a pair whose archive host has a
free slot (``max_requests_per_host``): a thread is never handed a pair that would only wait for its host's
semaphore while other archives have work. Among those hosts, the one with the most work still waiting goes first
(its earliest pair, in the run's order): the busiest host sets the run's length (its work / its slots), so its slots
are kept full from the start rather than left to the end, when the other hosts are done (longest work first). A
host's work is its waiting pairs times the time its pairs took so far in this run: an AAVSO pair (a request per
chunk of its history) takes ten times a pair that is one request, and a pool with fewer threads than hosts x slots
must give AAVSO its slots first. A host none of whose pairs has finished yet goes before the others (one pair of each
host measures it), the one with the most pairs first. A pair coming back for its queued job (ATLAS) is next in
line once its time comes, not behind every pair of the run.
"""
import heapq
import itertools
import math
import time
from collections import Counter, defaultdict, deque
from urllib.parse import urlsplit


def archive_host(item):
    """The host a pair's requests go to (the per-host limiter's key)."""
    return urlsplit(item.broker.base_url).netloc


class PairQueue:
    def __init__(self, items, per_host):
        self.per_host = max(1, int(per_host))
        self.order = itertools.count()
        self.waiting = defaultdict(deque)  # host -> (order, item), in the run's order
        self.later = []  # (when, order, item): pairs to hand to the pool again, soonest first
        self.ready = defaultdict(deque)  # host -> (order, item): pairs put off whose time has come
        self.busy = Counter()  # host -> pairs of this run in the pool
        self.started = {}  # id(item) -> when the pool took it
        self.spent = Counter()  # host -> seconds its finished pairs took
        self.finished = Counter()  # host -> pairs finished (each pass of a queued job counts)
        self.add(items)

    def add(self, items):
        """Pairs to fetch, after those already waiting."""
        for item in items:
            self.waiting[archive_host(item)].append((next(self.order), item))

    def __bool__(self):
        return bool(self.later) or any(self.ready.values()) or any(self.waiting.values())

    def __len__(self):
        """Pairs not yet handed to the pool (waiting, or put off)."""
        return len(self.later) + sum(len(queue) for queues in (self.ready, self.waiting) for queue in queues.values())

    def again(self, item, seconds):
        """Hand ``item`` to the pool again in ``seconds``."""
        heapq.heappush(self.later, (time.monotonic() + seconds, next(self.order), item))

    def seconds_to_next(self):
        """How long until a pair put off comes due (0: now), None when none is put off."""
        return max(0.0, self.later[0][0] - time.monotonic()) if self.later else None

    def take(self):
        """The next pair for a free thread, or None when every host with work is at its limit (or no work is
        ready). A pair put off whose time has come goes first (the earliest of those whose host is free: one
        archive's pairs waiting for its slots hold back no other's); then the busiest free host's earliest pair."""
        now = time.monotonic()
        while self.later and self.later[0][0] <= now:
            _, order, item = heapq.heappop(self.later)
            self.ready[archive_host(item)].append((order, item))
        due = [(queue[0][0], host) for host, queue in self.ready.items() if queue and self.busy[host] < self.per_host]
        if due:
            host = min(due)[1]
            return self._start(self.ready[host].popleft()[1], host)
        free = [(-self.work(host), -len(queue), queue[0][0], host) for host, queue in self.waiting.items()
                if queue and self.busy[host] < self.per_host]
        if not free:
            return None
        host = min(free)[-1]
        return self._start(self.waiting[host].popleft()[1], host)

    def work(self, host):
        """Seconds of work the host's waiting pairs hold, by what its pairs took so far (infinite before any
        finished: it is measured first)."""
        if not self.finished[host]:
            return math.inf
        return len(self.waiting[host]) * self.spent[host] / self.finished[host]

    def _start(self, item, host):
        self.busy[host] += 1
        self.started[id(item)] = time.monotonic()
        return item

    def done(self, item):
        host = archive_host(item)
        self.busy[host] -= 1
        started = self.started.pop(id(item), None)
        if started is not None:
            self.spent[host] += time.monotonic() - started
            self.finished[host] += 1
