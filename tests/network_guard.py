"""No test reaches past this machine: a guard on name lookups and connections in the test process.

Every archive is the sample archive on 127.0.0.1. A lookup of any other name, or a connection to an address off
the loopback range, is refused (OSError, so nothing leaves the machine) and recorded; ``conftest.py`` fails the
test that made it, whatever the code under test did with the error (a broker would report the archive as
unavailable and the test could pass)."""
import ipaddress
import socket

LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
#: (what, where) of each refused attempt since the last ``take_violations``
violations = []
_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def is_local(host):
    if host is None or host == "":
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).strip("[]").lower()
    if host in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(what, where):
    violations.append((what, where))
    raise OSError(f"the test tried to {what} {where}: tests stay on this machine (tests/network_guard.py)")


def guarded_getaddrinfo(host, *args, **kwargs):
    if not is_local(host):
        _refuse("look up", host)
    return _real_getaddrinfo(host, *args, **kwargs)


def _check(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_local(address[0]):
        _refuse("connect to", address[0])


def guarded_connect(self, address):
    _check(self, address)
    return _real_connect(self, address)


def guarded_connect_ex(self, address):
    _check(self, address)
    return _real_connect_ex(self, address)


def install():
    socket.getaddrinfo = guarded_getaddrinfo
    socket.socket.connect = guarded_connect
    socket.socket.connect_ex = guarded_connect_ex


def take_violations():
    taken = list(violations)
    violations.clear()
    return taken
