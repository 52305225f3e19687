"""A minimal TOM Toolkit 3.1 site for the tests: TOM's default apps plus ours, SQLite, no network."""
import os
import tempfile

from tom_common.default_settings import *  # noqa: F401,F403 - TOM's documented way to start a site

from tom_bhtom_brokers.sources import SURVEY_NAME_EXTRA_FIELDS

BASE_DIR = os.path.dirname(os.path.abspath(__file__))
SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
TOM_NAME = "tom_bhtom_brokers tests"

INSTALLED_APPS = TOMTOOLKIT_INSTALLED_APPS + ["tom_bhtom_brokers"]  # noqa: F405
SITE_ID = 1
MIDDLEWARE = TOMTOOLKIT_MIDDLEWARE  # noqa: F405
ROOT_URLCONF = "tests.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.debug",
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Subprocesses started by the tests (concurrent runs, db_worker) reach the test's database and sample
# archive through these variables; pytest itself uses the defaults.
TEST_SQLITE = os.path.join(tempfile.gettempdir(), f"tom_bhtom_brokers_test_db_{os.getpid()}.sqlite3")
if os.environ.get("BHTOM_TEST_PG"):
    host, port, name = os.environ["BHTOM_TEST_PG"].split(":")
    DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "HOST": host, "PORT": port, "NAME": name,
                             "USER": "postgres"}}
else:
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("BHTOM_TEST_SQLITE", TEST_SQLITE),
        # django-tasks' db_worker needs EXCLUSIVE transactions on SQLite
        "OPTIONS": {"timeout": 60, "transaction_mode": "EXCLUSIVE"},
        "TEST": {"NAME": TEST_SQLITE},
    }}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = os.path.join(tempfile.gettempdir(), "tom_bhtom_brokers_static")
MEDIA_ROOT = os.path.join(tempfile.gettempdir(), "tom_bhtom_brokers_media")
MEDIA_URL = "/data/"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
TASKS = {"default": {"BACKEND": "django_tasks.backends.database.DatabaseBackend"
                     if os.environ.get("BHTOM_TEST_TASKS") == "database"
                     else "django_tasks.backends.immediate.ImmediateBackend"}}

TARGET_TYPE = "SIDEREAL"
EXTRA_FIELDS = SURVEY_NAME_EXTRA_FIELDS
AUTH_STRATEGY = "READ_ONLY"
OPEN_URLS = []
TARGET_PERMISSIONS_ONLY = True
TARGET_DEFAULT_PERMISSION = "PUBLIC"
HOOKS = {
    "target_post_save": "tom_common.hooks.target_post_save",
    "observation_change_state": "tom_common.hooks.observation_change_state",
    "data_product_post_upload": "tom_dataproducts.hooks.data_product_post_upload",
    "data_product_post_save": "tom_dataproducts.hooks.data_product_post_save",
    "multiple_data_products_post_save": "tom_dataproducts.hooks.multiple_data_products_post_save",
}
DATA_PRODUCT_TYPES = {"photometry": ("photometry", "Photometry")}
DATA_PROCESSORS = {"photometry": "tom_dataproducts.processors.photometry_processor.PhotometryProcessor"}
TOM_FACILITY_CLASSES = []
HINTS_ENABLED = False
HINT_LEVEL = 20
AUTO_THUMBNAILS = False
THUMBNAIL_MAX_SIZE = (0, 0)
THUMBNAIL_DEFAULT_SIZE = (200, 200)
TARGET_LIST_COLUMNS = ["name", "type", "observations", "saved_data"]
PLOTLY_THEME = "plotly_white"
SHOW_PAGINATION_INFO = True
MATCH_MANAGERS = {}
GENERAL_SEARCH_FUNCTIONS = {}
SELECTION_EXTRA_FIELDS = []
FORMAT_MODULE_PATH = ["tom_base.formats"]

# Each test points the brokers at the sample archive (tests/conftest.py); nothing reaches the internet.
DATA_SERVICES = {name: {"url": os.environ["BHTOM_TEST_ARCHIVE_URL"], "timeout": 5, "backoff_seconds": 0.05}
                 for name in ("Gaia Alerts", "NEOWISE")} if os.environ.get("BHTOM_TEST_ARCHIVE_URL") else {}
BHTOM_BROKERS = {"max_requests_per_host": 4}
