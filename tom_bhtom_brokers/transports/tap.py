"""TAP queries through pyvo, over the broker's own transport.

IRSA (NEOWISE, ALLWISE) and the ESA Gaia archive (the cone on ``gaiadr3.gaia_source``) are TAP services.
pyvo builds and sends the synchronous query (``TAPService(url, session=...).run_sync``) and checks the answer
is a VOTable without an error status (a TAP service reports a refused query inside a VOTable, often with HTTP
200). Its requests go through a ``requests.Session`` whose every request is the broker's own
(:class:`BrokerSession`): the per-host limit, retries, size cap, deadline, HTML-page refusal and secret masking
hold for pyvo as for every other request. pyvo's errors come back as ours: a ``DALQueryError`` carries the
service's own words, a ``DALFormatError`` wrapping one of our errors is that error.

The VOTable's bytes are the answer the chain fingerprints and parses (``read_votable``), so an unchanged
answer is skipped like any other; the table pyvo read is handed to that parse rather than read twice.
"""
import io
import re
import threading
from xml.parsers import expat

import requests
from astropy.io.votable import parse_single_table
from pyvo.dal import DALFormatError, DALQueryError, DALServiceError, TAPService
from requests.structures import CaseInsensitiveDict

from tom_bhtom_brokers.steps import Request
from tom_bhtom_brokers.exceptions import BrokerError, BrokerParseError, BrokerServiceError


def cone_adql(columns, table, ra_column, dec_column, target, radius):
    """An ADQL cone: ``columns`` of ``table`` whose (ra_column, dec_column) lie within ``radius`` of the target."""
    return (f"SELECT {', '.join(columns)} FROM {table} WHERE 1 = CONTAINS(POINT('ICRS', {ra_column}, {dec_column}), "
            f"CIRCLE('ICRS', {target.ra:.7f}, {target.dec:.7f}, {radius.to_value('deg'):.8f}))")


#: more columns than any archive's table has (the CSV readers' limit too, ``reading.MAX_COLUMNS``)
MAX_FIELDS = 1000


class _Body(io.BytesIO):
    """A body already read whole, readable the way pyvo reads ``response.raw`` (``decode_content=True``)."""

    def read(self, size=-1, decode_content=True):
        return super().read(size)


class BrokerSession(requests.Session):
    """A ``requests.Session`` for pyvo that sends every request through ``broker.request``, only to the broker's
    own host, and keeps the answers (``answers``)."""

    def __init__(self, broker):
        super().__init__()
        self.broker = broker
        self.answers = []

    def request(self, method, url, params=None, data=None, headers=None, files=None, **ignored):
        base = self.broker.base_url
        if not url.startswith(base + "/"):
            raise BrokerServiceError(f"pyvo asked for {url}, which is not on {base}: not sent")
        if files:
            raise BrokerServiceError("TAP uploads are not sent", url=url)
        answer = self.broker.request(Request(url[len(base):], params=dict(params or {}), method=method.upper(),
                                             data=dict(data) if data else None, headers=headers,
                                             idempotent=True))  # a TAP query is a read, though sent as a POST
        self.answers.append(answer)
        if not answer.content.strip():
            raise BrokerParseError("the archive sent an empty response", url=answer.url)
        try:  # before pyvo reads it: astropy would open a stream's address itself, outside our client
            check_votable(answer.content, "TAP answer")
        except BrokerParseError as exc:
            raise BrokerParseError(exc.reason, url=answer.url) from None
        response = requests.Response()
        response.status_code, response.url = answer.status, answer.url
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content, response.raw = answer.content, _Body(answer.content)
        return response


def run(broker, req: Request):
    """The answer (our ``Response``, the VOTable's bytes) of ``req.adql`` at the TAP service ``req.path``."""
    session = BrokerSession(broker)
    service_url = broker.base_url + req.path
    try:
        results = TAPService(service_url, session=session).run_sync(req.adql)
    except DALFormatError as exc:
        if isinstance(exc.cause, BrokerError):
            raise exc.cause from None
        raise BrokerParseError(f"the TAP answer is not a VOTable ({exc.cause})", url=last_url(session)) from None
    except DALQueryError as exc:
        raise BrokerServiceError(f"the TAP service refused the query: {exc.reason}", url=last_url(session)) \
            from None
    except DALServiceError as exc:
        if isinstance(getattr(exc, "cause", None), BrokerError):
            raise exc.cause from None  # ours, from the transport (an unreachable archive, a refusal): as it is
        raise BrokerServiceError(f"the TAP service failed: {exc.reason}", url=last_url(session),
                                 status=exc.code) from None
    answer = session.answers[-1]
    _read.last = (answer.content, results.to_table())  # for read_votable, in this worker thread
    return answer


