"""Recording one pair's result: the sync of its points, its status row, the identifier it matched, and TOM's
data sharing. One module that the updater (``updating``) and TOM's own forms (``BHTOMBroker``'s
``create_reduced_datums_from_query``) both use; it knows brokers only by what they declare, so nothing here
imports a broker.
"""
import logging
from dataclasses import dataclass, replace

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from tom_dataproducts.models import PhotometryReducedDatum
from tom_targets.models import PersistentShare, Target, TargetExtra
from tom_targets.sharing import continuous_share_data

from tom_bhtom_brokers.changes import record_changes
from tom_bhtom_brokers.steps import QueuedJob
from tom_bhtom_brokers.exceptions import (ArchiveUnavailable, ArchiveUnreachable, BrokerInputError,
                                          BrokerNotApplicable, BrokerNotConfigured)
from tom_bhtom_brokers.lightcurve import utc_datetimes
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.store import sync
from tom_bhtom_brokers.survey_names import check

logger = logging.getLogger(__name__)

Status = LightcurveUpdate.Status
#: an Outcome's status when the target was deleted while its update ran
DELETED = "deleted"
#: by what share of a pair's stored points one answer may be smaller before it is held as a sudden shrink
DEFAULT_MAX_SHRINK_FRACTION = 0.2


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
    #: the archive's host gave no answer at all (refused, unreachable, silent): an outage, not the pair's fault
    unreachable: bool = False

    @property
    def failed(self):
        """An error, a survey name/URL that must be corrected, or an answer held as a sudden shrink: each
        needs a person to look."""
        return self.status in (Status.ERROR, Status.INVALID_NAME, Status.SHRANK)


def record_success(target, broker, info, answer, accept_shrink=False, row=None):
    """Sync the points of the pair's answer and write its status, in one transaction. A sudden shrink is held
    (nothing changed, status "answer shrank") unless the same answer was held before or ``accept_shrink``. ``row``:
    the pair's status row, if the caller locked it already."""
    now, lightcurve = timezone.now(), answer.lightcurve
    if answer.unchanged:
        return _record_unchanged(target, broker, info, answer, now, row)
    with transaction.atomic():
        row, _ = _locked_row(target, broker, row)
        confirmed = accept_shrink or (row.status == Status.SHRANK and row.fingerprint == answer.fingerprint)
        result = sync(target, broker.source, broker.name, lightcurve, answer.columns,
                      max_removed=None if confirmed else shrink_allowance(broker),
                      asked_from_mjd=answer.asked_from_mjd, location=answer.url)
        if result.held:
            return _record_shrink(row, broker, info, answer, result, now)
        if result.added:
            share_new_points(target, broker.name, result.previous_max_pk)
            record_changes(target, broker.name, result.previous_max_pk)
        incremental = answer.asked_from_mjd is not None
        if len(lightcurve):
            status, message = Status.OK, lightcurve.note  # what the broker left out, if anything
        elif incremental:  # nothing in the recent range asked: the stored history stands
            status = Status.OK if result.total else Status.NO_DATA
            message = f"nothing new since {asked_from(answer):%Y-%m-%d} (recent part asked)"
        else:
            status = Status.NO_DATA
            message = lightcurve.note or "the archive has no points for this target"
            if result.total:
                message += f"; the {result.total} points stored earlier are kept"
        row.status, row.url = status, answer.url[:2000]
        row.points_added, row.points_removed, row.points_total = result.added, result.removed, result.total
        row.last_attempt = row.last_success = now
        _note_read(row, answer, now)
        row.fingerprint = answer.fingerprint
        row.matched_identifier = lightcurve.matched_identifier[:200]
        message = _join(message, _note_query(row, target, broker, info, lightcurve.matched_identifier))
        row.message = message
        row.save()
    return Outcome(info.id, info.name, broker.name, status, message, answer.url,
                   result.added, result.removed, result.total)


