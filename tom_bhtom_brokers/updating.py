"""Update light curves: decide which (target, source) pairs are due, fetch them concurrently, store.

Fetching, parsing and shaping rows run in a thread pool (network-bound work); every database write
happens in the calling thread, so SQLite stays safe. Results that arrive together share one commit,
each pair in its own savepoint, so a failure of one pair never touches another. A ``BrokerError``
becomes that pair's status; nothing stored is lost.
"""
import logging
import random
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace

from django.db import DatabaseError, OperationalError, transaction
from django.db.models import Count
from django.utils import timezone

from tom_dataproducts.models import PhotometryReducedDatum
from tom_dataservices.dataservices import get_data_service_classes
from tom_targets.models import Target, TargetExtra

from tom_bhtom_brokers.brokers.base import BHTOMBroker
from tom_bhtom_brokers.exceptions import BrokerError, BrokerInputError, BrokerNotApplicable, BrokerNotConfigured
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.store import point_columns, sync
from tom_bhtom_brokers.survey_names import check
from tom_bhtom_brokers.target_info import TargetInfo

logger = logging.getLogger(__name__)

Status = LightcurveUpdate.Status
#: concurrent fetches; the per-host limit (http.HostLimiter) keeps each archive at a polite few
DEFAULT_WORKERS = 16
#: an Outcome's status when the target was deleted while its update ran
DELETED = "deleted"
#: by what share of a pair's stored points one answer may be smaller before it is held as a sudden shrink
DEFAULT_MAX_SHRINK_FRACTION = 0.2
#: how often a batch of results is written again when another writer holds SQLite's lock
LOCKED_RETRIES = 8


@dataclass
class PlanItem:
    """One (target, broker) pair and whether it is fetched in this run, with the reason."""

    target: TargetInfo
    broker: BHTOMBroker
    due: bool
    reason: str
    #: apply an answer that shrinks the stored light curve (``--accept-shrink``)
    accept_shrink: bool = False


@dataclass
class Outcome:
    """What happened to one pair; ``status`` is a LightcurveUpdate status, ``skipped`` or ``deleted``."""

    target_id: int
    target_name: str
    source: str
    status: str
    message: str = ""
    url: str = ""
    added: int = 0
    removed: int = 0
    total: int = 0

    @property
    def failed(self):
        """An error, a survey name/URL that must be corrected, or an answer held as a sudden shrink: each
        needs a person to look."""
        return self.status in (Status.ERROR, Status.INVALID_NAME, Status.SHRANK)


def installed_brokers(names=None):
    """Instances of our brokers among the site's data services, optionally only those named
    (by display name or DataSource value, case-insensitive), skipping those disabled in settings."""
    brokers = [cls for cls in get_data_service_classes().values() if issubclass(cls, BHTOMBroker)]
    if names:
        wanted = {n.strip().lower() for n in names}
        unknown = wanted - {b.name.lower() for b in brokers} - {b.source.value.lower() for b in brokers}
        if unknown:
            raise ValueError(f"unknown source(s) {sorted(unknown)}; installed: {sorted(b.name for b in brokers)}")
        brokers = [b for b in brokers if b.name.lower() in wanted or b.source.value.lower() in wanted]
    return [cls() for cls in brokers if cls.enabled()]


def plan(targets, brokers, force=False, now=None, accept_shrink=False):
    """Every (target, broker) pair with the decision to fetch it or not, and why."""
    now = now or timezone.now()
    infos = TargetInfo.for_targets(targets)
    ids, names = [t.id for t in infos], [b.name for b in brokers]
    rows = {(row.target_id, row.source): row for row in
            LightcurveUpdate.objects.filter(target__in=ids, source__in=names)}
    stored = {(r["target"], r["source_name"]): r["n"] for r in
              PhotometryReducedDatum.objects.filter(target__in=ids, source_name__in=names)
              .values("target", "source_name").annotate(n=Count("id"))}
    # an answer identical to the last stored one is skipped only while those points are intact
    intact = {}
    for (target_id, source), row in rows.items():
        if row.fingerprint and row.status in (Status.OK, Status.NO_DATA) \
                and stored.get((target_id, source), 0) == row.points_total:
            intact.setdefault(target_id, {})[source] = row.fingerprint
    items = []
    for info in infos:
        info = replace(info, fingerprints=intact.get(info.id, {}))
        for broker in brokers:
            due, reason = is_due(broker, info, rows.get((info.id, broker.name)), force, now)
            items.append(PlanItem(info, broker, due, reason, accept_shrink))
    return items


