"""Update light curves: fetch the due (target, source) pairs of a plan (``planning``) concurrently, store.

Fetching, parsing and shaping rows run in a thread pool (network-bound work); every database write
happens in the calling thread, so SQLite stays safe. Results that arrive together share one commit,
each pair in its own savepoint, so a failure of one pair never touches another. A ``BrokerError``
becomes that pair's status; nothing stored is lost.

A job an archive queues (ATLAS) holds no worker: its pair is recorded as queued and comes back to the pool
``poll_seconds`` later, one request per pass, while the other pairs go on (``run``'s later passes). Which pair
a free thread takes is ``scheduling.PairQueue``'s choice: the first whose archive host has a free slot.
"""
import logging
import random
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace

from django.db import DatabaseError, OperationalError, transaction
from django.utils import timezone
from tom_targets.models import Target

from tom_bhtom_brokers.exceptions import ArchiveUnavailable, BrokerError
# the plan of a run and its outcomes are part of this module's API (``updating.plan``, ``updating.Outcome``)
from tom_bhtom_brokers.planning import (PlanItem, PairState, Status, dry_run_verdict, installed_brokers,  # noqa: F401
                                        is_due, plan)
from tom_bhtom_brokers.recording import (DELETED, Outcome, record_failure, record_success,  # noqa: F401 (API)
                                         create_missing_rows, locked_rows, record_unchanged_many, record_waiting)
from tom_bhtom_brokers.steps import PairAnswer
from tom_bhtom_brokers.scheduling import PairQueue
from tom_bhtom_brokers.store import point_columns
from tom_bhtom_brokers.transports.hosts import HostHealth, host_limiter, watching_hosts  # noqa: F401 (API)

logger = logging.getLogger(__name__)

#: concurrent fetches; the per-host limit (hosts.HostLimiter) keeps each archive at a polite few
DEFAULT_WORKERS = 16
#: how often a batch of results is written again when another writer holds SQLite's lock
LOCKED_RETRIES = 8
#: how many times one run puts off a throttled submission before leaving the pair to the next run
MAX_POSTPONEMENTS = 10
#: a queued job is asked about again at most this many seconds apart (``next_ask_seconds``)
MAX_POLL_SECONDS = 60.0


@dataclass
class Fetched:
    """What a worker hands the writing thread for one pair: the pair's answer, or the error that stopped it."""

    item: PlanItem
    answer: PairAnswer | None = None
    error: BrokerError | None = None


def fetch_one(item, health=None):
    """Worker: fetch and parse one pair, and shape its points for the database (pure work, done here rather
    than in the writing thread). Its requests report to ``health`` (hosts.HostHealth), which refuses those to a
    host found down. Never raises."""
    try:
        with watching_hosts(health):
            answer = item.broker.lightcurve_for(item.target)
        if len(answer.lightcurve):
            answer.columns = point_columns(item.broker.source, answer.lightcurve)
        return Fetched(item, answer)
    except ArchiveUnavailable as exc:
        if health is not None:
            health.skipped[exc.host] += 1
        return Fetched(item, error=exc)
    except BrokerError as exc:
        return Fetched(item, error=exc)
    except Exception as exc:  # noqa: BLE001 - a bug in one broker must not stop every other update
        logger.exception("%s failed on target %s", item.broker.name, item.target.name)
        return Fetched(item, error=BrokerError(f"internal error in the {item.broker.name} broker: "
                                               f"{type(exc).__name__}: {exc}"))


def run(items, workers=DEFAULT_WORKERS, on_outcome=None, health=None, collect_jobs=True):
    """Fetch the due items concurrently and record each result as it arrives; returns the outcomes. ``health``
    (a new HostHealth by default) tells afterwards which archive hosts were down.

    A pair whose job waits in an archive's queue is recorded as queued and, with ``collect_jobs``, handed to the
    pool again ``poll_seconds`` later (a throttled submission: after the wait the archive asked for) until the
    job is done or ``max_wait_seconds`` after its submission; the pool's threads never sleep on it. Without
    ``collect_jobs`` (a django-tasks task), the job is left for a later run or task."""
    pool_run = PoolRun(health if health is not None else HostHealth(), on_outcome, collect_jobs)
    due = pool_run.skip_not_due(items)
    # jobs first: an archive's queue then works on them while the other archives' pairs are fetched. The pairs
    # whose jobs an archive takes in batches wait for their archive's batches (a thread submits each archive's, at
    # once); those a batch left out then join the queue
    held = batchable(due)
    due = sorted((item for item in due if id(item) not in held), key=lambda item: not item.broker.queues_jobs)
    pool_run.fetch(PairQueue(due, host_limiter().per_host), held, max(1, workers))
    return pool_run.outcomes


