"""LINEAR (Lincoln Near-Earth Asteroid Research), unfiltered CCD light curves recalibrated with SDSS.

Public route: there is no public cone search over all of LINEAR. The public light curves are the LINEAR
periodic-variable sample published with astroML (about 7,000 stars; Sesar et al. 2011, AJ 142, 190 for
the recalibration; Palaversa et al. 2013, AJ 146, 101 for the sample): a target list
(``allLINEARfinal_targets.dat.gz``: objectID, raLIN, decLIN, …) and one tarball of light curves
(``allLINEARfinal_dat.tar.gz``: ``<objectID>.dat``, three columns MJD, mag, error), both in the
astroML/astroML-data repository on GitHub (no authentication). Cite Sesar et al. 2011 and Ivezić et al.,
"Statistics, Data Mining, and Machine Learning in Astronomy" (astroML).

Both files are downloaded once and cached in ``cache_dir`` (``DATA_SERVICES['LINEAR']['cache_dir']``,
default ``~/.cache/tom_bhtom_brokers/linear``, one folder per archive host), the tarball unpacked beside
them. A file is cached only once it reads whole within ``max_unpacked_bytes`` and ``max_members`` (a few MB of
gzip can unpack to gigabytes); a cached file that no longer reads is dropped and fetched again; a forced run
(``--force``) fetches them again. The target is matched by its "LINEAR id" when set, else by
position against the list (3 arcsec by default); outside the sample the status says "not covered by the
public LINEAR sample".

Magnitudes: unfiltered, recalibrated with SDSS (close to r; stored as ``CL(LINEAR)``, not V). Times: MJD,
taken as UTC. Cadence: none.

WSDB route (``'route': 'wsdb'``): every LINEAR object, through ``lineardb.objects`` (positions) and
``lineardb.sources`` (measurements), as BHTOM read them.
"""
import functools
import io
import logging
import os
import re
import shutil
import tarfile
from pathlib import Path

import astropy.units as u
import numpy as np
import pandas as pd

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Located, Request
from tom_bhtom_brokers.steps import PairAnswer
from tom_bhtom_brokers.transports.download import FileCache, private_name
from tom_bhtom_brokers.fetching import no_data
from tom_bhtom_brokers.transports.wsdb import HasWsdbRoute
from tom_bhtom_brokers.exceptions import BrokerParseError, NoData
from tom_bhtom_brokers.transports.http import Response
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.sky import nearest_within
from tom_bhtom_brokers.sources import DataSource
from tom_bhtom_brokers.unpacking import gunzip, tar_members

DATASETS = "/astroML/astroML-data/raw/master/datasets"
TARGETS_FILE = "allLINEARfinal_targets.dat.gz"
LIGHT_CURVES_FILE = "allLINEARfinal_dat.tar.gz"
TARGET_COLUMNS = ["objectID", "raLIN", "decLIN", "raSDSS", "decSDSS", "r", "ug", "gr", "ri", "iz", "JK", "<mL>",
                  "std", "rms", "Lchi2", "LP1", "phi1", "S", "prior"]
FILTER = "CL"
LIGHT_CURVE_NAME = re.compile(r"^\d+\.dat$")
#: the real sample: ~7,000 light curves, ~60 MB unpacked (``max_unpacked_bytes``, ``max_members`` in settings)
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
MAX_MEMBERS = 20000
logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=4)
def target_list(path, mtime_ns, max_bytes):
    """The sample's target list, parsed once per cached file (``mtime_ns`` keys a re-download)."""
    return parse_target_list(Path(path).read_bytes(), max_bytes)


def parse_target_list(gzipped, max_bytes=MAX_UNPACKED_BYTES):
    """The gzipped target list (whitespace columns, '#' comments) as a frame, at most ``max_bytes`` unpacked."""
    text = gunzip(gzipped, max_bytes, TARGETS_FILE).decode("ascii")
    frame = pd.read_csv(io.StringIO(text), sep=r"\s+", comment="#", header=None, names=TARGET_COLUMNS)
    if frame.empty:
        raise BrokerParseError(f"{TARGETS_FILE} lists no object")
    return frame.astype({"objectID": int, "raLIN": float, "decLIN": float})


