"""Pan-STARRS1 DR2 single-epoch detections (the PS1 3pi survey), g r i z y, from MAST.

Archive: the MAST Catalogs API (``https://catalogs.mast.stsci.edu/api/v0.1/panstarrs/dr2/``), no
authentication. Cite Chambers et al. 2016 (arXiv:1612.05560) and Flewelling et al. 2020, ApJS 251, 7;
acknowledge MAST and the PS1 archive.

Two requests: the ``mean`` table within the radius (1 arcsec by default) gives the object (the nearest;
by the target's "PS1 objID" when set, this step is skipped), then ``detection?objID=<id>`` its single-epoch
detections. JSON ``{"info": [column descriptions], "data": [[row], ...]}`` read by the column names in
``info``; 64-bit ids are strings; ``-999`` is a missing value.

Photometry: ``filterID`` 1–5 is g, r, i, z, y. ``psfFlux`` is in Jansky: m = −2.5 log10(psfFlux / 3631 Jy)
(AB; ≈ −2.5 log10(psfFlux) + 8.90), σ = 2.5 / ln 10 · psfFluxErr / psfFlux. Dropped: detections with a
non-positive flux or error (the table holds detections only, no upper limits), and those failing the PSF
quality cut ``psfQfPerfect >= 0.9`` (the PSF-weighted unmasked fraction; the MAST notebooks' cut; settable
as ``min_psf_qf_perfect``). ``infoFlag``, ``infoFlag2``, ``infoFlag3`` and ``detectID`` are kept in the
extras. Times: ``obsTime`` is the exposure mid-point as MJD on the TAI scale, converted to UTC (original
kept). Cadence: none (a data release).

WSDB route (``'route': 'wsdb'``): our notes document only BHTOM's ``panstarrs_dr1.stackobjectthin``
(stacked photometry, not epochs); the detections are read from ``wsdb_table`` (``panstarrs_dr2.detection``
by default, with MAST's column names) — check the name against your WSDB.
"""
import numpy as np
import pandas as pd

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Located, Request
from tom_bhtom_brokers.brokers.reading import frame_of_rows, read_json
from tom_bhtom_brokers.transports.wsdb import HasWsdbRoute
from tom_bhtom_brokers.exceptions import BrokerParseError, NoData
from tom_bhtom_brokers.lightcurve import Lightcurve, utc_mjd
from tom_bhtom_brokers.sky import nearest_within
from tom_bhtom_brokers.sources import DataSource

FILTER_IDS = {1: "g", 2: "r", 3: "i", 4: "z", 5: "y"}
MISSING = -999
AB_ZERO_POINT_JY = 3631.0
DETECTION_COLUMNS = ("objID", "detectID", "filterID", "obsTime", "ra", "dec", "psfFlux", "psfFluxErr",
                     "psfQfPerfect", "infoFlag", "infoFlag2", "infoFlag3")
API = "/api/v0.1/panstarrs/dr2"


