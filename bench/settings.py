"""The benchmark's site: the test site's settings, a throwaway SQLite file, one sample-archive host per
real archive host (bench/run.py passes source -> URL in BENCH_URLS). BENCH_OVERRIDES (JSON, source -> settings)
changes a source's DATA_SERVICES entry for one measurement (a host down, ATLAS left out, its real poll interval);
BENCH_TASKS=database puts tasks on django-tasks' database backend (``--enqueue``); the fleet row's site runs on
PostgreSQL (BENCH_PG, host:port:name) and shares its limits through Redis (BENCH_REDIS, a redis:// URL)."""
import json
import os

from tests.settings import *  # noqa: F401,F403
from tests.data.make_fixtures import ZTF_FPS_TEST_ACCOUNT
from tom_bhtom_brokers.brokers import IMPLEMENTED_SOURCE_NAMES

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["BENCH_DB"],
                         # django-tasks' database backend needs EXCLUSIVE transactions on SQLite
                         "OPTIONS": {"timeout": 60, **({"transaction_mode": "EXCLUSIVE"}
                                                       if os.environ.get("BENCH_TASKS") == "database" else {})}}}
if os.environ.get("BENCH_PG"):
    host, port, name = os.environ["BENCH_PG"].split(":")
    DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "HOST": host, "PORT": port, "NAME": name,
                             "USER": "postgres"}}
if os.environ.get("BENCH_REDIS"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": os.environ["BENCH_REDIS"]}}
DATA_SERVICES = {name: {"url": json.loads(os.environ["BENCH_URLS"])[name]} for name in IMPLEMENTED_SOURCE_NAMES}
DATA_SERVICES["CPCS"]["access_key"] = "bench-key"  # the sample archive takes any key
# the emulated ATLAS queue finishes a job after one poll; poll at the injected latency, not ATLAS' real 10 s
DATA_SERVICES["ATLAS"].update({"token": "demo-token-for-the-sample-archive", "poll_seconds": 0.1})
# ZTF forced photometry's emulated queue (tests/sample_archive/ztf_fps_queue.py): the tests' account
DATA_SERVICES["ZTF FPS"].update({**ZTF_FPS_TEST_ACCOUNT, "poll_seconds": 0.1})
DATA_SERVICES["LINEAR"]["cache_dir"] = os.path.join(os.path.dirname(os.environ["BENCH_DB"]), "linear_cache")
for name, overrides in json.loads(os.environ.get("BENCH_OVERRIDES", "{}")).items():
    DATA_SERVICES[name].update(overrides)
if os.environ.get("BENCH_TASKS") == "database":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.database.DatabaseBackend"}}
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "loggers": {"": {"level": "WARNING"}}}
