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

Sky Patrol v2 by position (a target without a pasted URL): v2 (ASAS-SN at IfA Hawaii; Hart et al. 2023,
arXiv:2304.03791) has a coordinate search, but only through its own client, which speaks an Arrow-serialised
protocol to ``asassn-lb01.ifa.hawaii.edu:9006``: ``pyasassn``'s ``SkyPatrolClient``, distributed on PyPI as
``skypatrol`` (``pip install 'tom-bhtom-brokers[asassn]'``; the ``pyasassn`` distribution pins pyarrow 4.0.1, which
has no build for Python 3.11). A cone on the ``master_list`` catalogue (``asas_sn_id``,
``ra_deg``, ``dec_deg``; 5 arcsec by default) gives the nearest star's ``asas_sn_id``, whose light curve
(``query_list(..., download=True)``) is read: columns ``jd``, ``flux``, ``flux_err``, ``mag``, ``mag_err``,
``limit``, ``fwhm``, ``camera`` (``cam`` in older clients), ``quality`` (G good, B bad: left out and counted) and
``phot_filter`` (else V for the ``ba``-``bh`` cameras, g for the others, as the client does). ``mag_err`` above 99
is a non-detection: a limit at ``limit``. Times: v2 names its column ``jd`` (the web export ``JD``) where v1
names its ``HJD``, and neither the client's documentation nor the sample's source says it is heliocentric: it is
stored as a geocentric JD on the UTC scale, kept in ``time_original`` (were it heliocentric, the error would be at
most 8.3 minutes). The client is the transport (``send``): its frame is written as CSV, fingerprinted and parsed
like any answer. v1 and v2 points are stored under the same source, told apart by ``pipeline`` ("Sky Patrol v1"
or "Sky Patrol v2") in the extras; a site may name another client factory in ``skypatrol_client`` (the
tests' recorded client).
"""
from datetime import timedelta
from urllib.parse import urlsplit

import astropy.units as u
import numpy as np
import pandas as pd
from django.utils.module_loading import import_string

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Located, Request
from tom_bhtom_brokers.brokers.reading import read_csv, require_complete
from tom_bhtom_brokers.fetching import no_data
from tom_bhtom_brokers.exceptions import (BrokerNotApplicable, BrokerNotConfigured, BrokerParseError,
                                          NoData)
from tom_bhtom_brokers.transports.http import Response
from tom_bhtom_brokers.transports.third_party import call_within
from tom_bhtom_brokers.sky import nearest_within
from tom_bhtom_brokers.lightcurve import Lightcurve, calendar_mjd, geocentric_utc_mjd
from tom_bhtom_brokers.sources import DataSource
from tom_bhtom_brokers.survey_names import asassn_export_path

SENTINEL = 99.99
V_CAMERAS = frozenset(("ba", "bb", "bc", "bd", "be", "bf", "bg", "bh"))
#: the path of a v2 light curve: not an address on any host, the client's query (``send``)
V2_PATH = "/skypatrol-v2/asas_sn_id/"
DEFAULT_CLIENT = "pyasassn.client.SkyPatrolClient"
#: where the v2 client sends its queries (fixed in the client), named in its errors
V2_SERVER = "http://asassn-lb01.ifa.hawaii.edu:9006/"


def camera_bands(camera):
    """V for the legacy cameras ba-bh, g for all others (ASAS-SN's rule; the v2 client's ``phot_filter``)."""
    return np.where(np.isin(camera, list(V_CAMERAS)), "V", "g").astype(object)


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
    """ASAS-SN V/g light curve: Sky Patrol v1 from the address the user pasted, else Sky Patrol v2 by position."""

    source = DataSource.ASASSN
    default_url = "https://asas-sn.osu.edu"
    cadence = timedelta(days=1)
    telescope = "ASAS-SN"
    verbose_name = "ASAS-SN Sky Patrol (v1 pasted pages, v2 by position)"
    citation = "Shappee et al. 2014, ApJ 788, 48; Kochanek et al. 2017, PASP 129, 104502"
    probe = {"name": "ASASSN-21qj", "ra": 123.84754, "dec": -38.98983, "survey_names": {
        "ASAS-SN URL": "https://asas-sn.osu.edu/sky-patrol/coordinate/5740d76a-4445-4b58-bc83-4f5b93cf6b31"}}

    #: a pasted Sky Patrol v1 page first; else Sky Patrol v2's cone, through its client
    located_by = ("name", "cone")
    match_radius = 5 * u.arcsec
    name_hint = "paste the target's Sky Patrol page into it"

    def locating_by(self, target):
        if not self.survey_name(target) and self.client_factory() is None:
            raise BrokerNotApplicable(f"no ASAS-SN URL ({self.name_hint}); by position it needs Sky Patrol v2's "
                                      "client: pip install 'tom-bhtom-brokers[asassn]'")
        how = super().locating_by(target)
        self.require_position(target)  # an export without UT Date needs the direction for its HJD
        return how

    @classmethod
    def client_factory(cls):
        """What makes a Sky Patrol v2 client (``skypatrol_client`` in settings), or None when the default client is
        not installed. A client the site named that cannot be imported is its configuration's error, said with
        the import's own words (never the pip hint for the default client)."""
        configured = cls.setting("skypatrol_client")
        try:
            return import_string(str(configured or DEFAULT_CLIENT))
        except ImportError as exc:
            if configured:
                raise BrokerNotConfigured(f"ASAS-SN's skypatrol_client {configured!r} cannot be imported: {exc}") \
                    from None
            return None

    @classmethod
    def check_configured(cls):
        super().check_configured()
        if cls.setting("skypatrol_client"):
            cls.client_factory()

    def skypatrol(self):
        """The Sky Patrol v2 client (made once per broker: making one asks the server for its catalogues)."""
        if getattr(self, "_skypatrol", None) is None:
            make = self.client_factory()
            self._skypatrol = self.asking_v2(lambda: make(verbose=False))
        return self._skypatrol

    def asking_v2(self, call):
        """``call()`` of the v2 client within the broker's deadline (``deadline_seconds``, else 3 x ``timeout``, as
        for HTTP), its failures (a refused port, the server's errors) as the archive's (``third_party``)."""
        return call_within(call, self.http.deadline, "ASAS-SN Sky Patrol v2", V2_SERVER)

    def locate_by_cone(self, target):
        client = self.skypatrol()
        radius = self.radius.to_value(u.arcsec)
        stars = self.asking_v2(lambda: client.cone_search(target.ra, target.dec, radius=radius, units="arcsec",
                                                          catalog="master_list"))
        if not isinstance(stars, pd.DataFrame) or not {"asas_sn_id", "ra_deg", "dec_deg"} <= set(stars.columns):
            raise BrokerParseError("the Sky Patrol v2 cone answer has no asas_sn_id, ra_deg and dec_deg")
        best = nearest_within(stars["ra_deg"].to_numpy(dtype=float), stars["dec_deg"].to_numpy(dtype=float),
                              target.ra, target.dec, self.radius)
        if best is None:
            raise NoData(f"no Sky Patrol v2 star within {radius:g} arcsec")
        return Located(target, f"{V2_PATH}{int(stars['asas_sn_id'].iloc[best])}", matched="")

    def query(self, located):
        if located.identifier.startswith(V2_PATH):
            return [Request(located.identifier)]
        return [Request(asassn_export_path(urlsplit(located.identifier).path))]

    def send(self, req):
        """v1: HTTP. v2: the client's light curve of one asas_sn_id, as CSV bytes (so the answer is fingerprinted,
        checked and parsed like any other)."""
        if not req.path.startswith(V2_PATH):
            return super().send(req)
        star = int(req.path[len(V2_PATH):])
        client = self.skypatrol()
        curves = self.asking_v2(lambda: client.query_list([star], catalog="master_list", id_col="asas_sn_id",
                                                          download=True))
        frame = getattr(curves, "data", None)
        if not isinstance(frame, pd.DataFrame):
            raise BrokerParseError("the Sky Patrol v2 client answered without a light-curve frame")
        return Response(f"{V2_SERVER}#asas_sn_id={star}", 200, {}, frame.to_csv(index=False).encode())

    def parse(self, payload, target):
        """Either pipeline's CSV, read by header name: v2's frame has a ``jd`` column, v1's exports ``HJD`` (or
        ``hjd``)."""
        frame = read_csv(payload, (), "ASAS-SN CSV")
        frame.columns = [c.lower() for c in frame.columns]  # v1 writes HJD on some pages, hjd on others
        v2 = "jd" in frame.columns
        frame = frame.rename(columns={"cam": "camera"})  # v2: older clients' name
        required = ("jd", "mag", "mag_err", "limit", "camera") if v2 else ("hjd", "mag", "mag_err", "camera")
        what = "Sky Patrol v2 light curve" if v2 else "ASAS-SN CSV"
        missing = [c for c in required if c not in frame.columns]
        if missing:
            raise BrokerParseError(f"the {what} has no column(s) {missing}")
        if frame.empty:
            return no_data(f"the {what} has no epochs yet")
        cells = require_complete(frame, required, what)
        return self.parse_v2(frame, cells) if v2 else self.parse_v1(frame, cells, target)

    def parse_v2(self, frame, cells):
        jd, mag, error, limit = (pd.to_numeric(cells[c], errors="raise").to_numpy(dtype=float)
                                 for c in ("jd", "mag", "mag_err", "limit"))
        camera = cells["camera"].to_numpy(dtype=object)
        band = frame["phot_filter"].str.strip().to_numpy(dtype=object) if "phot_filter" in frame \
            else camera_bands(camera)
        bad = (frame["quality"].str.strip() == "B").to_numpy() if "quality" in frame else np.zeros(len(frame), bool)
        is_limit = error > 99
        keep = ~bad
        lightcurve = Lightcurve.from_columns(
            mjd=(jd - 2400000.5)[keep], brightness=np.where(is_limit, np.nan, mag)[keep],
            brightness_error=np.where(is_limit, np.nan, error)[keep], limit=np.where(is_limit, limit, np.nan)[keep],
            filter=band[keep], unit="mag", telescope=self.telescope, time_original=jd[keep], camera=camera[keep],
            fwhm=pd.to_numeric(frame["fwhm"], errors="coerce").to_numpy(dtype=float)[keep] if "fwhm" in frame
            else np.nan,
            extras={"pipeline": "Sky Patrol v2", "time_system": "jd, taken as a geocentric JD (UTC); stored as MJD",
                    "magnitude_system": "ASAS-SN Sky Patrol v2 (V: Johnson-like, g: Sloan-like; ATLAS Refcat2)"})
        lightcurve.tallies = {"bad quality": int(bad.sum())}
        return lightcurve

    tally_notes = {"bad quality": "{n} Sky Patrol v2 epoch(s) of bad quality (B) left out",
                   "failed": "{n} failed Sky Patrol v1 epoch(s) (99.99 magnitude and error) left out"}

    def parse_v1(self, frame, cells, target):
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
        band = frame["filter"].str.strip().to_numpy(dtype=object) if "filter" in frame else camera_bands(camera)
        keep = ~failed
        limit = np.where(fainter, mag, limit_column)  # '>14.093' carries the limit itself
        if "ut date" in frame:
            mjd, time_system = ut_date_mjd(frame["ut date"])[keep], "UT Date column (UTC, geocentric)"
        else:
            mjd = geocentric_utc_mjd(hjd[keep], target.ra, target.dec, format="jd", scale="utc", centre="heliocentric")
            time_system = "HJD (UTC) converted to UTC at the geocentre"
        lightcurve = Lightcurve.from_columns(
            mjd=mjd,
            brightness=np.where(detected, mag, np.nan)[keep],
            brightness_error=np.where(detected, error, np.nan)[keep],
            limit=np.where(is_limit, limit, np.nan)[keep],
            filter=band[keep], unit="mag", telescope=self.telescope,
            time_original=hjd[keep], camera=camera[keep],
            extras={"pipeline": "Sky Patrol v1", "time_system": f"stored: {time_system}; time_original: the file's HJD",
                    "magnitude_system": "ASAS-SN Sky Patrol v1 (V: Johnson-like, g: Sloan-like)"})
        lightcurve.tallies = {"failed": int(failed.sum())}
        return lightcurve
