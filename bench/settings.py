"""The benchmark's site: the test site's settings, a throwaway SQLite file, one sample-archive host per
real archive host (bench/run.py passes source -> URL in BENCH_URLS)."""
import json
import os

from tests.settings import *  # noqa: F401,F403
from tom_bhtom_brokers.brokers import IMPLEMENTED_SOURCE_NAMES

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["BENCH_DB"],
                         "OPTIONS": {"timeout": 60}}}
DATA_SERVICES = {name: {"url": json.loads(os.environ["BENCH_URLS"])[name]} for name in IMPLEMENTED_SOURCE_NAMES}
DATA_SERVICES["CPCS"]["access_key"] = "bench-key"  # the sample archive takes any key
# the emulated ATLAS queue finishes a job after one poll; poll at the injected latency, not ATLAS' real 10 s
DATA_SERVICES["ATLAS"].update({"token": "demo-token-for-the-sample-archive", "poll_seconds": 0.1})
DATA_SERVICES["LINEAR"]["cache_dir"] = os.path.join(os.path.dirname(os.environ["BENCH_DB"]), "linear_cache")
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "loggers": {"": {"level": "WARNING"}}}
