"""The benchmark's site: the test site's settings, a throwaway SQLite file, two sample-archive hosts."""
import os

from tests.settings import *  # noqa: F401,F403
from tom_bhtom_brokers.brokers import IMPLEMENTED_SOURCE_NAMES

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["BENCH_DB"],
                         "OPTIONS": {"timeout": 60}}}
# Gaia Alerts and NEOWISE live on different hosts in reality (Cambridge, IRSA): two archive processes
# Gaia Alerts from Cambridge; every other implemented source (NEOWISE, ALLWISE, ZTF) from IRSA
DATA_SERVICES = {name: {"url": os.environ.get("BENCH_GAIA_URL" if name == "Gaia Alerts" else "BENCH_IRSA_URL", "")}
                 for name in IMPLEMENTED_SOURCE_NAMES}
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "loggers": {"": {"level": "WARNING"}}}
