"""The WSDB route: the survey catalogues BHTOM read from WSDB, the Cambridge "wide-survey database"
(PostgreSQL with the q3c extension; a personal account from its maintainers, S. Koposov).

A site with access sets the connection in ``DATA_SERVICES['WSDB']`` — ``host``, ``port`` (5432),
``dbname`` (``wsdb``), ``user``, ``password``, or a libpq ``service`` name — and switches a catalogue
broker to it with ``'route': 'wsdb'`` in that broker's settings (SDSS, PS1, FIRST, LINEAR): the broker's
chain then runs through :class:`WsdbRoute`. Queries are
parameterised (``%(ra)s`` placeholders; no SQL is built from values) and use ``q3c_radial_query``. Each
broker reads the rows into the same columns its public route reads, so both routes store the same points
for the same rows. The password is masked in every message. Needs ``psycopg`` (``pip install
'tom-bhtom-brokers[wsdb]'``); one connection per query, closed at once, as BHTOM did.
"""
import json

import astropy.units as u
import pandas as pd
from django.conf import settings

try:  # an optional dependency: only a site with a WSDB account installs it ([wsdb])
    import psycopg
except ImportError:
    psycopg = None

from tom_bhtom_brokers.steps import Located, Request
from tom_bhtom_brokers.exceptions import BrokerNotConfigured, BrokerServiceError
from tom_bhtom_brokers.transports.http import Response

CONNECTION_KEYS = ("host", "port", "dbname", "user", "password", "service", "sslmode")


def wsdb_settings():
    return dict(getattr(settings, "DATA_SERVICES", {}).get("WSDB", {}))


def run_query(sql, params, timeout=60.0):
    """(rows, column names) of one parameterised query on WSDB."""
    if psycopg is None:
        raise BrokerNotConfigured("the WSDB route needs psycopg: pip install 'tom-bhtom-brokers[wsdb]'")
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
    """The WSDB route of a catalogue broker: the same chain as its public route (``locate``, ``query``, ``send``,
    ``parse``), with the cone in the SQL (``q3c_radial_query``) and the rows as the answer. The rows reach the
    broker's ``light_curve`` with the column names its public route reads, so both store the same points."""

    def __init__(self, broker):
        self.broker = broker

    def locate(self, target):
        self.broker.locating_by(target)
        return Located(target)

    def query(self, located):
        target = located.target
        return [Request(f"wsdb:{self.broker.wsdb_table}", sql=self.broker.wsdb_sql, params={
            "ra": float(target.ra), "dec": float(target.dec), "radius_deg": self.broker.radius.to_value(u.deg)})]

    def send(self, req):
        rows, columns = run_query(req.sql, req.params, self.broker.timeout)
        content = json.dumps({"columns": columns, "rows": rows}, default=str).encode()
        return Response(url=req.path, status=200, headers={}, content=content)

    def parse(self, payload, target):
        answer = json.loads(payload)
        frame = pd.DataFrame(answer["rows"], columns=[c.lower() for c in answer["columns"]])
        return self.broker.light_curve(frame, target)


class HasWsdbRoute:
    """Mixin for a catalogue broker that can also read WSDB (``'route': 'wsdb'`` in its settings): it declares
    ``wsdb_table`` and ``wsdb_sql`` (with ``%(ra)s``, ``%(dec)s``, ``%(radius_deg)s``) and reads rows of either
    route in ``light_curve(frame, target)``."""

    #: the query on WSDB; its column names (lower case) are the ones ``light_curve`` reads
    wsdb_sql = ""

    @classmethod
    def check_configured(cls):
        super().check_configured()
        if cls.route() == "wsdb" and not (wsdb_settings().get("host") or wsdb_settings().get("service")):
            raise BrokerNotConfigured(f"{cls.name} is switched to WSDB, but settings.DATA_SERVICES['WSDB'] has no "
                                      "host or service")

    def secrets(self):
        return (*super().secrets(), str(wsdb_settings().get("password") or ""))

    def via(self):
        return WsdbRoute(self) if self.route() == "wsdb" else self

    def locating_by(self, target):
        if self.route() == "wsdb":  # WSDB is searched by position only
            self.require_position(target)
            return "cone"
        return super().locating_by(target)

    def queried_with(self, target):
        if self.route() == "wsdb" and target.has_position:
            return f"wsdb cone {target.ra:.6f} {target.dec:+.6f} r={self.radius.to_value(u.arcsec):g}\""
        return super().queried_with(target)
