"""``BHTOMBroker``: the machinery every archive broker shares.

A broker module declares facts about its archive (``source``, ``default_url``, ``match_radius``,
``cadence``, ``telescope``, ``located_by``) and implements three steps:

* ``locate(target)`` -> :class:`Located`: the archive's identifier of the object, from the target's survey
  name or a cone search (the base chooses by ``located_by``; a broker overrides ``locate_by_name`` or
  ``locate_by_cone`` where finding the object takes a request), or NoData with the reason;
* ``query(located)`` -> the list of :class:`Request` that fetch its light curve (pure);
* ``parse(payload, target)`` -> :class:`~tom_bhtom_brokers.lightcurve.Lightcurve` of one answer (pure).

Everything between them is here, once: the transport (``send``: HTTP with the shared policies, or a route
object such as WSDB), the fingerprint that skips an unchanged answer, cleaning, error wrapping, the matched
identifier, configuration, and TOM Toolkit's ``DataService`` interface.
"""
import hashlib
import io
import json
import logging
from datetime import timedelta

import astropy.units as u
from astropy.coordinates import SkyCoord
import pandas as pd
from django import forms
from django.conf import settings

from tom_dataservices.dataservices import DataService, get_data_service_class
from tom_dataservices.forms import BaseQueryForm

from tom_bhtom_brokers import __version__
from tom_bhtom_brokers.exceptions import (MASK, BrokerError, BrokerInputError, BrokerNotApplicable,
                                          BrokerNotConfigured, BrokerParseError, BrokerServiceError, JobQueued,
                                          NoData, masked)
from tom_bhtom_brokers.brokers import tap
from tom_bhtom_brokers.brokers.steps import Located, Request  # noqa: F401 (the brokers' API)
from tom_bhtom_brokers.http import HttpClient, Response
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.sources import PRETTY_SURVEY_NAME, SURVEY, TARGET_NAME_KEYS, DataSource
from tom_bhtom_brokers.survey_names import check
from tom_bhtom_brokers.target_info import TargetInfo

logger = logging.getLogger(__name__)

#: What a ``parse`` may raise on a payload that is not what it should be; turned into BrokerParseError.
UTF8_BOM = b"\xef\xbb\xbf"
PARSE_FAILURES = (ValueError, KeyError, IndexError, TypeError, UnicodeDecodeError, pd.errors.ParserError,
                  RecursionError, OverflowError)  # a deeply nested JSON answer; a 400-digit integer as a float


class ConeQueryForm(BaseQueryForm):
    """The Data Services query form of a cone-search broker: a position and a radius, which shows the broker's
    own radius (its ``match_radius`` or the site's ``radius_arcsec``) until the user changes it."""

    ra = forms.FloatField(label="RA (deg)", min_value=0, max_value=360)
    dec = forms.FloatField(label="Dec (deg)", min_value=-90, max_value=90)
    radius_arcsec = forms.FloatField(label="Radius (arcsec)", required=False, min_value=0.01, max_value=600)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # TOM's view puts the service's name in the initial data (a new query) or the posted data
        name = self.initial.get("data_service") or self.data.get("data_service")
        try:
            broker = get_data_service_class(name)
        except Exception:  # noqa: BLE001 - an unknown name is TOM's view's to refuse, not the form's
            return
        if issubclass(broker, BHTOMBroker):
            radius = broker().radius.to_value(u.arcsec)
            self.initial.setdefault("radius_arcsec", radius)
            self.fields["radius_arcsec"].help_text = f"default {radius:g} arcsec"