class PoolRun:
    """One run's pool: it feeds due pairs to the worker threads, hands what they bring back to the writing thread
    (this one), and puts a pair whose job is still queued back into the queue for a later pass."""

    def __init__(self, health, on_outcome, collect_jobs):
        self.health, self.on_outcome, self.collect_jobs = health, on_outcome, collect_jobs
        self.outcomes, self.postponed, self.pending = [], {}, set()
        self.queue = self.pool = None
        self.batches = {}  # future of an archive's batched submission -> its pairs
        self.workers = 0

    def done(self, outcome):
        self.outcomes.append(outcome)
        if self.on_outcome:
            self.on_outcome(outcome)

    def skip_not_due(self, items):
        """The due items; the others are done at once, as skipped with their reason."""
        due = []
        for item in items:
            if item.due:
                due.append(item)
            else:
                self.done(Outcome(item.target.id, item.target.name, item.broker.name, "skipped", item.reason))
        return due

    def fetch(self, queue, held, workers):
        """Until the queue is empty and nothing is out: wait for the first worker to finish (or the next pass of a
        queued job), record what came back, start what the free threads may take."""
        self.queue, self.workers = queue, workers
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lightcurve") as pool:
            self.pool = pool
            for _, items in by_broker(held.values()):
                future = pool.submit(submit_in_batches, items, self.health)
                self.batches[future] = items
                self.pending.add(future)
            self.feed()
            try:
                while self.pending or self.queue:
                    self.collect(self.wait_for_some())
                    self.feed()
            except KeyboardInterrupt:
                self.stop()

    def feed(self):
        """Start what the free threads may take (nothing once the run is stopping)."""
        while self.pool is not None and len(self.pending) < self.workers and (item := self.queue.take()) is not None:
            self.pending.add(self.pool.submit(fetch_one, item, self.health))

    def wait_for_some(self):
        """The futures finished by the time the next queued pass is due; a pair due now whose host is busy waits
        for one of the pending pairs, not in a busy loop."""
        timeout = self.queue.seconds_to_next()
        if not self.pending:
            time.sleep(timeout or 0)
            return set()
        finished, self.pending = wait(self.pending, timeout=timeout or None, return_when=FIRST_COMPLETED)
        return finished

    def collect(self, finished):
        results = []
        for future in finished:
            if future in self.batches:
                items, submitted = self.batches.pop(future), future.result()
                self.queue.add([item for item in items if id(item) not in submitted])
                results.extend(submitted.values())
            else:
                results.append(future.result())
                self.queue.done(results[-1].item)
        # the freed threads start their next pairs before this thread writes (a batch's writing takes a while,
        # and the busiest host's slots would stand empty meanwhile)
        self.feed()
        self.handle(results)

    def handle(self, results):
        """Record results in one transaction and put each pair whose job is still queued back for a later pass. A
        job still queued as it was recorded is not written again (each pass would cost the one writing thread a
        transaction for nothing)."""
        fresh = [result for result in results if not still_queued(result)]
        recorded = {id(result): outcome for result, outcome in record_many(fresh)} if fresh else {}
        for result in results:
            outcome = recorded.get(id(result)) or queued_outcome(result)
            again = next_pass(result, self.postponed) if self.collect_jobs else None
            if again is None:
                self.done(outcome)
            else:
                self.queue.again(again[1], again[0])

    def stop(self):
        """Ctrl-C: nothing new starts, the pairs already asked finish (each within its deadline) and are stored; the
        rest are not asked, and stay as they were (due next run)."""
        self.pool = None
        cancelled = sum(future.cancel() for future in self.pending)
        self.collect(wait({future for future in self.pending if not future.cancelled()})[0])
        raise Interrupted(self.outcomes, not_asked=len(self.queue) + cancelled) from None


