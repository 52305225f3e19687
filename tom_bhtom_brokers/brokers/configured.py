"""What a site configures of an archive: ``settings.DATA_SERVICES[name]`` over the adapter's declared defaults
(``url``, ``timeout``, ``radius_arcsec``, ``cadence_hours``, ``route``, ``enabled``, credentials), and the HTTP
client each broker instance sends through (its retries, size cap, deadline and secrets from the same place)."""
from datetime import timedelta

import astropy.units as u
from django.conf import settings

from tom_bhtom_brokers.exceptions import BrokerNotConfigured
from tom_bhtom_brokers.sources import TARGET_NAME_KEYS
from tom_bhtom_brokers.target_info import TargetInfo
from tom_bhtom_brokers.transports.http import HttpClient


def site_url(source_name, default):
    """The address a site configured for an archive (``DATA_SERVICES[source_name]['url']``), else ``default``: for
    an adapter that reads another archive's service as a second route (LSST through ANTARES, AAVSO's VSX cone at
    VizieR, FIRST's service)."""
    return str(getattr(settings, "DATA_SERVICES", {}).get(source_name, {}).get("url") or default).rstrip("/")


class Configured:
    """The site's settings of one archive, read where they are used (a mixin of ``BHTOMBroker``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.http = HttpClient(timeout=self.timeout, retries=int(self.setting("retries", 3)),
                               backoff=float(self.setting("backoff_seconds", 1.0)),
                               max_retry_wait=float(self.setting("max_retry_wait", 60.0)),
                               max_bytes=int(self.setting("max_bytes", self.max_answer_bytes)),
                               deadline=self.setting("deadline_seconds"), secrets=self.secrets())

    @classmethod
    def configuration(cls):
        """The site's overrides from ``settings.DATA_SERVICES[name]``; empty (all defaults) when absent."""
        return dict(getattr(settings, "DATA_SERVICES", {}).get(cls.name, {}))

    @classmethod
    def setting(cls, key, default=None):
        return cls.configuration().get(key, default)

    @property
    def base_url(self):
        return str(self.setting("url", self.default_url)).rstrip("/")

    @property
    def timeout(self):
        return float(self.setting("timeout", self.default_timeout))

    @property
    def radius(self):
        if getattr(self, "_radius_override", None) is not None:
            return self._radius_override
        value = self.setting("radius_arcsec")
        return self.match_radius if value is None else float(value) * u.arcsec

    @classmethod
    def route(cls):
        """Which of its routes the broker takes (``via`` chooses the route object by it)."""
        return str(cls.setting("route", cls.default_route)).lower()

    @classmethod
    def cadence_interval(cls):
        """The configured cadence: ``cadence_hours`` in settings (None: read once) or the class default."""
        configured = cls.configuration()
        if "cadence_hours" in configured:
            hours = configured["cadence_hours"]
            return None if hours is None else timedelta(hours=float(hours))
        return cls.cadence

    def refreshes_incrementally(self):
        """Whether a refresh may ask for the recent part of the history only (an archive read on a cadence that
        takes a time range)."""
        return self.takes_time_range and self.cadence_interval() is not None

    def refresh_start(self, target: TargetInfo):
        """The MJD from which this fetch asks the archive (an incremental refresh), or None: the whole history."""
        return target.pair.refresh_from if self.refreshes_incrementally() else None

    def secrets(self):
        """Configured values that must never appear in an error, a log line or stored data."""
        return ()

    @classmethod
    def enabled(cls):
        return bool(cls.setting("enabled", True))

    @classmethod
    def check_configured(cls):
        missing = [key for key in cls.required_settings if not cls.setting(key)]
        if missing:
            raise BrokerNotConfigured(
                f"{cls.name} needs {', '.join(missing)} in settings.DATA_SERVICES['{cls.name}']")

    @classmethod
    def name_key(cls):
        """The label of the target-name field for this archive, or None for position-only archives."""
        return TARGET_NAME_KEYS.get(cls.source)

    def survey_name(self, target: TargetInfo):
        key = self.name_key()
        return target.survey_names.get(key) if key else None
