"""The one shape between ``parse`` and ``store``: a columnar light curve in UTC, and time conversions.

Columns (one row per measurement):

``mjd``                          UTC MJD of the measurement (mid-exposure where the archive says so)
``brightness``/``brightness_error``  magnitude or flux and its error; NaN for a non-detection
``limit``                        limiting magnitude/flux of a non-detection, else NaN
``unit``                         ``mag`` or a flux unit such as ``mJy``
``filter``                       the survey's own filter label (``G``, ``W1``, ...)

Optional columns ``telescope``, ``instrument`` and ``exposure_time`` go to the datum's fields of the
same name; every other column is a per-point extra stored in the datum's ``value`` JSON, together
with :attr:`Lightcurve.extras` (facts true of every point, such as the magnitude system).

Conventions the target page and the download rely on: ``time_system`` (an extra) says what the
archive's time was; where the broker converted it, the archive's own value is the per-point column
``time_original``.
"""
import logging

import astropy.units as u
import erfa
import numpy as np
import pandas as pd
from astropy.constants import c
from astropy.coordinates import get_body_barycentric_posvel
from astropy.time import Time

from tom_bhtom_brokers.exceptions import BrokerParseError
from tom_bhtom_brokers.sources import FILTERS, DataSource

logger = logging.getLogger(__name__)

#: UTC MJDs of 0001-01-01 and 9999-12-31: the times a Python datetime (and so Django) can hold
MIN_STORABLE_MJD, MAX_STORABLE_MJD = -678575.0, 2973483.0
REQUIRED_COLUMNS = ("mjd", "brightness", "brightness_error", "limit", "unit", "filter")
DATUM_COLUMNS = ("telescope", "instrument", "exposure_time")


