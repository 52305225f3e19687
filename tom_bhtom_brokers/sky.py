"""Angular separations and nearest-match selection, whole-column."""
import astropy.units as u
import numpy as np


def separations_arcsec(ra, dec, ra0, dec0):
    """Great-circle distance (arcsec) from (ra0, dec0) to each (ra, dec), degrees in; Vincenty's formula."""
    ra, dec = np.radians(np.asarray(ra, dtype=float)), np.radians(np.asarray(dec, dtype=float))
    ra0, dec0 = np.radians(ra0), np.radians(dec0)
    dra = ra - ra0
    num = np.hypot(np.cos(dec) * np.sin(dra), np.cos(dec0) * np.sin(dec) - np.sin(dec0) * np.cos(dec) * np.cos(dra))
    den = np.sin(dec0) * np.sin(dec) + np.cos(dec0) * np.cos(dec) * np.cos(dra)
    return np.degrees(np.arctan2(num, den)) * 3600.0


def nearest_within(ra, dec, ra0, dec0, radius):
    """Index of the position nearest to (ra0, dec0) if it lies within ``radius`` (a Quantity), else None."""
    if len(ra) == 0:
        return None
    separation = separations_arcsec(ra, dec, ra0, dec0)
    best = int(np.nanargmin(separation))
    return best if separation[best] <= radius.to_value(u.arcsec) else None
