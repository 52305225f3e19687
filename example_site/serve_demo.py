"""``make serve``: the demo site on http://127.0.0.1:8000 with the sample archive beside it (so the target
page's update button reaches an archive). Ports: SERVE_PORT (8000), SAMPLE_ARCHIVE_PORT (8765)."""
import os
import signal
import subprocess
import sys

from run_demo import REPO, SITE


def main():
    port = os.environ.get("SERVE_PORT", "8000")
    archive_port = os.environ.get("SAMPLE_ARCHIVE_PORT", "8765")
    env = {**os.environ, "SAMPLE_ARCHIVE_URL": f"http://127.0.0.1:{archive_port}",
           "DJANGO_SETTINGS_MODULE": "example_site.settings",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    # a SIGTERM (a test's teardown, a service manager) must stop both children, not leave them running
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    archive = subprocess.Popen([sys.executable, "-m", "tests.sample_archive", "--port", archive_port], cwd=REPO,
                               env=env, stdout=subprocess.PIPE, text=True)
    print(archive.stdout.readline().strip(), flush=True)
    site = None
    try:
        site = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                                cwd=SITE, env=env)
        return site.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for child in (site, archive):
            if child is not None and child.poll() is None:
                child.terminate()
                child.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