class Lightcurve:
    """A light curve as a pandas DataFrame with the standard columns, plus what the archive's answer says of it.

    ``matched_identifier`` is the archive's own id of the object the points belong to (found by
    name or by cone), ``extras`` the per-light-curve facts copied into every point's ``value``. What the fetch
    learned besides (the URL, the answer's fingerprint, the range asked, a job waiting) is the pair's
    ``steps.PairAnswer``, not the light curve's.
    """

    def __init__(self, frame, matched_identifier="", extras=None):
        missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"Lightcurve is missing columns {missing}")
        self.frame = frame.reset_index(drop=True)
        self.matched_identifier = matched_identifier or ""
        self.extras = dict(extras or {})
        #: what the status line says of this answer (why there are no points, what was left out)
        self.note = ""
        #: counts of what the broker left out of the answer (rows failing its filters), summed over the answers of
        #: one light curve and said in the status message; never stored with the points, since an answer asked
        #: for another range has other counts and the same point must stay the same point
        self.tallies = {}

    @classmethod
    def empty(cls, matched_identifier="", extras=None):
        # a copy of one empty frame: building it column by column took ~2 ms, and most pairs of a run have no data
        return cls(_EMPTY_FRAME.copy(), matched_identifier, extras)

    @classmethod
    def from_columns(cls, mjd, filter, brightness=None, brightness_error=None, limit=None, unit="mag",
                     matched_identifier="", extras=None, **other_columns):
        """Build from whole columns (arrays or scalars broadcast to the length of ``mjd``)."""
        mjd = np.asarray(mjd, dtype=float)
        n = len(mjd)

        def column(values, dtype=float):
            if values is None:
                return np.full(n, np.nan)
            if np.ndim(values) == 0:
                return np.full(n, values, dtype=object if dtype is object else dtype)
            return np.asarray(values, dtype=dtype)

        frame = pd.DataFrame({
            "mjd": mjd,
            "brightness": column(brightness),
            "brightness_error": column(brightness_error),
            "limit": column(limit),
            "unit": column(unit, object),
            "filter": column(filter, object),
            **{name: column(values, object) for name, values in other_columns.items()},
        })
        return cls(frame, matched_identifier, extras)

    @classmethod
    def concat(cls, parts, matched_identifier="", extras=None):
        """One light curve from several (e.g. one per band), keeping every column any of them has."""
        frames = [p.frame for p in parts if len(p.frame)]
        if not frames:
            return cls.empty(matched_identifier, extras)
        return cls(pd.concat(frames, ignore_index=True), matched_identifier, extras)

    def __len__(self):
        return len(self.frame)

    def __bool__(self):
        # TOM's to_reduced_datums() tests truthiness; an empty light curve is still an answer to store.
        return True

    def extra_columns(self):
        return [c for c in self.frame.columns if c not in REQUIRED_COLUMNS and c not in DATUM_COLUMNS]

    def cleaned(self, source: DataSource):
        """Drop what cannot be stored: no time, neither value nor limit, a filter the archive does not have,
        and exact repeats (archives do serve the same measurement twice). A time no database or Python can
        hold (NaN, infinite, outside years 1-9999) or an infinite value or limit is an archive's bad value:
        the point is dropped and counted in the note, never passed on to the store."""
        frame, numbers, infinite = finite_numbers(self.frame)
        mjd = frame["mjd"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            storable_time = np.isfinite(mjd) & (mjd >= MIN_STORABLE_MJD) & (mjd <= MAX_STORABLE_MJD)
        has_value = ~np.isnan(numbers["brightness"]) | ~np.isnan(numbers["limit"])
        bad = ~storable_time | ((infinite["brightness"] | infinite["limit"]) & ~has_value)
        usable = storable_time & has_value
        allowed = frame["filter"].isin(FILTERS[source])
        unknown = frame.loc[usable & ~allowed, "filter"]
        if len(unknown):
            logger.warning("%s: dropped %d point(s) in unexpected filter(s) %s", source.value, len(unknown),
                           sorted(map(str, unknown.unique())))
        frame = frame[usable & allowed]
        note = self.note
        if bad.any():
            logger.warning("%s: dropped %d point(s) with a time or value that cannot be stored", source.value,
                           int(bad.sum()))
            note = "; ".join(part for part in (note, f"{int(bad.sum())} point(s) with a time or value that cannot "
                                               "be stored (NaN, infinite, out of range) left out") if part)
        frame = without_exact_repeats(frame)
        cleaned = self.with_frame(frame)
        cleaned.note = note
        return cleaned

    def with_frame(self, frame):
        """The same light curve (identifier, extras, note, tallies) with other rows."""
        copy = Lightcurve(frame, self.matched_identifier, self.extras)
        copy.note, copy.tallies = self.note, dict(self.tallies)
        return copy


_EMPTY_FRAME = pd.DataFrame({c: pd.Series(dtype=float if c not in ("unit", "filter") else object)
                             for c in REQUIRED_COLUMNS})


def no_data(note):
    """An archive's answer with no points: an empty light curve whose note (the status message) says why."""
    empty = Lightcurve.empty()
    empty.note = note
    return empty


def finite_numbers(frame):
    """(the frame, its value columns as float arrays with infinities as NaN, where each was infinite): whole
    columns as numpy (a light curve's numbers are floats, NaN for none); the frame is copied only when an archive
    sent an infinity, which becomes "no number"."""
    numbers = {name: frame[name].to_numpy(dtype=float) for name in ("brightness", "brightness_error", "limit")}
    infinite = {name: np.isinf(values) for name, values in numbers.items()}
    if any(mask.any() for mask in infinite.values()):
        frame = frame.copy()
        for name, values in numbers.items():
            numbers[name] = np.where(infinite[name], np.nan, values)
            frame[name] = numbers[name]
    return frame, numbers, infinite


def without_exact_repeats(frame):
    """The frame without rows repeating another's time, filter, value and limit; exact repeats can only be among
    rows sharing a time, and hashing one float column finds those cheaply."""
    shared_time = frame["mjd"].duplicated(keep=False)
    if shared_time.any():
        repeats = frame[shared_time].duplicated(subset=["mjd", "filter", "brightness", "limit"])
        frame = frame.drop(index=repeats[repeats].index)
    return frame


MJD_ZERO = pd.Timestamp("1858-11-17")


def calendar_mjd(texts, format, what):
    """UTC MJD of a column of calendar dates or date-times written in ``format``, whole-column; an unreadable
    one is an error naming ``what``, never a point at an invented time."""
    stamps = pd.to_datetime(texts.str.strip(), format=format, errors="coerce")
    if stamps.isna().any():
        raise BrokerParseError(f"unreadable {what}(s) {sorted(texts[stamps.isna()].unique())[:3]}")
    return (stamps - MJD_ZERO).dt.total_seconds().to_numpy() / 86400.0


def utc_mjd(values, format="mjd", scale="utc"):
    """Whole-column conversion of archive times (JD or MJD on the UTC, TAI, TT or TCB scale) to UTC MJD.

    Geocentric times only; barycentric or heliocentric times need :func:`geocentric_utc_mjd`.
    """
    values = np.asarray(values, dtype=float)
    if scale == "utc" and format == "mjd":
        return values
    if scale == "utc" and format == "jd":
        return values - 2400000.5
    return Time(values, format=format, scale=scale).utc.mjd


def geocentric_utc_mjd(values, ra, dec, format="jd", scale="tcb", centre="barycentric"):
    """Whole-column: times of arrival at the solar-system barycentre (or the Sun's centre) of light from
    (ra, dec) back to UTC MJD at the Earth's centre, i.e. the light-travel-time correction removed.

    ``t_earth = t_centre - (r_earth(t_earth) . n) / c``, with ``r_earth`` the Earth's position relative to
    the centre (pyerfa's built-in ephemeris, no download). ``r_earth(t_earth)`` is taken as
    ``r(t_centre) - v * delay``, from one ephemeris call: the remaining error is ~ (v/c)^2 * 500 s, well
    under a millisecond. Plain Roemer delay: the Shapiro and Einstein terms (< 2 ms) are neglected, as
    BJD/HJD producers commonly do.

    Not astropy's ``Time.light_travel_time``: it turns its location through the Earth's rotation, which asks
    the IERS tables for UT1 and polar motion — a download attempt from every worker of an offline site, and an
    error for times past the bundled table (a recent ASAS-SN epoch) — though at the Earth's centre the rotation
    changes nothing. The tests compare this with ``light_travel_time`` on past epochs.
    """
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return values
    arrival = Time(values, format=format, scale=scale)
    if scale not in ("utc", "tdb"):
        arrival = arrival.tdb  # TCB and TT: the ephemeris is evaluated in TDB
    ra_rad, dec_rad = np.radians(ra), np.radians(dec)
    direction = np.array([np.cos(dec_rad) * np.cos(ra_rad), np.cos(dec_rad) * np.sin(ra_rad), np.sin(dec_rad)])
    position, velocity = get_body_barycentric_posvel("earth", arrival)
    r, v = position.xyz.to_value(u.m), velocity.xyz.to_value(u.m / u.s)
    if centre == "heliocentric":
        sun_position, sun_velocity = get_body_barycentric_posvel("sun", arrival)
        r, v = r - sun_position.xyz.to_value(u.m), v - sun_velocity.xyz.to_value(u.m / u.s)
    speed_of_light = c.to_value(u.m / u.s)
    first_guess = (direction @ r) / speed_of_light
    delay = (direction @ (r - v * first_guess)) / speed_of_light
    return (arrival - delay * u.s).utc.mjd


def _leap_second_days():
    """UTC MJDs of the days that end with a leap second (from pyerfa's bundled table; no network)."""
    table = erfa.leap_seconds.get()
    whole_seconds = table[table["year"] >= 1972]  # before 1972 UTC had fractional steps, not leap seconds
    firsts = Time([f"{y:04d}-{m:02d}-01" for y, m in zip(whole_seconds["year"], whole_seconds["month"])],
                  scale="utc").mjd
    return np.round(firsts).astype(int) - 1


LEAP_SECOND_DAYS = _leap_second_days()
UNIX_EPOCH_MJD = 40587


def utc_datetimes(mjd):
    """UTC MJD column to timezone-aware ``datetime`` objects for the database, microsecond precision.

    Plain arithmetic (a UTC MJD day is 86400 s) except on the days that end with a leap second, where
    astropy's 86401-second day is used; astropy for every row would cost ~5 ms per light curve.
    (A plain astropy ``to_value('datetime64')`` fails outright on a time inside a leap second.)
    """
    mjd = np.asarray(mjd, dtype=float)
    if len(mjd) == 0:
        return []
    micros = np.round((mjd - UNIX_EPOCH_MJD) * 86400e6).astype("int64")
    stamps = micros.astype("datetime64[us]")
    leap = np.isin(np.floor(mjd).astype(int), LEAP_SECOND_DAYS)
    if leap.any():
        # SOFA/astropy spread these days over 86401 s; a time inside the leap second itself (23:59:60,
        # which datetime cannot hold) is kept at 23:59:59.999999 of its own day
        parts = Time(mjd[leap], format="mjd", scale="utc").ymdhms
        days = np.floor(mjd[leap]).astype("int64") - UNIX_EPOCH_MJD
        seconds = parts["hour"] * 3600 + parts["minute"] * 60 + np.minimum(parts["second"], 59.999999)
        stamps[leap] = (days * 86400_000000 + np.round(seconds * 1e6).astype("int64")).astype("datetime64[us]")
    return pd.DatetimeIndex(stamps).tz_localize("UTC").to_pydatetime().tolist()
