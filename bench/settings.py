"""The benchmark's site: the test site's settings, a throwaway SQLite file, two sample-archive hosts."""
import os

from tests.settings import *  # noqa: F401,F403

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["BENCH_DB"],
                         "OPTIONS": {"timeout": 60}}}
# Gaia Alerts and NEOWISE live on different hosts in reality (Cambridge, IRSA): two archive processes
DATA_SERVICES = {
    "Gaia Alerts": {"url": os.environ.get("BENCH_GAIA_URL", "")},
    "NEOWISE": {"url": os.environ.get("BENCH_NEOWISE_URL", "")},
    "ALLWISE": {"url": os.environ.get("BENCH_NEOWISE_URL", "")},  # IRSA serves both WISE tables
}
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "loggers": {"": {"level": "WARNING"}}}
