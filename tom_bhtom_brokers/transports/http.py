"""The one HTTP client every broker uses.

All archive traffic goes through :class:`HttpClient`: timeouts, retries with exponential backoff on
429/5xx and dropped connections (honouring ``Retry-After`` up to a bound), a user agent naming this
package, a cap on response size, a cap on concurrent requests per archive host, and errors that keep
the URL and the HTTP status.
"""
import email.utils
import logging
import random
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
import urllib3

from tom_bhtom_brokers import __version__
from tom_bhtom_brokers.exceptions import ArchiveUnreachable, BrokerServiceError, masked, masked_text
from tom_bhtom_brokers.transports.hosts import host_limiter, watched_health

logger = logging.getLogger(__name__)

USER_AGENT = (f"tom-bhtom-brokers/{__version__} (+https://pypi.org/project/tom-bhtom-brokers/) "
              f"python-requests/{requests.__version__}")

#: Statuses worth asking again: rate limiting and the server-side failures that are usually transient.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

#: Query parameters whose values never appear in a log line, an error message or a status row.
SECRET_PARAMS = frozenset({"hashtag", "token", "api_key", "apikey", "key", "password", "userpass", "email"})

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
#: methods that may be sent again after a failure that may have reached the server
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass
class Response:
    """What a broker gets back: the final URL (secrets redacted), the status, headers and the whole body."""

    url: str
    status: int
    headers: dict
    content: bytes

    @property
    def content_type(self):
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()


def redacted_url(url, params=None):
    """The URL as a person could paste it, with secret parameter values replaced (in ``params`` and in a query
    the URL already carries, e.g. a redirect's Location)."""
    parts = urlsplit(url)
    if parts.query and any(k.lower() in SECRET_PARAMS for k, _ in parse_qsl(parts.query, keep_blank_values=True)):
        query = urlencode([(k, "REDACTED" if k.lower() in SECRET_PARAMS else v)
                           for k, v in parse_qsl(parts.query, keep_blank_values=True)])
        url = urlunsplit(parts._replace(query=query))
    if not params:
        return url
    shown = {k: ("REDACTED" if k.lower() in SECRET_PARAMS else v) for k, v in params.items()}
    return f"{url}?{urlencode(shown)}"


_known_secrets = set()
_secrets_lock = threading.Lock()


def remember_secrets(secrets):
    """Add configured credentials to those masked in urllib3's own log lines (see ``SecretMaskingFilter``)."""
    with _secrets_lock:
        _known_secrets.update(s for s in secrets if s)


class SecretMaskingFilter(logging.Filter):
    """Masks every configured credential, and the values of secret query parameters, in a log record: urllib3
    logs each request line ("GET /path?query") at DEBUG, a redirect's target included."""

    PARAM = re.compile(r"(?i)\b(" + "|".join(sorted(SECRET_PARAMS)) + r")=([^&\s\"']+)")

    def filter(self, record):
        with _secrets_lock:
            secrets = sorted(_known_secrets, key=len, reverse=True)
        message = record.getMessage()
        masked_message = self.PARAM.sub(r"\1=REDACTED", message)
        masked_message = masked_text(masked_message, secrets)
        if masked_message != message:
            record.msg, record.args = masked_message, ()
        return True


logging.getLogger("urllib3").addFilter(SecretMaskingFilter())
for _name in ("urllib3.connectionpool", "urllib3.connection", "urllib3.poolmanager", "urllib3.response",
              "urllib3.util.retry"):
    logging.getLogger(_name).addFilter(SecretMaskingFilter())


def retry_after_seconds(value, now=None):
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); None if unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


#: a throttled answer's own words (Django REST framework, e.g. the ATLAS server): "available in 17 seconds"
THROTTLED_BODY = re.compile(rb"available in (\d+(?:\.\d+)?) (second|minute)", re.IGNORECASE)


def throttled_seconds(body):
    """Seconds to wait from the text of a 429 answer without a ``Retry-After`` header; None if it does not say."""
    match = THROTTLED_BODY.search(body or b"")
    if not match:
        return None
    return float(match.group(1)) * (60.0 if match.group(2).lower() == b"minute" else 1.0)


