"""Gaia DR3 epoch photometry (G, BP, RP) from the ESA Gaia Archive.

Archive: https://gea.esac.esa.int/archive/ . The source is found through the archive's TAP service
(``/tap-server/tap``, ADQL on ``gaiadr3.gaia_source``, sent by pyvo, a VOTable) and its light curve is read from the
DataLink data server (``/data-server/data``, ``RETRIEVAL_TYPE=EPOCH_PHOTOMETRY``, a zip with one file
per source). No authentication. Cite Gaia Collaboration, Vallenari et al. 2023, A&A 674, A1 and
Eyer et al. 2023, A&A 674, A13 (epoch photometry); acknowledge ESA Gaia and DPAC.

Which source: the target's "Gaia DR3 id" when set. Otherwise the source nearest to the target within
1 arcsec, after moving each candidate from Gaia's epoch J2016.0 back to the target's epoch (TOM's
``epoch``, J2000 by default) with its own proper motion (none for two-parameter solutions). The cone
sent to the archive is widened by ``max_proper_motion`` (0.5 arcsec/yr) times the epoch difference so
that a fast-moving star is not missed. The id found is recorded in the target's "Gaia DR3 id".

Layouts: the data server answered one row per band and transit (``band``, ``time``, ``mag``,
``flux_over_error``, ``rejected_by_photometry``, ``rejected_by_variability``) until late 2024, and
one row per transit (``g_transit_time``, ``g_transit_mag``, ``bp_obs_time``, ...,
``variability_flag_g_reject``, ...) since; mirrors and cached files of both exist. Both are read,
from CSV or VOTable members of the zip, by their header.

Points: transits rejected by DPAC's photometry or variability processing are dropped (the epoch
photometry paper recommends so for science use); the other flags (``other_flags``), ``transit_id``
and ``solution_id`` are kept in the extras. Vega magnitudes; the error is
``sqrt((2.5 / ln 10 / flux_over_error)**2 + sigma_zp**2)`` with the band's zero-point uncertainty of
Riello et al. 2021, A&A 649, A3.

Times: ``time`` is the barycentric JD in TCB minus 2455197.5. It is converted to UTC at the Earth's
centre: TCB to TDB to UTC, and the light travel time from the Earth to the barycentre along the
target's direction removed (:func:`~tom_bhtom_brokers.lightcurve.geocentric_utc_mjd`). Gaia sits at
L2, 1.5 million km (at most 5 light-seconds) from the Earth; that offset is not modelled. The
original value is kept in each point's extras. Cadence: none (a data release, read once).
"""
import warnings

import astropy.units as u
import numpy as np
import pandas as pd
from astropy.coordinates import SkyCoord
from astropy.table import Table
from astropy.time import Time
from erfa import ErfaWarning

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Located, Request
from tom_bhtom_brokers.brokers.reading import read_csv, refuse_absurd_width, separation_note
from tom_bhtom_brokers.fetching import no_data
from tom_bhtom_brokers.transports.tap import read_votable
from tom_bhtom_brokers.exceptions import BrokerParseError, NoData
from tom_bhtom_brokers.lightcurve import Lightcurve, geocentric_utc_mjd
from tom_bhtom_brokers.sky import separations_arcsec
from tom_bhtom_brokers.sources import DataSource
from tom_bhtom_brokers.survey_names import GAIA_DR3_ID
from tom_bhtom_brokers.unpacking import zip_members

GAIA_EPOCH = 2016.0
#: one source's epoch photometry is one file of ~100 kB: limits on what a zip answer may unpack to
#: (``max_members`` and ``max_unpacked_bytes`` in settings)
MAX_MEMBERS = 100
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
#: Gaia's time origin: ``time`` is BJD(TCB) - 2455197.5
TIME_ZERO_JD = 2455197.5
#: uncertainty of each band's photometric zero point (mag), Riello et al. 2021, Table 2
ZERO_POINT_ERROR = {"G": 0.0027553202, "BP": 0.0027901700, "RP": 0.0037793818}
ONE_ROW_PER_BAND = ("band", "time", "mag", "flux_over_error")
#: the one-row-per-transit layout: band -> (time, magnitude, flux/error, variability rejection, other flags)
ONE_ROW_PER_TRANSIT = {
    "G": ("g_transit_time", "g_transit_mag", "g_transit_flux_over_error", "variability_flag_g_reject",
          "g_other_flags"),
    "BP": ("bp_obs_time", "bp_mag", "bp_flux_over_error", "variability_flag_bp_reject", "bp_other_flags"),
    "RP": ("rp_obs_time", "rp_mag", "rp_flux_over_error", "variability_flag_rp_reject", "rp_other_flags"),
}
CONE_COLUMNS = ("source_id", "ra", "dec", "pmra", "pmdec", "has_epoch_photometry")


def flag(frame, name):
    """A boolean column as VOTable (bool), CSV (``true``/``false``) or ``T``/``F`` give it; absent or empty
    cells are False."""
    if name not in frame:
        return np.zeros(len(frame), dtype=bool)
    column = frame[name]
    if column.dtype == bool:
        return column.to_numpy()
    return column.astype(str).str.strip().str.lower().isin(("true", "t", "1")).to_numpy()


