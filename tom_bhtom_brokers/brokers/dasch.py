"""DASCH DR7 (Digital Access to a Sky Century @ Harvard): a century of the Harvard College Observatory's plates,
1880s to 1990, scanned and measured; the light curve of the reference-catalogue star nearest to the target.

Archive: the Starglass web API (``https://api.starglass.cfa.harvard.edu/public/dasch/dr7``), no key on the public
tier. Two POSTs with a JSON body, each answered by a JSON list of CSV lines (the first the header): ``querycat``
(``refcat``, ``ra_deg``, ``dec_deg``, ``radius_arcsec``) lists the reference-catalogue stars in the cone, each with
``ref_number`` and ``gsc_bin_index``; ``lightcurve`` (``refcat``, ``gsc_bin_index``, ``ref_number``) gives every
plate measurement of the nearest one. The reference catalogue is APASS (``refcat`` in settings; DASCH recommends
APASS for long-term photometry, the ATLAS calibration shows false trends). Cite Grindlay et al. 2009, ASP Conf.
Ser. 410, 101 (DASCH) and the DR7 release (Williams et al., dasch.cfa.harvard.edu/dr7).

Photometry: ``magcal_magdep`` +- ``magcal_local_rms`` (magnitudes calibrated against APASS B, bandpass
``B(DASCH)``). A row without a magnitude (DR7: empty; the legacy service: 0) is a plate that covered the star and
did not detect it: stored as a limit at ``limiting_mag_local``. Rows are rejected by DASCH's standard AFLAGS cut
(daschlab's ``apply_standard_rejections``: high background, large isophotal RMS, large local-smoothing RMS, too
close to the limiting magnitude, unmeasured bin ``drad``; ``reject_aflags`` in settings), a detection whose error is
DASCH's 99 sentinel (or not positive) is no measurement, a limit not above 0 likewise; all counted in the status
line. The reference star (``ref_text``) is the matched identifier.

Times: ``date_jd`` is the exposure's mid-point as a heliocentric JD (DASCH's DR7 column guide: "HJD midpoint";
the legacy service's field said "Geocentric Julian date of plate or Heliocentric Julian date of an image", so the
scale of those rows is not uniform): stored as geocentric UTC (the light-travel time to the Sun's centre in the
target's direction removed; before 1960, when UTC begins, astropy's UTC is TAI, within a minute of UT), the
archive's value kept as ``time_original``; ``time_accuracy_days`` (the logbook
time's accuracy, -1 unknown) in the extras. A plate archive does not grow: read once.

A DASCH light curve saved from the legacy (pre-DR7) service, a VOTable with the same quantities under older column
names, is read by the same ``parse``.
"""
import warnings

import astropy.units as u
import numpy as np
import pandas as pd
from erfa import ErfaWarning

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Located, Request
from tom_bhtom_brokers.brokers.reading import nearest_row, number, read_csv, read_json
from tom_bhtom_brokers.transports.tap import read_votable
from tom_bhtom_brokers.exceptions import BrokerParseError, NoData
from tom_bhtom_brokers.lightcurve import Lightcurve, geocentric_utc_mjd
from tom_bhtom_brokers.sources import DataSource

API_PATH = "/public/dasch/dr7"
CATALOGUE_COLUMNS = ("ref_text", "ref_number", "gsc_bin_index", "ra_deg", "dec_deg")
LIGHTCURVE_COLUMNS = ("date_jd", "magcal_magdep", "magcal_local_rms", "limiting_mag_local", "aflags", "series",
                      "plate_number")
#: the legacy VOTable's names of the same quantities
LEGACY_NAMES = {"ExposureDate": "date_jd", "AFLAGS": "aflags", "BFLAGS": "bflags", "plateNumber": "plate_number",
                "timeAccuracy": "time_accuracy_days"}
#: AFLAGS bits 7, 12, 13, 14 and 16 (1-based): DASCH's standard rejections
STANDARD_BAD_AFLAGS = (1 << 6) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 15)
#: DASCH's "no value" for an error
NO_ERROR = 99.0


def json_post(path, payload):
    """A POST with a JSON body, as the Starglass API takes it; a read, safe to send again."""
    return Request(path, method="POST", json_body=payload, idempotent=True)


def read_csv_lines(payload, required, what):
    """A Starglass answer: a JSON list of CSV lines, the first the header. Anything else (an error object) is
    refused with what it said."""
    try:
        lines = read_json(payload, what, kind=list)
    except BrokerParseError:
        document = read_json(payload, what)  # an error object, e.g. {"message": "..."}: say what it said
        raise BrokerParseError(f"the {what} is an error, not a table: {str(document)[:200]}") from None
    if not lines:
        raise BrokerParseError(f"the {what} is an empty list (no header)")
    if not all(isinstance(line, str) for line in lines):
        raise BrokerParseError(f"the {what} is not a list of CSV lines")
    return read_csv("\n".join(lines).encode(), required, what)


def read_legacy_votable(payload):
    """A light curve saved from the legacy DASCH service (a VOTable), under DR7's column names. Read as a TAP answer
    is (``tap.read_votable``), checked first: a STREAM in the archive's bytes would make astropy open another
    address itself."""
    try:
        table = read_votable(payload, what="DASCH light curve")
    except BrokerParseError:
        raise
    except Exception as exc:  # astropy raises many kinds on a broken VOTable
        raise BrokerParseError(f"the DASCH light curve is neither DR7's JSON nor a VOTable ({exc})") from None
    frame = pd.DataFrame({LEGACY_NAMES.get(name, name): np.ma.filled(table[name], np.nan if table[name].dtype.kind
                                                                      == "f" else 0) for name in table.colnames
                          if table[name].ndim == 1})
    missing = [name for name in LIGHTCURVE_COLUMNS if name not in frame.columns]
    if missing:
        raise BrokerParseError(f"the DASCH VOTable has no column(s) {missing}")
    return frame


