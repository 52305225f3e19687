"""Shared fixtures: the sample archive on 127.0.0.1, brokers pointed at it, and target factories."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache

from tests import network_guard
from tests.data.make_fixtures import ATLAS_TEST_TOKEN, CPCS_TEST_KEY, ZTF_FPS_TEST_ACCOUNT
from tests.sample_archive import SampleArchive
from tom_bhtom_brokers.transports import hosts
from tom_bhtom_brokers.brokers import IMPLEMENTED_SOURCE_NAMES
from tom_bhtom_brokers.brokers.gaia_alerts import GaiaAlertsBroker

# Fast limits so fault tests take a second, not a minute; still the real client and real HTTP.
TEST_BROKER_SETTINGS = {"timeout": 1.0, "backoff_seconds": 0.01, "retries": 2, "max_retry_wait": 2.0}
#: the emulated ATLAS queue accepts this token and finishes a job after one poll
ATLAS_TEST_SETTINGS = {"token": ATLAS_TEST_TOKEN, "poll_seconds": 0.05, "max_wait_seconds": 5}
ZTF_FPS_TEST_SETTINGS = {**ZTF_FPS_TEST_ACCOUNT, "poll_seconds": 0.05, "max_wait_seconds": 5}

#: Sky Patrol v2's client speaks its own protocol to a fixed host: the tests use the recorded one
SKYPATROL_TEST_CLIENT = "tests.sample_archive.skypatrol.RecordedSkyPatrolClient"


def pytest_configure(config):
    if not config.getoption("--remote-data"):
        network_guard.install()


@pytest.fixture(autouse=True)
def stays_on_this_machine():
    """Fails a test that looked up a name or opened a connection beyond the loopback range (network_guard)."""
    network_guard.take_violations()
    yield
    reached = network_guard.take_violations()
    if reached:
        pytest.fail(f"the test reached past this machine: {reached[:5]}")


def pytest_addoption(parser):
    parser.addoption("--remote-data", action="store_true", help="also run the checks against the real archives")


#: the hostile suite's counts from this process, or summed from the xdist workers (``pytest_testnodedown``)
HOSTILE_TOTALS = {}


def add_hostile_counts(counts):
    for key, value in counts.items():
        HOSTILE_TOTALS[key] = HOSTILE_TOTALS.get(key, 0) + value


def pytest_sessionfinish(session):
    hostile = sys.modules.get("tests.test_hostile")
    if hostile is None:
        return
    if hasattr(session.config, "workeroutput"):  # an xdist worker: its counts go to the controller
        session.config.workeroutput["hostile"] = hostile.counts()
    else:
        add_hostile_counts(hostile.counts())


def pytest_testnodedown(node, error):
    add_hostile_counts(getattr(node, "workeroutput", {}).get("hostile", {}))


def pytest_terminal_summary(terminalreporter):
    """The hostile suite's count line, after every test has run, whatever order pytest-django or the xdist
    workers ran the cases in (see tests/test_hostile.py)."""
    if HOSTILE_TOTALS.get("cases"):
        terminalreporter.write_line("[hostile] " + " ".join(f"{key}={value}" for key, value in HOSTILE_TOTALS.items()))


#: the tiers (``make check`` runs unit + contract): ``unit`` reads recorded bytes and pure code, ``contract`` one
#: pass per archive through HTTP and the database (tests/brokers) and TOM's paths in process; ``system`` starts
#: processes, servers, a browser or a fleet. A module not named here is ``contract``.
UNIT_MODULES = {"test_package_structure", "test_period_search", "test_templatetags", "test_http", "test_store",
                "test_network_guard",
                "test_real_answers", "test_generated_docs"}
SYSTEM_MODULES = {"test_browser", "test_demo_site", "test_postgres_workers", "test_wsdb", "test_wheel_install",
                  "test_reliability", "test_hostile", "test_dead_host", "test_web_update", "test_check_archives",
                  "test_remote_archives", "test_throwaway_archive", "test_fleet_workers"}
#: modules that share a session fixture too costly to build twice (the demo's first run): one xdist worker runs them
XDIST_GROUPS = {"test_browser": "demo", "test_demo_site": "demo"}


def tier(item):
    module = item.module.__name__.rsplit(".", 1)[-1]
    return "unit" if module in UNIT_MODULES else "system" if module in SYSTEM_MODULES else "contract"


def pytest_collection_modifyitems(config, items):
    for item in items:
        item.add_marker(tier(item))
        group = XDIST_GROUPS.get(item.module.__name__.rsplit(".", 1)[-1])
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
    if config.getoption("--remote-data"):
        return
    skip = pytest.mark.skip(reason="talks to the real archive; run with --remote-data")
    for item in items:
        if "remote_data" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def sample_archive_server():
    with SampleArchive() as server:
        yield server


@pytest.fixture(scope="session")
def demo_first_run(tmp_path_factory):
    """``make demo``'s first run, once per session (it takes half a minute): its finished database, which a
    test copies before changing it (``copy_demo``), and what the run printed."""
    db = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    repo = Path(__file__).resolve().parent.parent
    run = subprocess.run([sys.executable, "example_site/run_demo.py"], cwd=repo,
                         env={**os.environ, "DEMO_DB": str(db)}, capture_output=True, text=True, timeout=300)
    return db, run


def copy_demo(demo_first_run, folder):
    """A copy of the demo's database in ``folder``, for a test to change."""
    db, run = demo_first_run
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return shutil.copy(db, folder / "demo.sqlite3")


@pytest.fixture(scope="session")
def linear_cache(tmp_path_factory):
    """LINEAR's download cache for the session (the sample archive's files, never the user's cache)."""
    return tmp_path_factory.mktemp("linear_cache")


@pytest.fixture
def archive(sample_archive_server, settings, linear_cache):
    """The sample archive, with no faults or latency, and every broker pointed at it."""
    sample_archive_server.reset()
    settings.DATA_SERVICES = {name: {"url": sample_archive_server.url, **TEST_BROKER_SETTINGS}
                              for name in IMPLEMENTED_SOURCE_NAMES}
    settings.DATA_SERVICES["CPCS"]["access_key"] = CPCS_TEST_KEY
    settings.DATA_SERVICES["ATLAS"].update(ATLAS_TEST_SETTINGS)
    settings.DATA_SERVICES["ZTF FPS"].update(ZTF_FPS_TEST_SETTINGS)
    settings.DATA_SERVICES["LINEAR"]["cache_dir"] = str(linear_cache)
    settings.DATA_SERVICES["ASAS-SN"]["skypatrol_client"] = SKYPATROL_TEST_CLIENT
    hosts.reset_host_limiter()
    GaiaAlertsBroker._index_cache.clear()
    yield sample_archive_server
    sample_archive_server.reset()


@pytest.fixture
def forget_site_cache():
    """The archives' lists kept in the site's cache (OGLE's, KMTNet's seasons) forgotten before and after a test."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_target(db):
    from tom_targets.models import Target, TargetExtra

    def make(name, ra=None, dec=None, **survey_names):
        target = Target.objects.create(name=name, type=Target.SIDEREAL, ra=ra, dec=dec, epoch=2000.0)
        for key, value in survey_names.items():
            TargetExtra.objects.create(target=target, key=key, value=value)
        return target

    return make
