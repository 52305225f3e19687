"""Reading a ZTF forced-photometry result file (IPAC's ``forcedphotometry_req<N>_lc.txt``): pure functions of its
bytes, used by the ZTF FPS adapter (``brokers/ztf_fps.py``).

Layout (``forcedphotometry_trim.pl``): ``#`` comment lines (the request echoed, a column dictionary), then a header
line of comma-separated names (`` index, field, ccdid, ...``), then whitespace-separated rows; ``null`` where a
value is missing. Read by header name.

Rows left out, as IPAC's guide (Masci et al. 2023, "A New Forced Photometry Service for the Zwicky Transient
Facility", §§ 6-8) advises, each counted: ``null`` (or the -99999 sentinel) flux, error or zero point; a
``procstatus`` naming a problem with the measurement itself (56 bad pixels, 59 suspect uncertainties, 60 a
PSF-size failure, 61 a cut-out off the image, 64 a catastrophic error; 57, 58 and 62 only say that no reference
source lies within 5 arcsec, or that the start was reset, and are kept); and the guide's image-quality filter,
``infobitssci`` below 33554432, ``scisigpix`` at most 25, ``sciinpseeing`` at most 4 arcsec (``quality_cuts``).

What each number is (``photometry.classify``): the difference flux (DN on the difference image, zero point
``zpdiff``) is relative to the reference image of its (field, ccd, quadrant, filter): each row carries its own
reference (``rfid``) and the magnitude of the nearest source in that reference (``nearestrefmag``, within 5 arcsec,
``dnearestrefsrc`` away). Where that source lies within ``reference_match_arcsec`` (1.4) the object is in the
reference: every epoch then has a total brightness, reference flux plus difference flux, per reference, so rows on
different references agree without a baseline fit (the guide's baseline question: the reference's own flux is
added back, not estimated). Otherwise the object is absent from its reference: a difference with S/N at least
``snr_detection`` (3) is its brightness, anything else an upper limit at ``zpdiff - 2.5 log10(snr_limit x
fluxunc)`` (5 sigma). Times: ``jd`` is the UTC Julian date of the exposure's start: stored at mid-exposure
(``+ exptime / 2``), the start kept as ``time_original``.
"""
import io

import numpy as np
import pandas as pd

from tom_bhtom_brokers.brokers.reading import frame_of_rows
from tom_bhtom_brokers.exceptions import BrokerParseError
from tom_bhtom_brokers.photometry import AB_ZERO_POINT_UJY, MAGNITUDE_TO_FLUX_ERROR, classify

REQUIRED = ("field", "ccdid", "qid", "filter", "infobitssci", "scisigpix", "sciinpseeing", "exptime", "zpdiff",
            "jd", "rfid", "forcediffimflux", "forcediffimfluxunc", "procstatus")
NUMBERS = ("infobitssci", "scisigpix", "sciinpseeing", "exptime", "zpdiff", "jd", "forcediffimflux",
           "forcediffimfluxunc", "dnearestrefsrc", "nearestrefmag", "nearestrefmagunc", "refjdstart", "refjdend")
#: per-epoch processing codes that say the measurement itself is bad (one of a comma-separated list)
BAD_PROCSTATUS = r"(?:^|,)\s*(?:56|59|60|61|64)\s*(?:,|$)"
#: the guide's image-quality filter: column -> the largest good value (infobitssci: below 2**25)
QUALITY_CUTS = {"infobitssci": 33554431, "scisigpix": 25.0, "sciinpseeing": 4.0}
FILTERS = {"ZTF_g": "g", "ZTF_r": "r", "ZTF_i": "i"}
NULL_FLUX = -99999.0


def read_rows(payload):
    """The result's rows as a frame of strings, named by its header line."""
    lines = io.StringIO(payload.decode("utf-8", "replace")).read().splitlines()
    body = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not body or "," not in body[0]:
        raise BrokerParseError("the ZTF FPS result is not a forcedphotometry table (no header line of column names)")
    names = [name.strip() for name in body[0].split(",") if name.strip()]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise BrokerParseError(f"the ZTF FPS result is not a forcedphotometry table (no column(s) {missing[:5]})")
    return frame_of_rows([line.split() for line in body[1:]], names, REQUIRED, "ZTF forced-photometry result")


def columns_of(frame):
    """The numeric columns (NaN for ``null`` and absent ones) and the text ones."""
    values = {name: pd.to_numeric(frame[name].replace({"null": None}), errors="coerce").to_numpy(dtype=float)
              if name in frame else np.full(len(frame), np.nan) for name in NUMBERS}
    values["forcediffimflux"] = np.where(values["forcediffimflux"] == NULL_FLUX, np.nan, values["forcediffimflux"])
    return values


def cut_rows(frame, values, quality_cuts):
    """(good rows, {reason: rows left out}), a row counted under the first reason it fails."""
    measured = np.isfinite(values["forcediffimflux"]) & np.isfinite(values["forcediffimfluxunc"]) \
        & (values["forcediffimfluxunc"] > 0) & np.isfinite(values["zpdiff"]) & np.isfinite(values["jd"])
    processing = frame["procstatus"].astype(str).str.contains(BAD_PROCSTATUS)
    quality = np.ones(len(frame), dtype=bool)
    for name, largest in quality_cuts.items():
        if largest is not None:
            with np.errstate(invalid="ignore"):
                quality &= values[name] <= float(largest)
    reasons = {"no measurement": ~measured, "processing": measured & processing.to_numpy(),
               "image quality": measured & ~processing.to_numpy() & ~quality}
    good = measured & ~processing.to_numpy() & quality
    return good, {reason: int(rows.sum()) for reason, rows in reasons.items()}


def photometry(values, snr_detection, snr_limit, reference_arcsec):
    """``classify``'s (kind, brightness, error, limit, unit) of each row, and its difference flux in µJy."""
    flux, error, zero_point = values["forcediffimflux"], values["forcediffimfluxunc"], values["zpdiff"]
    to_ujy = 10 ** ((AB_ZERO_POINT_UJY - zero_point) / 2.5)  # DN at zpdiff -> µJy (AB)
    with np.errstate(invalid="ignore", divide="ignore"):
        difference_mag = zero_point - 2.5 * np.log10(np.abs(flux))
        difference_error = np.abs(error / flux) / MAGNITUDE_TO_FLUX_ERROR
        limit_mag = zero_point - 2.5 * np.log10(snr_limit * error)
        in_reference = values["dnearestrefsrc"] <= reference_arcsec
        reference_flux = 10 ** (0.4 * (zero_point - values["nearestrefmag"]))
        total_flux = reference_flux + flux
        total_mag = np.where(in_reference & (total_flux > 0), zero_point - 2.5 * np.log10(total_flux), np.nan)
        reference_error = reference_flux * values["nearestrefmagunc"] * MAGNITUDE_TO_FLUX_ERROR
        total_error = np.sqrt(error ** 2 + reference_error ** 2) / total_flux / MAGNITUDE_TO_FLUX_ERROR
    detected = np.abs(flux) >= snr_detection * error
    kinds = classify(total_mag, total_error, difference_mag, difference_error, flux < 0, limit_mag, detected,
                     in_reference, flux_unit="uJy", difference_flux=flux * to_ujy,
                     difference_flux_error=error * to_ujy)
    return kinds, flux * to_ujy, error * to_ujy
