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
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlencode, urlsplit

import requests

from tom_bhtom_brokers import __version__
from tom_bhtom_brokers.exceptions import BrokerServiceError, masked

logger = logging.getLogger(__name__)

USER_AGENT = (f"tom-bhtom-brokers/{__version__} (+https://pypi.org/project/tom-bhtom-brokers/) "
              f"python-requests/{requests.__version__}")

#: Statuses worth asking again: rate limiting and the server-side failures that are usually transient.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

#: Query parameters whose values never appear in a log line, an error message or a status row.
SECRET_PARAMS = frozenset({"hashtag", "token", "api_key", "apikey", "key", "password"})


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


@dataclass
class HostLimiter:
    """Caps how many requests this process has open at once against one archive host."""

    per_host: int = 4
    _semaphores: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def for_host(self, host):
        with self._lock:
            if host not in self._semaphores:
                self._semaphores[host] = threading.BoundedSemaphore(self.per_host)
            return self._semaphores[host]


def _default_per_host():
    from django.conf import settings

    return int(getattr(settings, "BHTOM_BROKERS", {}).get("max_requests_per_host", 4))


_limiter = None
_limiter_lock = threading.Lock()


def host_limiter():
    """The process-wide limiter, sized from ``settings.BHTOM_BROKERS['max_requests_per_host']`` (default 4)."""
    global _limiter
    with _limiter_lock:
        if _limiter is None:
            _limiter = HostLimiter(per_host=_default_per_host())
        return _limiter


def reset_host_limiter(per_host=None):
    """Forget the limiter so the next request builds it anew (used when settings change, e.g. in tests)."""
    global _limiter
    with _limiter_lock:
        _limiter = HostLimiter(per_host=per_host) if per_host else None


def redacted_url(url, params=None):
    """The URL as a person could paste it, with secret parameter values replaced."""
    if not params:
        return url
    shown = {k: ("REDACTED" if k.lower() in SECRET_PARAMS else v) for k, v in params.items()}
    return f"{url}?{urlencode(shown)}"


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
                 max_bytes=200 * 1024 * 1024, headers=None, secrets=()):
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.max_retry_wait = float(max_retry_wait)
        self.max_bytes = int(max_bytes)
        self.headers = {"User-Agent": USER_AGENT, **(headers or {})}
        #: values (access keys) masked in every error and log line, whatever a server echoes back
        self.secrets = tuple(s for s in secrets if s)
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

    def request(self, method, url, params=None, data=None, headers=None):
        shown_url = redacted_url(url, params)
        semaphore = host_limiter().for_host(urlsplit(url).netloc)
        attempt = 0
        while True:
            attempt += 1
            with semaphore:
                try:
                    outcome = self._attempt(method, url, params, data, headers, shown_url)
                except BrokerServiceError as exc:
                    raise masked(exc, self.secrets) from None
            if isinstance(outcome, Response):
                return outcome
            error, retry_after = outcome
            error = masked(error, self.secrets)
            if attempt > self.retries:
                raise error
            wait = self._wait_before_retry(attempt, retry_after, error)
            logger.info("%s; retrying in %.1f s (attempt %d of %d)", error, wait, attempt + 1, self.retries + 1)
            time.sleep(wait)

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
        """One request: a Response, or (error, retry_after) when it is worth asking again; raises when it is not."""
        try:
            with self._session().request(method, url, params=params, data=data,
                                         headers={**self.headers, **(headers or {})},
                                         timeout=self.timeout, stream=True) as raw:
                status = raw.status_code
                if status in RETRY_STATUSES:
                    error = BrokerServiceError(_status_reason(status), url=shown_url, status=status)
                    wait = retry_after_seconds(raw.headers.get("Retry-After"))
                    if status == 429 and wait is None:
                        wait = throttled_seconds(_read_capped(raw, 4096, shown_url, truncate=True))
                    return error, wait
                if status >= 400:
                    body = _read_capped(raw, 4096, shown_url, truncate=True)
                    raise BrokerServiceError(_status_reason(status, body), url=shown_url, status=status)
                content = _read_capped(raw, self.max_bytes, shown_url, deadline=time.monotonic() + 3 * self.timeout)
                return Response(url=shown_url, status=status, headers=dict(raw.headers), content=content)
        except requests.exceptions.ReadTimeout:
            # A stalled archive is not retried: the wait would multiply, and the next run asks again.
            raise BrokerServiceError(f"no answer within the {self.timeout:g} s timeout", url=shown_url) from None
        except requests.exceptions.ChunkedEncodingError:
            return BrokerServiceError("the archive closed the connection before the whole response arrived "
                                      "(truncated body)", url=shown_url), None
        except requests.exceptions.ConnectionError as exc:
            return BrokerServiceError(f"connection failed ({_short(exc)})", url=shown_url), None
        except requests.exceptions.RequestException as exc:
            raise BrokerServiceError(f"request failed ({_short(exc)})", url=shown_url) from None


def _status_reason(status, body=b""):
    text = body.decode("utf-8", "replace").strip() if body else ""
    if text.lstrip().lower().startswith(("<!doctype", "<html")):
        text = ""  # an HTML error page says nothing a log line can use
    elif text.startswith("<"):
        # an XML error document (IRSA answers 400 with a VOTable): keep its words, not its tags
        text = " ".join(re.sub(r"<\?xml[^>]*>|<[^>]+>", " ", text).split())
    reason = {429: "rate limited by the archive", 404: "not found at the archive"}.get(
        status, "archive answered with an error" if status < 500 else "archive failed (server error)")
    return f"{reason}: {text[:200]}" if text else reason


def _read_capped(raw, max_bytes, shown_url, deadline=None, truncate=False):
    declared = raw.headers.get("Content-Length")
    if not truncate and declared and declared.isdigit() and int(declared) > max_bytes:
        raise BrokerServiceError(f"response of {int(declared)} bytes is over the {max_bytes} byte limit",
                                 url=shown_url, status=raw.status_code)
    chunks, size = [], 0
    for chunk in raw.iter_content(chunk_size=65536):
        size += len(chunk)
        if size > max_bytes:
            if truncate:
                chunks.append(chunk)
                break
            raise BrokerServiceError(f"response is over the {max_bytes} byte limit", url=shown_url,
                                     status=raw.status_code)
        if deadline is not None and time.monotonic() > deadline:
            raise BrokerServiceError("response still arriving after the time limit (archive too slow)",
                                     url=shown_url, status=raw.status_code)
        chunks.append(chunk)
    return b"".join(chunks)[:max_bytes]


def _short(exc):
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "..."
