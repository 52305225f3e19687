"""ATLAS forced photometry (Asteroid Terrestrial-impact Last Alert System, University of Hawaii), c and o.

Archive: the ATLAS Forced Photometry Server, https://fallingstar-data.com/forcedphot (Shingles et al.
2021, TNS AstroNote 2021-7; cite Tonry et al. 2018, PASP 130, 064505 and Smith et al. 2020, PASP 132,
085002). Two routes:

* **The queue** (the job-queue transport, ``transports/jobqueue.py``; with ``DATA_SERVICES['ATLAS']['token']``,
  the API token of an ATLAS account, from ``POST /forcedphot/api-token-auth/``; header ``Authorization: Token
  ...``): a job for the target's coordinates is queued (``POST /forcedphot/queue/``) and recorded in the pair's
  status row (status "queued", its path, when, how many submissions): no thread waits for it. A run submits its
  pairs' jobs in batches before anything else (``submit_jobs``: the server's ``radeclist``, up to 100 positions a
  POST, grouped by the MJD they ask from), and a pair a batch left out submits its own. Later passes ask about the
  jobs through the account's task list (``GET /forcedphot/queue/?pagesize=100``, newest first, ``next`` pages
  followed; read once for all the jobs a pass asks about: ``TaskList``); a job not on it is asked by its own path.
  ``update_lightcurves`` asks ``poll_seconds`` (10) after the submission, then every half of the job's age (at
  most a minute apart), up to ``max_wait_seconds`` (900) from the submission, while the other archives' pairs go
  on; after that, and in a django-tasks task, the next run or a deferred task asks. A finished job's
  ``result_url`` is downloaded and the job deleted, as the API guide asks, within the account's write budget (60
  writes a minute: at most ``deletes_per_minute``, 50, are deleted; the server removes finished API tasks after 31
  days itself). A job the server no longer knows (404), or one still queued after ``job_lost_hours`` (24), is
  submitted again. A throttled submission (429, "... available in N seconds") is postponed by that long, not
  waited for in a worker. Only paths on the configured host are followed. Between full reads (``full_read_days``,
  7) a daily job asks only from the last stored point minus ``overlap_days`` (30) (``mjd_min``). Requests per
  daily pair: the result, its delete while the budget lasts, and a share of the batch and the task list. Cadence:
  daily.
* **A pasted result** (no token): the target's "ATLAS URL", the address of a finished result file
  (``https://fallingstar-data.com/forcedphot/static/results/job<n>.txt``); anything else is refused before
  any request. Read again only when the URL changes (or with ``--force``).

Format: whitespace-separated text whose header starts with ``###`` (``###MJD m dm uJy duJy F err chi/N RA
Dec x y maj min phi apfit mag5sig [PA_DEG] Sky Obs``), read by header name. Rows whose tphot ``err`` is
not 0 or whose ``mag5sig`` is under 10 (a failed photometric solution: the server FAQ; the junk rows with
huge fluxes have negative ``mag5sig``) are dropped, and so are rows outside the FAQ's quality cuts
(``QUALITY_CUTS``: duJy, mag5sig, Sky, distance from the chip edge, PSF axes, apfit; each configurable in
``DATA_SERVICES['ATLAS']['quality_cuts']``, the rows each dropped counted in the status message). A detection
needs ``uJy / duJy > 3``; it is stored with ``m`` and ``dm`` (AB). Anything else (negative flux, S/N <= 3) is a
non-detection with the 3-sigma limit
``23.9 - 2.5 log10(3 duJy)`` (TOM Toolkit's rule). Filters as written (``c``, ``o``, also ``g``, ``H``).
A repeated (MJD, filter) — a server bug on some nights — is stored once. Times: ``MJD`` is UTC at the
start of the 30 s exposure, stored as it is. Fluxes, ``mag5sig`` and the exposure name are in the extras.
"""
from datetime import timedelta
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
from astropy.time import Time

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Request
from tom_bhtom_brokers.brokers.reading import frame_of_rows, read_json
from tom_bhtom_brokers.fetching import no_data
from tom_bhtom_brokers.steps import PairAnswer
from tom_bhtom_brokers.transports.jobqueue import JobQueue, same_position
from tom_bhtom_brokers.exceptions import BrokerNotConfigured, BrokerParseError
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.sources import DataSource

REQUIRED = ("MJD", "m", "dm", "uJy", "duJy", "F", "err", "mag5sig")
MIN_SNR = 3.0
#: the quality cuts of the server's FAQ (https://fallingstar-data.com/forcedphot/faq/): column -> open interval
#: (low, high) a good row lies in (None: unbounded). mag5sig < 10 is a failed solution; the junk rows with huge
#: fluxes have negative mag5sig; x/y keep 100 px from the chip edge; maj/min are the PSF axes in pixels.
QUALITY_CUTS = {"duJy": (0, 10000), "mag5sig": (17, None), "Sky": (17, None), "x": (100, 10460),
                "y": (100, 10460), "maj": (1.6, 5), "min": (1.6, 5), "apfit": (-1, -0.1)}