def last_url(session):
    return session.answers[-1].url if session.answers else None


#: the last answer pyvo read in this thread and its table: the parse that follows takes it instead of reading the
#: same bytes again (a VOTable is slow to read: ~20 ms for 400 rows)
_read = threading.local()


def read_votable(payload: bytes, required=(), what="TAP answer"):
    """The first table of a VOTable answer as an astropy Table (nulls masked), refusing one without the
    ``required`` columns."""
    last = getattr(_read, "last", None)
    _read.last = None
    if last is not None and last[0] == payload:
        table = last[1]
    else:
        check_votable(payload, what)
        table = parse_single_table(io.BytesIO(payload), verify="ignore").to_table()
    missing = [c for c in required if c not in table.colnames]
    if missing:
        raise BrokerParseError(f"the {what} has no column(s) {missing}")
    return table


#: what an ASCII-compatible XML document may start with (a UTF-16 or UTF-32 one, or an EBCDIC one, does not)
ASCII_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<")


def plainly_safe(payload: bytes):
    """Whether a VOTable's bytes show it has no STREAM and at most MAX_FIELDS fields without parsing it: an
    ASCII-compatible document (where every element's start tag is in the bytes as it is) with no DOCTYPE (so no
    entity can expand into an element) whose start tags name no STREAM and few FIELDs. Anything else (a STREAM
    even in a comment, a DOCTYPE, another encoding) gets the full expat pass."""
    # one lower-cased copy, searched and counted at C speed (a regex over every "<" of a 50,000-row table takes
    # 0.1 s): each STREAM or FIELD start tag holds "stream" or "<field"/":field"; text that merely contains the words
    # only makes the count larger, so the document goes to the full pass, never the other way
    lowered = payload.lower()
    if not ASCII_START.match(payload[:1024]) or b"<!doctype" in lowered or b"\x00" in payload[:1024]:
        return False
    head = lowered[:200]
    if b"encoding=" in head and not re.search(rb"encoding=[\"'](utf-8|us-ascii|ascii|iso-8859-1|latin-1)[\"']", head):
        return False
    return b"stream" not in lowered and lowered.count(b"<field") + lowered.count(b":field") <= MAX_FIELDS


class _Refused(Exception):
    """Stops the scan of a VOTable at the first thing refused."""


def check_votable(payload: bytes, what):
    """Refuse, before astropy reads it, a VOTable that would make astropy fetch something itself or take minutes:
    a ``STREAM`` with an ``href`` (astropy opens that address, any host, port or ``file://`` path, outside the
    broker's client and its limits), or more than ``MAX_FIELDS`` columns (astropy's reading grows with their
    square). One pass of expat over the bytes; a document expat cannot read is left to astropy's own error.

    The expat pass calls Python for every element (800,000 for a 50,000-row table: as long as astropy's own read),
    so a document that plainly has neither is let through on a scan of its bytes first (``plainly_safe``)."""
    if plainly_safe(payload):
        return
    fields = 0

    def start(name, attributes):
        nonlocal fields
        local = name.rsplit(":", 1)[-1].rsplit(" ", 1)[-1].upper()
        addresses = [value for key, value in attributes.items() if key.rsplit(" ", 1)[-1].lower() == "href"]
        if local == "STREAM" and addresses:
            raise _Refused(f"the {what} points its data at another address (STREAM href={addresses[0][:80]!r}): "
                           "refused unread")
        if local == "FIELD":
            fields += 1
            if fields > MAX_FIELDS:
                raise _Refused(f"the {what} has more than {MAX_FIELDS} columns, more than any archive table: refused "
                               "unread")

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    try:
        parser.Parse(payload, True)
    except _Refused as exc:
        raise BrokerParseError(str(exc)) from None
    except expat.ExpatError:
        return
