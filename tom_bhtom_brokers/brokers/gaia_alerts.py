"""Gaia Photometric Science Alerts (GSA), Institute of Astronomy, Cambridge.

Archive: https://gsaweb.ast.cam.ac.uk/alerts/ . Per-alert light curves at
``/alerts/alert/<name>/lightcurve.csv``, the index of all alerts at ``/alerts/alerts.csv``.
No authentication. Cite Hodgkin et al. 2021, A&A 652, A76 and acknowledge ESA Gaia, DPAC and
the Photometric Science Alerts Team.

Times: each row has a ``Date`` (UTC, to the second) and a JD column, labelled ``JD(TCB)`` in the current
layout. The stored time is the ``Date``: in the 2014-15 layout the JD has only three decimals (86 s steps)
and real files differ from their own ``Date`` by up to 42 s; in the current layout the two agree to under a
second. The JD is kept in each point's extras (``time_original``), the Date as ``date_original``.
Magnitudes are Gaia G (Vega) with no uncertainty: we give each point the single-epoch error model of
Hodgkin et al. 2021 (their polynomial in G, valid for 13 < G < 21; magnitudes outside are evaluated at the
nearest end of that range).
"""
import io
import threading
import time
from datetime import timedelta

import astropy.units as u
import numpy as np
import pandas as pd
from django import forms

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Located, Request
from tom_bhtom_brokers.data_service import ConeQueryForm
from tom_bhtom_brokers.exceptions import BrokerParseError, NoData
from tom_bhtom_brokers.lightcurve import Lightcurve, calendar_mjd
from tom_bhtom_brokers.sky import nearest_within, separations_arcsec
from tom_bhtom_brokers.sources import DataSource
from tom_bhtom_brokers.survey_names import GAIA_ALERT_NAME

#: the magnitude markers the archive writes for epochs without a usable measurement
NO_MAGNITUDE = frozenset({"untrusted", "null", "nan", ""})


def g_error_hodgkin2021(g_mag):
    """Single-epoch G uncertainty (mag) of Gaia Alerts photometry, Hodgkin et al. 2021, valid 13 < G < 21."""
    g = np.clip(np.asarray(g_mag, dtype=float), 13.0, 21.0)
    return 3.43779 - g / 1.13759 + (g / 3.44123) ** 2 - (g / 6.51996) ** 3 + (g / 11.45922) ** 4


def date_mjd(dates):
    """UTC MJD of the file's ``Date`` column (``YYYY-MM-DD hh:mm:ss``), whole-column; an unreadable date is an
    error, not a point at an invented time."""
    return calendar_mjd(dates, "%Y-%m-%d %H:%M:%S", "date")


def parse_alert_index(payload: bytes) -> pd.DataFrame:
    """``alerts.csv``: a ``#``-prefixed header with spaces after the commas, quoted comments with commas."""
    header = payload.split(b"\n", 1)[0].decode("utf-8")
    width = len(header.split(","))

    def drop_empty_trailing_fields(fields):
        # the oldest rows end with a stray comma after an empty TNSid: one field too many, and empty
        if any(f.strip() for f in fields[width:]):
            raise BrokerParseError(f"a row of the Gaia alert index has {len(fields)} fields: {fields[:2]}")
        return fields[:width]

    frame = pd.read_csv(io.BytesIO(payload), dtype=str, keep_default_na=False, skipinitialspace=True,
                        engine="python", on_bad_lines=drop_empty_trailing_fields)
    frame.columns = [c.strip().lstrip("#").strip() for c in frame.columns]
    missing = {"Name", "RaDeg", "DecDeg"} - set(frame.columns)
    if missing:
        raise BrokerParseError(f"the Gaia alert index has no {sorted(missing)} column(s)")
    frame["RaDeg"] = pd.to_numeric(frame["RaDeg"], errors="raise")
    frame["DecDeg"] = pd.to_numeric(frame["DecDeg"], errors="raise")
    return frame


class GaiaAlertsQueryForm(ConeQueryForm):
    """Find alerts by name or by a cone over the alert index."""

    alert_name = forms.CharField(label="Gaia Alerts name", required=False,
                                 help_text="e.g. Gaia18cbf; leave empty to search by position")
    ra = forms.FloatField(label="RA (deg)", required=False, min_value=0, max_value=360)
    dec = forms.FloatField(label="Dec (deg)", required=False, min_value=-90, max_value=90)

    def clean(self):
        data = super().clean()
        name = (data.get("alert_name") or "").strip()
        if name and not GAIA_ALERT_NAME.match(name):
            self.add_error("alert_name", "A Gaia Alerts name is 'Gaia', two digits and letters, e.g. Gaia18cbf.")
        if not name and (data.get("ra") is None or data.get("dec") is None):
            raise forms.ValidationError("Give an alert name, or RA and Dec.")
        return data


