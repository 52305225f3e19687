"""SDSS imaging (Sloan Digital Sky Survey), u g r i z PSF magnitudes of every detection at the target.

Archive: the SkyServer SQL search of a data release (``/dr17/SkyServerWS/SearchTools/SqlSearch?cmd=<SQL>
&format=csv`` on skyserver.sdss.org; ``data_release`` in settings, 17 by default). No authentication. Cite
Abdurro'uf et al. 2022, ApJS 259, 35 (DR17) and York et al. 2000, AJ 120, 1579; acknowledge the SDSS.

Query: every ``PhotoObjAll`` row within the radius (1 arcsec by default; ``fGetNearbyObjAllEq``) joined with
its ``Field``, so each band has its own epoch (``mjd_u`` … ``mjd_z``: the five bands of one scan are minutes
apart, in the order r, i, u, z, g). Primary (``mode`` 1) and secondary (2: repeat scans of the same sky)
detections are kept; family (3) and out-of-chunk (4) rows, deblending bookkeeping, are not. All objIDs in
the cone are the same star seen in different runs; the primary one (else the nearest) is recorded as the
target's "SDSS objid". In DR17's main context a star has one epoch, or a few where runs overlap: the
~80-epoch Stripe 82 light curves live in DR7's separate ``Stripe82`` database, which this broker does not
query (the search is by position, the recorded objid is for reference).

Format: text whose first line is ``#Table1``, then CSV with a header. ``-9999`` (magnitudes, MJDs) and
``-999`` (errors) are missing values: that band of that row is left out. Magnitudes are SDSS asinh
magnitudes ("luptitudes", close to AB; u is ~0.04 mag brighter, z ~0.02 fainter than AB), said in the
extras. Times: MJD on the TAI scale, converted to UTC (original kept). Cadence: none (a data release).

WSDB route (``'route': 'wsdb'``): the same columns from ``sdssdr14.photoobjall`` joined with
``sdssdr14.field`` on run, rerun, camcol and field, as BHTOM read them.
"""
import pandas as pd

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Request
from tom_bhtom_brokers.brokers.reading import read_csv
from tom_bhtom_brokers.transports.wsdb import HasWsdbRoute
from tom_bhtom_brokers.exceptions import BrokerParseError
from tom_bhtom_brokers.lightcurve import Lightcurve, utc_mjd
from tom_bhtom_brokers.sources import DataSource

BANDS = ("u", "g", "r", "i", "z")
KEPT_MODES = (1, 2)
COLUMNS = (["objid", "ra", "dec", "mode", "run", "camcol", "field"] + [f"psfmag_{b}" for b in BANDS]
           + [f"psfmagerr_{b}" for b in BANDS] + [f"mjd_{b}" for b in BANDS])
SKYSERVER_SQL = (
    "SELECT p.objID, p.ra, p.dec, p.mode, p.run, p.camcol, p.field, "
    + ", ".join(f"p.psfMag_{b}" for b in BANDS) + ", " + ", ".join(f"p.psfMagErr_{b}" for b in BANDS) + ", "
    + ", ".join(f"f.mjd_{b}" for b in BANDS)
    + " FROM dbo.fGetNearbyObjAllEq({ra:.7f},{dec:.7f},{radius_arcmin:.6f}) AS n"
      " JOIN PhotoObjAll AS p ON p.objID = n.objID JOIN Field AS f ON f.fieldID = p.fieldID ORDER BY n.distance")


class SdssBroker(HasWsdbRoute, BHTOMBroker):
    """SDSS PSF photometry of all detections at the target, each band at its own epoch."""

    source = DataSource.SDSS
    default_url = "https://skyserver.sdss.org"
    cadence = None
    telescope = "SDSS 2.5m"
    verbose_name = "SDSS imaging (SkyServer)"
    citation = "Abdurro'uf et al. 2022, ApJS 259, 35; York et al. 2000, AJ 120, 1579"
    probe = {"name": "Gaia20fnr", "ra": 90.26701, "dec": -18.96770}
    wsdb_table = "sdssdr14.photoobjall"
    wsdb_sql = (
        "SELECT s.objid, s.ra, s.dec, s.mode, s.run, s.camcol, s.field, "
        + ", ".join(f"s.psfmag_{b}" for b in BANDS) + ", " + ", ".join(f"s.psfmagerr_{b}" for b in BANDS) + ", "
        + ", ".join(f"f.mjd_{b}" for b in BANDS)
        + " FROM sdssdr14.photoobjall AS s JOIN sdssdr14.field AS f ON s.run = f.run AND s.rerun = f.rerun"
          " AND s.camcol = f.camcol AND s.field = f.field"
          " WHERE q3c_radial_query(s.ra, s.dec, %(ra)s, %(dec)s, %(radius_deg)s)"
          " ORDER BY q3c_dist(s.ra, s.dec, %(ra)s, %(dec)s)")

    def query(self, located):
        release = int(self.setting("data_release", 17))
        target = located.target
        sql = SKYSERVER_SQL.format(ra=target.ra, dec=target.dec, radius_arcmin=self.radius.to_value("arcmin"))
        return [Request(f"/dr{release}/SkyServerWS/SearchTools/SqlSearch", params={"cmd": sql, "format": "csv"})]

    def parse(self, payload, target):
        text = payload.decode("utf-8")
        first, _, rest = text.partition("\n")
        if first.strip() != "#Table1":
            raise BrokerParseError(f"the SkyServer answer does not start with '#Table1': {first.strip()[:200]!r}")
        frame = read_csv(rest.encode(), (), "SkyServer CSV")
        frame.columns = [c.lower() for c in frame.columns]
        return self.light_curve(frame, target)

    def light_curve(self, frame, target):
        """Rows with ``COLUMNS`` (either route) to one point per row and band."""
        missing = [c for c in COLUMNS if c not in frame.columns]
        if missing:
            raise BrokerParseError(f"the SDSS rows have no column(s) {missing}")
        if frame.empty:
            return self.nothing_within_radius("SDSS detection")
        numbers = frame[COLUMNS[1:]].apply(pd.to_numeric, errors="raise")
        frame = frame[numbers["mode"].isin(KEPT_MODES)]
        numbers = numbers.loc[frame.index]
        if frame.empty:
            return self.nothing_within_radius("primary or secondary SDSS detection")
        objid = frame["objid"].astype(str).str.strip()
        primary = objid[numbers["mode"] == 1]
        recorded = primary.iloc[0] if len(primary) else objid.iloc[0]  # rows come nearest first
        parts = []
        for band in BANDS:
            mag, error, mjd = (numbers[f"{kind}_{band}"].to_numpy(dtype=float)
                               for kind in ("psfmag", "psfmagerr", "mjd"))
            good = (mag > -900) & (error > 0) & (mjd > 0)
            parts.append(Lightcurve.from_columns(
                mjd=utc_mjd(mjd[good], scale="tai"), brightness=mag[good], brightness_error=error[good],
                filter=band, unit="mag", telescope=self.telescope, time_original=mjd[good],
                objid=objid.to_numpy(dtype=object)[good], run=numbers["run"].to_numpy()[good].astype(int),
                mode=numbers["mode"].to_numpy()[good].astype(int)))
        extras = {"time_system": "MJD (TAI) per band from Field; stored: UTC",
                  "magnitude_system": "SDSS asinh PSF magnitudes (luptitudes), close to AB",
                  "objects_in_cone": int(objid.nunique())}
        return Lightcurve.concat(parts, matched_identifier=recorded, extras=extras)