class BHTOMBroker(DataService):
    """Base class of all archive brokers; a TOM Toolkit data service."""

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
    #: (``updating.refresh_from``); ``query`` reads the start from ``refresh_start``
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.http = HttpClient(timeout=self.timeout, retries=int(self.setting("retries", 3)),
                               backoff=float(self.setting("backoff_seconds", 1.0)),
                               max_retry_wait=float(self.setting("max_retry_wait", 60.0)),
                               max_bytes=int(self.setting("max_bytes", self.max_answer_bytes)),
                               deadline=self.setting("deadline_seconds"), secrets=self.secrets())

    # --- configuration -------------------------------------------------------------------------

    @classmethod
    def configuration(cls):
        """The site's overrides from ``settings.DATA_SERVICES[name]``; empty (all defaults) when absent."""
        return dict(getattr(settings, "DATA_SERVICES", {}).get(cls.name, {}))

    @classmethod
    def setting(cls, key, default=None):
        return cls.configuration().get(key, default)

    @property
    def base_url(self):
        return str(self.setting("url", self.default_url)).rstrip("/")

    @property
    def timeout(self):
        return float(self.setting("timeout", self.default_timeout))

    @property
    def radius(self):
        if getattr(self, "_radius_override", None) is not None:
            return self._radius_override
        value = self.setting("radius_arcsec")
        return self.match_radius if value is None else float(value) * u.arcsec

    @classmethod
    def route(cls):
        """Which of its routes the broker takes (``via`` chooses the route object by it)."""
        return str(cls.setting("route", cls.default_route)).lower()

    @classmethod
    def cadence_interval(cls):
        """The configured cadence: ``cadence_hours`` in settings (None: read once) or the class default."""
        configured = cls.configuration()
        if "cadence_hours" in configured:
            hours = configured["cadence_hours"]
            return None if hours is None else timedelta(hours=float(hours))
        return cls.cadence

    def refreshes_incrementally(self):
        """Whether a refresh may ask for the recent part of the history only (an archive read on a cadence that
        takes a time range)."""
        return self.takes_time_range and self.cadence_interval() is not None

    def refresh_start(self, target: TargetInfo):
        """The MJD from which this fetch asks the archive (an incremental refresh), or None: the whole history."""
        return target.refresh_from.get(self.name) if self.refreshes_incrementally() else None

    def secrets(self):
        """Configured values that must never appear in an error, a log line or stored data."""
        return ()

    @classmethod
    def enabled(cls):
        return bool(cls.setting("enabled", True))

    @classmethod
    def check_configured(cls):
        missing = [key for key in cls.required_settings if not cls.setting(key)]
        if missing:
            raise BrokerNotConfigured(
                f"{cls.name} needs {', '.join(missing)} in settings.DATA_SERVICES['{cls.name}']")

    @classmethod
    def name_key(cls):
        """The label of the target-name field for this archive, or None for position-only archives."""
        return TARGET_NAME_KEYS.get(cls.source)

    def survey_name(self, target: TargetInfo):
        key = self.name_key()
        return target.survey_names.get(key) if key else None

    def queried_with(self, target: TargetInfo):
        """What the request is made from; when it changes, a data release is read again."""
        name = self.survey_name(target) if "name" in self.located_by else None
        if name:
            return f"{self.name_key()}={name}"
        if target.has_position:
            return f"cone {target.ra:.6f} {target.dec:+.6f} r={self.radius.to_value(u.arcsec):g}\""
        return ""

    # --- what each broker implements: locate -> query -> parse ----------------------------------------

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

    def send(self, req: Request):
        """The transport: one request answered (a :class:`~tom_bhtom_brokers.http.Response`). Over HTTP by
        default, a TAP query through pyvo (``tap``); a protocol with its own steps (ATLAS's job queue) or a
        local copy of the archive (LINEAR's cache) overrides this, and nothing else of the chain."""
        if req.adql is not None:
            return tap.run(self, req)
        try:
            return self.request(req)
        except BrokerServiceError as exc:
            if exc.status != 404 or (req.missing_note is None and req.missing_body is None):
                raise
            if req.missing_body is not None:
                return Response(exc.url or req.path, 200, {}, req.missing_body)
            raise NoData(req.missing_note, url=exc.url) from None

    def submit_jobs(self, targets) -> dict:
        """For an archive with a job queue (``queues_jobs``) that takes many objects in one submission: queue the
        jobs of ``targets`` (TargetInfos without a job) in as few requests as it allows, ``{target id:
        JobQueued}`` for those queued; the run records them as queued and asks about them later. Targets left
        out are submitted one by one through ``send``, as without batches. Default: no batches."""
        return {}

    def via(self):
        """What answers this broker's ``locate``, ``query``, ``send`` and ``parse``: the broker itself, or a
        route object with the same four methods (``wsdb.WsdbRoute`` reads the same rows from a database)."""
        return self

    def check(self) -> Lightcurve:
        """The light curve of the declared ``probe`` object, read as an update reads it (``check_archives``).
        Brokers whose full read is many requests or a job override this with one small request."""
        return self.fetch(self.probe_target())

    @classmethod
    def probe_target(cls):
        return TargetInfo(id=None, **{"name": cls.probe.get("name", "probe"), "ra": None, "dec": None, **cls.probe})

    # --- shared machinery --------------------------------------------------------------------------

    def request(self, req: Request):
        """Send one request to this archive through the shared client; refuse HTML error pages."""
        url = f"{req.base_url or self.base_url}{req.path}"
        response = self.http.request(req.method, url, params=req.params, data=req.data, headers=req.headers,
                                     idempotent=req.idempotent, wait_when_throttled=req.wait_when_throttled)
        if not req.expect_html and looks_like_html(response):
            raise BrokerServiceError("the archive sent an HTML page instead of data (an error page?)",
                                     url=response.url, status=response.status)
        return response

    def ask(self, req: Request, reader):
        """``reader(payload)`` of the answer to one request of the search; a NoData it raises names the URL."""
        answer = self.send(req)
        try:
            return self.read(answer, reader)
        except NoData as exc:
            exc.url = exc.url or answer.url
            raise

    def lightcurve_for(self, target: TargetInfo) -> Lightcurve:
        """The entry point of every caller (updater, TOM's forms): check the configuration, then fetch.
        Any configured secret is masked in whatever error comes out."""
        self.check_configured()
        try:
            return self.fetch(target)
        except BrokerError as exc:
            raise masked(exc, self.secrets()) from None

    def fetch(self, target: TargetInfo) -> Lightcurve:
        """``locate`` -> ``query`` -> ``send`` each request -> ``parse`` each answer: the target's light curve,
        cleaned, in UTC, or an empty one whose note says why there is none. Raises BrokerError."""
        route = self.via()
        try:
            located = self.remembered_location(target)
            lightcurve = self.collect_remembered(located, route) if located else None
            if lightcurve is None:
                located = route.locate(target)
                lightcurve = self.collect(located, route.query(located), route)
            lightcurve.located = located.identifier or ""
        except NoData as exc:
            lightcurve = no_data(exc.note)
            lightcurve.url = exc.url or ""
        lightcurve.asked_from_mjd = self.refresh_start(target)
        return lightcurve

    def remembered_location(self, target: TargetInfo):
        """The Located kept from the pair's last answer (``remembers_location``), or None: search."""
        identifier = target.located.get(self.name) if self.remembers_location else None
        return Located(target, identifier, matched="") if identifier else None

    def collect_remembered(self, located, route):
        """The light curve at a remembered identifier; None when the archive no longer knows it (404)."""
        try:
            return self.collect(located, route.query(located), route)
        except BrokerServiceError as exc:
            if exc.status != 404:
                raise
            return None

    def collect(self, located: Located, requests, route=None) -> Lightcurve:
        """Send the requests of one light curve and parse their answers as one, unless together they are byte
        for byte the answers already stored (then nothing is parsed or written)."""
        route = route or self.via()
        answers = [route.send(req) for req in requests]
        target = located.target
        digest = fingerprint(b"\0".join(answer.content for answer in answers))

        def parse():
            parts = [self.parse_response(answer, target, route) for answer in answers]
            whole = parts[0] if len(parts) == 1 else self.combine(parts)
            whole.extras.update(located.extras)
            whole.note = "; ".join(part for part in (whole.note, self.tally_note(whole.tallies), located.note) if part)
            return whole

        lightcurve = self.unless_unchanged(target, digest, answers[-1].url, parse)
        lightcurve.matched_identifier = lightcurve.matched_identifier or located.recorded or ""
        return lightcurve

    def unless_unchanged(self, target, digest, url, parse):
        """``parse()``, unless ``digest`` (of the archive's answer) is the one stored for this pair: then an
        empty light curve marked unchanged, so nothing is parsed or written."""
        if digest == target.fingerprints.get(self.name):
            lightcurve = Lightcurve.empty()
            lightcurve.unchanged = True
        else:
            lightcurve = parse()
        lightcurve.url, lightcurve.fingerprint = url, digest
        return lightcurve

    def combine(self, parts):
        """One light curve from the parsed parts of one answer; the first part's identifier, extras and note,
        and the parts' tallies summed."""
        whole = Lightcurve.concat(parts, parts[0].matched_identifier, parts[0].extras).cleaned(self.source)
        whole.note = "" if len(whole) else next((part.note for part in parts if part.note), "")
        for part in parts:
            for key, count in part.tallies.items():
                whole.tallies[key] = whole.tallies.get(key, 0) + count
        return whole

    #: tally name -> the status line's words for it ("{n}" the count), for each count of what a broker leaves out
    tally_notes = {}

    def tally_note(self, tallies):
        """The status line of the light curve's tallies (what the broker left out), '' for none."""
        return "; ".join(words.format(n=tallies[name]) for name, words in self.tally_notes.items()
                         if tallies.get(name))

    def parse_response(self, response, target, route=None):
        if self.empty_answer_note and not response.content.removeprefix(UTF8_BOM).strip():
            return no_data(self.empty_answer_note)
        route = route or self
        return self.read(response, lambda payload: route.parse(payload, target)).cleaned(self.source)

    def read(self, response, reader):
        """``reader(payload)``, with an empty body and any reading failure turned into a BrokerParseError
        carrying the response's URL."""
        # a byte-order mark is part of no value (it would become part of the first field or name)
        payload = response.content.removeprefix(UTF8_BOM)
        if not payload.strip():
            raise BrokerParseError("the archive sent an empty response", url=response.url)
        for secret in self.secrets():
            if secret:  # servers echo credentials back: they never reach a parser, a datum or a message
                payload = payload.replace(secret.encode(), MASK.encode())
        try:
            return reader(payload)
        except BrokerParseError as exc:
            raise BrokerParseError(exc.reason, url=exc.url or response.url) from None
        except PARSE_FAILURES as exc:
            raise BrokerParseError(f"could not read the {self.name} response: {exc}", url=response.url) from exc

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

    # --- TOM Toolkit DataService interface ---------------------------------------------------------

    def build_query_parameters_from_target(self, target, **kwargs):
        return {"target_id": target.pk}

    def query_photometry(self, query_parameters, **kwargs):
        """TOM's Manage Data form and ``updatereduceddata`` come here; returns a Lightcurve. A job queued at the
        archive (ATLAS) is recorded in the pair's status, so the next update collects it, and TOM shows why there
        are no points yet."""
        from tom_targets.models import Target

        from tom_bhtom_brokers.recording import record_failure, with_queued_job

        target = Target.objects.get(pk=query_parameters["target_id"])
        info = with_queued_job(target, self, TargetInfo.from_target(target))
        try:
            return self.lightcurve_for(info)
        except JobQueued as exc:
            record_failure(target, self, info, exc)
            raise

    def create_reduced_datums_from_query(self, target, data, data_type=None, **kwargs):
        """Store a Lightcurve from ``query_photometry`` through our sync, and record the pair's status."""
        from tom_dataproducts.models import PhotometryReducedDatum

        from tom_bhtom_brokers.recording import record_success

        record_success(target, self, TargetInfo.from_target(target), data)
        return list(PhotometryReducedDatum.objects.filter(target=target, source_name=self.name))

    @classmethod
    def get_form_class(cls):
        return ConeQueryForm

    #: the results table of the Data Services form: (key of a ``query_targets`` result, column header)
    result_columns = (("name", "Name"), ("ra", "RA (deg)"), ("dec", "Dec (deg)"), ("identifier", "Matched object"),
                      ("points", "Points"))
    #: TOM's default table heads each column with its key re-cased and adds the row counter as an "Id" column
    query_results_table = "tom_bhtom_brokers/partials/query_results_table.html"

    def get_additional_context_data(self):
        return {"result_columns": self.result_columns}

    def build_query_parameters(self, parameters, **kwargs):
        radius = parameters.get("radius_arcsec") or self.radius.to_value(u.arcsec)
        return {"ra": parameters.get("ra"), "dec": parameters.get("dec"), "radius_arcsec": float(radius)}

    def query_service(self, query_parameters, **kwargs):
        return self.query_targets(query_parameters, **kwargs)

    def query_targets(self, query_parameters, **kwargs):
        """A cone from the Data Services form: the archive object found there, ready to become a target."""
        ra, dec = float(query_parameters["ra"]), float(query_parameters["dec"])
        probe = TargetInfo(id=None, name="", ra=ra, dec=dec)
        self.query_parameters = query_parameters
        if query_parameters.get("radius_arcsec"):
            self._radius_override = float(query_parameters["radius_arcsec"]) * u.arcsec
        lightcurve = self.lightcurve_for(probe)
        if not len(lightcurve):
            return []
        return [{
            "name": self.designation(lightcurve.matched_identifier) or coordinate_name(ra, dec),
            "ra": ra, "dec": dec, "identifier": lightcurve.matched_identifier, "points": len(lightcurve),
        }]

    def designation(self, identifier):
        """The name an astronomer would give the target created from ``identifier`` (TOM's "Create Targets"): a
        name as the archive writes it (ZTF18abbuksn, FU Ori, OGLE-2019-BLG-0001), a number with the archive's
        name before it (Gaia DR3 2945521337401118464), or "" for what is no name (a list of object ids, an
        internal id, a position): the target is then named by its coordinates."""
        identifier = (identifier or "").strip()
        if not identifier or "," in identifier or len(identifier) > 40:
            return ""
        if identifier.isdigit():
            return f"{self.name} {identifier}"
        words = identifier.split()
        return identifier if len(words) <= 2 and any(c.isalpha() for c in identifier) and not \
            any(word.replace(".", "").lstrip("+-").isdigit() for word in words[1:]) else ""

    def create_target_from_query(self, target_result, **kwargs):
        from tom_targets.models import Target

        return Target(name=target_result["name"], type=Target.SIDEREAL, ra=target_result["ra"],
                      dec=target_result["dec"], epoch=2000.0)

    def create_target_extras_from_query(self, query_results, **kwargs):
        key = self.name_key()
        identifier = query_results.get("identifier")
        return {key: identifier} if key and identifier else {}