class HttpClient:
    """Sends GET/POST requests for one broker with that broker's timeout and limits."""

    def __init__(self, timeout=30.0, retries=3, backoff=1.0, max_retry_wait=60.0,
                 max_bytes=200 * 1024 * 1024, headers=None, secrets=(), deadline=None, max_redirects=MAX_REDIRECTS):
        self.timeout = float(timeout)
        #: the most one attempt may take, headers and body, however the archive frames or drips its answer
        self.deadline = float(deadline) if deadline else 3 * self.timeout
        self.max_redirects = int(max_redirects)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.max_retry_wait = float(max_retry_wait)
        self.max_bytes = int(max_bytes)
        self.headers = {"User-Agent": USER_AGENT, **(headers or {})}
        #: values (access keys) masked in every error and log line, whatever a server echoes back
        self.secrets = tuple(s for s in secrets if s)
        remember_secrets(self.secrets)
        self._local = threading.local()

    def _session(self):
        # requests.Session is not documented as thread-safe: one per worker thread.
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def get(self, url, params=None, headers=None):
        return self.request("GET", url, params=params, headers=headers)

    def post(self, url, data=None, params=None, headers=None):
        return self.request("POST", url, params=params, data=data, headers=headers)

    def request(self, method, url, params=None, data=None, headers=None, idempotent=None, wait_when_throttled=True):
        """One answer to ``method url``, after the retries the failure allows. ``idempotent``: whether the
        request may be sent again after a failure that may have reached the server (default: by method).
        ``wait_when_throttled`` False: a 429 is raised at once, the wait it asked for in its ``retry_after``."""
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        shown_url = redacted_url(url, params)
        host = urlsplit(url).netloc
        limiter = host_limiter()
        health = watched_health()
        attempt = 0
        while True:
            attempt += 1
            # a fleet's slot outlives the attempt's deadline: it is never freed while the request is still out
            with limiter.slot(host, lease=self.deadline + 60):
                outcome = self._attempt_watched(health, host, method, url, params, data, headers, shown_url)
            if isinstance(outcome, Response):
                return outcome
            error, retry_after, reached = outcome
            error = masked(error, self.secrets)
            if error.status == 429 and not wait_when_throttled:
                error.retry_after = retry_after
                raise error
            if attempt > self.retries or (reached and not idempotent):
                # a POST that may have reached the server is not sent again: it could queue a second job
                raise error
            wait = self._wait_before_retry(attempt, retry_after, error)
            logger.info("%s; retrying in %.1f s (attempt %d of %d)", error, wait, attempt + 1, self.retries + 1)
            time.sleep(wait)

    def _attempt_watched(self, health, host, method, url, params, data, headers, shown_url):
        """One attempt, in the host's slot, asked of ``health`` first and reported to it after: a host found down
        while this request waited for its slot is not asked."""
        refusal = health.admit(host) if health is not None else None
        if refusal is not None:
            raise refusal
        failure = None  # what the host did: None, an answer (or a failure of ours, not the host's)
        try:
            outcome = self._attempt(method, url, params, data, headers, shown_url)
            failure = None if isinstance(outcome, Response) else outcome[0]
            return outcome
        except BrokerServiceError as exc:
            failure = exc
            raise masked(exc, self.secrets) from None
        finally:
            if health is not None:
                health.observe(host, failure)

    def _wait_before_retry(self, attempt, retry_after, error):
        if retry_after is not None:
            if retry_after > self.max_retry_wait:
                # Waiting longer would stall the whole update; the next run will ask again.
                raise BrokerServiceError(
                    f"archive asked us to wait {retry_after:.0f} s (Retry-After), "
                    f"over the {self.max_retry_wait:.0f} s limit",
                    url=error.url, status=error.status)
            return retry_after
        # Exponential backoff with jitter, so many workers do not hammer a recovering archive in step.
        return min(self.max_retry_wait, self.backoff * 2 ** (attempt - 1)) * (0.75 + random.random() / 2)

    def _attempt(self, method, url, params, data, headers, shown_url):
        """One request: a Response, or (error, retry_after) when it is worth asking again; raises when it is not.

        Redirects are followed here, not by requests: only to the host asked (an http -> https upgrade of it
        is fine), at most ``max_redirects`` hops; anything else is an error naming where it pointed. So a
        credential (a header or cookie) only ever goes to the archive's own host."""
        deadline = time.monotonic() + self.deadline
        all_headers = {**self.headers, **(headers or {})}
        origin = urlsplit(url)
        try:
            for _ in range(self.max_redirects + 1):
                with self._session().request(method, url, params=params, data=data, headers=all_headers,
                                             timeout=self.timeout, stream=True, allow_redirects=False) as raw:
                    status = raw.status_code
                    if status in REDIRECT_STATUSES and raw.headers.get("Location"):
                        url = self._redirect_target(origin, raw, shown_url)
                        shown_url = redacted_url(url)
                        if status == 303 or (status in (301, 302) and method == "POST"):
                            method, data = "GET", None  # what browsers do, and what the server means
                        params = None  # the Location carries the whole query
                        continue
                    return self._answer(raw, status, shown_url, deadline)
            raise BrokerServiceError(f"more than {self.max_redirects} redirects", url=shown_url)
        except (requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError):
            # A stalled archive is not retried: the wait would multiply, and the next run asks again.
            raise ArchiveUnreachable(f"no answer within the {self.timeout:g} s timeout", url=shown_url) from None
        except (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.ProtocolError):
            # the body ended before its declared length or chunk (urllib3 reads it here, requests does not wrap)
            return BrokerServiceError("the archive closed the connection before the whole response arrived "
                                      "(truncated body)", url=shown_url), None, True
        except requests.exceptions.ConnectionError as exc:
            # refused, unresolvable or timed out before connecting: the request never reached the server, so
            # even a POST may be sent again, and the host is not answering at all (ArchiveUnreachable); a
            # connection the server reset may have carried the request
            never = isinstance(exc, requests.exceptions.ConnectTimeout) or _never_connected(exc)
            kind = ArchiveUnreachable if never else BrokerServiceError
            return kind(f"connection failed ({_short(exc)})", url=shown_url), None, not never
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise BrokerServiceError(f"request failed ({_short(exc)})", url=shown_url) from None

    def _answer(self, raw, status, shown_url, deadline):
        if status in RETRY_STATUSES:
            error = BrokerServiceError(_status_reason(status), url=shown_url, status=status)
            wait = retry_after_seconds(raw.headers.get("Retry-After"))
            if status == 429 and wait is None:
                wait = throttled_seconds(_read_capped(raw, 4096, shown_url, deadline, truncate=True))
            # 429 and 503 say the server did not handle the request (ATLAS's throttle queues nothing); a 500,
            # 502 or 504 may come after the server (or the one behind a gateway) acted on it
            return error, wait, status not in (429, 503)
        if status >= 400:
            body = _read_capped(raw, 4096, shown_url, deadline, truncate=True)
            # masked whole before it is cut: a key echoed across the cut would otherwise be kept in part
            raise BrokerServiceError(_status_reason(status, body, self.secrets), url=shown_url, status=status)
        content = _read_capped(raw, self.max_bytes, shown_url, deadline)
        return Response(url=shown_url, status=status, headers=dict(raw.headers), content=content)

    def _redirect_target(self, origin, raw, shown_url):
        """The absolute URL a redirect points to, when it is on the host first asked; else an error."""
        target = urljoin(raw.url, raw.headers["Location"])
        parts = urlsplit(target)
        same_host = parts.hostname is not None and parts.hostname == origin.hostname
        same_port = (parts.port or DEFAULT_PORTS.get(parts.scheme)) == (origin.port or DEFAULT_PORTS.get(origin.scheme))
        upgrade = origin.scheme == "http" and parts.scheme == "https" and parts.port in (None, 443)
        if not (same_host and parts.scheme in ("http", "https") and not parts.username and not parts.password
                and (same_port and parts.scheme == origin.scheme or upgrade)):
            shown = masked(BrokerServiceError(redacted_url(target)), self.secrets).reason
            raise BrokerServiceError(f"the archive redirected to {shown}, not on {origin.hostname}: not followed",
                                     url=shown_url, status=raw.status_code)
        return target