def share_new_points(target, source_name, previous_max_pk):
    """TOM's data sharing: the points a sync added go to the target's persistent shares (``PersistentShare``),
    as TOM's ``post_save`` handler would send them had they been saved one by one — once per sync, with all
    of them, and after the commit (sharing is a request to another TOM: never inside our transaction). A
    failed share is logged; the points are stored either way."""
    if not PersistentShare.objects.filter(target=target).exists():
        return
    added = list(PhotometryReducedDatum.objects.filter(target=target, source_name=source_name,
                                                       pk__gt=previous_max_pk).only("pk"))

    def share():
        try:
            continuous_share_data(target, added)
        except Exception:  # noqa: BLE001 - another TOM's failure must not fail the update that stored the points
            logger.exception("sharing %d new %s points of %s failed", len(added), source_name, target.name)

    transaction.on_commit(share)


def shrink_allowance(broker):
    """By how many of ``n`` stored points one answer may be smaller before it is held as a sudden shrink: a share
    (``DATA_SERVICES[name]['max_shrink_fraction']``, default 0.2) for archives read again on a cadence, none
    for a data release read once (it should never shrink)."""
    if broker.cadence_interval() is None:
        return lambda n: 0
    share = float(broker.setting("max_shrink_fraction", DEFAULT_MAX_SHRINK_FRACTION))
    return lambda n: int(share * n)


def _record_shrink(row, broker, info, answer, result, now):
    """The answer would remove more points than a shrink may: keep every point, say so, remember the answer's
    fingerprint so the same answer on the next run is taken as the archive's word."""
    message = (f"answer shrank: kept {result.total} points, the archive now serves {result.offered} "
               f"({result.held} would go); applied if the next update gets the same answer, or with "
               "update_lightcurves --accept-shrink")
    row.status, row.message, row.url = Status.SHRANK, message, answer.url[:2000]
    row.fingerprint = answer.fingerprint
    row.points_added = row.points_removed = 0
    row.points_total = result.total
    row.last_attempt = now
    row.save()
    logger.warning("%s, target %s: %s", broker.name, info.name, message)
    return Outcome(info.id, info.name, broker.name, Status.SHRANK, message, answer.url, total=result.total)


#: what recording an unchanged answer writes in a pair's status row
UNCHANGED_FIELDS = ["points_added", "points_removed", "last_attempt", "last_success", "url", "queried_with",
                    "matched_identifier", "last_full_read", "job_path", "job_submitted_at", "job_attempts",
                    "job_asked_from", "located", "status", "message"]


def _record_unchanged(target, broker, info, answer, now, row=None):
    """The archive sent exactly what is stored: note the visit (and what it was asked with, so a name set
    since the last update stops making the pair due), touch no point."""
    with transaction.atomic():
        row, _ = _locked_row(target, broker, row)
        note = _note_unchanged(row, target, broker, info, answer, now)
        row.save(update_fields=UNCHANGED_FIELDS)
    return _unchanged_outcome(row, broker, info, answer, note)


def _note_unchanged(row, target, broker, info, answer, now):
    row.points_added = row.points_removed = 0
    row.last_attempt = row.last_success = now
    row.url = answer.url[:2000]
    if row.status not in (Status.OK, Status.NO_DATA):
        # the answer came through a job recorded as queued in this run: the stored points stand, as read
        row.status = Status.OK if row.points_total else Status.NO_DATA
        row.message = "the archive's answer is the one stored"
    _note_read(row, answer, now)
    return _note_query(row, target, broker, info, answer.lightcurve.matched_identifier)


def _unchanged_outcome(row, broker, info, answer, note):
    return Outcome(info.id, info.name, broker.name, row.status, _join("unchanged since the last update", note),
                   answer.url, total=row.points_total)


def _of_pairs(pairs):
    wanted = Q()
    for target_id, source in pairs:
        wanted |= Q(target_id=target_id, source=source)
    return LightcurveUpdate.objects.filter(wanted)


def create_missing_rows(pairs):
    """Create the status rows that pairs ``(target id, source)`` lack (a first read), before a batch's transaction
    locks them (``updating.record_many``): in a short transaction of their own, in (target, source) order, so the
    batch's transaction takes every row in one ordered read and inserts none (an insert could wait on another run's
    while holding rows). A target deleted meanwhile fails the insert: nothing is created then, and each pair's row
    is created as it is recorded (``_locked_row``). Inside a caller's transaction this does nothing (a deferred
    constraint would fail the caller's commit, not this)."""
    if not pairs or transaction.get_connection().in_atomic_block:
        return
    missing = set(pairs) - set(_of_pairs(pairs).values_list("target_id", "source"))
    alive = set(Target.objects.filter(pk__in={target_id for target_id, _ in missing}).values_list("pk", flat=True))
    rows = [LightcurveUpdate(target_id=target_id, source=source, status=Status.RUNNING)
            for target_id, source in sorted(missing) if target_id in alive]
    if not rows:
        return
    try:
        with transaction.atomic():
            LightcurveUpdate.objects.bulk_create(rows, ignore_conflicts=True)  # another run's rows are as good
    except IntegrityError:
        logger.info("a target was deleted while its status rows were created; each is created as it is recorded")