class Interrupted(Exception):
    """A run stopped by Ctrl-C (SIGINT): ``outcomes`` of the pairs it finished, ``not_asked`` pairs it left."""

    def __init__(self, outcomes, not_asked):
        super().__init__(f"interrupted: {len(outcomes)} pair(s) done, {not_asked} not asked")
        self.outcomes, self.not_asked = outcomes, not_asked


def batchable(due):
    """{id(item): item} of the due pairs whose archive takes many jobs in one submission and that have no job
    queued yet, for archives with at least two such pairs (one pair alone is not a batch)."""
    held = {}
    for broker, items in by_broker(item for item in due if item.broker.queues_jobs):
        items = [item for item in items if item.target.pair.job is None]
        if len(items) >= 2 and broker.batches_jobs:
            held.update((id(item), item) for item in items)
    return held


def by_broker(items):
    """(broker, its items) for each broker instance among ``items``, in their order."""
    groups = {}
    for item in items:
        groups.setdefault(id(item.broker), (item.broker, []))[1].append(item)
    return list(groups.values())


def submit_in_batches(held, health=None):
    """Worker: the jobs of ``held`` pairs (``batchable``) submitted in batches (``BHTOMBroker.submit_jobs``):
    {id(item): Fetched with the answer waiting for its job}. A pair left out is submitted by itself in the pool.
    Never raises."""
    submitted = {}
    for broker, items in by_broker(held):
        try:
            broker.check_configured()
            with watching_hosts(health):
                queued = broker.submit_jobs([item.target for item in items])
        except BrokerError as exc:
            logger.warning("%s: the batched submission failed (%s); pairs are submitted one by one",
                           broker.name, exc)
            continue
        except Exception:  # noqa: BLE001 - a bug here must not stop the run: the pairs go one by one
            logger.exception("%s: the batched submission failed", broker.name)
            continue
        submitted.update({id(item): Fetched(item, queued[item.target.id]) for item in items
                          if item.target.id in queued})
    return submitted


def still_queued(result):
    """Whether the pair's job is still queued exactly as an earlier pass of this run recorded it."""
    answer, item = result.answer, result.item
    return (item.job_recorded and answer is not None and answer.job is not None
            and item.target.pair.job == answer.job)


def queued_outcome(result):
    info, answer = result.item.target, result.answer
    return Outcome(info.id, info.name, result.item.broker.name, Status.QUEUED, answer.note, answer.url)


def next_ask_seconds(broker, submitted_at, now=None):
    """In how many seconds a job queued at ``submitted_at`` is asked about again: ``poll_seconds``, then half the
    job's age (each wait 1.5 times the one before), at most MAX_POLL_SECONDS apart, so a long queue costs the
    archive a few requests, not one every 10 s; None once ``max_wait_seconds`` have passed since the submission
    (the next update asks). The run's passes and django-tasks' deferred tasks both ask when this says."""
    age = ((now or timezone.now()) - submitted_at).total_seconds()
    if age >= float(broker.setting("max_wait_seconds", 900)):
        return None
    poll = float(broker.setting("poll_seconds", 10))
    return min(max(poll, age / 2), max(poll, MAX_POLL_SECONDS))


def next_pass(result, postponed):
    """(seconds, item) when the pair is asked again in this run: its job is still queued (``next_ask_seconds``),
    or its submission was throttled (at most MAX_POSTPONEMENTS times, each wait within ``max_wait_seconds``);
    else None. ``postponed``: (target, source) -> how many times this run put off its submission so far."""
    answer, item = result.answer, result.item
    broker = item.broker
    if answer is None:
        return None
    if answer.job is not None:
        seconds = next_ask_seconds(broker, answer.job.submitted_at)
        if seconds is None:
            return None
        target = replace(item.target, pair=replace(item.target.pair, job=answer.job))
        return seconds, replace(item, target=target, job_recorded=True)
    if answer.wait is not None:
        key = (item.target.id, broker.name)
        postponed[key] = postponed.get(key, 0) + 1
        if postponed[key] > MAX_POSTPONEMENTS or answer.wait > float(broker.setting("max_wait_seconds", 900)):
            return None
        return answer.wait, item
    return None