class GaiaAlertsBroker(BHTOMBroker):
    """Gaia Science Alerts light curves (G band), by alert name or by the nearest alert to the target."""

    source = DataSource.GAIA_ALERTS
    default_url = "https://gsaweb.ast.cam.ac.uk"
    match_radius = 2 * u.arcsec
    cadence = timedelta(days=1)
    telescope = "Gaia"
    verbose_name = "Gaia Photometric Science Alerts"
    citation = "Hodgkin et al. 2021, A&A 652, A76"
    probe = {"name": "Gaia18cbf", "survey_names": {"Gaia Alerts name": "Gaia18cbf"}}
    max_answer_bytes = 16 * 1024 * 1024
    #: the alert index is ~3 MB; one copy per process, refreshed hourly, serves every target
    index_ttl_seconds = 3600

    _index_cache = {}
    _index_lock = threading.Lock()

    located_by = ("name", "cone")

    def locate_by_cone(self, target):
        name = self.alert_near(target.ra, target.dec)
        if name is None:
            raise NoData(self.radius_note("Gaia alert"))
        return Located(target, name)

    def query(self, located):
        return [Request(f"/alerts/alert/{located.identifier}/lightcurve.csv")]

    def parse(self, payload, target):
        text = payload.decode("utf-8")
        if not text.endswith("\n"):
            # The archive ends every file with a newline; without it the last row may be cut short.
            raise BrokerParseError("the light curve ends mid-line (truncated response)")
        lines = text.splitlines()
        header_at = next((i for i, line in enumerate(lines[:3]) if line.startswith("#")), None)
        if header_at is None:
            raise BrokerParseError("no '#Date,JD,averagemag' header in the Gaia Alerts light curve")
        header = [h.strip().rstrip(".").lower() for h in lines[header_at].lstrip("#").split(",")]
        # Two layouts exist: '#Date,JD(TCB),averagemag' (current) and '#Date,JD,averagemag.' (2014-2015).
        if len(header) != 3 or header[0] != "date" or not header[1].startswith("jd") or header[2] != "averagemag":
            raise BrokerParseError(f"unexpected Gaia Alerts header {lines[header_at]!r}")
        alert_name = lines[0].strip() if header_at == 1 else ""
        rows = pd.read_csv(io.StringIO("\n".join(lines[header_at + 1:])), names=["date", "jd", "mag"],
                           dtype=str, keep_default_na=False, skip_blank_lines=True)
        jd = pd.to_numeric(rows["jd"], errors="raise")
        mag_text = rows["mag"].str.strip()
        mag = pd.to_numeric(mag_text, errors="coerce")
        unknown = mag.isna() & ~mag_text.str.lower().isin(NO_MAGNITUDE)
        if unknown.any():
            raise BrokerParseError(f"unreadable magnitude(s) {sorted(mag_text[unknown].unique())[:3]}")
        measured = mag.notna().to_numpy()
        jd, mag, rows = jd[measured].to_numpy(), mag[measured].to_numpy(), rows[measured]
        return Lightcurve.from_columns(
            mjd=date_mjd(rows["date"]),
            brightness=mag,
            brightness_error=g_error_hodgkin2021(mag),
            filter="G",
            unit="mag",
            telescope=self.telescope,
            time_original=jd,
            date_original=rows["date"].to_numpy(),
            matched_identifier=alert_name,
            extras={"time_system": "Date column (UTC, 1 s); time_original: the file's JD (labelled TCB)",
                    "magnitude_system": "Vega",
                    "error_model": "Hodgkin et al. 2021 single-epoch G error model"},
        )

    # --- by position, over the alert index -----------------------------------------------------------

    def alert_index(self):
        """The alert index, downloaded once per process and hour (it serves every target of a run)."""
        url = self.base_url
        with self._index_lock:
            cached = self._index_cache.get(url)
            if cached and time.monotonic() - cached[0] < self.index_ttl_seconds:
                return cached[1]
            index = self.read(self.request(Request("/alerts/alerts.csv")), parse_alert_index)
            self._index_cache[url] = (time.monotonic(), index)
            return index

    def alert_near(self, ra, dec):
        index = self.alert_index()
        nearest = nearest_within(index["RaDeg"].to_numpy(), index["DecDeg"].to_numpy(), ra, dec, self.radius)
        return None if nearest is None else index["Name"].iloc[nearest]

    # --- the Data Services query form --------------------------------------------------------------

    @classmethod
    def get_form_class(cls):
        return GaiaAlertsQueryForm

    def build_query_parameters(self, parameters, **kwargs):
        params = super().build_query_parameters(parameters)
        params["alert_name"] = (parameters.get("alert_name") or "").strip()
        return params

    result_columns = (("name", "Alert"), ("ra", "RA (deg)"), ("dec", "Dec (deg)"), ("alert_mag", "Alert mag (G)"),
                      ("class", "Class"), ("comment", "Comment"))

    def query_targets(self, query_parameters, **kwargs):
        index = self.alert_index()
        name = query_parameters.get("alert_name")
        if name:
            found = index[index["Name"] == name]
        else:
            radius = float(query_parameters.get("radius_arcsec") or self.radius.to_value(u.arcsec))
            separation = separations_arcsec(index["RaDeg"].to_numpy(), index["DecDeg"].to_numpy(),
                                            float(query_parameters["ra"]), float(query_parameters["dec"]))
            found = index[separation <= radius]
        return [{"name": row["Name"], "ra": row["RaDeg"], "dec": row["DecDeg"], "identifier": row["Name"],
                 "alert_mag": row.get("AlertMag", ""), "class": row.get("Class", ""),
                 "comment": row.get("Comment", "")}
                for row in found.head(100).to_dict("records")]