def locked_rows(pairs):
    """{(target id, source): status row} of the pairs ``(target id, source)`` that have one, locked in (target,
    source) order at the start of a batch's transaction (``updating.record_many``): rows one writer holds are all
    taken before it waits for any other's, so two runs writing at once cannot deadlock."""
    if not pairs:
        return {}
    rows = _of_pairs(pairs).select_for_update().order_by("target_id", "source")
    return {(row.target_id, row.source): row for row in rows}


def record_unchanged_many(pairs, rows):
    """Unchanged answers of pairs recorded before (a daily refresh's usual answer), in one UPDATE instead of a
    transaction each: the one writing thread's cost for them. ``pairs``: (key, target, broker, info, answer);
    ``rows``: their status rows, locked already (``locked_rows``). Returns {key: Outcome} of those recorded; a pair
    whose row is missing, or whose answer names an identifier to remember in the target, is left to
    ``record_success``."""
    now, recorded, changed = timezone.now(), {}, []
    for key, target, broker, info, answer in pairs:
        row = rows.get((info.id, broker.name))
        if row is None or _identifier_to_remember(broker, info, answer.lightcurve.matched_identifier):
            continue
        note = _note_unchanged(row, target, broker, info, answer, now)
        changed.append(row)
        recorded[key] = _unchanged_outcome(row, broker, info, answer, note)
    update_rows(changed, UNCHANGED_FIELDS)
    return recorded


def update_rows(rows, field_names):
    """Write ``field_names`` of status ``rows`` in one prepared UPDATE run for each row (``executemany``): Django's
    ``bulk_update`` builds a CASE expression per row and field, which cost the writing thread more than it
    saved."""
    if not rows:
        return
    fields = [LightcurveUpdate._meta.get_field(name) for name in field_names]
    quote, meta = connection.ops.quote_name, LightcurveUpdate._meta
    sql = (f"UPDATE {quote(meta.db_table)} SET " + ", ".join(f"{quote(field.column)} = %s" for field in fields)
           + f" WHERE {quote(meta.pk.column)} = %s")
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields]
                                 + [row.pk] for row in rows])


def asked_from(answer):
    """The UTC datetime an incremental refresh asked the archive from."""
    return utc_datetimes([answer.asked_from_mjd])[0]


def _note_read(row, answer, now):
    """After an answer: a whole history read is noted (the next full read is counted from it), and the job that
    brought the answer, if any, is done."""
    if answer.asked_from_mjd is None:
        row.last_full_read = now
    row.located = answer.located[:200]
    row.job_path, row.job_submitted_at, row.job_attempts, row.job_asked_from = "", None, 0, None


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
        named = replace(info, survey_names={**info.survey_names, broker.name_key(): identifier})
        row.queried_with = broker.queried_with(named)[:500]
    return note


def asked_as_before(row, broker, info):
    """Whether the pair of status ``row`` would be asked now as its last answer was: from the same name or position,
    or by the name now in its field when that is the very object the last answer matched (another archive sharing
    the field — ANTARES and ALeRCE's "ZTF name" — recorded what this one found by its cone)."""
    now = broker.queried_with(info)
    if row.queried_with == now:
        return True
    key = broker.name_key()
    if not (key and row.matched_identifier and info.survey_names.get(key) == row.matched_identifier):
        return False
    return row.queried_with == broker.queried_with(replace(info, survey_names={
        name: value for name, value in info.survey_names.items() if name != key}))


def queued_job(row, broker, info):
    """The job waiting in the archive's queue for the pair of status ``row`` (a ``QueuedJob``), unless there is
    none or the target's position or name changed since it was queued (then it is for another object)."""
    if row is None or not row.job_path or not asked_as_before(row, broker, info):
        return None
    return QueuedJob(row.job_path, row.job_submitted_at, row.job_attempts, row.job_asked_from)


