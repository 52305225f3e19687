"""Debian packages the tests need (PostgreSQL, Chromium), installed with apt-get when missing and we are
root (CI machines); otherwise the caller skips with the reason this raises."""
import os
import shutil
import subprocess


class Unavailable(Exception):
    pass


def ensure(packages, present):
    """Install ``packages`` unless ``present()`` is already true; raise Unavailable when that is impossible."""
    if present():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise Unavailable(f"{' '.join(packages)} not installed, and apt-get is not available to root here")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    update = subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, text=True, timeout=600)
    install = subprocess.run(["apt-get", "install", "-y", "-qq", *packages], env=env, capture_output=True, text=True,
                             timeout=900)
    if install.returncode != 0 or not present():
        raise Unavailable(f"apt-get install {' '.join(packages)} failed: {(update.stderr + install.stderr)[-500:]}")
