"""A throwaway PostgreSQL server for the tests that need one, from Debian's packages.

Installed with apt-get when missing and we are root (CI machines), initialised in a temporary
directory, listening on 127.0.0.1 on a free port; the caller skips with the reason when this is
impossible.
"""
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time

from tests import debian


class PostgresUnavailable(Exception):
    pass


def _run(cmd, **kwargs):
    return subprocess.run(cmd, capture_output=True, text=True, **kwargs)


def _pg_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return os.path.dirname(found[-1]) if found else None


def ensure_installed():
    try:
        debian.ensure(["postgresql"], _pg_bin)
    except debian.Unavailable as exc:
        raise PostgresUnavailable(str(exc)) from None
    return _pg_bin()


def ensure_q3c(pg_bin):
    """The q3c extension for the installed PostgreSQL major version (Debian's ``postgresql-<N>-q3c``)."""
    major = pg_bin.rstrip("/").split("/")[-2]
    control = f"/usr/share/postgresql/{major}/extension/q3c.control"
    try:
        debian.ensure([f"postgresql-{major}-q3c"], lambda: os.path.exists(control))
    except debian.Unavailable as exc:
        raise PostgresUnavailable(str(exc)) from None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """``start()`` returns self with ``host``, ``port``; ``create_database(name)``; ``stop()``."""

    def __init__(self):
        self.bin = ensure_installed()
        self.host, self.port = "127.0.0.1", free_port()
        self.dir = tempfile.mkdtemp(prefix="bhtom_pg_")
        # initdb refuses to run as root: run the server as Debian's postgres user when we are root
        self.prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.prefix:
            shutil.chown(self.dir, "postgres", "postgres")

    def _cmd(self, tool, *args, **kwargs):
        return _run(self.prefix + [os.path.join(self.bin, tool), *args], **kwargs)

    def start(self):
        data = os.path.join(self.dir, "data")
        init = self._cmd("initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync", timeout=120)
        if init.returncode:
            raise PostgresUnavailable(f"initdb failed: {init.stderr[-500:]}")
        options = f"-p {self.port} -k {self.dir} -c listen_addresses={self.host} -c fsync=off -c max_connections=100"
        started = self._cmd("pg_ctl", "-D", data, "-o", options, "-l", os.path.join(self.dir, "log"), "-w",
                            "start", timeout=120)
        if started.returncode:
            raise PostgresUnavailable(f"pg_ctl start failed: {started.stderr[-500:]}")
        self.data = data
        return self

    def create_database(self, name):
        deadline = time.monotonic() + 30
        while True:
            made = self._cmd("createdb", "-h", self.host, "-p", str(self.port), "-U", "postgres", name, timeout=30)
            if made.returncode == 0:
                return f"{self.host}:{self.port}:{name}"
            if time.monotonic() > deadline:
                raise PostgresUnavailable(f"createdb failed: {made.stderr[-300:]}")
            time.sleep(0.5)

    def stop(self):
        self._cmd("pg_ctl", "-D", self.data, "-m", "immediate", "stop", timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)