def with_queued_job(target, broker, info):
    """``info`` carrying the pair's queued job, if any, so the fetch collects it instead of queuing another."""
    job = queued_job(LightcurveUpdate.objects.filter(target=target, source=broker.name).first(), broker, info)
    return info if job is None else replace(info, pair=replace(info.pair, job=job))


def failure_status(error):
    """The pair's status for an error: a name to correct, nothing to look for, a site to configure, an archive
    found down earlier in the run, or an error."""
    if isinstance(error, ArchiveUnavailable):
        return Status.UNAVAILABLE
    if isinstance(error, BrokerInputError):
        return Status.INVALID_NAME
    if isinstance(error, BrokerNotApplicable):
        return Status.NOT_APPLICABLE
    if isinstance(error, BrokerNotConfigured):
        return Status.NOT_CONFIGURED
    return Status.ERROR


def record_failure(target, broker, info, error, row=None):
    """Write the pair's status for a failed or impossible fetch; stored points are untouched."""
    return _record_status(target, broker, info, failure_status(error), str(getattr(error, "reason", None) or error),
                          getattr(error, "url", None) or "", unreachable=isinstance(error, ArchiveUnreachable), row=row)


def record_waiting(target, broker, info, answer, row=None):
    """Write the pair's status while its answer waits: a job in the archive's queue ("queued", the job kept so a
    later pass or run collects it), or a submission the archive put off ("archive unavailable" if it is still put
    off when the run ends); stored points are untouched."""
    status = Status.QUEUED if answer.job is not None else Status.UNAVAILABLE
    return _record_status(target, broker, info, status, answer.note, answer.url, job=answer.job, row=row)


def _record_status(target, broker, info, status, message, url, job=None, unreachable=False, row=None):
    with transaction.atomic():
        row, created = _locked_row(target, broker, row)
        total = target.photometryreduceddatum_set.filter(source_name=broker.name).count()
        unchanged = not created and row.status == status and row.message == message and status != Status.ERROR
        if not unchanged:
            # not applicable / not configured again: no write, a re-run with nothing to do stays cheap
            row.status, row.message, row.url = status, message, url[:2000]
            row.queried_with = broker.queried_with(info)[:500]
            row.points_added = row.points_removed = 0
            row.points_total = total
            row.last_attempt = timezone.now()
            if job is not None:  # remembered, so a later pass or run collects it
                row.job_path, row.job_submitted_at = job.path[:500], job.submitted_at
                row.job_attempts, row.job_asked_from = job.attempts, job.asked_from_mjd
            row.save()
    return Outcome(info.id, info.name, broker.name, status, message, url, total=total, unreachable=unreachable)


def _locked_row(target, broker, row=None):
    """The pair's status row, locked for this transaction so two runs sync the pair in turn (PostgreSQL;
    SQLite serialises writers anyway): ``row`` when the caller locked it already (a batch's rows, ``locked_rows``).
    Returns (row, created)."""
    if row is not None:
        return row, False
    locked = LightcurveUpdate.objects.select_for_update()
    row = locked.filter(target=target, source=broker.name).first()  # one query for a pair seen before
    if row is not None:
        return row, False
    row, created = LightcurveUpdate.objects.get_or_create(target=target, source=broker.name,
                                                          defaults={"status": Status.RUNNING})
    return locked.get(pk=row.pk), created


def _remember_identifier(target, broker, info, identifier):
    """After a cone match, record the archive's name for the object in the target's field when the field is
    unset (absent or blank: TOM's target form saves an empty extra for every field it shows), so the match
    shows in the target's fields and the next update goes by name. A value the user typed is never
    overwritten, and an identifier that fails the field's rule (an archive's answer is outside input) is not
    written. Returns (recorded, note for the status message)."""
    if not _identifier_to_remember(broker, info, identifier):
        return False, ""
    key = broker.name_key()
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


def _identifier_to_remember(broker, info, identifier):
    """Whether an answer's identifier may go into the target's field: the archive has one and the field is unset."""
    key = broker.name_key()
    return bool(key and identifier and not info.survey_names.get(key))
