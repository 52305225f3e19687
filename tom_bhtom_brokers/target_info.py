"""A plain snapshot of what a broker needs to know about a target.

Brokers run in worker threads and must not touch the database; the updater reads each target once,
in the main thread, into a :class:`TargetInfo`.
"""
from dataclasses import dataclass, field

from tom_targets.models import TargetExtra

from tom_bhtom_brokers.sources import TARGET_NAME_KEYS

SURVEY_NAME_LABELS = frozenset(TARGET_NAME_KEYS.values())


@dataclass(frozen=True)
class PairInput:
    """The one state a (target, archive) pair carries into its fetch (``planning`` fills it from the pair's status
    row and stored points; the defaults: a pair never read)."""

    #: the fingerprint of the archive answer whose points are stored intact: the same answer again is not parsed
    fingerprint: str | None = None
    #: the MJD an incremental refresh asks from (``planning.PairState.refresh_from``); None: the whole history
    refresh_from: float | None = None
    #: the ``steps.QueuedJob`` waiting in the archive's queue for this target
    job: object = None
    #: the archive's identifier of the object, kept from the last answer (``remembers_location``)
    located: str | None = None
    #: a forced run's start (UNIX time): an archive's cached list or file (OGLE's seasons, LINEAR's sample) fetched
    #: before it is fetched again; None: a cache is used as long as it is valid
    refresh_caches_before: float | None = None
    #: the pair had a status row when it was planned (the writing thread creates only the rows of pairs without)
    recorded: bool = False


@dataclass(frozen=True)
class TargetInfo:
    id: int | None
    name: str
    ra: float | None
    dec: float | None
    survey_names: dict = field(default_factory=dict)
    #: epoch (Julian year) of ra/dec; TOM's default is J2000
    epoch: float = 2000.0
    #: what the pair's last update left for this one, for the one archive this snapshot is planned for
    pair: PairInput = PairInput()

    @classmethod
    def from_target(cls, target, extras=None):
        """``extras``: the target's survey-name extras if the caller already read them in bulk."""
        if extras is None:
            extras = dict(TargetExtra.objects.filter(target=target, key__in=SURVEY_NAME_LABELS)
                          .values_list("key", "value"))
        names = {key: value.strip() for key, value in extras.items() if value and value.strip()}
        return cls(id=target.pk, name=target.name, ra=target.ra, dec=target.dec, survey_names=names,
                   epoch=float(target.epoch) if target.epoch else 2000.0)

    @classmethod
    def for_targets(cls, targets):
        """Snapshots of many targets with one query for all their survey-name extras."""
        targets = list(targets)
        extras = {}
        for target_id, key, value in (TargetExtra.objects
                                      .filter(target__in=[t.pk for t in targets], key__in=SURVEY_NAME_LABELS)
                                      .values_list("target_id", "key", "value")):
            extras.setdefault(target_id, {})[key] = value
        return [cls.from_target(t, extras.get(t.pk, {})) for t in targets]

    @property
    def has_position(self):
        return self.ra is not None and self.dec is not None
