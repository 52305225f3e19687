"""Update light curves: decide which (target, source) pairs are due, fetch them concurrently, store.

Fetching, parsing and shaping rows run in a thread pool (network-bound work); every database write
happens in the calling thread, so SQLite stays safe. Results that arrive together share one commit,
each pair in its own savepoint, so a failure of one pair never touches another. A ``BrokerError``
becomes that pair's status; nothing stored is lost.

A job an archive queues (ATLAS) holds no worker: its pair is recorded as queued and comes back to the pool
``poll_seconds`` later, one request per pass, while the other pairs go on (``run``'s later passes). Which pair
a free thread takes is ``scheduling.PairQueue``'s choice: the first whose archive host has a free slot.
"""
import difflib
import itertools
import logging
import random
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import timedelta
from datetime import timezone as dt_timezone

from django.db import DatabaseError, OperationalError, transaction
from django.db.models import Count, Max
from django.utils import timezone

from tom_dataproducts.models import PhotometryReducedDatum
from tom_dataservices.dataservices import get_data_service_classes
from tom_targets.models import Target

from tom_bhtom_brokers.brokers.base import BHTOMBroker
from tom_bhtom_brokers.exceptions import (ArchiveUnavailable, BrokerError, BrokerInputError, BrokerNotApplicable,
                                          BrokerNotConfigured, JobPostponed, JobQueued)
from tom_bhtom_brokers.http import HostHealth, host_limiter, watching_hosts
from tom_bhtom_brokers.lightcurve import MJD_ZERO, Lightcurve
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.recording import (DELETED, Outcome, asked_as_before, failure_status,  # noqa: F401 (API)
                                         queued_job, record_failure, record_success)
from tom_bhtom_brokers.scheduling import PairQueue
from tom_bhtom_brokers.store import point_columns
from tom_bhtom_brokers.target_info import TargetInfo

logger = logging.getLogger(__name__)

Status = LightcurveUpdate.Status
#: concurrent fetches; the per-host limit (http.HostLimiter) keeps each archive at a polite few
DEFAULT_WORKERS = 16
#: how often a batch of results is written again when another writer holds SQLite's lock
LOCKED_RETRIES = 8
#: targets planned together: the plan reads statuses, point counts and names for this many targets per query,
#: so its queries and the memory they take stay bounded however long the target list
PLAN_CHUNK = 500
#: an incremental refresh asks from the last stored point minus this many days (``overlap_days`` in the
#: archive's DATA_SERVICES entry), and the whole history every ``full_read_days``
DEFAULT_OVERLAP_DAYS = 30.0
DEFAULT_FULL_READ_DAYS = 7.0
#: how many times one run puts off a throttled submission before leaving the pair to the next run
MAX_POSTPONEMENTS = 10
#: a queued job is asked about again at most this many seconds apart (``next_ask_seconds``)
MAX_POLL_SECONDS = 60.0


@dataclass
class PlanItem:
    """One (target, broker) pair and whether it is fetched in this run, with the reason."""

    target: TargetInfo
    broker: BHTOMBroker
    due: bool
    reason: str
    #: apply an answer that shrinks the stored light curve (``--accept-shrink``)
    accept_shrink: bool = False
    #: the job in the target's ``jobs`` was recorded as queued by an earlier pass of this run
    job_recorded: bool = False


def installed_brokers(names=None):
    """Instances of our brokers among the site's data services, optionally only those named
    (by display name or DataSource value, case-insensitive), skipping those disabled in settings."""
    brokers = [cls for cls in get_data_service_classes().values() if issubclass(cls, BHTOMBroker)]
    if names:
        wanted = {n.strip().lower() for n in names}
        known = {b.name.lower() for b in brokers} | {b.source.value.lower() for b in brokers}
        unknown = wanted - known
        if unknown:
            guesses = {name: difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6) for name in unknown}
            hints = [f"did you mean '{guess[0]}' for '{name}'?" for name, guess in sorted(guesses.items()) if guess]
            raise ValueError("; ".join([f"unknown source(s) {sorted(unknown)}", *hints,
                                        f"installed: {sorted(b.name for b in brokers)}"]))
        brokers = [b for b in brokers if b.name.lower() in wanted or b.source.value.lower() in wanted]
    return [cls() for cls in brokers if cls.enabled()]


