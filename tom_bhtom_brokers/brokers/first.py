"""FIRST (Faint Images of the Radio Sky at Twenty centimetres, VLA), integrated 1.4 GHz flux in mJy.

Archive: the FIRST catalogue, version 14Dec17, at VizieR (``VIII/92/first14``; ASU tab-separated output,
``https://vizier.cds.unistra.fr/viz-bin/asu-tsv``), a cone of 5 arcsec by default. No authentication.
Cite Becker, White & Helfand 1995, ApJ 450, 559 and Helfand, White & Becker 2015, ApJ 801, 26; acknowledge
VizieR (Ochsenbein et al. 2000, A&AS 143, 23).

Not a light curve: each catalogue source is a coadd of the pointings that cover it, so each source in the
cone gives one point at its **mean epoch**. Brightness: the integrated flux ``Fint`` in mJy (``unit`` mJy,
bandpass ``Flux 1.4GHz(FIRST)``), with error √(Rms² + (0.05 Fint)²): ``Rms`` is the local noise, which
alone underestimates the error of resolved sources, plus the ~5% calibration floor of the FIRST
description. ``Fpeak``, ``Rms``, the sidelobe probability, the source name and the spread of the epochs
are kept in the extras.

Epoch columns: the name of the mean-epoch column at VizieR is not known for sure (WSDB's ingest calls it
``ep_jd_``, i.e. ``Ep(JD)``; the original catalogue calls a full JD ``MJD``), so no one name is depended on: the
known spellings (``EPOCH_NAMES``, compared lower-cased with non-alphanumerics as ``_``) are accepted, and a value
above 2,400,000 is read as a JD, anything else as an MJD. An answer with none of them is an error that lists
the columns it has (``check_archives`` and ``pytest --remote-data`` check the live layout). Cadence: none.

WSDB route (``'route': 'wsdb'``): ``first_2014.main`` as BHTOM read it (``raj2000``, ``dej2000`` in degrees).
"""
import re

import astropy.units as u
import numpy as np
import pandas as pd

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Request
from tom_bhtom_brokers.brokers.vizier import VIZIER_URL, asu_tsv
from tom_bhtom_brokers.fetching import no_data
from tom_bhtom_brokers.transports.wsdb import HasWsdbRoute
from tom_bhtom_brokers.exceptions import BrokerParseError
from tom_bhtom_brokers.lightcurve import Lightcurve, utc_mjd
from tom_bhtom_brokers.sky import separations_arcsec
from tom_bhtom_brokers.sources import DataSource

CATALOGUE = "VIII/92/first14"
FILTER = "Flux 1.4GHz"
CALIBRATION_FLOOR = 0.05
#: normalised column name -> meaning (positions in degrees)
COLUMN_NAMES = {"fint": "fint", "fpeak": "fpeak", "rms": "rms", "raj2000": "ra", "dej2000": "dec", "first": "name",
                "p_s": "sidelobe_probability"}
#: the spellings the mean-epoch column and its rms are known by (normalised): VizieR's ``Ep(JD)`` as WSDB ingested
#: it, and the original catalogue's ``MJD`` (which holds a full JD); the first present is used
EPOCH_NAMES = ("ep_jd", "mjd", "epoch", "ep_mjd", "jd")
EPOCH_RMS_NAMES = ("s_ep_jd", "s_mjd", "e_mjd", "e_ep_jd", "s_epoch")
#: an epoch above this is a full JD, below it an MJD (FIRST observed 1993-2011: MJD ~49000-56000)
FULL_JD_ABOVE = 2_400_000


def normalised(name):
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