def _status_reason(status, body=b"", secrets=()):
    text = masked_text(body.decode("utf-8", "replace").strip(), secrets) if body else ""
    if text.lstrip().lower().startswith(("<!doctype", "<html")):
        text = ""  # an HTML error page says nothing a log line can use
    elif text.startswith("<"):
        # an XML error document (IRSA answers 400 with a VOTable): keep its words, not its tags
        text = " ".join(re.sub(r"<\?xml[^>]*>|<[^>]+>", " ", text).split())
    reason = {429: "rate limited by the archive", 404: "not found at the archive"}.get(
        status, "archive answered with an error" if status < 500 else "archive failed (server error)")
    return f"{reason}: {text[:200]}" if text else reason


def _read_capped(raw, max_bytes, shown_url, deadline, truncate=False):
    """The body, at most ``max_bytes``, read in pieces of whatever each network read brings (``read1``), so the
    ``deadline`` (a ``time.monotonic()`` value) holds whether the archive sends a Content-Length, chunks, or
    one byte at a time: requests' ``iter_content`` would wait for 64 KiB of a declared length before looking
    at the clock."""
    declared = raw.headers.get("Content-Length")
    if not truncate and declared and declared.isdigit() and int(declared) > max_bytes:
        raise BrokerServiceError(f"response of {int(declared)} bytes is over the {max_bytes} byte limit",
                                 url=shown_url, status=raw.status_code)
    chunks, size = [], 0
    while True:
        if time.monotonic() > deadline:
            raise BrokerServiceError("response still arriving after the time limit (archive too slow)",
                                     url=shown_url, status=raw.status_code)
        chunk = raw.raw.read1(65536, decode_content=True)
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            if truncate:
                chunks.append(chunk)
                break
            raise BrokerServiceError(f"response is over the {max_bytes} byte limit", url=shown_url,
                                     status=raw.status_code)
        chunks.append(chunk)
    return b"".join(chunks)[:max_bytes]


def _never_connected(exc):
    """Whether a ConnectionError happened before the request was sent (refused, unresolvable host)."""
    while exc is not None:
        if isinstance(exc, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.NameResolutionError)):
            return True
        reason = getattr(exc, "reason", None)
        exc = reason if isinstance(reason, BaseException) else (exc.args[0] if exc.args and
                                                                isinstance(exc.args[0], BaseException) else None)
    return False


def _short(exc):
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "..."