def plan(targets, brokers, force=False, now=None, accept_shrink=False):
    """Every (target, broker) pair with the decision to fetch it or not, and why. ``targets``: a list or a
    queryset (read in chunks of PLAN_CHUNK, never whole); a few queries per chunk, none per target."""
    now = now or timezone.now()
    if hasattr(targets, "iterator"):
        targets = targets.iterator(chunk_size=PLAN_CHUNK)
    targets = iter(targets)
    # a forced run reads the archives' cached lists and files again too (those cached before it started)
    caches_before = time.time() if force else None
    items = []
    while chunk := list(itertools.islice(targets, PLAN_CHUNK)):
        items.extend(_plan_chunk(chunk, brokers, force, now, accept_shrink, caches_before))
    return items


def _plan_chunk(targets, brokers, force, now, accept_shrink, caches_before=None):
    infos = TargetInfo.for_targets(targets)
    ids, names = [t.id for t in infos], [b.name for b in brokers]
    rows = {(row.target_id, row.source): row for row in
            LightcurveUpdate.objects.filter(target__in=ids, source__in=names)}
    stored = {(r["target"], r["source_name"]): (r["n"], r["last"]) for r in
              PhotometryReducedDatum.objects.filter(target__in=ids, source_name__in=names)
              .values("target", "source_name").annotate(n=Count("id"), last=Max("timestamp"))}
    items = []
    for info in infos:
        pairs = {broker.name: PairState(broker, info, rows.get((info.id, broker.name)),
                                        *stored.get((info.id, broker.name), (0, None))) for broker in brokers}
        info = replace(info, fingerprints={name: p.row.fingerprint for name, p in pairs.items() if p.intact},
                       refresh_from={name: start for name, p in pairs.items()
                                     if (start := None if force else p.refresh_from(now)) is not None},
                       jobs={name: p.job for name, p in pairs.items() if p.job is not None},
                       located={} if force else {name: p.located for name, p in pairs.items() if p.located},
                       refresh_caches_before=caches_before)
        for broker in brokers:
            due, reason = is_due(broker, info, rows.get((info.id, broker.name)), force, now)
            if due and broker.name in info.refresh_from:
                reason += f"; recent part asked (full read every {full_read_interval(broker).days} d)"
            items.append(PlanItem(info, broker, due, reason, accept_shrink))
    return items


@dataclass
class PairState:
    """What the database says of one (target, source) pair, for planning it."""

    broker: BHTOMBroker
    info: TargetInfo
    row: LightcurveUpdate | None
    stored: int
    last_point: object  # the latest stored point's timestamp, or None

    @property
    def intact(self):
        """An answer identical to the last stored one is skipped only while those points are intact."""
        row = self.row
        return bool(row and row.fingerprint and row.status in (Status.OK, Status.NO_DATA)
                    and self.stored == row.points_total)

    @property
    def asked_as_before(self):
        return self.row is not None and asked_as_before(self.row, self.broker, self.info)

    @property
    def job(self):
        return queued_job(self.row, self.broker, self.info)

    @property
    def located(self):
        """The identifier kept from the last answer, while it is good for this update (``remembers_location``):
        the name/position is as it was asked and that answer was ok."""
        row = self.row
        if self.broker.remembers_location and row and row.located and row.status == Status.OK \
                and self.asked_as_before:
            return row.located
        return None

    def refresh_from(self, now):
        """The MJD an incremental refresh asks from (the last stored point minus the overlap), or None: the whole
        history (the archive takes no range, the last full read is older than ``full_read_days``, the points or
        the query changed since)."""
        row, broker = self.row, self.broker
        if not (broker.refreshes_incrementally() and row and row.last_full_read and self.last_point
                and self.stored == row.points_total and self.asked_as_before):
            return None
        if now - row.last_full_read >= full_read_interval(broker):
            return None
        overlap = timedelta(days=float(broker.setting("overlap_days", DEFAULT_OVERLAP_DAYS)))
        last = self.last_point
        if timezone.is_aware(last):
            last = timezone.make_naive(last, dt_timezone.utc)
        return (last - overlap - MJD_ZERO.to_pydatetime()) / timedelta(days=1)


def full_read_interval(broker):
    return timedelta(days=float(broker.setting("full_read_days", DEFAULT_FULL_READ_DAYS)))


