"""Which pair to fetch next: the order that keeps every archive host as busy as it is allowed to be.

A refresh is bound by its busiest host (AAVSO's 13 JD chunks per target, IRSA's three sources): that
host must have its full quota of requests in flight from the first second to the last. A plain pool
fed in target order does not manage that: its threads queue on the busy host's request limit while
other hosts idle, and the busy host's work is spread over the whole run instead of started at once.
The scheduler hands out a pair only when its host has a free slot (``per_host`` pairs at a time, the
same number as the HTTP client's per-host request limit), and among the hosts with a free slot it
picks the one with the most estimated requests left (longest-work-first), so the critical host starts
at once and never waits for a worker.
"""
from collections import Counter, defaultdict, deque
from urllib.parse import urlsplit


def host_of(broker):
    return urlsplit(broker.base_url).netloc


class HostScheduler:
    """``take()`` the pairs that may start now; ``release(item)`` when one has finished."""

    def __init__(self, items, workers, per_host):
        self.workers, self.per_host = max(1, workers), max(1, per_host)
        self.queues = defaultdict(deque)
        self.work_left = Counter()
        self.in_flight = Counter()
        self.cost = {}
        for item in items:
            host = host_of(item.broker)
            self.queues[host].append(item)
            self.cost[id(item)] = max(1, item.broker.expected_requests())
            self.work_left[host] += self.cost[id(item)]

    @property
    def waiting(self):
        return any(self.queues.values())

    def take(self):
        """The pairs to start now, within the worker and per-host limits."""
        started = []
        while sum(self.in_flight.values()) < self.workers:
            free = [host for host, queue in self.queues.items() if queue and self.in_flight[host] < self.per_host]
            if not free:
                break
            host = max(free, key=lambda h: self.work_left[h])
            item = self.queues[host].popleft()
            self.in_flight[host] += 1
            self.work_left[host] -= self.cost[id(item)]
            started.append(item)
        return started

    def release(self, item):
        self.in_flight[host_of(item.broker)] -= 1
