"""What an alert broker's number is: a total magnitude, a difference flux, or a limit on one of them.

Alert photometry (ZTF through ALeRCE and ANTARES, Rubin through Fink) is measured on a difference image: the
science image minus a reference (template) image. Its numbers mean different things per point:

- **total**: the reference flux added to the difference flux (ZTF's ``magpsf_corr``, ANTARES'
  ``ant_mag_corrected``, Rubin's ``scienceFlux``): the star's brightness. Stored as a magnitude.
- **total (no reference source)**: a positive difference of an object absent from the reference (no reference
  source within ZTF's 1.4 arcsec, no template flux): the difference *is* the object's brightness. A magnitude.
- **difference**: the change of flux against the reference of an object that is in it (or a negative one). It
  says nothing about the star's brightness by itself, so it is stored as what it is, a signed flux (µJy for ZTF
  from its AB-calibrated magnitudes, nJy for Rubin), and drawn in the flux panel, never on the magnitude axis.
- **upper limit**: a non-detection of an object absent from the reference: its total brightness is fainter than
  the image's limit. A magnitude limit.
- **limit on the change**: a non-detection of an object that *is* in the reference: only the change of its flux
  is bounded (|difference| below the limit), never its brightness. A flux limit, drawn in the flux panel.

``magnitude_kind`` in each point's extras is one of these five. The rule is in docs/data-handling.md ("What a number
is").
"""
import math

import numpy as np

TOTAL = "total"
TOTAL_NO_REFERENCE = "total (no reference source)"
DIFFERENCE = "difference"
UPPER_LIMIT = "upper limit"
CHANGE_LIMIT = "limit on the change"
#: kinds that say only how the flux changed against the reference: drawn as fluxes, never on the magnitude axis
DIFFERENCE_KINDS = (DIFFERENCE, CHANGE_LIMIT)

#: AB magnitude of 1 µJy
AB_ZERO_POINT_UJY = 23.9
MAGNITUDE_TO_FLUX_ERROR = math.log(10) / 2.5


def ab_flux(magnitude, zero_point=AB_ZERO_POINT_UJY):
    """Flux (in the zero point's unit) of AB magnitudes, whole-column."""
    return 10 ** ((zero_point - np.asarray(magnitude, dtype=float)) / 2.5)


def ab_magnitude(flux, zero_point=AB_ZERO_POINT_UJY):
    """AB magnitudes of positive fluxes (NaN for the others), whole-column."""
    flux = np.asarray(flux, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(flux > 0, zero_point - 2.5 * np.log10(np.where(flux > 0, flux, 1.0)), np.nan)


def classify(total_mag, total_error, difference_mag, difference_error, negative, limit_mag, detected, in_reference,
             flux_unit="uJy", zero_point=AB_ZERO_POINT_UJY, difference_flux=None, difference_flux_error=None):
    """Per point, what it is (whole-column): ``(kind, brightness, error, limit, unit)`` arrays.

    Inputs are arrays of one length: the total magnitude and its error (NaN where the archive has none), the
    difference magnitude and error with ``negative`` true for a negative difference, the image's limiting
    magnitude, ``detected`` (a significant positive or negative difference) and ``in_reference`` (the object has
    a counterpart in the reference image). Difference fluxes and limits on the change come out in ``flux_unit``
    at ``zero_point`` (AB), or as given where the archive serves the difference as a flux (``difference_flux``,
    signed, and its error, in ``flux_unit``)."""
    total_mag, total_error = np.asarray(total_mag, dtype=float), np.asarray(total_error, dtype=float)
    difference_mag, difference_error = np.asarray(difference_mag, dtype=float), np.asarray(difference_error,
                                                                                           dtype=float)
    negative, detected = np.asarray(negative, dtype=bool), np.asarray(detected, dtype=bool)
    in_reference, limit_mag = np.asarray(in_reference, dtype=bool), np.asarray(limit_mag, dtype=float)
    total = np.isfinite(total_mag) & np.isfinite(total_error)
    new_source = ~total & ~in_reference & detected & ~negative & np.isfinite(difference_mag)
    upper_limit = ~total & ~in_reference & ~detected
    measured_change = ~total & ~new_source & ~upper_limit & np.isfinite(difference_mag)
    change_limit = ~total & ~new_source & ~upper_limit & ~measured_change
    kind = np.select([total, new_source, upper_limit, measured_change],
                     [TOTAL, TOTAL_NO_REFERENCE, UPPER_LIMIT, DIFFERENCE], CHANGE_LIMIT).astype(object)
    if difference_flux is None:
        difference_flux = ab_flux(difference_mag, zero_point) * np.where(negative, -1.0, 1.0)
        difference_flux_error = np.abs(difference_flux) * difference_error * MAGNITUDE_TO_FLUX_ERROR
    brightness = np.select([total, new_source, measured_change], [total_mag, difference_mag, difference_flux], np.nan)
    error = np.select([total, new_source, measured_change], [total_error, difference_error, difference_flux_error],
                      np.nan)
    limit = np.select([upper_limit, change_limit], [limit_mag, ab_flux(limit_mag, zero_point)], np.nan)
    unit = np.where(measured_change | change_limit, flux_unit, "mag").astype(object)
    return kind, brightness, error, limit, unit