def separation_note(arcsec, others=0):
    """The status line's word on the object a cone chose: how far it is, and how many others the cone held."""
    note = f"nearest source {float(arcsec):.2f} arcsec away"
    return f"{note}, {others} other object(s) in the cone" if others else note


def coordinate_name(ra, dec):
    """An IAU-style name from a position: J060104.08-185803.7."""
    position = SkyCoord(ra * u.deg, dec * u.deg)
    return "J" + position.to_string("hmsdms", sep="", precision=2, pad=True).replace(" ", "")[:-1]


def no_data(note):
    """An archive's answer with no points: an empty light curve whose note (the status message) says why."""
    empty = Lightcurve.empty()
    empty.note = note
    return empty


#: more columns than any archive's table has: such an answer is refused before a frame is built (a 10 MB CSV of
#: a million columns would take over a GB)
MAX_COLUMNS = 1000


def refuse_absurd_width(count, what):
    if count > MAX_COLUMNS:
        raise BrokerParseError(f"the {what} has {count} columns, more than any archive table ({MAX_COLUMNS}): "
                               "refused unread")


def read_csv(payload: bytes, required, what, **options):
    """A CSV answer as a frame of stripped strings ("" for empty cells), refusing one without ``required``."""
    refuse_absurd_width(payload[:payload.find(b"\n") if b"\n" in payload else len(payload)].count(b",") + 1, what)
    frame = pd.read_csv(io.BytesIO(payload), dtype=str, keep_default_na=False, **options)
    frame.columns = [c.strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise BrokerParseError(f"the {what} has no column(s) {missing}")
    return frame


def frame_of_rows(rows, names, required, what):
    """Rows already split into fields, as a frame named by ``names``; refuses a table without the ``required``
    columns, and a row whose number of fields is not the header's (a row cut short)."""
    refuse_absurd_width(len(names), what)
    missing = [c for c in required if c not in names]
    if missing:
        raise BrokerParseError(f"the {what} has no column(s) {missing}")
    short = sum(len(row) != len(names) for row in rows)
    if short:
        raise BrokerParseError(f"{short} row(s) of the {what} do not have the header's {len(names)} fields "
                               "(cut short?)")
    return pd.DataFrame(rows, columns=names)


def read_json(payload: bytes, what, kind=dict):
    """A JSON answer, refusing one that is not JSON or whose top level is not ``kind``."""
    try:
        document = json.loads(payload.decode("utf-8"))
    except json.JSONDecodeError as exc:
        raise BrokerParseError(f"the {what} is not JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(document, kind):
        raise BrokerParseError(f"the {what} is not a JSON {'object' if kind is dict else kind.__name__}")
    return document


def column(rows, name):
    """A column of an answer's rows, or an empty one where this answer has none (an older layout)."""
    return rows[name] if name in rows else pd.Series([""] * len(rows), index=rows.index, dtype=object)


def number(values):
    """Floats from a column of text or JSON numbers; empty cells and nulls are NaN."""
    return pd.to_numeric(values.replace({"": None}), errors="raise").to_numpy(dtype=float)


def require_complete(frame, columns, what):
    """Stripped ``columns`` of ``frame``, refusing a row with an empty cell: a row cut short is an error, not
    a point with missing values."""
    cells = frame[list(columns)].apply(lambda column: column.str.strip())
    incomplete = (cells == "").any(axis=1)
    if incomplete.any():
        raise BrokerParseError(f"{int(incomplete.sum())} row(s) of the {what} have empty fields (cut short?)")
    return cells


def fingerprint(payload: bytes) -> str:
    """Digest of an archive answer, salted with our version so a new parser re-reads everything."""
    return hashlib.sha256(__version__.encode() + b"\0" + payload).hexdigest()


def looks_like_html(response):
    head = response.content[:512].removeprefix(UTF8_BOM).lstrip().lower()
    return response.content_type == "text/html" or head.startswith((b"<!doctype html", b"<html"))
