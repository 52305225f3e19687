"""NEOWISE-R single-exposure (L1b) photometry from the NASA/IPAC Infrared Science Archive (IRSA).

Archive: IRSA's TAP service (https://irsa.ipac.caltech.edu/TAP/sync), table ``neowiser_p1bs_psd``.
We use TAP rather than the older Gator ``nph-query`` (BHTOM's route) because IRSA keeps Gator "for
historical reasons" only, and because ADQL lets us ask for the quality columns we filter on. The
answer is requested as an IPAC table and read by column name with astropy.

Photometry: W1 (3.4 um) and W2 (4.6 um) profile-fit Vega magnitudes ``w?mpro`` with ``w?sigmpro``.
Times: ``mjd`` is the UTC MJD of the frame mid-point. The survey ended in 2024: read once.
Cite Mainzer et al. 2011, ApJ 731, 53 and Mainzer et al. 2014, ApJ 792, 30; NEOWISE is a project of
JPL/Caltech funded by NASA; data from IRSA.

Quality cuts, from the cautionary notes of the NEOWISE explanatory supplement: frames with
``qual_frame > 0``, ``qi_fact > 0`` and ``saa_sep > 0``; detections not deblended or blended
(``nb == 1``, ``na == 0``); per band, no Moon contamination (``moon_masked`` digit ``0``), no
artefact flag (``cc_flags`` character ``0``), and ``ph_qual`` A, B or C. ``ph_qual`` U makes the
magnitude a 95% upper limit (stored as ``limit``); X and Z have no usable measurement.

Which source: the cone (5 arcsec by default) may hold detections of neighbours. We take the
detection nearest to the target, place the source at the median position of the detections within
1 arcsec of it, and keep the detections within 2 arcsec of that position (single-exposure
astrometry scatters by ~0.5 arcsec; the W1 beam is 6 arcsec, so closer neighbours fail ``nb == 1``).
"""
import astropy.units as u
import numpy as np

from tom_bhtom_brokers.brokers.reading import filled, separation_note
from tom_bhtom_brokers.brokers.irsa import IrsaTapBroker, band_character
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.sky import separations_arcsec
from tom_bhtom_brokers.sources import DataSource

COLUMNS = ("ra", "dec", "mjd", "w1mpro", "w1sigmpro", "w2mpro", "w2sigmpro", "qual_frame", "qi_fact",
           "saa_sep", "moon_masked", "cc_flags", "ph_qual", "nb", "na")
SEED_RADIUS_ARCSEC = 1.0
SOURCE_RADIUS_ARCSEC = 2.0


class NeowiseBroker(IrsaTapBroker):
    """NEOWISE-R W1/W2 single-exposure light curve of the source nearest to the target."""

    source = DataSource.NEOWISE
    default_url = "https://irsa.ipac.caltech.edu"
    match_radius = 5 * u.arcsec
    cadence = None  # the survey has ended: read once, again only with --force
    telescope = "WISE"
    verbose_name = "NEOWISE-R single-exposure photometry (IRSA)"
    citation = "Mainzer et al. 2014, ApJ 792, 30"
    probe = {"name": "Gaia20fnr", "ra": 90.26701, "dec": -18.96770}
    table = "neowiser_p1bs_psd"
    columns = COLUMNS

    def parse(self, payload, target):
        table = self.read_table(payload)
        if len(table) == 0:
            return self.nothing_within_radius("NEOWISE-R detection")
        table = select_nearest_source(table, target.ra, target.dec)
        ra, dec = (float(np.nanmedian(filled(table[name], np.nan).astype(float))) for name in ("ra", "dec"))
        frame_ok = (filled(table["qual_frame"], 0) > 0) & (filled(table["qi_fact"], 0) > 0) \
            & (filled(table["saa_sep"], 0) > 0) & (filled(table["nb"], 0) == 1) & (filled(table["na"], 1) == 0)
        bands = [self._band(table, frame_ok, index, name) for index, name in ((0, "W1"), (1, "W2"))]
        separation = separations_arcsec([ra], [dec], target.ra, target.dec)[0]
        lightcurve = Lightcurve.concat(
            bands, matched_identifier=f"{ra:.6f} {dec:+.6f}",
            extras={"magnitude_system": "Vega", "time_system": "MJD (UTC), frame mid-point"})
        lightcurve.note = separation_note(separation) if len(lightcurve) else (
            f"{len(table)} NEOWISE-R detection(s) of the source at {separation:.1f} arcsec, none passing the quality "
            "cuts")
        return lightcurve

    def _band(self, table, frame_ok, index, name):
        mag = filled(table[f"{name.lower()}mpro"], np.nan).astype(float)
        err = filled(table[f"{name.lower()}sigmpro"], np.nan).astype(float)
        ph_qual = band_character(table["ph_qual"], index)
        moon = band_character(table["moon_masked"], index)
        artefact = band_character(table["cc_flags"], index)
        usable = frame_ok & (moon == "0") & (artefact == "0") & np.isfinite(mag)
        detected = usable & np.isin(ph_qual, ["A", "B", "C"]) & np.isfinite(err)
        upper_limit = usable & (ph_qual == "U")
        keep = detected | upper_limit
        return Lightcurve.from_columns(
            mjd=filled(table["mjd"], np.nan)[keep].astype(float),
            brightness=np.where(detected, mag, np.nan)[keep],
            brightness_error=np.where(detected, err, np.nan)[keep],
            limit=np.where(upper_limit, mag, np.nan)[keep],
            filter=name, unit="mag", telescope=self.telescope,
            ph_qual=ph_qual[keep], cc_flags=artefact[keep],
            qual_frame=filled(table["qual_frame"], 0)[keep].astype(int),
            qi_fact=filled(table["qi_fact"], 0)[keep].astype(float),
        )


def select_nearest_source(table, ra0, dec0):
    """The detections of the one source nearest to (ra0, dec0); see the module docstring."""
    ra, dec = filled(table["ra"], np.nan).astype(float), filled(table["dec"], np.nan).astype(float)
    to_target = separations_arcsec(ra, dec, ra0, dec0)
    seed = int(np.nanargmin(to_target))
    near_seed = separations_arcsec(ra, dec, ra[seed], dec[seed]) <= SEED_RADIUS_ARCSEC
    centre_ra, centre_dec = np.median(ra[near_seed]), np.median(dec[near_seed])
    return table[separations_arcsec(ra, dec, centre_ra, centre_dec) <= SOURCE_RADIUS_ARCSEC]