def record_many(results):
    """Record the results that arrived together in one transaction (one commit, instead of one per pair:
    on SQLite the commit is most of a small pair's cost), each pair still in its own savepoint. Pairs are
    locked in (target, source) order, so two runs writing at once cannot deadlock. Returns (result, outcome)
    pairs."""
    results = sorted(results, key=lambda r: (r.item.target.id, r.item.broker.name))
    pairs = [(result.item.target.id, result.item.broker.name) for result in results]
    for attempt in range(1, LOCKED_RETRIES + 1):
        try:
            create_missing_rows([pair for pair, result in zip(pairs, results) if not result.item.target.pair.recorded])
            with transaction.atomic():
                # the targets in one query (a missing one was deleted while its update ran)
                targets = Target.objects.in_bulk([result.item.target.id for result in results])
                # every pair's status row is locked at once, in (target, source) order, before any is written: no
                # two runs can wait on each other in a circle (and one read instead of one or more per pair)
                rows = locked_rows(pairs)
                plain = [result for result in results if plainly_unchanged(result) and result.item.target.id in targets]
                unchanged = record_unchanged_many([
                    (id(result), targets[result.item.target.id], result.item.broker, result.item.target, result.answer)
                    for result in plain], rows)
                return [(result, unchanged.get(id(result)) or record(result.item, result.answer, result.error,
                                                                     targets.get(result.item.target.id, DELETED),
                                                                     rows.get(pair)))
                        for result, pair in zip(results, pairs)]
        except OperationalError as exc:
            # SQLite, a TOM site's default database, lets one writer at a time: another run (cron, a button)
            # holding it past the busy timeout, or a lock upgrade SQLite refuses at once, is waited out
            if not database_locked(exc) or attempt == LOCKED_RETRIES:
                raise
            logger.info("database locked by another writer; retrying these %d result(s) (attempt %d)",
                        len(results), attempt + 1)
            time.sleep(min(5.0, 0.2 * 2 ** attempt) * (0.5 + random.random()))


def plainly_unchanged(result):
    """Whether a result is the archive's stored answer again, with no job or wait to record."""
    answer = result.answer
    return result.error is None and answer.unchanged and answer.job is None and answer.wait is None


def database_locked(exc):
    return "database is locked" in str(exc) or "database table is locked" in str(exc)


def record(item, answer, error, target=None, row=None):
    """Write one pair's result in the calling thread; a deleted target is reported, not fatal, and an answer
    the database refuses fails this pair (its status says why), never the run. ``target``: the Target if the
    caller read it already (DELETED: it found none), else it is read here; ``row``: the pair's status row, if the
    caller locked it already."""
    if target is None:
        target = Target.objects.filter(pk=item.target.id).first() or DELETED
    if target is DELETED:
        return _target_gone(item)
    if error is not None:
        return record_failure(target, item.broker, item.target, error, row)
    if answer.job is not None or answer.wait is not None:
        return record_waiting(target, item.broker, item.target, answer, row)
    try:
        with transaction.atomic():  # a savepoint: a refused write leaves nothing of this pair behind
            return record_success(target, item.broker, item.target, answer, item.accept_shrink, row)
    except (DatabaseError, ValueError, OverflowError, TypeError) as exc:
        if isinstance(exc, OperationalError) and database_locked(exc):
            raise  # not this answer's fault: record_many waits and writes the results again
        if not Target.objects.filter(pk=item.target.id).exists():
            return _target_gone(item)
        logger.exception("%s: could not store the answer for target %s", item.broker.name, item.target.name)
        failure = BrokerError(f"could not store the archive's answer ({type(exc).__name__}: {str(exc)[:200]}); "
                              "nothing was changed")
        failure.url = answer.url
        return record_failure(target, item.broker, item.target, failure)


def _target_gone(item):
    return Outcome(item.target.id, item.target.name, item.broker.name, DELETED,
                   "target deleted while its update was running")
