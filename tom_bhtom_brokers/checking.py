"""Is each archive still there, and still answering in the format its broker reads?

``check_archive`` asks one archive about its broker's declared well-known object (``probe``) the way an update
would, without touching the database, and sorts the outcome into what an operator acts on:

``ok``              the answer was read (how many points, over which dates)
``format changed``  the archive answered, but not in the layout the broker reads (which columns or fields are
                    missing is in the message): the broker needs updating
``unreachable``     no answer, a timeout, an HTTP error or an HTML error page instead of data
``not configured``  the site has not given the broker what it needs (a key, a token): not a failure
``error``           anything else the broker refused (a probe the archive no longer knows, ...)
"""
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from tom_bhtom_brokers.exceptions import (BrokerError, BrokerNotConfigured, BrokerParseError, BrokerServiceError,
                                          masked)

logger = logging.getLogger(__name__)

OK, FORMAT_CHANGED, UNREACHABLE, NOT_CONFIGURED, ERROR = ("ok", "format changed", "unreachable", "not configured",
                                                          "error")
FAILURES = (FORMAT_CHANGED, UNREACHABLE, ERROR)

#: MJD 0: 1858-11-17 00:00 UTC
MJD_ZERO = datetime(1858, 11, 17)


@dataclass
class ArchiveCheck:
    source: str
    verdict: str
    detail: str = ""
    url: str = ""

    @property
    def failed(self):
        return self.verdict in FAILURES


def check_archive(broker) -> ArchiveCheck:
    """One archive's verdict; never raises a BrokerError."""
    try:
        broker.check_configured()
        answer = broker.check()
    except BrokerNotConfigured as exc:
        return ArchiveCheck(broker.name, NOT_CONFIGURED, str(exc))
    except BrokerError as exc:
        exc = masked(exc, broker.secrets())
        verdict = FORMAT_CHANGED if isinstance(exc, BrokerParseError) else \
            UNREACHABLE if isinstance(exc, BrokerServiceError) else ERROR
        return ArchiveCheck(broker.name, verdict, getattr(exc, "reason", None) or str(exc),
                            getattr(exc, "url", None) or "")
    lightcurve = answer.lightcurve
    if not len(lightcurve):
        return ArchiveCheck(broker.name, OK, f"answered: {lightcurve.note}" if lightcurve.note
                            else f"answered, no points for {broker.probe_target().name}", answer.url)
    mjd = lightcurve.frame["mjd"]
    # the calendar day by plain arithmetic: astropy's UTC warns of "dubious years" for a plate of 1889 (DASCH)
    first, last = ((MJD_ZERO + timedelta(days=float(value))).strftime("%Y-%m-%d") for value in (mjd.min(), mjd.max()))
    return ArchiveCheck(broker.name, OK, f"{len(lightcurve)} points of {broker.probe_target().name}, "
                                         f"{first} to {last}", answer.url)


def check_archives(brokers, timeout=8.0):
    """Every broker's verdict, in the brokers' order, probed at once, each request held to ``timeout`` seconds
    (twice that for the whole answer) with one retry at most, so a check with every archive down takes about one
    timeout, not one per archive. A probe with no verdict after ``3 * timeout`` is "unreachable"."""
    results = {}

    def probe(broker):
        results[broker.name] = check_archive(broker)

    threads = []
    for broker in brokers:
        client = broker.http
        client.timeout, client.deadline = min(client.timeout, timeout), min(client.deadline, 2 * timeout)
        client.retries, client.max_retry_wait = min(client.retries, 1), min(client.max_retry_wait, timeout)
        # daemon threads: a probe stuck past the verdict's time does not keep the command alive
        thread = threading.Thread(target=probe, args=(broker,), daemon=True, name=f"check-{broker.name}")
        thread.start()
        threads.append(thread)
    end = time.monotonic() + 3 * timeout
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
    return [results.get(broker.name) or ArchiveCheck(broker.name, UNREACHABLE,
                                                      f"no verdict within {3 * timeout:g} s")
            for broker in brokers]