def is_due(broker, info, row, force, now):
    if force:
        return True, "forced"
    if row is None:
        return True, "never fetched"
    if row.queried_with != broker.queried_with(info):
        return True, "survey name or position changed"
    if row.status not in (Status.OK, Status.NO_DATA):
        return True, f"last attempt: {row.get_status_display()}"
    cadence = broker.cadence_interval()
    if cadence is None:
        return False, "data release already read (use --force to read again)"
    since = now - row.last_attempt
    if since >= cadence:
        return True, f"last read {since.total_seconds() / 3600:.1f} h ago"
    return False, f"not due until {(row.last_attempt + cadence):%Y-%m-%d %H:%M} UTC"


def fetch_one(item):
    """Worker: fetch and parse one pair, and shape its points for the database (pure work, done here rather
    than in the writing thread). Returns (item, lightcurve, error); never raises."""
    try:
        lightcurve = item.broker.lightcurve_for(item.target)
        if len(lightcurve):
            lightcurve.db_columns = point_columns(item.broker.source, lightcurve)
        return item, lightcurve, None
    except BrokerError as exc:
        return item, None, exc
    except Exception as exc:  # noqa: BLE001 - a bug in one broker must not stop every other update
        logger.exception("%s failed on target %s", item.broker.name, item.target.name)
        return item, None, BrokerError(f"internal error in the {item.broker.name} broker: "
                                       f"{type(exc).__name__}: {exc}")


def run(items, workers=DEFAULT_WORKERS, on_outcome=None):
    """Fetch the due items concurrently and record each result as it arrives; returns the outcomes."""
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
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="lightcurve") as pool:
        pending = {pool.submit(fetch_one, item) for item in due}
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for outcome in record_many([future.result() for future in finished]):
                done(outcome)
    return outcomes


def record_many(results):
    """Record the results that arrived together in one transaction (one commit, instead of one per pair:
    on SQLite the commit is most of a small pair's cost), each pair still in its own savepoint. Pairs are
    locked in (target, source) order, so two runs writing at once cannot deadlock."""
    results = sorted(results, key=lambda r: (r[0].target.id, r[0].broker.name))
    for attempt in range(1, LOCKED_RETRIES + 1):
        try:
            with transaction.atomic():
                return [record(*result) for result in results]
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


def record(item, lightcurve, error):
    """Write one pair's result in the calling thread; a deleted target is reported, not fatal, and an answer
    the database refuses fails this pair (its status says why), never the run."""
    try:
        target = Target.objects.get(pk=item.target.id)
    except Target.DoesNotExist:
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


def record_success(target, broker, info, lightcurve, accept_shrink=False):
    """Sync the points and write the pair's status, in one transaction. A sudden shrink is held (nothing
    changed, status "answer shrank") unless the same answer was held before or ``accept_shrink``."""
    now = timezone.now()
    if lightcurve.unchanged:
        return _record_unchanged(target, broker, info, lightcurve, now)
    with transaction.atomic():
        row, _ = _locked_row(target, broker)
        confirmed = accept_shrink or (row.status == Status.SHRANK and row.fingerprint == lightcurve.fingerprint)
        result = sync(target, broker.source, broker.name, lightcurve, lightcurve.db_columns,
                      max_removed=None if confirmed else shrink_allowance(broker))
        if result.held:
            return _record_shrink(row, broker, info, lightcurve, result, now)
        if len(lightcurve):
            status, message = Status.OK, lightcurve.note  # what the broker left out, if anything
        else:
            status = Status.NO_DATA
            message = lightcurve.note or "the archive has no points for this target"
            if result.total:
                message += f"; the {result.total} points stored earlier are kept"
        row.status, row.url = status, lightcurve.url[:2000]
        row.points_added, row.points_removed, row.points_total = result.added, result.removed, result.total
        row.last_attempt = row.last_success = now
        row.fingerprint = lightcurve.fingerprint
        row.matched_identifier = lightcurve.matched_identifier[:200]
        message = _join(message, _note_query(row, target, broker, info, lightcurve.matched_identifier))
        row.message = message
        row.save()
    return Outcome(info.id, info.name, broker.name, status, message, lightcurve.url,
                   result.added, result.removed, result.total)


def shrink_allowance(broker):
    """By how many of ``n`` stored points one answer may be smaller before it is held as a sudden shrink: a share
    (``DATA_SERVICES[name]['max_shrink_fraction']``, default 0.2) for archives read again on a cadence, none
    for a data release read once (it should never shrink)."""
    if broker.cadence_interval() is None:
        return lambda n: 0
    share = float(broker.setting("max_shrink_fraction", DEFAULT_MAX_SHRINK_FRACTION))
    return lambda n: int(share * n)


