"""The guard that keeps every test on this machine bites: a lookup of a real archive's name, a connection to an
address off the loopback range and an HTTP request through the package's client are refused before anything leaves
the machine and recorded, so the autouse fixture would fail the test that made them; loopback stays open."""
import socket

import pytest
import requests

from tests import network_guard
from tom_bhtom_brokers.transports.http import HttpClient


@pytest.mark.skipif(socket.getaddrinfo is not network_guard.guarded_getaddrinfo,
                    reason="the guard is off with --remote-data")
def test_lookups_and_connections_past_this_machine_are_refused_and_recorded(sample_archive_server):
    with pytest.raises(OSError, match="tests stay on this machine"):
        socket.getaddrinfo("irsa.ipac.caltech.edu", 443)
    with socket.socket() as sock, pytest.raises(OSError, match="tests stay on this machine"):
        sock.connect(("192.0.2.1", 80))  # TEST-NET-1: never routed, and refused before it is tried
    with pytest.raises(Exception):
        HttpClient(timeout=1, retries=0).request("GET", "https://gsaweb.ast.cam.ac.uk/alerts/alertsindex")
    taken = network_guard.take_violations()  # taken here, so this test is not failed for them
    assert ("look up", "irsa.ipac.caltech.edu") in taken and ("connect to", "192.0.2.1") in taken
    assert ("look up", "gsaweb.ast.cam.ac.uk") in taken
    assert requests.get(f"{sample_archive_server.url}/no-such-path", timeout=5).status_code == 404  # loopback is open
    assert network_guard.take_violations() == []
