"""Angular separations and nearest-match selection, whole-column (astropy's ``angular_separation``)."""
import astropy.units as u
import numpy as np
from astropy.coordinates import angular_separation


def separations_arcsec(ra, dec, ra0, dec0):
    """Great-circle distance (arcsec) from (ra0, dec0) to each (ra, dec), degrees in."""
    ra, dec = np.asarray(ra, dtype=float) * u.deg, np.asarray(dec, dtype=float) * u.deg
    return angular_separation(ra, dec, float(ra0) * u.deg, float(dec0) * u.deg).to_value(u.arcsec)


def nearest_within(ra, dec, ra0, dec0, radius):
    """Index of the position nearest to (ra0, dec0) if it lies within ``radius`` (a Quantity), else None."""
    if len(ra) == 0:
        return None
    separation = separations_arcsec(ra, dec, ra0, dec0)
    best = int(np.nanargmin(separation))
    return best if separation[best] <= radius.to_value(u.arcsec) else None
