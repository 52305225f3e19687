"""Reading TESS light-curve files (FITS) as magnitudes at geocentric UTC, and binning them: pure functions of a
file's bytes, used by the TESS adapter (``brokers/tess.py``).

Three layouts, told apart by their columns:

* **SPOC** (2-min ``*_lc.fits``) and the **TESS-SPOC** FFI HLSP, the same layout: ``TIME`` is BTJD, BJD_TDB - 2457000
  (header ``BJDREFI`` + ``BJDREFF``, ``TIMESYS = 'TDB'``, mid-exposure), ``PDCSAP_FLUX`` +- ``PDCSAP_FLUX_ERR`` in
  e-/s, ``QUALITY`` bit flags. Magnitude ``T = -2.5 log10(flux) + 20.44`` (SPOC's approximate zero point, TESS
  Instrument Handbook), the flux kept.
* **QLP** FFI HLSP: ``TIME`` BTJD, ``SAP_FLUX`` normalised to the star's median (``KSPSAP_FLUX_ERR`` its error),
  ``QUALITY``. Magnitude ``TESSMAG - 2.5 log10(flux)``: relative to the TIC magnitude in the header.
* **CDIPS** FFI HLSP (Bouma et al. 2019): ``TMID_BJD`` (full BJD_TDB, mid-exposure), ``IRM1`` +- ``IRE1`` (the
  instrumental magnitude of aperture 1, not detrended: detrending removes real variability), ``IRQ1`` ('G' good).

A cadence with a non-zero ``QUALITY`` (CDIPS: ``IRQ1`` not 'G'), a NaN time, flux or error, or a non-positive flux is
left out and counted. The flux is kept with each point (SPOC: e-/s; QLP: relative; CDIPS: ``IFL1`` in ADU).
Times: BJD_TDB -> geocentric UTC (the light-travel time to the barycentre in the target's direction removed).
Bins: the cadences of one file in fixed intervals of ``minutes`` on an absolute grid (the same bins whatever part
of a sector an answer holds): the bin's mean time and magnitude, its scatter (standard deviation of the
magnitudes; a lone cadence: its own error) as the error, and its count.
"""
import io

import numpy as np
from astropy.io import fits

from tom_bhtom_brokers.exceptions import BrokerParseError
from tom_bhtom_brokers.lightcurve import geocentric_utc_mjd

#: SPOC's approximate zero point: T = -2.5 log10(flux [e-/s]) + 20.44
SPOC_ZERO_POINT = 20.44
MAGNITUDE_PER_FLUX = 2.5 / np.log(10)  # 1.0857: dm = this * dF / F


def open_fits(payload, what):
    """(primary header, table extension, its rows) of a FITS file, every row read here: a file whose header
    declares more rows than its bytes hold is refused, not allocated."""
    try:
        hdus = fits.open(io.BytesIO(payload), memmap=False, lazy_load_hdus=False)
        if len(hdus) < 2 or not isinstance(hdus[1], fits.BinTableHDU):
            raise BrokerParseError(f"the {what} has no light-curve table (FITS extension 1)")
        return hdus[0].header, hdus[1].header, hdus[1].data
    except (OSError, ValueError, TypeError, IndexError) as exc:
        raise BrokerParseError(f"the {what} is not a FITS file, or is cut short ({exc})") from None


def read_cadences(payload, ra, dec):
    """(cadences, facts) of one file: cadences a dict of whole columns (``mjd``, ``mag``, ``error``, ``flux``,
    ``flux_error``, ``bjd``) of the good cadences only; facts ``sector``, ``layout``, ``flux_unit``, ``left_out``
    (cadences cut)."""
    header, table_header, table = open_fits(payload, "TESS light curve")
    names = set(table.columns.names)
    if {"TIME", "PDCSAP_FLUX", "PDCSAP_FLUX_ERR", "QUALITY"} <= names:
        columns = spoc_columns(table, table_header)
    elif {"TIME", "SAP_FLUX", "QUALITY"} <= names:
        columns = qlp_columns(table, table_header, header)
    elif {"TMID_BJD", "IRM1", "IRE1", "IRQ1", "IFL1", "IFE1"} <= names:
        columns = cdips_columns(table)
    else:
        raise BrokerParseError(f"the TESS file has none of SPOC's, QLP's or CDIPS's columns ({sorted(names)[:12]})")
    layout, flux_unit, good, values = columns
    values = {name: np.asarray(column, dtype=float) for name, column in values.items()}
    with np.errstate(invalid="ignore"):
        good = np.asarray(good) & np.isfinite(values["bjd"]) & np.isfinite(values["mag"]) \
            & np.isfinite(values["error"]) & (values["error"] > 0)
    cadences = {name: column[good] for name, column in values.items()}
    cadences["mjd"] = geocentric_utc_mjd(cadences["bjd"], ra, dec, format="jd", scale="tdb")
    facts = {"sector": int(header.get("SECTOR", -1)), "layout": layout, "left_out": int((~good).sum()),
             "flux_unit": flux_unit}
    return cadences, facts