def is_due(broker, info, row, force, now):
    if force:
        return True, "forced"
    if row is None:
        return True, "never fetched"
    if not asked_as_before(row, broker, info):
        return True, "survey name or position changed"
    if row.status not in (Status.OK, Status.NO_DATA):
        return True, f"asked again: the last attempt ended '{row.get_status_display()}'"
    cadence = broker.cadence_interval()
    if cadence is None:
        return False, "data release already read (use --force to read again)"
    since = now - row.last_attempt
    if since >= cadence:
        return True, f"last read {since.total_seconds() / 3600:.1f} h ago"
    return False, f"not due until {(row.last_attempt + cadence):%Y-%m-%d %H:%M} UTC"


def dry_run_verdict(item):
    """What a run would do with one pair, without a request: ("skip", why), ("fetch", why), or the status it
    would end with before any request ("no name", "not configured", "invalid name") and why."""
    if not item.due:
        return "skip", item.reason
    broker = item.broker
    try:
        broker.check_configured()
        if broker.locating_by(item.target) == "name":
            broker.valid_name(broker.survey_name(item.target))
    except (BrokerInputError, BrokerNotApplicable, BrokerNotConfigured) as exc:
        status = failure_status(exc)
        return ("no name" if status == Status.NOT_APPLICABLE else status.label), str(exc)
    return "fetch", item.reason


@dataclass
class Fetched:
    """What a worker hands the writing thread for one pair: the light curve, or the error that stopped it."""

    item: PlanItem
    lightcurve: Lightcurve | None = None
    error: BrokerError | None = None


def fetch_one(item, health=None):
    """Worker: fetch and parse one pair, and shape its points for the database (pure work, done here rather
    than in the writing thread). Its requests report to ``health`` (http.HostHealth), which refuses those to a
    host found down. Never raises."""
    try:
        with watching_hosts(health):
            lightcurve = item.broker.lightcurve_for(item.target)
        if len(lightcurve):
            lightcurve.db_columns = point_columns(item.broker.source, lightcurve)
        return Fetched(item, lightcurve)
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
    health = health if health is not None else HostHealth()
    outcomes = []

    def done(outcome):
        outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)

    due = []
    for item in items:
        if item.due:
            due.append(item)
        else:
            done(Outcome(item.target.id, item.target.name, item.broker.name, "skipped", item.reason))
    # jobs first: an archive's queue then works on them while the other archives' pairs are fetched. The pairs
    # whose jobs an archive takes in batches wait for the batches (one thread submits them); those a batch left
    # out then join the queue
    held = batchable(due)
    due = [item for item in due if id(item) not in held]
    due.sort(key=lambda item: not item.broker.queues_jobs)
    queue = PairQueue(due, host_limiter().per_host)
    postponed = {}

    def handle(results):
        # a job still queued as it was recorded is not written again (each pass would cost the one writing
        # thread a transaction for nothing)
        fresh = [result for result in results if not still_queued(result)]
        recorded = {id(result): outcome for result, outcome in record_many(fresh)} if fresh else {}
        for result in results:
            outcome = recorded.get(id(result)) or queued_outcome(result)
            again = next_pass(result, postponed) if collect_jobs else None
            if again is None:
                done(outcome)
            else:
                queue.again(again[1], again[0])

    workers = max(1, workers)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lightcurve") as pool:
        batches = pool.submit(submit_in_batches, list(held.values()), health) if held else None
        pending = {batches} if batches else set()

        def feed():
            while len(pending) < workers and (item := queue.take()) is not None:
                pending.add(pool.submit(fetch_one, item, health))

        def collect(finished):
            results = []
            for future in finished:
                if future is batches:
                    submitted = future.result()
                    queue.add([item for key, item in held.items() if key not in submitted])
                    results.extend(submitted.values())
                else:
                    results.append(future.result())
                    queue.done(results[-1].item)
            handle(results)

        feed()
        try:
            while pending or queue:
                timeout = queue.seconds_to_next()
                if pending:
                    # a pair due now whose host is busy waits for one of the pending pairs, not in a busy loop
                    finished, pending = wait(pending, timeout=timeout or None, return_when=FIRST_COMPLETED)
                else:
                    time.sleep(timeout or 0)
                    finished = set()
                collect(finished)
                feed()
        except KeyboardInterrupt:
            # stop cleanly: nothing new starts, the pairs already asked finish (each within its deadline) and are
            # stored; the rest are not asked, and stay as they were (due next run)
            cancelled = sum(future.cancel() for future in pending)
            collect(wait({future for future in pending if not future.cancelled()})[0])
            raise Interrupted(outcomes, not_asked=len(queue) + cancelled) from None
    return outcomes


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
        items = [item for item in items if broker.name not in item.target.jobs]
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
    {id(item): Fetched with the JobQueued}. A pair left out is submitted by itself in the pool. Never raises."""
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
        submitted.update({id(item): Fetched(item, error=queued[item.target.id]) for item in items
                          if item.target.id in queued})
    return submitted


def still_queued(result):
    """Whether the pair's job is still queued exactly as an earlier pass of this run recorded it."""
    error, item = result.error, result.item
    return item.job_recorded and isinstance(error, JobQueued) and item.target.jobs.get(item.broker.name) == error.job


