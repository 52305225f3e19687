"""ASAS-SN Sky Patrol v1 (All-Sky Automated Survey for Supernovae, The Ohio State University), V and g.

Archive: https://asas-sn.osu.edu . Sky Patrol v1 has no coordinate API: its light curves live at
per-job or per-object addresses, so the user pastes one into the target's "ASAS-SN URL" — a
``/sky-patrol/coordinate/<uuid>`` page (image-subtraction photometry computed on request), a
``/photometry/<uuid>`` page or a ``/variables/<id>`` page — and the broker reads the CSV export
that page offers (``.../export.csv``, ``/photometry/<uuid>.csv``, ``/variables/<id>.csv``). Only
addresses on asas-sn.osu.edu are accepted (``survey_names``); anything else is refused before any
request. The request goes to the configured ``url`` (the real host by default) with the page's path.
No authentication. Cite Shappee et al. 2014, ApJ 788, 48 and Kochanek et al. 2017, PASP 129, 104502.

Format: CSV read by header name, in either spelling v1 uses — ``HJD,UT Date,Camera,FWHM,Limit,mag,
mag_err,flux(mJy),flux_err,Filter`` (coordinate jobs and light-curve pages) or ``hjd,camera,mag,
mag_err,flux,flux_err`` (photometry and variables pages, no filter column: the legacy cameras
``ba``-``bh`` are V, all others g). ``mag`` is text: ``>14.093`` is a non-detection with that limit,
as is any row whose ``mag_err`` is the 99.99 sentinel; rows where every value is 99.99 are failed
measurements and are dropped. The file's last line has no newline.

Times: where the file has ``UT Date`` (geocentric UTC, ``YYYY-MM-DD.ddddddd``), that is the stored time:
in real exports the ``HJD`` column disagrees with it by up to 35 s (all rows of one camera offset by about
TAI-UTC; another export's HJD fits a direction 1.4 degrees from the target), so the HJD is kept only as
``time_original``. Pages without a UT column (``/photometry/``, ``/variables/``) give ``hjd`` alone: it is taken
as a heliocentric JD on the UTC scale and the light travel time to the Sun's centre is removed using the
target's coordinates (``lightcurve.geocentric_utc_mjd``). Cadence: daily (a coordinate job's export grows
as ASAS-SN observes).
"""
from datetime import timedelta
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Request, no_data, read_csv, require_complete
from tom_bhtom_brokers.exceptions import BrokerParseError
from tom_bhtom_brokers.lightcurve import Lightcurve, calendar_mjd, geocentric_utc_mjd
from tom_bhtom_brokers.sources import DataSource
from tom_bhtom_brokers.survey_names import asassn_export_path

SENTINEL = 99.99
V_CAMERAS = frozenset(("ba", "bb", "bc", "bd", "be", "bf", "bg", "bh"))


def ut_date_mjd(dates):
    """UTC MJD of v1's ``UT Date`` column (``YYYY-MM-DD.ddddddd``: a calendar date and the fraction of its
    day), whole-column; an unreadable date is an error."""
    parts = dates.str.strip().str.partition(".")
    day, fraction = parts[0], parts[2]
    fraction = pd.to_numeric("0." + fraction, errors="coerce")
    if fraction.isna().any():
        raise BrokerParseError(f"unreadable UT Date(s) {sorted(dates[fraction.isna()].unique())[:3]}")
    return calendar_mjd(day, "%Y-%m-%d", "UT Date") + fraction.to_numpy(dtype=float)


class AsassnBroker(BHTOMBroker):
    """ASAS-SN Sky Patrol v1 V/g light curve from the address the user pasted."""

    source = DataSource.ASASSN
    default_url = "https://asas-sn.osu.edu"
    cadence = timedelta(days=1)
    telescope = "ASAS-SN"
    verbose_name = "ASAS-SN Sky Patrol (v1)"
    citation = "Shappee et al. 2014, ApJ 788, 48; Kochanek et al. 2017, PASP 129, 104502"
    probe = {"name": "ASASSN-21qj", "ra": 123.84754, "dec": -38.98983, "survey_names": {
        "ASAS-SN URL": "https://asas-sn.osu.edu/sky-patrol/coordinate/5740d76a-4445-4b58-bc83-4f5b93cf6b31"}}

    located_by = ("name",)
    name_hint = "paste the target's Sky Patrol page into it"

    def locating_by(self, target):
        how = super().locating_by(target)
        self.require_position(target)  # an export without UT Date needs the direction for its HJD
        return how

    def query(self, located):
        return [Request(asassn_export_path(urlsplit(located.identifier).path))]

    def parse(self, payload, target):
        frame = read_csv(payload, (), "ASAS-SN CSV")
        frame.columns = [c.lower() for c in frame.columns]  # v1 writes HJD on some pages, hjd on others
        required = ("hjd", "mag", "mag_err", "camera")
        missing = [c for c in required if c not in frame.columns]
        if missing:
            raise BrokerParseError(f"the ASAS-SN CSV has no column(s) {missing}")
        if frame.empty:
            return no_data("the ASAS-SN export has no epochs yet")
        cells = require_complete(frame, required, "ASAS-SN CSV")
        hjd = pd.to_numeric(cells["hjd"], errors="raise").to_numpy()
        mag_text = cells["mag"]
        fainter = mag_text.str.startswith(">")
        mag = pd.to_numeric(mag_text.str.lstrip(">"), errors="raise").to_numpy()
        error = pd.to_numeric(cells["mag_err"], errors="raise").to_numpy()
        limit_column = pd.to_numeric(frame["limit"], errors="raise").to_numpy() if "limit" in frame else mag
        failed = (mag >= SENTINEL) & (error >= SENTINEL)
        is_limit = (fainter.to_numpy() | (error >= SENTINEL)) & ~failed
        detected = ~is_limit & ~failed
        camera = cells["camera"].to_numpy(dtype=object)
        if "filter" in frame:
            band = frame["filter"].str.strip().to_numpy(dtype=object)
        else:
            band = np.where(np.isin(camera, list(V_CAMERAS)), "V", "g").astype(object)
        keep = ~failed
        limit = np.where(fainter, mag, limit_column)  # '>14.093' carries the limit itself
        if "ut date" in frame:
            mjd, time_system = ut_date_mjd(frame["ut date"])[keep], "UT Date column (UTC, geocentric)"
        else:
            mjd = geocentric_utc_mjd(hjd[keep], target.ra, target.dec, format="jd", scale="utc", centre="heliocentric")
            time_system = "HJD (UTC) converted to UTC at the geocentre"
        return Lightcurve.from_columns(
            mjd=mjd,
            brightness=np.where(detected, mag, np.nan)[keep],
            brightness_error=np.where(detected, error, np.nan)[keep],
            limit=np.where(is_limit, limit, np.nan)[keep],
            filter=band[keep], unit="mag", telescope=self.telescope,
            time_original=hjd[keep], camera=camera[keep],
            extras={"time_system": f"stored: {time_system}; time_original: the file's HJD",
                    "magnitude_system": "ASAS-SN Sky Patrol v1 (V: Johnson-like, g: Sloan-like)",
                    "failed_epochs_dropped": int(failed.sum())})