class Ps1Broker(HasWsdbRoute, BHTOMBroker):
    """PS1 DR2 detections of the object nearest the target."""

    source = DataSource.PS1
    default_url = "https://catalogs.mast.stsci.edu"
    cadence = None
    telescope = "Pan-STARRS1"
    verbose_name = "Pan-STARRS1 DR2 detections (MAST)"
    citation = "Chambers et al. 2016, arXiv:1612.05560; Flewelling et al. 2020, ApJS 251, 7"
    probe = {"name": "Gaia20fnr", "ra": 90.26701, "dec": -18.96770}
    max_answer_bytes = 32 * 1024 * 1024

    @property
    def wsdb_table(self):
        return str(self.setting("wsdb_table", "panstarrs_dr2.detection"))

    @property
    def wsdb_sql(self):
        table = self.wsdb_table
        if not all(part.isidentifier() for part in table.split(".")):
            raise BrokerParseError(f"'wsdb_table' {table!r} is not a table name")
        columns = ", ".join(f'd.{c.lower()} AS "{c.lower()}"' for c in DETECTION_COLUMNS)
        return (f"SELECT {columns} FROM {table} AS d WHERE d.objid = (SELECT o.objid FROM {table} AS o WHERE"
                " q3c_radial_query(o.ra, o.dec, %(ra)s, %(dec)s, %(radius_deg)s)"
                " ORDER BY q3c_dist(o.ra, o.dec, %(ra)s, %(dec)s) LIMIT 1)")

    located_by = ("name", "cone")

    def locate_by_cone(self, target):
        mean = Request(f"{API}/mean.json", params={
            "ra": f"{target.ra:.7f}", "dec": f"{target.dec:.7f}", "radius": f"{self.radius.to_value('deg'):.8f}",
            "columns": "[objID,raMean,decMean,nDetections]"})
        objects = self.ask(mean, lambda payload: table(payload, ("objID", "raMean", "decMean")))
        best = nearest_within(pd.to_numeric(objects["raMean"]), pd.to_numeric(objects["decMean"]), target.ra,
                              target.dec, self.radius)
        if best is None:
            raise NoData(self.radius_note("PS1 object"))
        return Located(target, str(objects["objID"].iloc[best]))

    def query(self, located):
        return [Request(f"{API}/detection.json", params={
            "objID": located.identifier, "columns": "[" + ",".join(DETECTION_COLUMNS) + "]", "pagesize": 50000})]

    def parse(self, payload, target):
        frame = table(payload, DETECTION_COLUMNS)
        frame.columns = [c.lower() for c in frame.columns]
        return self.light_curve(frame, target)

    def light_curve(self, frame, target):
        """Detection rows (either route; lower-case MAST column names) to points."""
        missing = [c.lower() for c in DETECTION_COLUMNS if c.lower() not in frame.columns]
        if missing:
            raise BrokerParseError(f"the PS1 detections have no column(s) {missing}")
        if frame.empty:
            return self.nothing_within_radius("PS1 detection")
        numbers = frame[["filterid", "obstime", "psfflux", "psffluxerr", "psfqfperfect"]].apply(
            pd.to_numeric, errors="raise").replace(MISSING, np.nan)
        flux, error = numbers["psfflux"].to_numpy(dtype=float), numbers["psffluxerr"].to_numpy(dtype=float)
        band = numbers["filterid"].map(FILTER_IDS)
        good = (flux > 0) & (error > 0) & band.notna().to_numpy() & np.isfinite(numbers["obstime"].to_numpy())
        good &= numbers["psfqfperfect"].to_numpy(dtype=float) >= float(self.setting("min_psf_qf_perfect", 0.9))
        kept = frame[good]
        obs_time = numbers["obstime"].to_numpy(dtype=float)[good]
        return Lightcurve.from_columns(
            mjd=utc_mjd(obs_time, scale="tai"), brightness=-2.5 * np.log10(flux[good] / AB_ZERO_POINT_JY),
            brightness_error=2.5 / np.log(10) * error[good] / flux[good], filter=band[good].to_numpy(dtype=object),
            unit="mag", telescope=self.telescope, time_original=obs_time,
            detect_id=kept["detectid"].astype(str).to_numpy(dtype=object),
            info_flag=kept["infoflag"].astype(str).to_numpy(dtype=object),
            info_flag2=kept["infoflag2"].astype(str).to_numpy(dtype=object),
            info_flag3=kept["infoflag3"].astype(str).to_numpy(dtype=object),
            matched_identifier=str(frame["objid"].iloc[0]).strip(),
            extras={"time_system": "obsTime: MJD (TAI), exposure mid-point; stored: UTC",
                    "magnitude_system": "AB from psfFlux (Jy): -2.5 log10(psfFlux / 3631)",
                    "detections_dropped": int((~good).sum())})


def table(payload, required):
    """A MAST Catalogs API JSON answer as a frame named by its ``info`` columns."""
    document = read_json(payload, "MAST answer")
    info, data = document.get("info"), document.get("data")
    if not isinstance(info, list) or not isinstance(data, list):
        raise BrokerParseError("the MAST answer has no 'info' and 'data'")
    return frame_of_rows(data, [column.get("name") for column in info], required, "MAST answer")