def magnitudes(flux, flux_error, zero_point):
    """(mag, error) of fluxes: NaN where the flux is not positive."""
    with np.errstate(invalid="ignore", divide="ignore"):
        positive = np.where(flux > 0, flux, np.nan)
        return zero_point - 2.5 * np.log10(positive), MAGNITUDE_PER_FLUX * flux_error / positive


def spoc_columns(table, header):
    flux, flux_error = (np.asarray(table[name], dtype=float) for name in ("PDCSAP_FLUX", "PDCSAP_FLUX_ERR"))
    mag, error = magnitudes(flux, flux_error, SPOC_ZERO_POINT)
    return "SPOC", "e-/s", np.asarray(table["QUALITY"]) == 0, {
        "bjd": spoc_bjd(table, header), "mag": mag, "error": error, "flux": flux, "flux_error": flux_error}


def qlp_columns(table, header, primary):
    tess_mag = float(primary.get("TESSMAG", np.nan))
    if not np.isfinite(tess_mag):
        raise BrokerParseError("the QLP file has no TESSMAG in its header (its fluxes are relative to it)")
    flux = np.asarray(table["SAP_FLUX"], dtype=float)
    flux_error = np.asarray(table["KSPSAP_FLUX_ERR"], dtype=float) if "KSPSAP_FLUX_ERR" in table.columns.names \
        else np.full(len(flux), np.nan)
    mag, error = magnitudes(flux, flux_error, tess_mag)
    return "QLP", "relative", np.asarray(table["QUALITY"]) == 0, {
        "bjd": spoc_bjd(table, header), "mag": mag, "error": error, "flux": flux, "flux_error": flux_error}


def cdips_columns(table):
    good = np.char.strip(np.asarray(table["IRQ1"]).astype(str)) == "G"
    return "CDIPS", "ADU", good, {name: table[column] for name, column in (
        ("bjd", "TMID_BJD"), ("mag", "IRM1"), ("error", "IRE1"), ("flux", "IFL1"), ("flux_error", "IFE1"))}


def spoc_bjd(table, header):
    """BJD_TDB of SPOC's ``TIME`` (BTJD): refused unless the header says TDB at the barycentre."""
    if str(header.get("TIMESYS", "TDB")).strip() != "TDB" or str(header.get("TIMEREF", "SOLARSYSTEM")).strip() \
            != "SOLARSYSTEM":
        raise BrokerParseError(f"the TESS file's TIME is {header.get('TIMESYS')} at {header.get('TIMEREF')}, not "
                               "BJD_TDB")
    return np.asarray(table["TIME"], dtype=float) + float(header.get("BJDREFI", 2457000)) \
        + float(header.get("BJDREFF", 0.0))


def binned(cadences, minutes):
    """The cadences averaged in bins of ``minutes`` on an absolute grid of UTC MJD (0: every cadence as it is):
    columns as ``read_cadences``' plus ``count``."""
    if not minutes or len(cadences["mjd"]) == 0:
        return {**cadences, "count": np.ones(len(cadences["mjd"]), dtype=int)}
    bins = np.floor(cadences["mjd"] / (minutes / 1440.0)).astype(np.int64)
    _, index, count = np.unique(bins, return_inverse=True, return_counts=True)

    def mean(values):
        return np.bincount(index, weights=values) / count

    out = {name: mean(cadences[name]) for name in ("mjd", "bjd", "mag", "flux")}
    scatter = np.sqrt(mean((cadences["mag"] - out["mag"][index]) ** 2))
    out["error"] = np.where(count > 1, scatter, mean(cadences["error"]))  # a lone cadence: its own error
    out["flux_error"] = np.sqrt(np.bincount(index, weights=cadences["flux_error"] ** 2)) / count
    out["count"] = count
    return out
