"""AAVSO International Database: observations of variable stars by AAVSO observers, through VSX.

Archive: ``https://vsx.aavso.org/index.php?view=api.delim&ident=<name>&fromjd=<JD>&tojd=<JD>&delimiter=@@@``
(public, no authentication). The star is named by the target's "AAVSO name" (a VSX name such as
``SS Cyg`` or an AUID such as ``000-BCP-220``). AAVSO has no coordinate search: a target without one is found
in VSX's catalogue at VizieR (``B/vsx/vsx``, an ASU cone of 3 arcsec by default on ``vizier_url``, by default the
FIRST broker's VizieR, else the public one): the nearest star's VSX name is read and recorded in "AAVSO name",
and the star is then read by that name. Cite the AAVSO
International Database: "We acknowledge with thanks the variable star observations from the AAVSO
International Database contributed by observers worldwide and used in this research" (Kafka, S. 2021,
Observations from the AAVSO International Database, https://www.aavso.org).

Long histories (a century for many stars) are fetched in JD chunks, ``chunk_days`` long (10 years by
default) from ``first_jd`` (1900-01-01 by default) to now, each its own request; the chunks are half-open
``[fromjd, tojd)`` on our side and repeats at a boundary are dropped. The fingerprint covers every chunk,
so an unchanged history is not written again. Between full reads (weekly by default: AAVSO validates and
corrects old observations), a daily refresh asks only from the last stored observation minus ``overlap_days``
(30 by default: observers report late) — one request instead of a century's chunks.

Format: text, header line first, fields split by the delimiter we ask for (``@@@``: observer names are
"Surname, Firstname" and comments have commas). Read by header name (``JD mag uncert band by ... val ...
mtype ... obsID fainterThan obsType ...``). ``fainterThan == 1`` marks a limit whose ``mag`` is the limit.
By default only validated (``val`` V) and pre-validated (Z) observations are kept (``validation_flags`` in
settings), and differential (``mtype`` DIF, not on a standard system) ones are left out
(``include_differential``). A blank ``uncert`` (visual estimates) is stored as no error, not as zero.
``band`` is the filter (``Vis.`` becomes ``Vis``). Observer code, measurement and observation type,
validation flag and AAVSO's observation id are kept in the extras; observers' names are not stored. How many
observations were left out is said in the status message.
Times: ``JD`` is a geocentric Julian date on the UTC scale; stored as MJD = JD − 2400000.5, the JD kept
in ``time_original``. Cadence: daily.

A chunk without observations may come back as a header line alone or as an empty body: both mean "no
observations in this range", not a failure of the whole pair (for other archives an empty body is an error).
"""
from datetime import timedelta

import astropy.units as u
import numpy as np
import pandas as pd
from astropy.time import Time

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Located, Request
from tom_bhtom_brokers.brokers.reading import frame_of_rows
from tom_bhtom_brokers.fetching import no_data
from tom_bhtom_brokers.brokers.configured import site_url
from tom_bhtom_brokers.brokers.vizier import VIZIER_URL, asu_tsv
from tom_bhtom_brokers.exceptions import BrokerParseError, NoData
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.sky import nearest_within
from tom_bhtom_brokers.sources import DataSource
from tom_bhtom_brokers.survey_names import AAVSO_NAME

DELIMITER = "@@@"
REQUIRED = ("JD", "mag", "uncert", "band", "by", "val", "mtype", "obsID", "fainterThan", "obsType")
MJD_OFFSET = 2400000.5
BANDS = {"Vis.": "Vis"}
#: the VSX catalogue at VizieR
VSX_CATALOGUE = "B/vsx/vsx"


