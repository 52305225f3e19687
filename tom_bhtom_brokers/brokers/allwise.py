"""AllWISE Multiepoch Photometry (WISE 2010-2011, cryogenic and post-cryogenic) from IRSA.

Archive: IRSA's TAP service, table ``allwise_p3as_mep``: the single-exposure W1/W2 profile-fit
photometry (``w?mpro_ep``, ``w?sigmpro_ep``, Vega) of each AllWISE source, identified by ``cntr_mf``;
``ra``/``dec`` are the source's position (the same on every row). Times: ``mjd`` is the UTC MJD of the
frame mid-point. The data will never change: read once. Cite Cutri et al. 2013 (AllWISE Explanatory
Supplement) and Wright et al. 2010, AJ 140, 1868; data from IRSA.

Which source: the AllWISE source (``cntr_mf``) nearest to the target within the cone (5 arcsec).
Quality cuts, as for NEOWISE: ``qi_fact > 0``, ``saa_sep > 0``, ``nb == 1``, ``na == 0``, and per band
``moon_masked`` digit ``0`` and ``cc_flags`` character ``0``. A row with one band missing gives a point
for the other band only, never an empty or stale one.
"""
import astropy.units as u
import numpy as np

from tom_bhtom_brokers.brokers.reading import filled, separation_note
from tom_bhtom_brokers.brokers.irsa import IrsaTapBroker, band_character
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.sky import separations_arcsec
from tom_bhtom_brokers.sources import DataSource


class AllwiseBroker(IrsaTapBroker):
    """AllWISE multi-epoch W1/W2 light curve of the AllWISE source nearest to the target."""

    source = DataSource.ALLWISE
    match_radius = 5 * u.arcsec
    cadence = None
    telescope = "WISE"
    verbose_name = "AllWISE Multiepoch Photometry (IRSA)"
    citation = "Cutri et al. 2013, AllWISE Explanatory Supplement"
    probe = {"name": "Gaia20fnr", "ra": 90.26701, "dec": -18.96770}
    table = "allwise_p3as_mep"
    columns = ("cntr_mf", "ra", "dec", "mjd", "w1mpro_ep", "w1sigmpro_ep", "w2mpro_ep", "w2sigmpro_ep",
               "qi_fact", "saa_sep", "moon_masked", "cc_flags", "nb", "na")

    def parse(self, payload, target):
        table = self.read_table(payload)
        if len(table) == 0:
            return self.nothing_within_radius("AllWISE source")
        ra, dec = filled(table["ra"], np.nan).astype(float), filled(table["dec"], np.nan).astype(float)
        separation = separations_arcsec(ra, dec, target.ra, target.dec)
        nearest = int(np.nanargmin(separation))
        source_id = filled(table["cntr_mf"], -1)[nearest]
        table = table[filled(table["cntr_mf"], -1) == source_id]
        frame_ok = (filled(table["qi_fact"], 0) > 0) & (filled(table["saa_sep"], 0) > 0) \
            & (filled(table["nb"], 0) == 1) & (filled(table["na"], 1) == 0)
        bands = []
        for index, name in ((0, "W1"), (1, "W2")):
            mag = filled(table[f"{name.lower()}mpro_ep"], np.nan).astype(float)
            err = filled(table[f"{name.lower()}sigmpro_ep"], np.nan).astype(float)
            keep = frame_ok & np.isfinite(mag) & np.isfinite(err) \
                & (band_character(table["moon_masked"], index) == "0") \
                & (band_character(table["cc_flags"], index) == "0")
            bands.append(Lightcurve.from_columns(
                mjd=filled(table["mjd"], np.nan)[keep].astype(float), brightness=mag[keep],
                brightness_error=err[keep], filter=name, unit="mag", telescope=self.telescope,
                qi_fact=filled(table["qi_fact"], 0)[keep].astype(float)))
        lightcurve = Lightcurve.concat(
            bands, matched_identifier=f"AllWISE cntr_mf {source_id}",
            extras={"magnitude_system": "Vega", "time_system": "MJD (UTC), frame mid-point"})
        lightcurve.note = separation_note(separation[nearest]) if len(lightcurve) else \
            f"{len(table)} AllWISE epoch(s) of the source, none passing the quality cuts"
        return lightcurve
