"""ZTF public Data Release light curves from IRSA's light-curve service.

Archive: https://irsa.ipac.caltech.edu/cgi-bin/ZTF/nph_light_curves (IRSA ZTF light-curve API), a cone
``POS=CIRCLE ra dec radius_deg`` answered as CSV. No authentication. Cite Bellm et al. 2019, PASP 131,
018002 and Masci et al. 2019, PASP 131, 018003; acknowledge ZTF and IRSA.

One star has one ZTF object id (``oid``) per field, CCD quadrant and filter: every oid within the cone
(1.5 arcsec by default) is kept and listed as the matched identifier. Filters ``zg``/``zr``/``zi`` become
``g``/``r``/``i``. Times: ``mjd`` is UTC (``hjd`` is a full heliocentric JD, kept in the extras).
Magnitudes are PSF-fit DR magnitudes calibrated to PS1, without the colour term.

Bad epochs: we ask IRSA for ``BAD_CATFLAGS_MASK=32768`` (bit 15, clouds/Moon/bad calibration, the mask
IRSA documents) and also drop, defensively, any row whose ``catflags`` has that bit; other flag bits are
kept and stored in the extras. Integer columns are read whether IRSA writes them in decimal or hex.
Cadence: weekly (a new release every few months replaces the old points through the sync).
"""
from datetime import timedelta

import astropy.units as u
import numpy as np
import pandas as pd

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Request
from tom_bhtom_brokers.brokers.reading import read_csv
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.sources import DataSource

BAD_CATFLAGS_MASK = 32768
FILTERS = {"zg": "g", "zr": "r", "zi": "i"}
REQUIRED = ("oid", "mjd", "hjd", "mag", "magerr", "catflags", "filtercode", "ra", "dec")


def integers(column):
    """Integers written in decimal or hex (``0x8000``), whole-column."""
    text = column.astype(str).str.strip()
    is_hex = text.str.lower().str.startswith("0x")
    values = pd.to_numeric(text.where(~is_hex), errors="raise")
    if is_hex.any():
        values[is_hex] = text[is_hex].map(lambda v: int(v, 16))
    return values.astype("int64")


class ZtfBroker(BHTOMBroker):
    """ZTF DR g/r/i light curves of every ZTF object within the cone."""

    source = DataSource.ZTF
    default_url = "https://irsa.ipac.caltech.edu"
    match_radius = 1.5 * u.arcsec
    cadence = timedelta(days=7)
    telescope = "Palomar P48"
    instrument = "ZTF"
    verbose_name = "ZTF public data release light curves (IRSA)"
    citation = "Masci et al. 2019, PASP 131, 018003"
    probe = {"name": "Gaia20fnr", "ra": 90.26701, "dec": -18.96770}

    def query(self, located):
        target = located.target
        params = {"POS": f"CIRCLE {target.ra:.7f} {target.dec:.7f} {self.radius.to_value(u.deg):.8f}",
                  "BAD_CATFLAGS_MASK": str(BAD_CATFLAGS_MASK), "FORMAT": "CSV"}
        if self.setting("collection"):
            params["COLLECTION"] = self.setting("collection")
        return [Request("/cgi-bin/ZTF/nph_light_curves", params=params)]

    def parse(self, payload, target):
        frame = read_csv(payload, REQUIRED, "ZTF light curve")
        if frame.empty:
            return self.nothing_within_radius("ZTF object")
        catflags = integers(frame["catflags"])
        good = (catflags & BAD_CATFLAGS_MASK) == 0
        frame, catflags = frame[good], catflags[good]
        oids = sorted(frame["oid"].unique())
        lightcurve = Lightcurve.from_columns(
            mjd=pd.to_numeric(frame["mjd"], errors="raise").to_numpy(),
            brightness=pd.to_numeric(frame["mag"], errors="raise").to_numpy(),
            brightness_error=pd.to_numeric(frame["magerr"], errors="raise").to_numpy(),
            filter=frame["filtercode"].map(FILTERS).fillna(frame["filtercode"]).to_numpy(dtype=object),
            unit="mag", telescope=self.telescope, instrument=self.instrument,
            exposure_time=pd.to_numeric(frame["exptime"], errors="coerce").to_numpy()
            if "exptime" in frame else np.nan,
            oid=frame["oid"].to_numpy(dtype=object), catflags=catflags.to_numpy(),
            hjd=pd.to_numeric(frame["hjd"], errors="raise").to_numpy(),
            matched_identifier="ZTF DR oid " + ",".join(oids),
            extras={"data_release": self.setting("collection") or "latest public ZTF release at IRSA",
                    "magnitude_system": "PS1-calibrated PSF magnitude (AB), colour term not applied",
                    "time_system": "MJD (UTC)"})
        if not len(lightcurve):
            lightcurve.note = "every ZTF epoch in the cone is flagged bad (catflags bit 15)"
        return lightcurve