def queued_outcome(result):
    info, error = result.item.target, result.error
    return Outcome(info.id, info.name, result.item.broker.name, Status.QUEUED, str(error.reason), error.url or "")


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
    error, item = result.error, result.item
    broker = item.broker
    if isinstance(error, JobQueued):
        seconds = next_ask_seconds(broker, error.job.submitted_at)
        if seconds is None:
            return None
        target = replace(item.target, jobs={**item.target.jobs, broker.name: error.job})
        return seconds, replace(item, target=target, job_recorded=True)
    if isinstance(error, JobPostponed):
        key = (item.target.id, broker.name)
        postponed[key] = postponed.get(key, 0) + 1
        if postponed[key] > MAX_POSTPONEMENTS or error.wait > float(broker.setting("max_wait_seconds", 900)):
            return None
        return error.wait, item
    return None


def record_many(results):
    """Record the results that arrived together in one transaction (one commit, instead of one per pair:
    on SQLite the commit is most of a small pair's cost), each pair still in its own savepoint. Pairs are
    locked in (target, source) order, so two runs writing at once cannot deadlock. Returns (result, outcome)
    pairs."""
    results = sorted(results, key=lambda r: (r.item.target.id, r.item.broker.name))
    for attempt in range(1, LOCKED_RETRIES + 1):
        try:
            with transaction.atomic():
                # the targets in one query (a missing one was deleted while its update ran)
                targets = Target.objects.in_bulk([result.item.target.id for result in results])
                return [(result, record(result.item, result.lightcurve, result.error,
                                        targets.get(result.item.target.id, DELETED))) for result in results]
        except OperationalError as exc:
            # SQLite, a TOM site's default database, lets one writer at a time: another run (cron, a button)
            # holding it past the busy timeout, or a lock upgrade SQLite refuses at once, is waited out
            if not database_locked(exc) or attempt == LOCKED_RETRIES:
                raise
            logger.info("database locked by another writer; retrying these %d result(s) (attempt %d)",
                        len(results), attempt + 1)
            time.sleep(min(5.0, 0.2 * 2 ** attempt) * (0.5 + random.random()))


def database_locked(exc):
    return "database is locked" in str(exc) or "database table is locked" in str(exc)


def record(item, lightcurve, error, target=None):
    """Write one pair's result in the calling thread; a deleted target is reported, not fatal, and an answer
    the database refuses fails this pair (its status says why), never the run. ``target``: the Target if the
    caller read it already (DELETED: it found none), else it is read here."""
    if target is None:
        target = Target.objects.filter(pk=item.target.id).first() or DELETED
    if target is DELETED:
        return _target_gone(item)
    if error is not None:
        return record_failure(target, item.broker, item.target, error)
    try:
        with transaction.atomic():  # a savepoint: a refused write leaves nothing of this pair behind
            return record_success(target, item.broker, item.target, lightcurve, item.accept_shrink)
    except (DatabaseError, ValueError, OverflowError, TypeError) as exc:
        if isinstance(exc, OperationalError) and database_locked(exc):
            raise  # not this answer's fault: record_many waits and writes the results again
        if not Target.objects.filter(pk=item.target.id).exists():
            return _target_gone(item)
        logger.exception("%s: could not store the answer for target %s", item.broker.name, item.target.name)
        failure = BrokerError(f"could not store the archive's answer ({type(exc).__name__}: {str(exc)[:200]}); "
                              "nothing was changed")
        failure.url = lightcurve.url
        return record_failure(target, item.broker, item.target, failure)


def _target_gone(item):
    return Outcome(item.target.id, item.target.name, item.broker.name, DELETED,
                   "target deleted while its update was running")
