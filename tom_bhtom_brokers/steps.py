"""The values passed between a broker's steps (``locate -> query -> send -> parse``): what was found, what to ask
the archive for it, and the one result a pair's fetch brings back (:class:`PairAnswer`). Plain data, no behaviour:
the chain, the transports and the recording read them."""
from dataclasses import dataclass, field

from tom_bhtom_brokers.lightcurve import Lightcurve, no_data
from tom_bhtom_brokers.target_info import TargetInfo


@dataclass
class Request:
    """One request to the archive: a path under the broker's base URL and its parameters."""

    path: str
    params: dict = field(default_factory=dict)
    method: str = "GET"
    data: dict | None = None
    #: a JSON body (the Starglass API's), sent as ``application/json``; a POST's fields otherwise go as a form
    json_body: dict | None = None
    #: the archive answers this request with an HTML page on purpose (otherwise HTML is an error page)
    expect_html: bool = False
    #: extra headers (e.g. a credential sent as a cookie, which keeps it out of every URL we show or store)
    headers: dict | None = None
    #: for a database route (WSDB): the parameterised query; ``params`` are its values
    sql: str | None = None
    #: one file inside the archive file at ``path`` (LINEAR's tarball, answered from a local copy)
    member: str | None = None
    #: for an answer from a local copy: the copy is fetched again when it was made before this UNIX time (a forced
    #: run's start, ``PairInput.refresh_caches_before``)
    refresh_before: float | None = None
    #: an ADQL query for the TAP service at ``path`` (sent by pyvo: ``transports/tap.py``)
    adql: str | None = None
    #: whether sending it twice does no harm: by default a GET may be retried after a failure that may have
    #: reached the server and a POST may not (a second ATLAS job); a TAP query is a read sent as a POST
    idempotent: bool | None = None
    #: a 429 is waited out (up to ``max_retry_wait``) and the request sent again; False: the 429 is raised at once
    #: (its wait in ``retry_after``), so the caller can postpone the request instead of holding a worker
    wait_when_throttled: bool = True
    #: a job already queued for what this request asks (a ``QueuedJob``): its result is collected instead of a
    #: second job being queued
    job: object = None
    #: the MJD the request asks from (an incremental refresh), None: everything; a job queued for it keeps it
    asked_from_mjd: float | None = None
    #: what a 404 means for this request: None, an error; a note, that the archive has no such object (the light
    #: curve has no data, and the status says so); ``missing_body``, an answer of its own (e.g. ``b"[]"``: none)
    missing_note: str | None = None
    missing_body: bytes | None = None
    #: scheme + host of an archive's second host (OGLE's data files, ANTARES for the LSST broker), configured like
    #: the first; None: the broker's ``base_url``
    base_url: str | None = None
    #: sent only when the answers to the requests before it changed (or on the pair's weekly full read): a table
    #: the archive updates only together with those (an alert broker's forced photometry, which arrives in the
    #: alerts; ``fetching.collect``)
    follows_change: bool = False


@dataclass(frozen=True)
class QueuedJob:
    """A job waiting in an archive's queue (ATLAS): its path on the archive, when it was submitted (an aware
    datetime), how many jobs were submitted for the pair since its last result, and the MJD it asks from (an
    incremental refresh; None: the whole history), so its answer is synced over the range it was asked for."""

    path: str
    submitted_at: object
    attempts: int = 1
    asked_from_mjd: float | None = None


@dataclass
class Located:
    """What ``locate`` found: the archive's identifier of the target's object (None when the cone itself is the
    query), what the target records as its survey name (``matched``; None: the identifier, "": nothing, the
    light curve says), facts of the object itself kept in every point's extras (``extras``: OGLE's event page; the
    same however the object was found), and what the search found worth saying in the status line (``note``: a
    separation), never in the points, whose identity must not change with how the object was found."""

    target: TargetInfo
    identifier: str | None = None
    matched: str | None = None
    extras: dict = field(default_factory=dict)
    note: str = ""
    #: the archive's files holding the object's data, where finding them took a request of ``locate`` (TESS's
    #: light curve of each sector); ``query`` asks for each
    files: tuple = ()

    @property
    def recorded(self):
        return self.identifier if self.matched is None else self.matched


@dataclass
class PairAnswer:
    """The one result of a pair's fetch (``FetchChain.fetch``), whatever the archive did: the light curve (empty, its
    note saying why, when the archive has nothing, and when the answer is the one stored: ``unchanged``), where it
    came from (``url``), the answer's ``fingerprint``, the identifier the pair keeps (``located``), the MJD it was
    asked from (None: the whole history); or a state that is not an answer yet: a job waiting in the archive's queue
    (``job``) or a submission the archive put off for ``wait`` seconds. The note says what the status line says."""

    lightcurve: Lightcurve
    url: str = ""
    fingerprint: str = ""
    unchanged: bool = False
    located: str = ""
    asked_from_mjd: float | None = None
    job: QueuedJob | None = None
    wait: float | None = None
    #: the points as database columns, shaped by the worker that fetched them (``store.point_columns``)
    columns: dict | None = None

    @classmethod
    def waiting(cls, note, url="", job=None, wait=None):
        """The state of a pair whose job waits in the archive's queue (``job``) or whose submission was put off."""
        return cls(no_data(note), url=url or "", job=job, wait=wait)

    @property
    def note(self):
        return self.lightcurve.note