class AavsoBroker(BHTOMBroker):
    """Validated AAVSO observations of the star named in the target's "AAVSO name"."""

    source = DataSource.AAVSO
    default_url = "https://vsx.aavso.org"
    cadence = timedelta(days=1)
    telescope = "AAVSO"
    verbose_name = "AAVSO International Database"
    citation = "Kafka, S. 2021, Observations from the AAVSO International Database, https://www.aavso.org"
    probe = {"name": "FU Ori", "survey_names": {"AAVSO name": "FU Ori"}}
    #: a JD chunk without observations may come back as an empty body (or a header only): nothing in that range
    empty_answer_note = "AAVSO has no observations in the range asked"

    located_by = ("name", "cone")
    #: VSX's positions are J2000 catalogue positions of known variables
    match_radius = 3 * u.arcsec
    name_hint = "a VSX name or AUID"
    takes_time_range = True

    def locate_by_cone(self, target):
        """The nearest VSX star within the radius, by its VSX name (B/vsx at VizieR)."""
        request = Request("/viz-bin/asu-tsv", base_url=self.vizier_url(), params={
            "-source": VSX_CATALOGUE, "-c": f"{target.ra:.7f} {target.dec:+.7f}",
            "-c.rs": f"{self.radius.to_value(u.arcsec):g}", "-out": "Name", "-out.add": "_RAJ,_DEJ",
            "-out.max": "20"})
        stars = self.ask(request, vsx_stars)
        best = nearest_within([star[1] for star in stars], [star[2] for star in stars], target.ra, target.dec,
                              self.radius)
        if best is None:
            raise NoData(f"no VSX star within {self.radius.to_value(u.arcsec):g} arcsec")
        name = stars[best][0]
        # only the chosen star's name becomes a request parameter and the target's AAVSO name: only it must pass
        if not AAVSO_NAME.match(name):
            raise BrokerParseError(f"the nearest VSX star's name is not a VSX name: {name[:40]!r}", url=request.path)
        return Located(target, name)

    def vizier_url(self):
        return str(self.setting("vizier_url") or site_url("FIRST", VIZIER_URL)).rstrip("/")

    def check(self):
        """One chunk (the last whole one) of the probe star, not its century."""
        located = self.locate(self.probe_target())
        return self.collect(located, self.query(located)[-2:-1])

    def query(self, located):
        """The star's whole history, or its recent part in an incremental refresh: one request per chunk."""
        start = self.refresh_start(located.target)
        return self.chunks(located.identifier, start_jd=None if start is None else start + MJD_OFFSET)

    def chunks(self, name, now=None, start_jd=None):
        """One request per ``chunk_days`` from ``start_jd`` (by default ``first_jd``) to now."""
        edges = self.chunk_edges(now, start_jd)
        return [Request("/index.php", params={"view": "api.delim", "ident": name, "fromjd": f"{start:.5f}",
                                              "tojd": f"{stop:.5f}", "delimiter": DELIMITER})
                for start, stop in zip(edges[:-1], edges[1:])]

    def chunk_edges(self, now=None, start_jd=None):
        """JD boundaries of the chunks: every ``chunk_days`` from ``start_jd`` (by default ``first_jd``), then
        now."""
        first = float(self.setting("first_jd", 2415020.5) if start_jd is None else start_jd)
        span = float(self.setting("chunk_days", 3652.5))
        end = (now or Time.now()).utc.jd + 1.0
        first = min(first, end - 1.0)  # a last observation dated in the future still leaves one chunk to ask
        return list(np.arange(first, end, span)) + [end]

    def parse(self, payload, target):
        """One chunk: validated observations as a light curve; what was left out is counted in the extras."""
        frame = self.rows(payload)
        flags = tuple(self.setting("validation_flags", ("V", "Z")))
        keep = frame["val"].str.strip().isin(flags)
        if not self.setting("include_differential", False):
            keep &= frame["mtype"].str.strip().str.upper() != "DIF"
        kept = frame[keep]
        name = self.survey_name(target) or "this star"
        extras = {"time_system": "JD (UTC, geocentric); stored: MJD = JD - 2400000.5"}
        if kept.empty:
            empty = no_data(f"AAVSO holds no {'/'.join(flags)}-validated standard observations of {name}"
                            + (f" ({len(frame)} left out)" if len(frame) else ""))
            empty.extras, empty.tallies = extras, {"left_out": len(frame)}
            return empty
        jd = pd.to_numeric(kept["JD"], errors="raise").to_numpy(dtype=float)
        mag = pd.to_numeric(kept["mag"], errors="raise").to_numpy(dtype=float)
        error = pd.to_numeric(kept["uncert"].str.strip().replace("", None), errors="raise").to_numpy(dtype=float)
        limit = (kept["fainterThan"].str.strip() == "1").to_numpy()
        lightcurve = Lightcurve.from_columns(
            mjd=jd - MJD_OFFSET, brightness=np.where(limit, np.nan, mag),
            brightness_error=np.where(limit | ~(error > 0), np.nan, error), limit=np.where(limit, mag, np.nan),
            filter=kept["band"].str.strip().replace(BANDS).to_numpy(dtype=object), unit="mag",
            telescope=self.telescope, time_original=jd, observer_code=kept["by"].to_numpy(dtype=object),
            measurement_type=kept["mtype"].to_numpy(dtype=object),
            observation_type=kept["obsType"].to_numpy(dtype=object),
            validation=kept["val"].to_numpy(dtype=object), aavso_obs_id=kept["obsID"].to_numpy(dtype=object),
            extras=extras)
        lightcurve.tallies = {"left_out": int((~keep).sum())}
        return lightcurve

    def tally_note(self, tallies):
        left_out = tallies.get("left_out", 0)
        flags = "/".join(self.setting("validation_flags", ("V", "Z")))
        return f"{left_out} observation(s) left out (not {flags}-validated, or differential)" if left_out else ""

    @staticmethod
    def rows(payload):
        """One chunk as a frame of strings, refusing a cut or foreign answer."""
        lines = payload.decode("utf-8").splitlines()
        return frame_of_rows([line.split(DELIMITER) for line in lines[1:] if line.strip()],
                             lines[0].split(DELIMITER), REQUIRED, "AAVSO api.delim answer")


def vsx_stars(payload):
    """(VSX name, ra, dec) of each star of a VizieR cone on B/vsx (the chosen one's name is checked by
    ``locate_by_cone``: it becomes a request parameter and the target's AAVSO name)."""
    frame = asu_tsv(payload.decode("utf-8"))
    if frame is None:
        return []
    missing = [c for c in ("Name", "_RAJ2000", "_DEJ2000") if c not in frame.columns]
    if missing:
        raise BrokerParseError(f"the VSX cone answer has no column(s) {missing}")
    return [(name, float(ra), float(dec)) for name, ra, dec in zip(frame["Name"], frame["_RAJ2000"],
                                                                    frame["_DEJ2000"])]
