"""Palomar Transient Factory (PTF/iPTF) light curves from IRSA's ``ptf_lightcurves`` table.

Archive: IRSA's TAP service (``https://irsa.ipac.caltech.edu/TAP``, the route the NEOWISE and ALLWISE brokers take),
an ADQL cone on ``ptf_lightcurves``; no authentication. PTF (2009-2017) is the survey between CRTS and ZTF on the
same telescope. Cite Law et al. 2009, PASP 121, 1395 and Ofek et al. 2012, PASP 124, 62 (photometric
calibration); acknowledge IRSA.

One star has one PTF object id (``oid``) per field and CCD: every oid within the cone (2 arcsec by default) is kept
and listed as the matched identifier, as the ZTF broker does. Filters ``fid`` 1 = g, 2 = R (Mould R). Magnitudes:
``mag_autocorr`` (calibrated SExtractor MAG_AUTO) with ``magerr_auto``; a negative ``mag_autocorr`` is a placeholder
and a non-positive or larger than ``max_error`` (0.5 mag) error is no measurement: those rows are left out and
counted. The table's per-epoch quality columns are applied as its public users apply them (``quality_cuts``,
default on): ``goodflag`` 1 (the epoch passed IRSA's quality cuts) and ``photcalflag`` 1 (photometrically
calibrated); the rows failing them are left out and counted apart.
Times: ``obsmjd`` is an MJD, taken as UTC (as every public user of the table does; IRSA states no scale).
The survey has ended: read once.
"""
import astropy.units as u
import numpy as np

from tom_bhtom_brokers.brokers.irsa import IrsaTapBroker
from tom_bhtom_brokers.brokers.reading import filled
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.sources import DataSource

COLUMNS = ("oid", "obsmjd", "mag_autocorr", "magerr_auto", "fid", "ra", "dec", "goodflag", "photcalflag")
FILTERS = {1: "g", 2: "R"}


class PtfBroker(IrsaTapBroker):
    """PTF g/R light curves of every PTF object within the cone."""

    source = DataSource.PTF
    match_radius = 2 * u.arcsec
    cadence = None  # the survey has ended: read once, again only with --force
    telescope = "Palomar P48"
    instrument = "PTF (CFH12K camera)"
    verbose_name = "Palomar Transient Factory light curves (IRSA)"
    citation = "Law et al. 2009, PASP 121, 1395"
    probe = {"name": "Gaia19dke", "ra": 304.7108, "dec": 55.1547}
    table = "ptf_lightcurves"
    columns = COLUMNS

    def parse(self, payload, target):
        table = self.read_table(payload)
        if len(table) == 0:
            return self.nothing_within_radius("PTF object")
        mag = filled(table["mag_autocorr"], np.nan).astype(float)
        error = filled(table["magerr_auto"], np.nan).astype(float)
        fid = filled(table["fid"], 0).astype(int)
        unknown = sorted(set(fid.tolist()) - set(FILTERS))
        if unknown:
            raise ValueError(f"unexpected PTF fid value(s) {unknown}")
        with np.errstate(invalid="ignore"):
            good = np.isfinite(mag) & (mag >= 0) & np.isfinite(error) & (error > 0) \
                & (error <= float(self.setting("max_error", 0.5)))
        flagged = np.zeros(len(table), dtype=bool)
        if self.setting("quality_cuts", True):
            flagged = (filled(table["goodflag"], 0).astype(int) != 1) \
                | (filled(table["photcalflag"], 0).astype(int) != 1)
        unusable = ~good
        good &= ~flagged
        oid = np.asarray(filled(table["oid"], 0)).astype(np.int64).astype(str)
        lightcurve = Lightcurve.from_columns(
            mjd=filled(table["obsmjd"], np.nan).astype(float)[good], brightness=mag[good],
            brightness_error=error[good], filter=np.array([FILTERS[f] for f in fid[good]], dtype=object), unit="mag",
            telescope=self.telescope, instrument=self.instrument, oid=oid[good].astype(object),
            matched_identifier="PTF oid " + ",".join(sorted(set(oid))),
            extras={"magnitude_system": "PTF MAG_AUTO, calibrated (Ofek et al. 2012)", "time_system": "MJD (UTC)"})
        lightcurve.tallies = {"placeholder or unusable error": int(unusable.sum()),
                              "quality flags": int((flagged & ~unusable).sum())}
        return lightcurve

    tally_notes = {"placeholder or unusable error": "{n} PTF row(s) with a placeholder magnitude or unusable error "
                                                    "left out",
                   "quality flags": "{n} PTF row(s) failing goodflag/photcalflag left out"}