def _record_shrink(row, broker, info, lightcurve, result, now):
    """The answer would remove more points than a shrink may: keep every point, say so, remember the answer's
    fingerprint so the same answer on the next run is taken as the archive's word."""
    message = (f"answer shrank: kept {result.total} points, the archive now serves {result.offered} "
               f"({result.held} would go); applied if the next update gets the same answer, or with "
               "update_lightcurves --accept-shrink")
    row.status, row.message, row.url = Status.SHRANK, message, lightcurve.url[:2000]
    row.fingerprint = lightcurve.fingerprint
    row.points_added = row.points_removed = 0
    row.points_total = result.total
    row.last_attempt = now
    row.save()
    logger.warning("%s, target %s: %s", broker.name, info.name, message)
    return Outcome(info.id, info.name, broker.name, Status.SHRANK, message, lightcurve.url, total=result.total)


def _record_unchanged(target, broker, info, lightcurve, now):
    """The archive sent exactly what is stored: note the visit (and what it was asked with, so a name set
    since the last update stops making the pair due), touch no point."""
    with transaction.atomic():
        row, _ = _locked_row(target, broker)
        row.points_added = row.points_removed = 0
        row.last_attempt = row.last_success = now
        row.url = lightcurve.url[:2000]
        note = _note_query(row, target, broker, info, lightcurve.matched_identifier)
        row.save(update_fields=["points_added", "points_removed", "last_attempt", "last_success", "url",
                                "queried_with", "matched_identifier"])
    return Outcome(info.id, info.name, broker.name, row.status, _join("unchanged since the last update", note),
                   lightcurve.url, total=row.points_total)


def _join(*parts):
    return "; ".join(part for part in parts if part)


def _note_query(row, target, broker, info, identifier):
    """Set the row's ``queried_with`` and matched identifier after an answer; record the identifier in the
    target when it may be. Returns a line for the status message ('' when there is nothing to say)."""
    row.queried_with = broker.queried_with(info)[:500]
    if identifier:
        row.matched_identifier = identifier[:200]
    recorded, note = _remember_identifier(target, broker, info, identifier)
    if recorded:
        # the next update goes by this name: that is what this answer was for
        row.queried_with = f"{broker.name_key()}={identifier}"[:500]
    return note


def record_failure(target, broker, info, error):
    """Write the pair's status for a failed or impossible fetch; stored points are untouched."""
    if isinstance(error, BrokerInputError):
        status = Status.INVALID_NAME
    elif isinstance(error, BrokerNotApplicable):
        status = Status.NOT_APPLICABLE
    elif isinstance(error, BrokerNotConfigured):
        status = Status.NOT_CONFIGURED
    else:
        status = Status.ERROR
    message = str(getattr(error, "reason", None) or error)
    url = getattr(error, "url", None) or ""
    with transaction.atomic():
        row, created = _locked_row(target, broker)
        total = target.photometryreduceddatum_set.filter(source_name=broker.name).count()
        unchanged = not created and row.status == status and row.message == message and status != Status.ERROR
        if not unchanged:
            # not applicable / not configured again: no write, a re-run with nothing to do stays cheap
            row.status, row.message, row.url = status, message, url[:2000]
            row.queried_with = broker.queried_with(info)[:500]
            row.points_added = row.points_removed = 0
            row.points_total = total
            row.last_attempt = timezone.now()
            row.save()
    return Outcome(info.id, info.name, broker.name, status, message, url, total=total)


def _locked_row(target, broker):
    """The pair's status row, locked for this transaction so two runs sync the pair in turn (PostgreSQL;
    SQLite serialises writers anyway). Returns (row, created)."""
    row, created = LightcurveUpdate.objects.get_or_create(target=target, source=broker.name,
                                                          defaults={"status": Status.RUNNING})
    return LightcurveUpdate.objects.select_for_update().get(pk=row.pk), created


def _remember_identifier(target, broker, info, identifier):
    """After a cone match, record the archive's name for the object in the target's field when the field is
    unset (absent or blank: TOM's target form saves an empty extra for every field it shows), so the match
    shows in the target's fields and the next update goes by name. A value the user typed is never
    overwritten, and an identifier that fails the field's rule (an archive's answer is outside input) is not
    written. Returns (recorded, note for the status message)."""
    key = broker.name_key()
    if not key or not identifier or info.survey_names.get(key):
        return False, ""
    reason = check(key, identifier)
    if reason:
        return False, f"the archive's identifier was not recorded: {reason}"
    extra = TargetExtra.objects.filter(target=target, key=key).first()
    if extra is None:
        TargetExtra.objects.create(target=target, key=key, value=identifier)
        return True, ""
    if (extra.value or "").strip():
        return False, ""  # set by someone since this run read the target
    extra.value = identifier
    extra.save()
    return True, ""
