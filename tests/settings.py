"""The test site: the demo TOM site's settings (example_site), with the tests' database, cache, task
backend and archive URLs. Subprocesses started by the tests (concurrent runs, db_worker) reach the
test's database and sample archive through the ``BHTOM_TEST_*`` variables; pytest uses the defaults."""
import json
import os
import tempfile

from example_site.example_site.settings import *  # noqa: F401,F403 - one minimal TOM site serves both
from tom_bhtom_brokers.brokers import IMPLEMENTED_SOURCE_NAMES

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
TOM_NAME = "tom_bhtom_brokers tests"
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "demo"]  # noqa: F405
ROOT_URLCONF = "tests.urls"

TEST_SQLITE = os.path.join(tempfile.gettempdir(), f"tom_bhtom_brokers_test_db_{os.getpid()}.sqlite3")
if os.environ.get("BHTOM_TEST_PG"):
    host, port, name = os.environ["BHTOM_TEST_PG"].split(":")
    DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "HOST": host, "PORT": port, "NAME": name,
                             "USER": "postgres"}}
else:
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("BHTOM_TEST_SQLITE", TEST_SQLITE),
        # django-tasks' db_worker needs EXCLUSIVE transactions on SQLite; BHTOM_TEST_SQLITE_TOM_DEFAULTS: none of
        # that, as tom_setup writes a site's settings (the hostile tests' concurrent runs)
        "OPTIONS": {} if os.environ.get("BHTOM_TEST_SQLITE_TOM_DEFAULTS")
        else {"timeout": 60, "transaction_mode": "EXCLUSIVE"},
        "TEST": {"NAME": TEST_SQLITE},
    }}
STATIC_ROOT = os.path.join(tempfile.gettempdir(), "tom_bhtom_brokers_static")
MEDIA_ROOT = os.path.join(tempfile.gettempdir(), "tom_bhtom_brokers_media")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                      "LOCATION": os.environ["BHTOM_TEST_REDIS"]} if os.environ.get("BHTOM_TEST_REDIS")
          else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
TASKS = {"default": {"BACKEND": "django_tasks.backends.database.DatabaseBackend"
                     if os.environ.get("BHTOM_TEST_TASKS") == "database"
                     else "django_tasks.backends.immediate.ImmediateBackend"}}

# Each test points the brokers at the sample archive (tests/conftest.py); nothing reaches the internet.
DATA_SERVICES = {name: {"url": os.environ["BHTOM_TEST_ARCHIVE_URL"], "timeout": 5, "backoff_seconds": 0.05}
                 for name in IMPLEMENTED_SOURCE_NAMES} if os.environ.get("BHTOM_TEST_ARCHIVE_URL") else {}
if DATA_SERVICES:
    from tests.data.make_fixtures import ATLAS_TEST_TOKEN, CPCS_TEST_KEY, ZTF_FPS_TEST_ACCOUNT

    DATA_SERVICES["CPCS"]["access_key"] = CPCS_TEST_KEY
    DATA_SERVICES["ATLAS"].update({"token": ATLAS_TEST_TOKEN, "poll_seconds": 0.05})
    DATA_SERVICES["ZTF FPS"].update({**ZTF_FPS_TEST_ACCOUNT, "poll_seconds": 0.05})
    DATA_SERVICES["LINEAR"]["cache_dir"] = tempfile.mkdtemp(prefix="bhtom_linear_cache_")
    DATA_SERVICES["ASAS-SN"]["skypatrol_client"] = "tests.sample_archive.skypatrol.RecordedSkyPatrolClient"
# the web update runs inside the request in most tests (their database is one transaction a test); tests of the
# background update (tom_setup's default) set "thread" and use a transactional database
BHTOM_BROKERS = {"max_requests_per_host": 4, "web_update": "inline",
                 # the fleet tests' limits (tests/test_fleet_workers.py), as JSON
                 **json.loads(os.environ.get("BHTOM_TEST_BROKERS", "{}"))}
# the fleet tests point single archives elsewhere (a host that answers nothing), as JSON {source: {settings}}
for _name, _overrides in json.loads(os.environ.get("BHTOM_TEST_SERVICES", "{}")).items():
    DATA_SERVICES[_name].update(_overrides)
