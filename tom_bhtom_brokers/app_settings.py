"""The app-wide settings a site may give in ``settings.BHTOM_BROKERS`` (per-archive ones are in
``settings.DATA_SERVICES``): read at the moment they are needed, so tests and sites may change them."""
from django.conf import settings


def app_setting(key, default):
    """``settings.BHTOM_BROKERS[key]``, or ``default`` when the site does not set it."""
    return getattr(settings, "BHTOM_BROKERS", {}).get(key, default)
