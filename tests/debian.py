"""Debian packages the tests need (PostgreSQL, Chromium), installed with apt-get when missing and we are
root (CI machines); otherwise the caller skips with the reason this raises. Test processes running side by
side (pytest-xdist) install one at a time: apt-get holds dpkg's lock and refuses a second one."""
import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

#: the lock the suite's processes take around apt-get
INSTALL_LOCK = Path(tempfile.gettempdir()) / "tom_bhtom_brokers_tests_apt.lock"


class Unavailable(Exception):
    pass


def ensure(packages, present):
    """Install ``packages`` unless ``present()`` is already true; raise Unavailable when that is impossible."""
    if present():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise Unavailable(f"{' '.join(packages)} not installed, and apt-get is not available to root here")
    with open(INSTALL_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not present():  # another process may have installed them while this one waited
            install(packages, present)


def install(packages, present):
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    update = subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, text=True, timeout=600)
    installed = subprocess.run(["apt-get", "install", "-y", "-qq", *packages], env=env, capture_output=True,
                               text=True, timeout=900)
    if installed.returncode != 0 or not present():
        raise Unavailable(f"apt-get install {' '.join(packages)} failed: {(update.stderr + installed.stderr)[-500:]}")


def serving(server_class, unavailable, what):
    """A module fixture's body: a server of ``server_class`` started for the module's tests and stopped after them;
    the tests skip with the reason when it cannot start (``unavailable``)."""
    import pytest

    try:
        server = server_class().start()
    except unavailable as exc:
        pytest.skip(f"no {what} for this test: {exc}")
    yield server
    server.stop()
