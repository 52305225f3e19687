"""`make demo` as a user runs it: the demo site, its own SQLite file, the sample archive as a process."""
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import copy_demo
from tom_bhtom_brokers.brokers import IMPLEMENTED_SOURCE_NAMES

REPO = Path(__file__).resolve().parent.parent

CHECK_PAGES = """
from django.test import Client
from tom_bhtom_brokers.brokers import IMPLEMENTED_SOURCE_NAMES
from django.contrib.auth.models import User
from tom_targets.models import Target
client = Client(HTTP_HOST='127.0.0.1')
client.force_login(User.objects.get(username='admin'))
home = client.get('/').content.decode()
detail = client.get(f'/targets/{Target.objects.get(name="Gaia18cbf").pk}/').content.decode()
for name in IMPLEMENTED_SOURCE_NAMES:
    assert f'data_service={name}"' in home, name
    assert f'<option value="{name}">' in detail, name
print('pages ok')
"""


def run_demo(tmp_path, *args):
    env = {**os.environ, "DEMO_DB": str(tmp_path / "demo.sqlite3")}
    return subprocess.run([sys.executable, "example_site/run_demo.py", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def stored_pairs(stdout):
    """The (target, source) pairs a run's summary says it stored points of."""
    sources = "|".join(map(re.escape, IMPLEMENTED_SOURCE_NAMES))
    return set(re.findall(rf"^stored: (.+?) +({sources}) +\d+ points$", stdout, re.M))


def totals(stdout):
    line = next(line for line in stdout.splitlines() if line.startswith("total"))
    return [int(x) for x in line.split()[1:]]


@pytest.mark.slow
def test_demo_stores_points_and_a_second_run_adds_none(tmp_path, demo_first_run):
    copy_demo(demo_first_run, tmp_path)  # the first run's database (also the browser test's)
    first = demo_first_run[1]
    checked, fetched, *_, added, removed, errors = totals(first.stdout)
    with sqlite3.connect(demo_first_run[0]) as db:
        (targets,) = db.execute("select count(*) from tom_targets_basetarget").fetchone()
    stored = stored_pairs(first.stdout)
    # every pair is asked, each archive stores points of at least one demo target, nothing fails
    assert (checked, errors) == (targets * len(IMPLEMENTED_SOURCE_NAMES), 0) and added > 3000
    assert fetched == len(stored) and {source for _, source in stored} == set(IMPLEMENTED_SOURCE_NAMES)
    for target, source in (("Gaia18cbf", "Gaia Alerts"), ("Gaia20fnr", "NEOWISE"), ("Gaia20fnr", "ALLWISE"),
                           ("Gaia20fnr", "ZTF"), ("Gaia20fnr", "Gaia DR3"), ("Gaia19dke", "Gaia DR3"),
                           ("Gaia20fnr", "CRTS"), ("FU Ori", "ASAS-SN"), ("Gaia19dke", "CPCS"),
                           ("Gaia19dke", "ANTARES"), ("Gaia20fnr", "ANTARES"), ("FU Ori", "AAVSO"),
                           ("Gaia20fnr", "AAVSO"), ("Gaia20fnr", "ATLAS"),
                           ("Gaia20fnr", "SDSS"), ("Gaia20fnr", "PS1"), ("Gaia20fnr", "FIRST"), ("Gaia19dke", "LINEAR"),
                           ("AT 2026qhm", "LSST"), ("ZTF18abbuksn", "ALeRCE ZTF"), ("OGLE sample event", "OGLE EWS"),
                           ("Gaia19dke", "PTF"), ("VX Men", "ASAS-SN")):
        assert re.search(rf"stored: {target} +{source}", first.stdout), (target, source)

    forced = run_demo(tmp_path, "--force")
    assert forced.returncode == 0, forced.stderr
    assert totals(forced.stdout)[1] == fetched and totals(forced.stdout)[-3:] == [0, 0, 0]

    env = {**os.environ, "DEMO_DB": str(tmp_path / "demo.sqlite3"), "PYTHONPATH": str(REPO),
           "DJANGO_SETTINGS_MODULE": "example_site.settings"}
    pages = subprocess.run([sys.executable, "manage.py", "shell", "-c", CHECK_PAGES], cwd=REPO / "example_site",
                           env=env, capture_output=True, text=True, timeout=120)
    assert "pages ok" in pages.stdout, pages.stdout + pages.stderr
