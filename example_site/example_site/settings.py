"""A minimal TOM Toolkit 3.1 site with tom_bhtom_brokers installed: what an operator's site looks like.

The demo points every broker at the offline sample archive (``SAMPLE_ARCHIVE_URL``); a real site
simply leaves ``DATA_SERVICES`` out, or sets only what it wants to change.
"""
import importlib.util
import json
import os
import tempfile

from tom_common.default_settings import *  # noqa: F401,F403

from tom_bhtom_brokers.brokers import IMPLEMENTED_SOURCE_NAMES
from tom_bhtom_brokers.sources import SURVEY_NAME_EXTRA_FIELDS

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-only-not-secret")
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
TOM_NAME = "BHTOM brokers demo"

INSTALLED_APPS = TOMTOOLKIT_INSTALLED_APPS + ["tom_bhtom_brokers", "demo"]  # noqa: F405
SITE_ID = 1
MIDDLEWARE = TOMTOOLKIT_MIDDLEWARE  # noqa: F405
ROOT_URLCONF = "example_site.urls"
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
WSGI_APPLICATION = "example_site.wsgi.application"

DATABASES = {"default": {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": os.environ.get("DEMO_DB", os.path.join(BASE_DIR, "db.sqlite3")),
    "OPTIONS": {"timeout": 30},
}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["tom_base.formats"]
STATIC_URL = "/static/"
STATIC_ROOT = os.path.join(BASE_DIR, "_static")
# TOM's pages load Bootstrap from a CDN; the demo serves the copy in Bootstrap-Flask's package (installed by the
# Makefile without Flask) when it is there, so the demo offline looks and behaves (menus) as a site online does
OFFLINE_BOOTSTRAP = importlib.util.find_spec("flask_bootstrap")
if OFFLINE_BOOTSTRAP is not None:
    STATICFILES_DIRS = [("offline", os.path.join(OFFLINE_BOOTSTRAP.submodule_search_locations[0], "static"))]
    BOOTSTRAP5 = {"css_url": {"url": STATIC_URL + "offline/bootstrap5/css/bootstrap.min.css"},
                  "javascript_url": {"url": "/offline/bootstrap.bundle.js"}}
MEDIA_ROOT = os.path.join(BASE_DIR, "data")
MEDIA_URL = "/data/"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                      "LOCATION": os.path.join(tempfile.gettempdir(), "bhtom_brokers_demo_cache")}}
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"": {"handlers": ["console"], "level": "WARNING"}},
}

TARGET_TYPE = "SIDEREAL"
# The survey-name fields in TOM's own target forms:
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

SAMPLE_ARCHIVE_URL = os.environ.get("SAMPLE_ARCHIVE_URL", "http://127.0.0.1:8765")
DATA_SERVICES = {name: {"url": SAMPLE_ARCHIVE_URL} for name in IMPLEMENTED_SOURCE_NAMES}
# CPCS needs a site's access key; the sample archive accepts any, a real site puts its own here (from the
# environment, never in the repository)
DATA_SERVICES["CPCS"]["access_key"] = os.environ.get("CPCS_ACCESS_KEY", "demo-key-for-the-sample-archive")
# ATLAS queues forced photometry with an account's API token (the sample archive emulates the queue and
# accepts this one); without a token, ATLAS reads the result a user pasted into the target's "ATLAS URL"
DATA_SERVICES["ATLAS"].update({"token": os.environ.get("ATLAS_TOKEN", "demo-token-for-the-sample-archive"),
                               "poll_seconds": 1})
# ZTF's forced-photometry service needs an IPAC account (e-mail and password); the sample archive accepts this one
DATA_SERVICES["ZTF FPS"].update({"email": os.environ.get("ZTF_FPS_EMAIL", "demo@example.org"),
                                 "password": os.environ.get("ZTF_FPS_PASSWORD", "demo-zfps-password"),
                                 "poll_seconds": 1})
# ASAS-SN by position goes through Sky Patrol v2's own client (an Arrow protocol to a fixed host); offline, the demo
# uses the sample archive's recorded client instead. A real site installs 'tom-bhtom-brokers[asassn]' and leaves
# this out
DATA_SERVICES["ASAS-SN"]["skypatrol_client"] = "tests.sample_archive.skypatrol.RecordedSkyPatrolClient"
# LINEAR's public sample is downloaded once and cached; the demo keeps its copy beside its database
DATA_SERVICES["LINEAR"]["cache_dir"] = os.path.join(MEDIA_ROOT, "linear_cache")
# to try an archive elsewhere (or, in the browser tests, one that never answers): a JSON object of settings per
# source, e.g. DEMO_DATA_SERVICES='{"PTF": {"url": "http://127.0.0.1:9", "timeout": 3}}'
for _name, _overrides in json.loads(os.environ.get("DEMO_DATA_SERVICES", "{}")).items():
    DATA_SERVICES[_name].update(_overrides)
