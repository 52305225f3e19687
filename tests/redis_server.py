"""A throwaway Redis server for the fleet tests, from Debian's ``redis-server`` package: installed with apt-get
when missing and we are root (CI machines), started on 127.0.0.1 on a free port with no persistence; the caller
skips with the reason when this is impossible."""
import shutil
import socket
import subprocess
import tempfile
import time

from tests import debian
from tests.postgres import free_port


class RedisUnavailable(Exception):
    pass


class RedisServer:
    """``start()`` returns self with ``url``; ``stop()``."""

    def __init__(self):
        try:
            debian.ensure(["redis-server"], lambda: shutil.which("redis-server") is not None)
        except debian.Unavailable as exc:
            raise RedisUnavailable(str(exc)) from None
        self.port, self.dir, self.process = free_port(), tempfile.mkdtemp(prefix="bhtom_redis_"), None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RedisUnavailable(f"redis-server exited: {self.process.stderr.read()[-500:]!r}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RedisUnavailable("redis-server did not answer PING within 20 s")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)