def numbers(frame, name, fill=np.nan):
    """A numeric column; empty cells (a transit without BP/RP, a rejected flux) are NaN, anything else that
    is not a number is an error."""
    if name not in frame:
        return np.full(len(frame), fill)
    column = frame[name]
    if column.dtype == object:
        text = column.astype(str).str.strip()
        column = text.where(~text.str.lower().isin(("", "nan", "null", "none", "--")))
    return pd.to_numeric(column, errors="raise").to_numpy(dtype=float)


def per_band_rows(frame):
    """The one-row-per-transit layout rearranged into the one-row-per-band one (the common shape)."""
    parts = []
    n = len(frame)

    def column(name, default):
        return frame[name].to_numpy() if name in frame else np.full(n, default, dtype=object)

    for band, (time, mag, over_error, variability, other) in ONE_ROW_PER_TRANSIT.items():
        if time not in frame:
            continue
        parts.append(pd.DataFrame({
            "source_id": column("source_id", ""), "transit_id": column("transit_id", ""),
            "band": np.full(n, band, dtype=object), "time": column(time, ""), "mag": column(mag, ""),
            "flux_over_error": column(over_error, ""),
            "rejected_by_photometry": column("rejected_by_photometry", "false"),
            "rejected_by_variability": column(variability, "false"),
            "other_flags": column(other, "0"), "solution_id": column("solution_id", ""),
        }))
    if not parts:
        raise BrokerParseError("the Gaia epoch photometry has no g_transit_time, bp_obs_time or rp_obs_time column")
    return pd.concat(parts, ignore_index=True)


def read_member(name, content):
    """One file of the DataLink zip as a DataFrame of strings/values, whatever format it was asked in."""
    lower = name.lower()
    what = f"Gaia epoch photometry file {name!r}"
    if lower.endswith(".csv"):
        return read_csv(content, (), what, comment="#")
    if lower.endswith((".xml", ".vot", ".votable")):
        return read_votable(content, what=what).to_pandas()
    if lower.endswith(".ecsv"):
        header = content[:content.find(b"\n# schema") if b"\n# schema" in content else 0]
        refuse_absurd_width(header.count(b"- {name:"), what)
        return Table.read(content.decode("utf-8"), format="ascii.ecsv").to_pandas()
    raise BrokerParseError(f"unexpected file {name!r} in the Gaia epoch photometry zip")


def epoch_photometry_rows(payload: bytes, max_members=MAX_MEMBERS, max_bytes=MAX_UNPACKED_BYTES) -> pd.DataFrame:
    """Every source's rows of a DataLink EPOCH_PHOTOMETRY zip, in the one-row-per-band layout; at most
    ``max_members`` files unpacking to ``max_bytes`` (``unpacking.zip_members``)."""
    frames = []
    for member, content in zip_members(payload, max_members, max_bytes, "Gaia epoch photometry zip"):
        frame = read_member(member, content)
        if all(c in frame for c in ONE_ROW_PER_BAND):
            frames.append(frame)
        elif "transit_id" in frame and "source_id" in frame:
            frames.append(per_band_rows(frame))
        else:
            raise BrokerParseError(f"{member!r} is in neither Gaia epoch photometry layout "
                                   f"(columns {list(frame.columns)[:6]})")
    if not frames:
        return pd.DataFrame(columns=list(ONE_ROW_PER_BAND))
    return pd.concat(frames, ignore_index=True)


