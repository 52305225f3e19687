"""The fetch chain every archive shares: ``locate -> query -> send -> parse -> clean``, once.

An archive adapter (``brokers/<archive>.py``) says where its object is, what to ask and how to read the answer;
:class:`FetchChain` does the rest for all of them: the transport chosen for a request (HTTP with the shared
policies, a TAP query through pyvo, or a route object such as WSDB), the fingerprint that skips an answer stored
intact, cleaning, error wrapping and secret masking, and the identifier the pair remembers. An archive with a
protocol of its own (ATLAS's job queue, LINEAR's cached tarball) overrides ``send`` and nothing else.
"""
import hashlib
import json
from datetime import datetime, timezone

import pandas as pd

from tom_bhtom_brokers import __version__
from tom_bhtom_brokers.exceptions import (MASK, BrokerError, BrokerParseError, BrokerServiceError, JobPostponed,
                                          JobQueued, NoData, masked)
from tom_bhtom_brokers.lightcurve import Lightcurve, no_data  # noqa: F401 (the adapters' API)
from tom_bhtom_brokers.steps import Located, PairAnswer, Request
from tom_bhtom_brokers.target_info import TargetInfo
from tom_bhtom_brokers.transports import tap
from tom_bhtom_brokers.transports.http import Response

#: a byte-order mark is part of no value (it would become part of the first field or name)
UTF8_BOM = b"\xef\xbb\xbf"
#: What a ``parse`` may raise on a payload that is not what it should be; turned into BrokerParseError.
PARSE_FAILURES = (ValueError, KeyError, IndexError, TypeError, UnicodeDecodeError, pd.errors.ParserError,
                  RecursionError, OverflowError)  # a deeply nested JSON answer; a 400-digit integer as a float