class LinearBroker(HasWsdbRoute, BHTOMBroker):
    """LINEAR light curve of the target when it is in the public periodic-variable sample (or in WSDB)."""

    source = DataSource.LINEAR
    default_url = "https://github.com"
    match_radius = 3 * u.arcsec
    cadence = None
    telescope = "LINEAR 1m"
    verbose_name = "LINEAR (public periodic-variable sample)"
    citation = "Sesar et al. 2011, AJ 142, 190; Palaversa et al. 2013, AJ 146, 101"
    probe = {"name": "Gaia19dke", "ra": 304.7108, "dec": 55.1547}
    default_timeout = 300.0
    max_answer_bytes = 200 * 1024 * 1024  # the sample's light-curve tarball, read once
    wsdb_table = "lineardb.sources"
    wsdb_sql = ("SELECT o.objectid, s.mjd, s.mag, s.magerr FROM lineardb.sources AS s JOIN lineardb.objects AS o"
                " ON o.objectid = s.objectid WHERE o.objectid = (SELECT n.objectid FROM lineardb.objects AS n"
                " WHERE q3c_radial_query(n.ra, n.decl, %(ra)s, %(dec)s, %(radius_deg)s)"
                " ORDER BY q3c_dist(n.ra, n.decl, %(ra)s, %(dec)s) LIMIT 1) ORDER BY s.mjd")

    @property
    def files(self):
        """The sample's files, downloaded once into ``cache_dir`` (transports/download.py)."""
        default = Path.home() / ".cache" / "tom_bhtom_brokers" / "linear"
        return FileCache(self.setting("cache_dir") or default, self.base_url, self.download)

    @property
    def host_cache(self):
        return self.files.folder

    def download(self, name):
        """(bytes, url) of one of the sample's files; an empty body is an error (``read``)."""
        response = self.request(Request(f"{DATASETS}/{name}"))
        return self.read(response, bytes), response.url

    def limits(self):
        return (int(self.setting("max_members", MAX_MEMBERS)),
                int(self.setting("max_unpacked_bytes", MAX_UNPACKED_BYTES)))

    def cached(self, name, validate, refresh_before=None):
        """The path of one of the sample's files (``FileCache.path``)."""
        return self.files.path(name, validate, refresh_before, on_drop=self.forget_unpacked)

    def drop(self, path):
        """Forget a cached file (and the light curves unpacked from the tarball)."""
        FileCache.drop(path, self.forget_unpacked)

    def forget_unpacked(self, path):
        if path.name == LIGHT_CURVES_FILE:
            shutil.rmtree(self.host_cache / "light_curves", ignore_errors=True)

    def valid_tarball(self, content):
        archive, _ = tar_members(io.BytesIO(content), LIGHT_CURVE_NAME.match, *self.limits(), LIGHT_CURVES_FILE)
        archive.close()

    def check(self):
        """The archive itself, not the cache: the target list downloaded afresh and read (the WSDB route: the
        probe's light curve)."""
        if self.route() == "wsdb":
            return super().check()
        response = self.request(Request(f"{DATASETS}/{TARGETS_FILE}"))
        targets = self.read(response, lambda payload: parse_target_list(payload, self.limits()[1]))
        return PairAnswer(no_data(f"the target list reads: {len(targets)} objects (light curves are read once, into "
                                  "the cache)"), url=response.url)

    located_by = ("name", "cone")

    def locate_by_cone(self, target):
        targets = self.targets(target.pair.refresh_caches_before)
        best = nearest_within(targets["raLIN"].to_numpy(), targets["decLIN"].to_numpy(), target.ra, target.dec,
                              self.radius)
        if best is None:
            raise NoData("not covered by the public LINEAR sample (astroML's ~7,000 periodic variables)")
        return Located(target, str(int(targets["objectID"].iloc[best])))

    def query(self, located):
        """The object's file in the sample's tarball (answered from the cache by ``send``)."""
        return [Request(f"{DATASETS}/{LIGHT_CURVES_FILE}", member=f"{located.identifier}.dat",
                        refresh_before=located.target.pair.refresh_caches_before)]

    def send(self, req):
        """The light-curve tarball is read once, into the cache: a member is answered from there."""
        if req.member is None:
            return super().send(req)
        content = self.light_curve_file(req.member, req.refresh_before)
        if not content.strip():
            raise NoData(f"LINEAR id {req.member.removesuffix('.dat')} is not in the public LINEAR sample")
        return Response(url=f"{self.base_url}{req.path}#{req.member}", status=200, headers={}, content=content)

    def parse(self, payload, target):
        """One ``<objectID>.dat``: MJD, mag, error (the object id is the located one)."""
        rows = np.loadtxt(io.BytesIO(payload), ndmin=2)
        if rows.shape[1] != 3:
            raise BrokerParseError(f"the light curve has {rows.shape[1]} columns, not MJD, mag, error")
        frame = pd.DataFrame({"objectid": "", "mjd": rows[:, 0], "mag": rows[:, 1], "magerr": rows[:, 2]})
        return self.light_curve(frame, target)

    def targets(self, refresh_before=None):
        """The sample's target list; a cached copy that no longer reads is dropped and downloaded once more."""
        max_bytes = self.limits()[1]
        for attempt in (1, 2):
            path = self.cached(TARGETS_FILE, lambda content: parse_target_list(content, max_bytes), refresh_before)
            try:
                return target_list(path, path.stat().st_mtime_ns, max_bytes)
            except (OSError, ValueError, UnicodeDecodeError, BrokerParseError) as exc:
                logger.warning("the cached LINEAR target list %s does not read (%s): fetched again", path, exc)
                with FileCache.lock:
                    self.drop(path)
                if attempt == 2:
                    raise BrokerParseError(f"the LINEAR target list does not read ({exc})") from None

    def light_curve_file(self, member, refresh_before=None):
        """The bytes of ``member`` (``<objectid>.dat``; b"" when the sample has none). The tarball is unpacked
        once, into a folder beside it, so an update reads one small file instead of decompressing the whole sample."""
        folder = self.host_cache / "light_curves"
        tarball = self.cached(LIGHT_CURVES_FILE, self.valid_tarball, refresh_before)  # takes the lock itself
        with FileCache.lock:
            if not folder.is_dir():  # another thread may have unpacked it meanwhile
                try:
                    self.unpack(tarball, folder)
                except BrokerParseError:
                    self.drop(tarball)  # the next update downloads it again
                    raise
        path = folder / member
        return path.read_bytes() if path.is_file() else b""

    def unpack(self, tarball, folder):
        """The tarball's plain ``<digits>.dat`` files into ``folder``, whole or not at all, within the limits. The
        folder is unpacked beside it under a name of this process's own, so two processes (a fleet's workers
        sharing the cache folder) never unpack into one another's; the first to finish keeps its folder."""
        partial = private_name(folder)
        archive, members = tar_members(tarball, LIGHT_CURVE_NAME.match, *self.limits(),
                                       f"cached LINEAR light curves {tarball}")
        try:
            with archive:
                # the 'data' filter too where this Python has it
                safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                archive.extractall(partial, members=members, **safe)
        except (OSError, tarfile.TarError, EOFError) as exc:
            shutil.rmtree(partial, ignore_errors=True)
            raise BrokerParseError(f"the cached LINEAR light curves {tarball} are unreadable ({exc})") from None
        try:
            os.replace(partial, folder)  # never a half-unpacked folder
        except OSError:
            if not folder.is_dir():
                raise
            shutil.rmtree(partial, ignore_errors=True)  # another process unpacked the same tarball first

    def light_curve(self, frame, target):
        """Rows of objectid, mjd, mag, magerr (either route) to points."""
        missing = [c for c in ("objectid", "mjd", "mag", "magerr") if c not in frame.columns]
        if missing:
            raise BrokerParseError(f"the LINEAR rows have no column(s) {missing}")
        if frame.empty:
            return no_data("no LINEAR measurements for this object")
        values = frame[["mjd", "mag", "magerr"]].apply(pd.to_numeric, errors="raise").to_numpy(dtype=float)
        return Lightcurve.from_columns(
            mjd=values[:, 0], brightness=values[:, 1], brightness_error=values[:, 2], filter=FILTER, unit="mag",
            telescope=self.telescope, matched_identifier=str(frame["objectid"].iloc[0] or ""),
            extras={"time_system": "MJD, taken as UTC",
                    "magnitude_system": "unfiltered CCD, recalibrated with SDSS (Sesar et al. 2011); not V"})