class DaschBroker(BHTOMBroker):
    """DASCH DR7 plate photometry of the reference star nearest to the target."""

    source = DataSource.DASCH
    default_url = "https://api.starglass.cfa.harvard.edu"
    match_radius = 5 * u.arcsec  # plate astrometry: a few arcsec
    cadence = None  # the plates were taken before 1990: read once, again only with --force
    telescope = "Harvard College Observatory plates"
    instrument = "photographic plate"
    verbose_name = "DASCH DR7 (Harvard plates, Starglass API)"
    citation = "Grindlay et al. 2009, ASP Conf. Ser. 410, 101; DASCH DR7"
    probe = {"name": "APASS J200349.5+441051", "ra": 300.95625, "dec": 44.18083}
    tally_notes = {"flagged": "{n} DASCH row(s) with DASCH's standard AFLAGS rejections left out",
                   "no measurement": "{n} DASCH row(s) without a usable magnitude, error or limit left out"}

    @property
    def refcat(self):
        return str(self.setting("refcat", "apass"))

    def locate_by_cone(self, target):
        self.require_position(target)
        stars = self.ask(json_post(f"{API_PATH}/querycat", {
            "refcat": self.refcat, "ra_deg": target.ra, "dec_deg": target.dec,
            "radius_arcsec": self.radius.to_value(u.arcsec)}),
            lambda payload: read_csv_lines(payload, CATALOGUE_COLUMNS, "DASCH catalogue answer"))
        if len(stars) == 0:
            raise NoData(self.radius_note(f"{self.refcat.upper()} reference star"))
        nearest, note = nearest_row(number(stars["ra_deg"]), number(stars["dec_deg"]), target)
        star = stars.iloc[nearest]
        try:  # both go into the next request: integers, nothing else
            identifier = f"{int(star['gsc_bin_index'])}:{int(star['ref_number'])}"
        except ValueError:
            raise BrokerParseError("the DASCH catalogue gave a star without integer gsc_bin_index/ref_number") \
                from None
        return Located(target, identifier, matched=star["ref_text"] or identifier, note=note)

    def query(self, located):
        gsc_bin_index, ref_number = (int(part) for part in located.identifier.split(":"))
        return [json_post(f"{API_PATH}/lightcurve", {"refcat": self.refcat, "gsc_bin_index": gsc_bin_index,
                                                     "ref_number": ref_number})]

    def parse(self, payload, target):
        if payload.lstrip()[:1] == b"<":
            rows = read_legacy_votable(payload)
        else:
            rows = read_csv_lines(payload, LIGHTCURVE_COLUMNS, "DASCH light curve").replace({"": None})
        values = {name: pd.to_numeric(rows[name], errors="coerce").to_numpy(dtype=float)
                  for name in ("date_jd", "magcal_magdep", "magcal_local_rms", "limiting_mag_local", "aflags")}
        if np.isnan(values["date_jd"]).any():
            raise BrokerParseError("a DASCH row has no date_jd")
        return self.plate_points(rows, values, target)

    def plate_points(self, rows, values, target):
        mag, error, limit = values["magcal_magdep"], values["magcal_local_rms"], values["limiting_mag_local"]
        reject = int(self.setting("reject_aflags", STANDARD_BAD_AFLAGS))
        flagged = (np.nan_to_num(values["aflags"]).astype(np.int64) & reject) != 0
        with np.errstate(invalid="ignore"):
            detected = np.isfinite(mag) & (mag > 0)
            usable = np.where(detected, np.isfinite(error) & (error > 0) & (error < NO_ERROR),
                              np.isfinite(limit) & (limit > 0))
        good = usable & ~flagged
        accuracy = pd.to_numeric(rows.get("time_accuracy_days", pd.Series(np.nan, index=rows.index)),
                                 errors="coerce").to_numpy(dtype=float)
        with warnings.catch_warnings():
            # UTC begins in 1960 and pyerfa's Earth ephemeris in 1900: earlier plates get "dubious year" warnings
            # (astropy carries UTC back as TAI, ~30 s from UT, far below a plate's timing), one per update
            warnings.simplefilter("ignore", ErfaWarning)
            mjd = geocentric_utc_mjd(values["date_jd"][good], target.ra, target.dec, format="jd", scale="utc",
                                     centre="heliocentric")
        lightcurve = Lightcurve.from_columns(
            mjd=mjd,
            brightness=np.where(detected, mag, np.nan)[good], brightness_error=np.where(detected, error, np.nan)[good],
            limit=np.where(detected, np.nan, limit)[good], filter="B", unit="mag", telescope=self.telescope,
            instrument=self.instrument, time_original=values["date_jd"][good],
            series=rows["series"].astype(str).str.strip().to_numpy(dtype=object)[good],
            plate_number=rows["plate_number"].astype(str).to_numpy(dtype=object)[good],
            aflags=np.nan_to_num(values["aflags"]).astype(np.int64)[good],
            time_accuracy_days=accuracy[good],
            extras={"time_system": "MJD (UTC), geocentric (archive: date_jd, heliocentric JD of mid-exposure)",
                    "magnitude_system": f"DASCH magcal_magdep, calibrated to {self.refcat.upper()} B"})
        lightcurve.tallies = {"flagged": int((usable & flagged).sum()), "no measurement": int((~usable).sum())}
        return lightcurve