AB_ZERO_POINT_UJY = 23.9
QUEUE_PATH = "/forcedphot/queue/"
#: ATLAS began in 2015; a job from this MJD on asks for everything
FIRST_MJD = 57000.0
#: the most positions one submission (``radeclist``) may carry: the server's limit
BATCH_LIMIT = 100


class AtlasBroker(JobQueue, BHTOMBroker):
    """ATLAS c/o forced photometry at the target's position, queued with the site's token or pasted."""

    source = DataSource.ATLAS
    default_url = "https://fallingstar-data.com"
    telescope = "ATLAS"
    verbose_name = "ATLAS forced photometry"
    citation = "Tonry et al. 2018, PASP 130, 064505; Smith et al. 2020, PASP 132, 085002"
    probe = {"name": "Gaia20fnr", "ra": 90.26701, "dec": -18.96770}
    default_timeout = 120.0
    name_hint = "a finished forced-photometry result; nor an ATLAS token in settings to queue one"
    #: a job takes mjd_min/mjd_max (with a token; a pasted result is a file read whole)
    takes_time_range = True

    queue_path = QUEUE_PATH
    own_prefix = "/forcedphot/"
    task_fields = {"finished": "finishtimestamp", "result": "result_url", "error": "error_msg",
                   "position": "queuepos", "url": "url"}

    @property
    def token(self):
        return str(self.setting("token") or "")

    def secrets(self):
        return (self.token,)

    @classmethod
    def cadence_interval(cls):
        """Daily when the site can queue jobs; a pasted result is read once (again when the URL changes)."""
        if "cadence_hours" in cls.configuration():
            return super().cadence_interval()
        return timedelta(days=1) if cls.setting("token") else None

    def queried_with(self, target):
        if self.token:
            return f"queue {target.ra:.6f} {target.dec:+.6f}" if target.has_position else ""
        return super().queried_with(target)

    @property
    def queues_jobs(self):
        return bool(self.token)

    def refreshes_incrementally(self):
        """A queued job takes an MJD range; a pasted result is a file read whole."""
        return bool(self.token) and super().refreshes_incrementally()

    @property
    def located_by(self):
        """With a token, a job at the target's position; without one, the result the user pasted."""
        return ("cone",) if self.token else ("name",)

    def check(self):
        """The queue with the site's token, without queuing a job: the list of this account's jobs."""
        if not self.token:
            raise BrokerNotConfigured("no ATLAS token in settings.DATA_SERVICES['ATLAS']: only pasted results are "
                                      "read, and those are checked as they are read")
        tasks, url = self.task_list.read(max_pages=1)
        return PairAnswer(no_data(f"the queue answers: {len(tasks)} job(s) of this account on its first page"), url=url)

    def query(self, located):
        """A pasted result's path; else the job for the target's position (from ``refresh_start`` in an
        incremental refresh), carrying the job already queued for it, if any."""
        if located.identifier:
            return [Request(urlsplit(located.identifier).path)]
        target = located.target
        start = self.refresh_start(target)
        return [Request(QUEUE_PATH, method="POST", headers=self.auth_headers(), wait_when_throttled=False,
                        job=target.pair.job, asked_from_mjd=start,
                        data={"ra": f"{target.ra:.7f}", "dec": f"{target.dec:.7f}", **self.job_fields(start)})]

    # --- the queue: ATLAS's own transport ------------------------------------------------------------

    @property
    def batches_jobs(self):
        return bool(self.token)

    def submit_jobs(self, targets):
        """The run's jobs in few submissions: ``radeclist`` (one "ra dec" line per target, at most BATCH_LIMIT a
        POST; the other fields shared), grouped by the MJD they ask from (``JobQueue.submit_in_batches``)."""
        return self.submit_in_batches(targets, BATCH_LIMIT) if self.token else {}

    def submit_batch(self, start, targets):
        """One submission of many positions: ({target id: its task's path}, the URL), refused unless the server
        answers with one task per line, at the line's position."""
        lines = "\n".join(f"{t.ra:.7f} {t.dec:+.7f}" for t in targets)
        answer = self.request(Request(QUEUE_PATH, method="POST", headers=self.auth_headers(),
                                      wait_when_throttled=False, data={"radeclist": lines, **self.job_fields(start)}))
        tasks = self.read(answer, lambda payload: read_json(payload, "ATLAS queue answer", kind=list))
        if len(tasks) != len(targets):
            raise BrokerParseError(f"the server queued {len(tasks)} tasks for {len(targets)} positions", url=answer.url)
        paths = {}
        for target, task in zip(targets, tasks):
            if not (isinstance(task, dict) and same_position(task, target)):
                raise BrokerParseError("the server's tasks are not the positions submitted, in order", url=answer.url)
            paths[target.id] = self.own_path(task.get("url"), "task url", answer.url)
        return paths, answer.url

    def job_fields(self, start):
        """A submission's fields besides the position(s): mjd_min (from ``start``, else the configured or first ATLAS
        MJD), mjd_max (tomorrow), difference imaging, no e-mail."""
        return {"mjd_min": f"{self.setting('mjd_min', FIRST_MJD) if start is None else start:.5f}",
                "mjd_max": f"{Time.now().mjd + 1.0:.5f}", "use_reduced": "false", "send_email": "false"}

    def auth_headers(self):
        return {"Authorization": f"Token {self.token}", "Accept": "application/json"}

    def parse(self, payload, target):
        lines = payload.decode("utf-8").splitlines()
        if not lines or not lines[0].startswith("###"):
            raise BrokerParseError("the ATLAS result does not start with its '###MJD ...' header")
        frame = frame_of_rows([line.split() for line in lines[1:] if line.strip()], lines[0].lstrip("#").split(),
                              REQUIRED, "ATLAS result")
        if frame.empty:
            return no_data("the ATLAS result has no measurements")
        numbers = {c: pd.to_numeric(frame[c], errors="raise").to_numpy(dtype=float)
                   for c in ("MJD", "m", "dm", "uJy", "duJy", "err", "mag5sig")}
        good, dropped = self.quality(frame, numbers)
        repeated = pd.DataFrame({"mjd": numbers["MJD"], "f": frame["F"]}).duplicated().to_numpy() & good
        good &= ~repeated
        flux, flux_error = numbers["uJy"][good], numbers["duJy"][good]
        # TOM Toolkit's rule: S/N <= 3 is a non-detection
        detected = flux > MIN_SNR * flux_error
        limit = AB_ZERO_POINT_UJY - 2.5 * np.log10(MIN_SNR * flux_error)
        kept = frame[good]
        lightcurve = Lightcurve.from_columns(
            mjd=numbers["MJD"][good], brightness=np.where(detected, numbers["m"][good], np.nan),
            brightness_error=np.where(detected, numbers["dm"][good], np.nan),
            limit=np.where(detected, np.nan, np.round(limit, 3)), filter=kept["F"].to_numpy(dtype=object),
            unit="mag", telescope=self.telescope, flux_ujy=flux, flux_error_ujy=flux_error,
            mag5sig=numbers["mag5sig"][good],
            exposure=kept["Obs"].to_numpy(dtype=object) if "Obs" in kept else "",
            extras={"time_system": "MJD (UTC), exposure start (30 s exposures)",
                    "magnitude_system": "AB; non-detection (S/N < 3 or negative flux) limit 23.9 - 2.5 log10(3 duJy)"})
        # what was dropped is said in the status, not stored with each point: an answer for a shorter range (the
        # daily refresh) drops other counts, and the same point must stay the same point
        repeats = f"{int(repeated.sum())} repeated row(s) dropped" if repeated.any() else ""
        lightcurve.note = "; ".join(part for part in (cuts_note(dropped), repeats) if part)
        return lightcurve

    def quality(self, frame, numbers):
        """Rows passing every quality cut, and how many rows each cut dropped (a row counted under the first
        cut it fails). Cuts are ``QUALITY_CUTS`` updated by ``DATA_SERVICES['ATLAS']['quality_cuts']``; a cut
        set to None is off. A cut whose column the result lacks is not applied."""
        cuts = {**QUALITY_CUTS, **dict(self.setting("quality_cuts", {}) or {})}
        good = numbers["err"] == 0
        dropped = {"err": int((~good).sum())}
        for name, bounds in cuts.items():
            if bounds is None or name not in frame:
                continue
            low, high = bounds
            values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
            with np.errstate(invalid="ignore"):
                passes = (values > (-np.inf if low is None else low)) & (values < (np.inf if high is None else high))
            dropped[name] = int((good & ~passes).sum())
            good &= passes
        return good, {name: count for name, count in dropped.items() if count}


def cuts_note(dropped):
    """The status line of the rows the quality cuts dropped, e.g. 'quality cuts dropped 19 rows (mag5sig 19)'."""
    if not dropped:
        return ""
    detail = ", ".join(f"{name} {count}" for name, count in dropped.items())
    return f"quality cuts dropped {sum(dropped.values())} rows ({detail})"
