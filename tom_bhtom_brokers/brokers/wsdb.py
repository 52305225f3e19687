"""The WSDB route: the survey catalogues BHTOM read from WSDB, the Cambridge "wide-survey database"
(PostgreSQL with the q3c extension; a personal account from its maintainers, S. Koposov).

A site with access sets the connection in ``DATA_SERVICES['WSDB']`` — ``host``, ``port`` (5432),
``dbname`` (``wsdb``), ``user``, ``password``, or a libpq ``service`` name — and switches a catalogue
broker to it with ``'route': 'wsdb'`` in that broker's settings (SDSS, PS1, FIRST, LINEAR). Queries are
parameterised (``%(ra)s`` placeholders; no SQL is built from values) and use ``q3c_radial_query``. Each
broker reads the rows into the same columns its public route reads, so both routes store the same points
for the same rows. The password is masked in every message. Needs ``psycopg`` (``pip install
'tom-bhtom-brokers[wsdb]'``); one connection per query, closed at once, as BHTOM did.
"""
import json

import astropy.units as u
import pandas as pd

from tom_bhtom_brokers.brokers.base import PARSE_FAILURES, fingerprint
from tom_bhtom_brokers.exceptions import BrokerNotConfigured, BrokerParseError, BrokerServiceError

CONNECTION_KEYS = ("host", "port", "dbname", "user", "password", "service", "sslmode")


def wsdb_settings():
    from django.conf import settings

    return dict(getattr(settings, "DATA_SERVICES", {}).get("WSDB", {}))


def run_query(sql, params, timeout=60.0):
    """(rows, column names) of one parameterised query on WSDB."""
    try:
        import psycopg
    except ImportError:
        raise BrokerNotConfigured("the WSDB route needs psycopg: pip install 'tom-bhtom-brokers[wsdb]'") from None
    configured = wsdb_settings()
    connection = {key: configured[key] for key in CONNECTION_KEYS if configured.get(key) not in (None, "")}
    connection.setdefault("dbname", "wsdb")
    try:
        with psycopg.connect(**connection, connect_timeout=max(1, int(timeout))) as conn:
            with conn.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {int(timeout * 1000)}")
                cursor.execute(sql, params)
                return cursor.fetchall(), [column.name for column in cursor.description]
    except psycopg.Error as exc:
        where = f"wsdb://{connection.get('host') or connection.get('service') or 'localhost'}"
        raise BrokerServiceError(f"WSDB query failed: {str(exc).strip()[:300]}", url=where) from None


class WsdbRoute:
    """Mixin for a catalogue broker with a public route (``fetch_public``) and a WSDB route
    (``wsdb_sql`` with ``%(ra)s``, ``%(dec)s``, ``%(radius_deg)s``; rows read by ``light_curve``)."""

    #: the query on WSDB; its column names (lower case) are the ones ``light_curve`` reads
    wsdb_sql = ""

    @classmethod
    def route(cls):
        return str(cls.setting("route", "public")).lower()

    @classmethod
    def check_configured(cls):
        super().check_configured()
        if cls.route() == "wsdb" and not (wsdb_settings().get("host") or wsdb_settings().get("service")):
            raise BrokerNotConfigured(f"{cls.name} is switched to WSDB, but settings.DATA_SERVICES['WSDB'] has no "
                                      "host or service")

    def secrets(self):
        return (*super().secrets(), str(wsdb_settings().get("password") or ""))

    def fetch(self, target):
        return self.fetch_wsdb(target) if self.route() == "wsdb" else self.fetch_public(target)

    def fetch_wsdb(self, target):
        self.require_position(target)
        rows, columns = run_query(self.wsdb_sql, {"ra": float(target.ra), "dec": float(target.dec),
                                                  "radius_deg": self.radius.to_value(u.deg)}, self.timeout)
        digest = fingerprint(json.dumps([columns, rows], default=str).encode())
        where = f"wsdb:{self.wsdb_table}"

        def parse():
            frame = pd.DataFrame(rows, columns=[c.lower() for c in columns])
            try:
                return self.light_curve(frame, target).cleaned(self.source)
            except PARSE_FAILURES as exc:
                raise BrokerParseError(f"could not read the WSDB rows: {exc}", url=where) from exc

        return self.unless_unchanged(target, digest, where, parse)
