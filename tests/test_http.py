"""The shared HTTP client against the sample archive's fault switches: real sockets, real timeouts."""
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from tom_bhtom_brokers.transports import hosts
from tom_bhtom_brokers.exceptions import BrokerServiceError
from tom_bhtom_brokers.transports.http import HttpClient, redacted_url, retry_after_seconds

PATH = "/alerts/alerts.csv"


@pytest.fixture
def client(archive):
    return HttpClient(timeout=1.0, retries=2, backoff=0.01, max_retry_wait=2.0, max_bytes=100_000)


def test_a_plain_get_returns_the_body(archive, client):
    response = client.get(archive.url + PATH)
    assert response.status == 200 and response.content.startswith(b"#Name, Date")
    assert archive.requests[-1]["headers"]["User-Agent"].startswith("tom-bhtom-brokers/0.")


def test_429_with_retry_after_is_honoured(archive, client):
    archive.add_fault(path=PATH, kind="status", status=429, retry_after="1", times=1)
    started = time.monotonic()
    assert client.get(archive.url + PATH).status == 200
    assert time.monotonic() - started >= 1.0
    gap = archive.requests[1]["time"] - archive.requests[0]["time"]
    assert gap >= 0.95


def test_a_retry_after_over_the_bound_fails_at_once(archive, client):
    archive.add_fault(path=PATH, kind="status", status=429, retry_after="3600")
    started = time.monotonic()
    with pytest.raises(BrokerServiceError, match="Retry-After") as error:
        client.get(archive.url + PATH)
    assert time.monotonic() - started < 1.0 and error.value.status == 429


def test_5xx_is_retried_then_given_up_with_url_and_status(archive, client):
    archive.add_fault(path=PATH, kind="status", status=503)
    with pytest.raises(BrokerServiceError) as error:
        client.get(archive.url + PATH, params={"a": "1"})
    assert error.value.status == 503 and error.value.url == archive.url + PATH + "?a=1"
    assert len(archive.requests) == 3  # the first try and two retries


def test_a_connection_reset_is_retried(archive, client):
    archive.add_fault(path=PATH, kind="reset", times=1)
    assert client.get(archive.url + PATH).status == 200
    assert len(archive.requests) == 2


def test_a_reset_every_time_is_an_error(archive, client):
    archive.add_fault(path=PATH, kind="reset")
    with pytest.raises(BrokerServiceError, match="connection"):
        client.get(archive.url + PATH)


def test_a_stall_is_a_timeout_error_without_retrying(archive, client):
    archive.add_fault(path=PATH, kind="stall", seconds=2.0)
    with pytest.raises(BrokerServiceError, match="timeout"):
        client.get(archive.url + PATH)
    assert len(archive.requests) == 1


def test_a_body_over_the_size_cap_is_refused(archive, client):
    archive.add_fault(path=PATH, kind="oversize", size=150_000)
    with pytest.raises(BrokerServiceError, match="over the 100000 byte limit"):
        client.get(archive.url + PATH)


def test_a_404_is_not_retried_and_says_not_found(archive, client):
    with pytest.raises(BrokerServiceError, match="not found") as error:
        client.get(archive.url + "/alerts/alert/Gaia00aaa/lightcurve.csv")
    assert error.value.status == 404 and len(archive.requests) == 1


def test_per_host_limit_caps_concurrent_requests(archive, client):
    hosts.reset_host_limiter(per_host=2)
    archive.latency = 0.2
    threads = [threading.Thread(target=client.get, args=(archive.url + PATH,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert archive.max_in_flight == 2


def test_secrets_are_redacted_from_urls():
    assert redacted_url("https://x/api", {"hashtag": "s3cret", "name": "a"}) == \
        "https://x/api?hashtag=REDACTED&name=a"


def test_retry_after_in_seconds_and_as_a_date():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert retry_after_seconds("7") == 7
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30
    assert retry_after_seconds("soon") is None


def test_the_suite_fails_a_test_that_reaches_past_this_machine():
    """The guard every test runs under (tests/network_guard.py): a real archive's name is not even looked up."""
    import requests

    from tests import network_guard

    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get("https://irsa.ipac.caltech.edu/TAP/sync", timeout=1)
    with pytest.raises(OSError):
        import socket

        socket.create_connection(("93.184.216.34", 80), timeout=1)
    reached = network_guard.take_violations()  # taken here, so this test itself passes
    assert ("look up", "irsa.ipac.caltech.edu") in reached and any(where == "93.184.216.34" for _, where in reached)