class FetchChain:
    """The steps between an adapter's ``locate``, ``query`` and ``parse`` (a mixin of ``BHTOMBroker``)."""

    #: tally name -> the status line's words for it ("{n}" the count), for each count of what a broker leaves out
    tally_notes = {}

    def send(self, req: Request):
        """The transport: one request answered (a :class:`~tom_bhtom_brokers.transports.http.Response`). Over
        HTTP by default, a TAP query through pyvo (``tap``); a protocol with its own steps (ATLAS's job queue) or a
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
        jobs of ``targets`` (TargetInfos without a job) in as few requests as it allows: ``{target id: PairAnswer
        waiting for its job}``; the run records them as queued and asks about them later. Targets left out are
        submitted one by one through ``send``, as without batches. Default: no batches."""
        return {}

    def via(self):
        """What answers this broker's ``locate``, ``query``, ``send`` and ``parse``: the broker itself, or a
        route object with the same four methods (``wsdb.WsdbRoute`` reads the same rows from a database)."""
        return self

    def check(self) -> PairAnswer:
        """The answer for the declared ``probe`` object, read as an update reads it (``check_archives``). Brokers
        whose full read is many requests or a job override this with one small request."""
        return self.fetch(self.probe_target())

    @classmethod
    def probe_target(cls):
        return TargetInfo(id=None, **{"name": cls.probe.get("name", "probe"), "ra": None, "dec": None, **cls.probe})

    def request(self, req: Request):
        """Send one request to this archive through the shared client; refuse HTML error pages."""
        url = f"{req.base_url or self.base_url}{req.path}"
        data, headers = req.data, req.headers
        if req.json_body is not None:
            data = json.dumps(req.json_body).encode()
            headers = {**(headers or {}), "Content-Type": "application/json", "Accept": "application/json"}
        response = self.http.request(req.method, url, params=req.params, data=data, headers=headers,
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

    def lightcurve_for(self, target: TargetInfo) -> PairAnswer:
        """The entry point of every caller (updater, TOM's forms): check the configuration, then fetch.
        Any configured secret is masked in whatever error comes out."""
        self.check_configured()
        try:
            return self.fetch(target)
        except BrokerError as exc:
            raise masked(exc, self.secrets()) from None

    def fetch(self, target: TargetInfo) -> PairAnswer:
        """``locate`` -> ``query`` -> ``send`` each request -> ``parse`` each answer: the pair's one result, with
        the target's light curve cleaned, in UTC, or an empty one whose note says why there is none; a job waiting
        in the archive's queue, or a submission it put off, is a state of the answer (``job``, ``wait``). Raises
        BrokerError for a failure."""
        route = self.via()
        try:
            located = self.remembered_location(target)
            answer = self.collect_remembered(located, route) if located else None
            if answer is None:
                located = route.locate(target)
                answer = self.collect(located, route.query(located), route)
            answer.located = located.identifier or ""
        except NoData as exc:
            answer = PairAnswer(no_data(exc.note), url=exc.url or "")
        except JobQueued as exc:  # the transport's way of saying so from inside a send
            answer = PairAnswer.waiting(exc.reason, exc.url, job=exc.job)
        except JobPostponed as exc:
            answer = PairAnswer.waiting(exc.reason, exc.url, wait=exc.wait)
        answer.asked_from_mjd = self.refresh_start(target)
        return answer

    def remembered_location(self, target: TargetInfo):
        """The Located kept from the pair's last answer (``remembers_location``), or None: search."""
        identifier = target.pair.located if self.remembers_location else None
        return Located(target, identifier, matched="") if identifier else None

    def collect_remembered(self, located, route):
        """The light curve at a remembered identifier; None when the archive no longer knows it (404)."""
        try:
            return self.collect(located, route.query(located), route)
        except BrokerServiceError as exc:
            if exc.status != 404:
                raise
            return None

    def collect(self, located: Located, requests, route=None) -> PairAnswer:
        """Send the requests of one light curve and parse their answers as one, unless together they are byte
        for byte the answers already stored (then nothing is parsed or written). A request that ``follows_change``
        is sent only when the others' answers changed: the fingerprint is theirs (and the follower's read period,
        ``follower_period``), so an unchanged pair costs one request, not two."""
        route = route or self.via()
        target = located.target
        leading = [req for req in requests if not req.follows_change]
        answers = [route.send(req) for req in leading]
        salt = self.follower_period(target) if len(leading) < len(requests) else b""
        digest = fingerprint(b"\0".join(answer.content for answer in answers) + salt)
        if digest != target.pair.fingerprint:
            answers += [route.send(req) for req in requests if req.follows_change]

        def parse():
            parts = [self.parse_response(answer, target, route) for answer in answers]
            whole = parts[0] if len(parts) == 1 else self.combine(parts)
            whole.extras.update(located.extras)
            whole.note = "; ".join(part for part in (whole.note, self.tally_note(whole.tallies), located.note) if part)
            return whole

        unchanged = digest == target.pair.fingerprint  # the answer stored intact: nothing parsed or written
        lightcurve = Lightcurve.empty() if unchanged else parse()
        lightcurve.matched_identifier = lightcurve.matched_identifier or located.recorded or ""
        return PairAnswer(lightcurve, url=answers[-1].url, fingerprint=digest, unchanged=unchanged)

    def follower_period(self, target):
        """The period of ``follow_days`` (7) the pair is in, staggered by target: a follower (``follows_change``)
        is read at least once a period even when the answers before it stay the same."""
        days = float(self.setting("follow_days", 7))
        day = datetime.now(timezone.utc).timestamp() / 86400.0
        return f"\0follow period {int((day + (target.id or 0) % days) // days)}".encode()

    def combine(self, parts):
        """One light curve from the parsed parts of one answer; the first part's identifier, extras and note,
        and the parts' tallies summed."""
        whole = Lightcurve.concat(parts, parts[0].matched_identifier, parts[0].extras).cleaned(self.source)
        whole.note = "" if len(whole) else next((part.note for part in parts if part.note), "")
        for part in parts:
            for key, count in part.tallies.items():
                whole.tallies[key] = whole.tallies.get(key, 0) + count
        return whole

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


def fingerprint(payload: bytes) -> str:
    """Digest of an archive answer, salted with our version so a new parser re-reads everything."""
    return hashlib.sha256(__version__.encode() + b"\0" + payload).hexdigest()


def looks_like_html(response):
    head = response.content[:512].removeprefix(UTF8_BOM).lstrip().lower()
    return response.content_type == "text/html" or head.startswith((b"<!doctype html", b"<html"))