class GaiaDR3Broker(BHTOMBroker):
    """Gaia DR3 G/BP/RP epoch photometry of one Gaia source."""

    source = DataSource.GAIA_DR3
    default_url = "https://gea.esac.esa.int"
    match_radius = 1 * u.arcsec
    cadence = None
    telescope = "Gaia"
    verbose_name = "Gaia DR3 epoch photometry (ESA Gaia Archive)"
    citation = "Gaia Collaboration, Vallenari et al. 2023, A&A 674, A1; Eyer et al. 2023, A&A 674, A13"
    probe = {"name": "Gaia20fnr", "ra": 90.26701, "dec": -18.96770}
    #: fastest proper motion the widened cone allows for (arcsec/yr)
    max_proper_motion = 0.5

    located_by = ("name", "cone")

    def locating_by(self, target):
        self.require_position(target)  # the barycentric correction needs the direction, whichever way it is found
        return super().locating_by(target)

    def locate_by_name(self, target, name):
        self.valid_name(name)
        return Located(target, GAIA_DR3_ID.match(name.strip()).group(1))

    def locate_by_cone(self, target):
        found = self.ask(self.cone_request(target), lambda payload: self.nearest(payload, target))
        if found is None:
            raise NoData(self.radius_note("Gaia DR3 source"))
        source_id, separation, has_epoch_photometry = found
        if not has_epoch_photometry:
            # not recorded as the target's "Gaia DR3 id": the next update would then ask DataLink for a light
            # curve the archive does not have, instead of looking again
            raise NoData(f"Gaia DR3 {source_id} ({separation:.2f} arcsec away) has no epoch photometry")
        return Located(target, source_id, note=separation_note(separation))

    def query(self, located):
        return [Request("/data-server/data", params={
            "RETRIEVAL_TYPE": "EPOCH_PHOTOMETRY", "ID": located.identifier, "RELEASE": "Gaia DR3",
            "DATA_STRUCTURE": "INDIVIDUAL", "FORMAT": "csv", "VALID_DATA": "false", "USE_ZIP_ALWAYS": "true"})]

    # --- the cone on gaia_source ----------------------------------------------------------------------

    def years_to_gaia_epoch(self, target):
        return GAIA_EPOCH - target.epoch

    def cone_request(self, target):
        widened = self.radius + abs(self.years_to_gaia_epoch(target)) * self.max_proper_motion * u.arcsec
        adql = (f"SELECT {', '.join(CONE_COLUMNS)} FROM gaiadr3.gaia_source WHERE 1 = CONTAINS("
                f"POINT('ICRS', ra, dec), CIRCLE('ICRS', {target.ra:.7f}, {target.dec:.7f}, "
                f"{widened.to_value(u.deg):.8f}))")
        return Request("/tap-server/tap", adql=adql)

    def nearest(self, payload, target):
        """(source_id, separation arcsec, has epoch photometry) of the source nearest to the target at the
        target's epoch, or None when none lies within the radius."""
        frame = read_votable(payload, CONE_COLUMNS, "Gaia DR3 cone answer").to_pandas()
        if frame.empty:
            return None
        # each candidate moved from Gaia's epoch to the target's with its own proper motion (mu_alpha* is
        # already times cos dec; none for two-parameter solutions); no parallax: the move is a few arcsec at most
        at_gaia_epoch = SkyCoord(ra=numbers(frame, "ra") * u.deg, dec=numbers(frame, "dec") * u.deg,
                                 pm_ra_cosdec=np.nan_to_num(numbers(frame, "pmra")) * u.mas / u.yr,
                                 pm_dec=np.nan_to_num(numbers(frame, "pmdec")) * u.mas / u.yr,
                                 obstime=Time(GAIA_EPOCH, format="jyear"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ErfaWarning)  # "distance overridden": none is given, on purpose
            then = at_gaia_epoch.apply_space_motion(new_obstime=Time(target.epoch, format="jyear"))
        separation = separations_arcsec(then.ra.deg, then.dec.deg, target.ra, target.dec)
        best = int(np.nanargmin(separation))
        if separation[best] > self.radius.to_value(u.arcsec):
            return None
        return (str(frame["source_id"].iloc[best]).strip(), float(separation[best]),
                bool(flag(frame, "has_epoch_photometry")[best]))

    # --- the epoch photometry -------------------------------------------------------------------------

    def parse(self, payload, target):
        rows = epoch_photometry_rows(payload, int(self.setting("max_members", MAX_MEMBERS)),
                                     int(self.setting("max_unpacked_bytes", MAX_UNPACKED_BYTES)))
        if rows.empty:
            return no_data("the Gaia archive holds no epoch photometry for this source")
        source_ids = sorted(set(rows["source_id"].astype(str).str.strip()))
        if len(source_ids) > 1:
            raise BrokerParseError(f"the Gaia epoch photometry holds several sources {source_ids[:3]}")
        time, mag, over_error = numbers(rows, "time"), numbers(rows, "mag"), numbers(rows, "flux_over_error")
        band = rows["band"].astype(str).str.strip().to_numpy(dtype=object)
        keep = np.isfinite(time) & np.isfinite(mag) & (over_error > 0) \
            & ~flag(rows, "rejected_by_photometry") & ~flag(rows, "rejected_by_variability")
        rejected = int((~keep).sum())
        zero_point = pd.Series(band).map(ZERO_POINT_ERROR).fillna(0.0).to_numpy()
        error = np.hypot(2.5 / np.log(10) / over_error, zero_point)
        time, rows = time[keep], rows[keep]
        lightcurve = Lightcurve.from_columns(
            mjd=geocentric_utc_mjd(time + TIME_ZERO_JD, target.ra, target.dec, format="jd", scale="tcb"),
            brightness=mag[keep], brightness_error=error[keep], filter=band[keep], unit="mag",
            telescope=self.telescope,
            time_original=time, transit_id=rows["transit_id"].astype(str).to_numpy(dtype=object),
            other_flags=np.nan_to_num(numbers(rows, "other_flags", 0)).astype("int64"),
            matched_identifier=source_ids[0],
            extras={"time_system": "original: BJD(TCB) - 2455197.5; stored: UTC at the geocentre",
                    "magnitude_system": "Vega", "solution_id": str(rows["solution_id"].iloc[0]) if len(rows) else "",
                    "error_model": "1.0857/flux_over_error and the zero-point error in quadrature",
                    "transits_rejected_by_dpac": rejected})
        if not len(lightcurve):
            lightcurve.note = f"all {rejected} transits of Gaia DR3 {source_ids[0]} are rejected by DPAC"
        return lightcurve
