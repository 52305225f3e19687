"""Errors a broker raises; the updater records each one per (target, source) and carries on.

``BrokerError`` derives from TOM Toolkit's ``QueryServiceError`` so TOM's own views (Manage Data,
the Data Services query page) show our messages instead of crashing.
"""
from tom_dataservices.dataservices import QueryServiceError


class BrokerError(QueryServiceError):
    """Base class: something stopped a broker from delivering a light curve."""


class BrokerServiceError(BrokerError):
    """The archive did not answer usefully: timeout, refused connection, HTTP error, HTML error page.

    Keeps the URL and, where there was one, the HTTP status, so a person can retry the request by hand.
    """

    def __init__(self, reason, url=None, status=None):
        self.reason = reason
        self.url = url
        self.status = status
        parts = [reason]
        if status is not None:
            parts.append(f"HTTP {status}")
        if url:
            parts.append(url)
        super().__init__(" | ".join(parts))


class ArchiveUnreachable(BrokerServiceError):
    """The archive's host did not answer at all: the connection was refused or failed, or no answer came within
    the timeout. Several in a row on one host in a run mean the host is down (``updating.HostHealth``)."""


class ArchiveUnavailable(BrokerServiceError):
    """Not asked: the archive's host was found down earlier in this run, so its remaining pairs make no request.
    Not the pair's own error; the next run asks again."""


class JobQueued(BrokerError):
    """Not a failure: the pair's job is waiting in the archive's queue (``job``, a ``steps.QueuedJob``); a later
    pass of the run, or a later run, asks for it again. No worker waits for it."""

    def __init__(self, job, reason, url=None):
        super().__init__(reason)
        self.job, self.reason, self.url = job, reason, url


class JobPostponed(BrokerServiceError):
    """The archive's queue refused a submission for now (throttling) and said for how long (``wait`` seconds):
    the pair is asked again after that, in this run or the next, without a worker waiting. Left over at the end
    of a run, it is "archive unavailable": not the pair's own error."""

    def __init__(self, reason, wait, url=None):
        super().__init__(reason, url=url, status=429)
        self.wait = float(wait)


class BrokerParseError(BrokerError):
    """The archive answered, but the payload is not in the format the broker reads."""

    def __init__(self, reason, url=None):
        self.reason = reason
        self.url = url
        super().__init__(f"{reason} | {url}" if url else reason)


class BrokerNotConfigured(BrokerError):
    """The site has not given this broker what it needs (credentials, a database connection)."""


class BrokerInputError(BrokerError):
    """A user-entered survey name or URL the broker refuses to use (no request is made)."""


class BrokerNotApplicable(BrokerError):
    """The broker cannot look for this target: no survey name for a name-only archive, no coordinates."""


#: what a secret is replaced by wherever it would otherwise show
MASK = "***"


def masked(error, secrets, mask=MASK):
    """``error`` with every secret (an access key a server echoed back) replaced in its reason, URL and message."""
    secrets = [secret for secret in secrets if secret]
    if not secrets:
        return error

    def clean(text):
        return masked_text(text, secrets, mask)

    for attribute in ("reason", "url"):
        value = getattr(error, attribute, None)
        if isinstance(value, str):
            setattr(error, attribute, clean(value))
    error.args = tuple(clean(a) if isinstance(a, str) else a for a in error.args)
    return error


#: a run of this many characters of a secret is masked wherever it stands (a body cut across a key keeps part of it)
SECRET_RUN = 8


def masked_text(text, secrets, mask=MASK):
    """``text`` with every secret, and every run of ``SECRET_RUN`` or more characters of one, replaced by
    ``mask``."""
    secrets = sorted((secret for secret in secrets if secret), key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, mask)
    pieces = {secret[i:i + SECRET_RUN] for secret in secrets for i in range(len(secret) - SECRET_RUN + 1)}
    if not pieces:
        return text
    covered = [False] * len(text)
    for start in range(len(text) - SECRET_RUN + 1):
        if text[start:start + SECRET_RUN] in pieces:
            covered[start:start + SECRET_RUN] = [True] * SECRET_RUN
    out, index = [], 0
    while index < len(text):
        if covered[index]:
            while index < len(text) and covered[index]:
                index += 1
            out.append(mask)
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


class NoData(Exception):
    """Not an error: the archive has nothing for this target (no object in the cone, an area it does not cover).
    Raised where a broker finds that out (``locate``, a transport); the light curve becomes an empty one whose
    note (the status message) is ``note``."""

    def __init__(self, note, url=None):
        super().__init__(note)
        self.note = note
        self.url = url
