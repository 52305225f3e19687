"""``BHTOMBroker``: what an archive adapter is.

An adapter (``brokers/<archive>.py``) declares facts about its archive (``source``, ``default_url``,
``match_radius``, ``cadence``, ``telescope``, ``located_by``, ``citation``, ``probe``) and implements three steps:

* ``locate(target)`` -> :class:`Located`: the archive's identifier of the object, from the target's survey
  name or a cone search (the base chooses by ``located_by``; an adapter overrides ``locate_by_name`` or
  ``locate_by_cone`` where finding the object takes a request), or NoData with the reason;
* ``query(located)`` -> the list of :class:`Request` that fetch its light curve (pure);
* ``parse(payload, target)`` -> :class:`~tom_bhtom_brokers.lightcurve.Lightcurve` of one answer (pure).

The rest lives apart: the site's settings (``brokers/configured.py``), the chain between the steps and the
transports (``fetching.py``, ``transports/``), and TOM's Data Services interface (``data_service.py``).
"""
from datetime import timedelta

import astropy.units as u

from tom_bhtom_brokers.brokers.configured import Configured
from tom_bhtom_brokers.data_service import TomDataService
from tom_bhtom_brokers.exceptions import BrokerInputError, BrokerNotApplicable
from tom_bhtom_brokers.fetching import FetchChain, no_data
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.sources import PRETTY_SURVEY_NAME, SURVEY, DataSource
from tom_bhtom_brokers.steps import Located, Request  # noqa: F401 (the adapters' API)
from tom_bhtom_brokers.survey_names import check
from tom_bhtom_brokers.target_info import TargetInfo


class BHTOMBroker(Configured, FetchChain, TomDataService):
    """Base class of all archive adapters; a TOM Toolkit data service."""

    source: DataSource = None
    #: scheme + host (+ prefix) of the archive; the request paths are the archive's own.
    default_url = ""
    #: cone radius when the target is searched by position
    match_radius = 1 * u.arcsec
    #: how often new data may appear; None for a data release that is read once
    cadence = timedelta(days=1)
    telescope = ""
    instrument = ""
    default_timeout = 60.0
    #: whether the archive can be asked for a time range only: then a refresh between full reads asks only from the
    #: last stored point on (minus ``overlap_days``), and the whole history every ``full_read_days``
    #: (``planning.PairState.refresh_from``); ``query`` reads the start from ``refresh_start``
    takes_time_range = False
    #: whether the archive answers through a job queue (ATLAS): its pairs are submitted first in a run, and a
    #: job still queued comes back to the pool later instead of holding a worker (``updating.run``)
    queues_jobs = False
    #: whether ``submit_jobs`` takes many of its jobs in one submission (ATLAS with a token): a run then submits
    #: them in one thread before those pairs join the pool, and only the pairs a batch left out one by one
    batches_jobs = False
    #: how the archive finds the target's object: by the target's survey name ("name", in ``name_key``'s
    #: field) and/or by a cone around its position ("cone"); a name, when set, is used first
    located_by = ("cone",)
    #: whether ``locate`` costs the archive a request that an identifier kept from the last answer saves (ANTARES:
    #: ZTF name or cone -> locus id): the pair's status row keeps the identifier (``located``) and the next update
    #: goes straight to ``query`` while the name/position stays as it was, the last answer was ok and the update
    #: is not forced; an archive that no longer knows the identifier (404) is searched again
    remembers_location = False
    #: what belongs in the name field, said when it is empty and the archive cannot search by position
    name_hint = ""
    #: the route a broker with several takes unless ``route`` in its settings names another ("wsdb", "antares")
    default_route = "public"
    #: keys that must be present in ``settings.DATA_SERVICES[name]`` before the broker can run
    required_settings = ()
    citation = ""
    #: for archives whose empty body means "nothing in what was asked" (not a broken answer): the status line
    empty_answer_note = ""
    #: the largest answer accepted (``max_bytes`` in settings overrides): a few times the largest real answer,
    #: so one absurd answer cannot take the worker's memory (a parsed answer takes several times its size)
    max_answer_bytes = 64 * 1024 * 1024
    #: a well-known object the archive has data for, which ``check_archives`` asks about: TargetInfo fields
    #: (name, ra, dec, survey_names)
    probe = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.source is not None:
            cls.name = PRETTY_SURVEY_NAME[cls.source]
            cls.verbose_name = cls.verbose_name or cls.name
            cls.info_url = cls.info_url or cls.default_url

    def queried_with(self, target: TargetInfo):
        """What the request is made from; when it changes, a data release is read again."""
        name = self.survey_name(target) if "name" in self.located_by else None
        if name:
            return f"{self.name_key()}={name}"
        if target.has_position:
            return f"cone {target.ra:.6f} {target.dec:+.6f} r={self.radius.to_value(u.arcsec):g}\""
        return ""

    def locate(self, target: TargetInfo) -> Located:
        """Where the archive keeps this target's data: by the target's survey name when ``located_by`` allows it
        and one is set, else by a cone (``locate_by_cone``). Raises BrokerNotApplicable when neither is
        possible and NoData (with the reason) when the archive has no object there."""
        if self.locating_by(target) == "name":
            return self.locate_by_name(target, self.survey_name(target))
        return self.locate_by_cone(target)

    def locating_by(self, target: TargetInfo) -> str:
        """How ``locate`` will find this target, "name" or "cone", without asking the archive anything (the dry
        run asks it too); BrokerNotApplicable when neither is possible."""
        if "name" in self.located_by and self.survey_name(target):
            return "name"
        if "cone" not in self.located_by:
            raise BrokerNotApplicable(f"no {self.name_key()} ({self.name_hint})")
        self.require_position(target)
        return "cone"

    def locate_by_name(self, target: TargetInfo, name) -> Located:
        """The object named in the target's survey-name field, once it passes the field's rule."""
        return Located(target, self.valid_name(name))

    def locate_by_cone(self, target: TargetInfo) -> Located:
        """The object at the target's position. By default the cone is the query itself (``query`` asks for
        everything within the radius); archives that find the object first override this, usually as
        ``self.ask(request, reader)`` with a pure reader of the search's answer."""
        return Located(target)

    def query(self, located: Located) -> list:
        """The requests for the located object's light curve (pure): a list of :class:`Request`."""
        raise NotImplementedError

    def parse(self, payload: bytes, target: TargetInfo) -> Lightcurve:
        """One answer's bytes as a Lightcurve (pure, whole-column); the answers of several requests are
        parsed one by one and joined by ``combine``."""
        raise NotImplementedError

    def radius_note(self, what):
        """The status line of a cone that found nothing."""
        return f"no {what} within {self.radius.to_value(u.arcsec):g} arcsec"

    def nothing_within_radius(self, what):
        """The answer of a cone that found nothing: an empty light curve whose note says so."""
        return no_data(self.radius_note(what))

    def valid_name(self, value):
        """``value`` when it passes its field's rule (``survey_names``); else BrokerInputError with the reason,
        before any request."""
        reason = check(self.name_key(), value)
        if reason:
            # a pasted address that is refused was not opened either: said, since a user may think it was tried
            raise BrokerInputError(reason + ("; nothing was requested" if SURVEY[self.source].name_is_url else ""))
        return value

    def require_position(self, target: TargetInfo):
        if not target.has_position:
            raise BrokerNotApplicable("the target has no coordinates for a cone search")
