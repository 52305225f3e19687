"""An archive that is down is noticed once, not per pair (issue #17, item 3): after ``host_down_after`` (3)
requests in a row to one host get no answer at all — refused connections, or nothing until the timeout — the
run sends that host nothing more; its remaining pairs end as "archive unavailable" (not their own error, due
again next run), the summary names the host, and every other archive's pairs are stored."""
import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.fleet import create_fleet
from tests.postgres import free_port
from tests.sample_archive import SampleArchive
from tom_bhtom_brokers.transports import hosts
from tom_bhtom_brokers.exceptions import ArchiveUnreachable, BrokerServiceError
from tom_bhtom_brokers.management.commands.update_lightcurves import COLUMNS
from tom_bhtom_brokers.models import LightcurveUpdate

pytestmark = pytest.mark.django_db

TARGETS = 12
THRESHOLD = 3
PER_HOST = 4


def update(*sources):
    """The command as an operator runs it; its output, and whether it reported failures (exit status 1)."""
    out = StringIO()
    args = [a for source in sources for a in ("--source", source)] + ["--no-progress", "--workers", "16"]
    try:
        call_command("update_lightcurves", *args, stdout=out, stderr=StringIO())
        return out.getvalue(), False
    except CommandError:
        return out.getvalue(), True


def statuses(source):
    return sorted(LightcurveUpdate.objects.filter(source=source).values_list("status", flat=True))


def test_a_host_answering_nothing_is_left_alone_after_three_timeouts(archive, settings):
    settings.BHTOM_BROKERS = {"max_requests_per_host": PER_HOST}
    hosts.reset_host_limiter()
    create_fleet(TARGETS)
    with SampleArchive() as silent:
        # NEOWISE's host accepts connections and answers nothing until the client's 1 s timeout
        silent.add_fault(kind="stall", seconds=30)
        settings.DATA_SERVICES["NEOWISE"]["url"] = silent.url
        started = time.monotonic()
        output, failed = update("NEOWISE", "Gaia Alerts")
        elapsed = time.monotonic() - started
        asked = len(silent.requests)
        silent.reset()  # releases the stalled requests
    host = silent.url.split("//")[1]
    neowise = statuses("NEOWISE")
    unavailable = neowise.count("unavailable")
    # the first four requests go out together; the next pair waits for their verdict (the host is suspect after
    # the first failure) instead of taking the freed slot, and the third failure marks the host down: one wave
    assert asked == max(THRESHOLD, PER_HOST)
    assert neowise.count("error") == asked and unavailable == TARGETS - asked
    assert statuses("Gaia Alerts") == ["ok"] * TARGETS  # the other archive is untouched
    assert failed  # the timed-out pairs are errors of their own; the skipped ones are not
    assert f"archive down in this run: {host} (no answer within the 1 s timeout); {unavailable} pair(s) not asked" \
        in output
    total = next(line for line in output.splitlines() if line.startswith("total")).split()[1:]
    assert dict(zip(COLUMNS[1:], map(int, total)))["unavail."] == unavailable  # the summary's column
    assert elapsed < 2 * 1.0 + 5  # one round of timeouts, not one per pair (12 s)
    row = LightcurveUpdate.objects.filter(source="NEOWISE", status="unavailable").first()
    assert "did not answer 3 requests in a row" in row.message and "the next run asks again" in row.message

    # the archive is back: the next run asks every pair that did not get through, and stores them
    settings.DATA_SERVICES["NEOWISE"]["url"] = archive.url
    output, failed = update("NEOWISE")
    assert not failed and statuses("NEOWISE") == ["ok"] * TARGETS


def test_a_host_refusing_connections_is_noticed_within_the_first_pair(archive, settings):
    create_fleet(TARGETS)
    settings.DATA_SERVICES["NEOWISE"]["url"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    output, failed = update("NEOWISE", "Gaia Alerts")
    neowise = statuses("NEOWISE")
    # a refused connection is retried (it never reached the server): three refusals in a row, the first pairs'
    assert neowise.count("unavailable") >= TARGETS - PER_HOST and neowise.count("ok") == 0
    assert statuses("Gaia Alerts") == ["ok"] * TARGETS
    assert "archive down in this run: 127.0.0.1:" in output and "connection failed" in output


def test_any_answer_resets_the_count_and_5xx_is_an_answer():
    health = hosts.HostHealth(threshold=THRESHOLD)
    silent = ArchiveUnreachable("no answer within the 1 s timeout", url="http://a/x")
    for error in (silent, silent, BrokerServiceError("server error", status=503), silent, silent, None, silent,
                  silent):
        health.observe("a", error)
    assert health.refusal("a") is None and not health.down  # never three in a row
    health.observe("a", silent)
    refusal = health.refusal("a")
    assert refusal is not None and refusal.host == "a" and health.down == {"a": "no answer within the 1 s timeout"}
    assert health.refusal("b") is None  # another host is not affected


def test_a_request_to_a_suspect_host_waits_for_the_verdict_of_those_still_out():
    health = hosts.HostHealth(threshold=2)
    silent = ArchiveUnreachable("no answer within the 1 s timeout", url="http://a/x")

    def admitted_meanwhile(verdict):
        """A third request while one of two out failed: it waits; ``verdict`` on the other decides."""
        assert health.admit("a") is None and health.admit("a") is None
        health.observe("a", silent)
        result = []
        waiting = threading.Thread(target=lambda: result.append(health.admit("a")))
        waiting.start()
        waiting.join(0.3)
        assert waiting.is_alive()                      # not sent while the host is suspect
        health.observe("a", verdict)
        waiting.join(2)
        return result[0]

    assert admitted_meanwhile(None) is None            # the other answered: the host is fine, it goes
    health.observe("a", None)
    refused = admitted_meanwhile(silent)               # the other failed too: the host is down, it is refused
    assert refused is not None and refused.host == "a"