class FirstBroker(HasWsdbRoute, BHTOMBroker):
    """FIRST 1.4 GHz integrated flux of the catalogue sources at the target, at their mean epochs."""

    source = DataSource.FIRST
    default_url = VIZIER_URL
    match_radius = 5 * u.arcsec
    cadence = None
    telescope = "VLA"
    verbose_name = "FIRST 1.4 GHz catalogue (VizieR VIII/92)"
    citation = "Becker, White & Helfand 1995, ApJ 450, 559; Helfand, White & Becker 2015, ApJ 801, 26"
    probe = {"name": "Gaia20fnr", "ra": 90.26701, "dec": -18.96770}
    wsdb_table = "first_2014.main"
    wsdb_sql = ("SELECT f.raj2000, f.dej2000, f.fpeak, f.fint, f.rms, f.ep_jd_, f.s_ep_jd_ FROM first_2014.main AS f"
                " WHERE q3c_radial_query(f.raj2000, f.dej2000, %(ra)s, %(dec)s, %(radius_deg)s)"
                " ORDER BY q3c_dist(f.raj2000, f.dej2000, %(ra)s, %(dec)s)")

    def query(self, located):
        target = located.target
        return [Request("/viz-bin/asu-tsv", params={
            "-source": CATALOGUE, "-c": f"{target.ra:.7f} {target.dec:+.7f}",
            "-c.rs": f"{self.radius.to_value(u.arcsec):g}", "-out.all": "", "-out.add": "_RAJ,_DEJ",
            "-out.max": "100"})]

    def parse(self, payload, target):
        frame = asu_tsv(payload.decode("utf-8"))
        if frame is None:  # VizieR writes only its comment lines when the cone is empty
            return self.nothing_within_radius("FIRST source")
        if "_RAJ2000" in frame.columns:  # VizieR's decimal degrees, not the sexagesimal RAJ2000 string
            frame = frame.drop(columns=["RAJ2000", "DEJ2000"], errors="ignore").rename(
                columns={"_RAJ2000": "RAJ2000", "_DEJ2000": "DEJ2000"})
        return self.light_curve(frame, target)

    def light_curve(self, frame, target):
        """Catalogue rows (either route) to one point per source."""
        names = {normalised(c): c for c in frame.columns}
        epoch = next((names[n] for n in EPOCH_NAMES if n in names), None)
        epoch_rms = next((names[n] for n in EPOCH_RMS_NAMES if n in names), None)
        frame = frame.rename(columns={c: COLUMN_NAMES[normalised(c)] for c in frame.columns
                                      if normalised(c) in COLUMN_NAMES})
        frame = frame.rename(columns={epoch: "epoch", epoch_rms: "epoch_rms"} if epoch else {})
        required = ("fint", "rms", "epoch", "ra", "dec")
        missing = [c for c in required if c not in frame.columns]
        if missing:
            raise BrokerParseError(f"the FIRST rows have no {missing} column(s); columns: {list(frame.columns)}")
        if frame.empty:
            return self.nothing_within_radius("FIRST source")
        numbers = {c: pd.to_numeric(frame[c], errors="raise").to_numpy(dtype=float)
                   for c in ("fint", "rms", "epoch", "ra", "dec")}
        distance = separations_arcsec(numbers["ra"], numbers["dec"], target.ra, target.dec)
        keep = (distance <= self.radius.to_value(u.arcsec)) & np.isfinite(numbers["fint"])
        if not keep.any():
            return no_data(f"no FIRST source within {self.radius.to_value(u.arcsec):g} arcsec")
        fint, rms, epoch = numbers["fint"][keep], numbers["rms"][keep], numbers["epoch"][keep]
        epoch_jd = np.where(epoch > FULL_JD_ABOVE, epoch, epoch + 2400000.5)
        names = frame["name"].astype(str).str.strip().to_numpy(dtype=object)[keep] if "name" in frame \
            else np.full(keep.sum(), "", dtype=object)

        def extra(column):
            return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)[keep] \
                if column in frame else np.full(keep.sum(), np.nan)

        return Lightcurve.from_columns(
            mjd=utc_mjd(epoch_jd, format="jd"), brightness=fint,
            brightness_error=np.round(np.hypot(rms, CALIBRATION_FLOOR * fint), 4), filter=FILTER, unit="mJy",
            telescope=self.telescope, time_original=epoch_jd, fpeak_mjy_per_beam=extra("fpeak"), rms_mjy=rms,
            epoch_rms_days=extra("epoch_rms"), sidelobe_probability=extra("sidelobe_probability"),
            first_name=names, separation_arcsec=np.round(distance[keep], 3),
            matched_identifier=", ".join(name for name in names if name),
            extras={"time_system": "mean epoch of the coadded pointings (JD); stored: UTC",
                    "flux": "integrated flux Fint at 1.4 GHz, error sqrt(Rms^2 + (0.05 Fint)^2)"})
