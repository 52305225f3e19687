"""A recorded ASAS-SN Sky Patrol v2 client, for the tests and the demo: the real client (``pyasassn``) speaks an
Arrow protocol of its own to a fixed host and port, which the sample archive does not emulate, so this object
stands in for it with the same two calls the broker makes.

``cone_search`` answers from ``tests/data/asassn/v2/master_list.csv`` (synthetic: which asas_sn_id lies where) and
``query_list(..., download=True)`` with the recorded light curve ``lc_<asas_sn_id>.csv`` (real v2 data as the client
saved it: a ``#`` metadata line, then the frame), as a collection whose ``data`` is the frame, as the client's is.
``calls`` records what was asked; ``fail`` makes every call raise (a server that cannot be reached), ``stall`` makes
every call take that many seconds first (a server that accepts and does not answer)."""
import time
from pathlib import Path

import astropy.units as u
import numpy as np
import pandas as pd

from tom_bhtom_brokers.sky import separations_arcsec

DATA = Path(__file__).resolve().parent.parent / "data" / "asassn" / "v2"


class Collection:
    def __init__(self, data):
        self.data = data


class RecordedSkyPatrolClient:
    calls = []
    fail = None
    stall = 0.0

    def __init__(self, verbose=True):
        self.ask("connect")
        self.catalogue = pd.read_csv(DATA / "master_list.csv")

    def ask(self, *call):
        type(self).calls.append(call)
        time.sleep(type(self).stall)
        if type(self).fail:
            raise type(self).fail

    def cone_search(self, ra_deg, dec_deg, radius, units="deg", catalog="master_list", **ignored):
        self.ask("cone_search", ra_deg, dec_deg, radius, units, catalog)
        radius_arcsec = (float(radius) * u.Unit(units)).to_value(u.arcsec)
        within = separations_arcsec(self.catalogue["ra_deg"], self.catalogue["dec_deg"], ra_deg, dec_deg) \
            <= radius_arcsec
        return self.catalogue[np.asarray(within)].reset_index(drop=True)

    def query_list(self, ids, catalog="master_list", id_col="asas_sn_id", download=False, **ignored):
        self.ask("query_list", tuple(ids), catalog, id_col, download)
        files = [DATA / f"lc_{int(i)}.csv" for i in ids]
        frames = [pd.read_csv(path, comment="#") for path in files if path.exists()]
        return Collection(pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=["jd", "flux", "flux_err", "mag", "mag_err", "limit", "fwhm", "camera", "asas_sn_id"]))
