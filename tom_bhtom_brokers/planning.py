"""Which (target, archive) pairs an update asks, and why: the plan of a run.

For every target and installed broker, a :class:`PlanItem` says whether the pair is due (never read, its name or
position changed, its last attempt failed, its cadence passed, or a forced run) and carries the pair's state in
(``PairState``): the fingerprint of the answer stored intact, the MJD an incremental refresh asks from, a job
waiting in the archive's queue, the identifier kept from the last answer. A few queries per 500 targets, none per
target. ``dry_run_verdict`` says what a run would do with a pair without asking the archive.
"""
import difflib
import itertools
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from datetime import timezone as dt_timezone

from django.db.models import Count, Max
from django.utils import timezone
from tom_dataproducts.models import PhotometryReducedDatum
from tom_dataservices.dataservices import get_data_service_classes

from tom_bhtom_brokers.brokers.base import BHTOMBroker
from tom_bhtom_brokers.exceptions import BrokerInputError, BrokerNotApplicable, BrokerNotConfigured
from tom_bhtom_brokers.lightcurve import MJD_ZERO
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.recording import asked_as_before, failure_status, queued_job
from tom_bhtom_brokers.target_info import PairInput, TargetInfo

Status = LightcurveUpdate.Status
#: targets planned together: the plan reads statuses, point counts and names for this many targets per query,
#: so its queries and the memory they take stay bounded however long the target list
PLAN_CHUNK = 500
#: an incremental refresh asks from the last stored point minus this many days (``overlap_days`` in the
#: archive's DATA_SERVICES entry), and the whole history every ``full_read_days``
DEFAULT_OVERLAP_DAYS = 30.0
DEFAULT_FULL_READ_DAYS = 7.0


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
        for broker in brokers:
            row = rows.get((info.id, broker.name))
            state = PairState(broker, info, row, *stored.get((info.id, broker.name), (0, None)))
            pair_info = replace(info, pair=state.input(force, now, caches_before))
            due, reason = is_due(broker, pair_info, row, force, now)
            if due and pair_info.pair.refresh_from is not None:
                reason += f"; recent part asked (full read every {full_read_interval(broker).days} d)"
            items.append(PlanItem(pair_info, broker, due, reason, accept_shrink))
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

    def input(self, force, now, caches_before):
        """What this pair carries into its fetch (a forced run: no incremental range, no remembered identifier)."""
        return PairInput(fingerprint=self.row.fingerprint if self.intact else None,
                         refresh_from=None if force else self.refresh_from(now), job=self.job,
                         located=None if force else self.located, refresh_caches_before=caches_before,
                         recorded=self.row is not None)

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
