"""The package as an operator gets it from PyPI: a wheel built from the source tree, installed (not editable)
into a folder of its own, serving a TOM site — templates, static files, migrations and template tags all come
from the installed copy, and building it gives no setuptools warning."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

SITE_CHECK = """
import tom_bhtom_brokers
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.template import engines
from django.test import Client
from tom_targets.models import Target
print('module', tom_bhtom_brokers.__file__)
target = Target.objects.create(name='wheel star', type=Target.SIDEREAL, ra=10.0, dec=10.0, epoch=2000.0)
admin = User.objects.create_superuser('wheel-admin', password='pw')
client = Client(HTTP_HOST='127.0.0.1')
client.force_login(admin)
page = client.get(f'/targets/{target.pk}/').content.decode()
assert 'id="bhtom-survey-tab"' in page and 'id="bhtom-status-table"' in page, page[:500]
for script in ('survey_lightcurves.js', 'period_search.js', 'tom_pages.js'):
    assert finders.find(f'tom_bhtom_brokers/{script}'), script
# the navbar item on every TOM page, with the name rules for TOM's target form, and our query results table
assert 'id="bhtom-name-fields"' in page and 'tom_bhtom_brokers/tom_pages.js' in page
from django.template.loader import get_template
get_template('tom_bhtom_brokers/partials/query_results_table.html')
tags = engines['django'].from_string('{% load bhtom_brokers %}{% survey_status object %}').render({'object': target})
from tom_bhtom_brokers.brokers import IMPLEMENTED_SOURCE_NAMES
assert tags.count('bhtom-status-row') == len(IMPLEMENTED_SOURCE_NAMES) >= 19
print('site ok')
"""


@pytest.mark.slow
def test_a_wheel_installed_elsewhere_serves_the_site_without_build_warnings(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v",
                            "-w", str(tmp_path / "dist"), str(REPO)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    log = built.stdout + built.stderr
    assert "would be ignored" not in log and "is absent from the `packages` configuration" not in log
    (wheel,) = (tmp_path / "dist").glob("tom_bhtom_brokers-*.whl")
    installed = tmp_path / "installed"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(installed), str(wheel)],
                   check=True, capture_output=True, timeout=300)

    env = {**os.environ, "PYTHONPATH": str(installed), "DEMO_DB": str(tmp_path / "site.sqlite3"),
           "DJANGO_SETTINGS_MODULE": "example_site.settings"}
    site = REPO / "example_site"
    migrated = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=site, env=env,
                              capture_output=True, text=True, timeout=300)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    assert "tom_bhtom_brokers.0005_unavailable_status" in migrated.stdout  # its migrations ran from the wheel
    checked = subprocess.run([sys.executable, "manage.py", "shell", "-c", SITE_CHECK], cwd=site, env=env,
                             capture_output=True, text=True, timeout=300)
    assert "site ok" in checked.stdout, checked.stdout[-3000:] + checked.stderr[-3000:]
    assert f"module {installed}" in checked.stdout  # not the source tree
