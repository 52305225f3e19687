"""``make demo``: migrate the demo site, load its targets, start the sample archive, run update_lightcurves, then
check_archives.

Everything is local: SQLite in example_site/db.sqlite3 and the sample archive on 127.0.0.1.
"""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

SITE = Path(__file__).resolve().parent
REPO = SITE.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(*args, env):
    print(f"$ python manage.py {' '.join(args)}", flush=True)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=SITE, env=env).returncode


def main():
    port = int(os.environ.get("SAMPLE_ARCHIVE_PORT") or free_port())
    env = {**os.environ, "SAMPLE_ARCHIVE_URL": f"http://127.0.0.1:{port}",
           "DJANGO_SETTINGS_MODULE": "example_site.settings",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    if manage("migrate", "--no-input", "-v", "0", env=env) or manage("load_demo_targets", env=env):
        return 1
    archive = subprocess.Popen([sys.executable, "-m", "tests.sample_archive", "--port", str(port)], cwd=REPO,
                               env=env, stdout=subprocess.PIPE, text=True)
    try:
        print(archive.stdout.readline().strip(), flush=True)  # waits until the server is listening
        code = manage("update_lightcurves", *sys.argv[1:], env=env)
        manage("demo_summary", env=env)
        # what an operator runs the day an archive changes: one line per archive
        return code or manage("check_archives", env=env)
    finally:
        archive.terminate()
        archive.wait(timeout=10)


if __name__ == "__main__":
    started = time.monotonic()
    status = main()
    print(f"demo finished in {time.monotonic() - started:.1f} s (exit status {status})")
    sys.exit(status)
