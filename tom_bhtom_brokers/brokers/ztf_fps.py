"""ZTF forced photometry (IPAC's ZTF Forced Photometry Service, ZFPS): PSF photometry on every ZTF difference image
at the target's position since 2018, pre-discovery limits included: the deepest ZTF light curve of any position.

Archive: ``https://ztfweb.ipac.caltech.edu``, through the one job-queue transport (``transports/jobqueue.py``). A
free account is needed: its e-mail and password in ``DATA_SERVICES['ZTF FPS']`` (``email``, ``password``), sent in
the POST body and the request-list query only, and masked in every message (never in a point, a status or a
log); every request also carries the service's published HTTP login (``ztffps``, ``http_user``/``http_password``).
A job (``POST /cgi-bin/batchfp.py/submit``: JSON lists ``ra``, ``dec``, ``jdstart``, ``jdend``) asks for the
target's position from ``jd_start`` (the survey's start, 2458194.5) or the incremental start, to tomorrow; a run's
jobs go in batches of up to 1500 positions (the service's limit) before anything else. The service answers a
submission with an HTML page and names no job: a job is the account's request at that position and start
(``/job/<ra>/<dec>/<jdstart>``). Later passes read the account's request list once for all of them
(``GET /cgi-bin/getBatchForcedPhotometryRequests.cgi``, ``option=All recent jobs``: an HTML table of ``reqId``,
``ra``, ``dec``, ``startJD``, ``endJD``, ``created``, ``started``, ``ended``, ``exitcode``, ``lightcurve``); a
finished one's result file (``/ztf/ops/forcedphot/...lc.txt``, on the service's host only) is downloaded. A job not
on the list waits, and is submitted again after ``job_lost_hours``; the service has no delete. Cadence: daily.
Cite Masci et al. 2019, PASP 131, 018003 (ZTF's pipeline) and Masci et al. 2023, arXiv:2305.16279 (ZFPS).

The result file, its cuts and what each number is: ``brokers/ztf_fps_file.py``. Bands ``g``, ``r``, ``i``
(bandpass ``g(ZTF FPS)``, apart from ZTF's data releases ``g(ZTF)``).
"""
import base64
import json
import math
from datetime import timedelta
from html.parser import HTMLParser

from astropy.time import Time

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Request
from tom_bhtom_brokers.brokers.ztf_fps_file import FILTERS, QUALITY_CUTS, columns_of, cut_rows, photometry, read_rows
from tom_bhtom_brokers.exceptions import BrokerParseError
from tom_bhtom_brokers.lightcurve import Lightcurve, no_data
from tom_bhtom_brokers.sources import DataSource
from tom_bhtom_brokers.steps import PairAnswer
from tom_bhtom_brokers.transports.jobqueue import JobQueue

SUBMIT_PATH = "/cgi-bin/batchfp.py/submit"
LIST_PATH = "/cgi-bin/getBatchForcedPhotometryRequests.cgi"
#: the service's published HTTP login, the same for every user (its guide)
HTTP_LOGIN = ("ztffps", "dontgocrazy!")
#: ZTF's survey start (2018-03-17): a job from this JD on asks for everything
FIRST_JD = 2458194.5
#: what a job's exit code says (the service's guide)
EXIT_CODES = {"0": "successful", "62": "start reset to the survey's start", "63": "no epochs",
              "64": "a catastrophic error at the service", "65": "no epochs in the JD range asked"}


class RequestTable(HTMLParser):
    """The rows of the first HTML table of a page, as dicts keyed by its header cells."""

    def __init__(self):
        super().__init__()
        self.header, self.rows, self.row, self.cell, self.tables = [], [], None, None, 0

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables += 1
        elif tag == "tr" and self.tables == 1:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if self.row and not self.header:
                self.header = self.row
            elif self.row:
                self.rows.append(dict(zip(self.header, self.row)))
            self.row = None


def request_number(row):
    """A request-list row's ``reqId`` as a number (0 if it is none): later requests have larger ones."""
    text = str(row.get("reqId", "")).strip()
    return int(text) if text.isdigit() else 0


def job_key(ra, dec, jd_start):
    """The path naming a job: its position and start, rounded as the request list may echo them."""
    return f"/job/{float(ra):.5f}/{float(dec):+.5f}/{float(jd_start):.1f}"


class ZtfFpsBroker(JobQueue, BHTOMBroker):
    """ZTF forced photometry at the target's position, queued at IPAC with the site's account."""

    source = DataSource.ZTF_FPS
    default_url = "https://ztfweb.ipac.caltech.edu"
    telescope = "Palomar 1.2m Oschin"
    instrument = "ZTF camera"
    verbose_name = "ZTF forced photometry (IPAC ZFPS)"
    citation = "Masci et al. 2019, PASP 131, 018003; Masci et al. 2023, arXiv:2305.16279"
    probe = {"name": "ZTF21aaqwjlz", "ra": 245.3167016, "dec": 14.55266508}
    required_settings = ("email", "password")
    default_timeout = 120.0
    takes_time_range = True
    queues_jobs = True
    batches_jobs = True
    cadence = timedelta(days=1)
    queue_path, task_list_path, own_prefix = SUBMIT_PATH, LIST_PATH, "/ztf/ops/forcedphot/"
    task_fields = {"finished": "ended", "result": "lightcurve", "error": "exitcode", "position": "position",
                   "url": "reqId"}
    deletes_jobs = False
    tally_notes = {"no measurement": "{n} ZTF FPS epoch(s) without a flux (null) left out",
                   "processing": "{n} ZTF FPS epoch(s) with a bad procstatus left out",
                   "image quality": "{n} ZTF FPS epoch(s) failing the image-quality filter left out"}

    def secrets(self):
        return tuple(str(self.setting(key) or "") for key in ("password", "email", "http_password"))

    def auth_headers(self):
        user, password = self.setting("http_user", HTTP_LOGIN[0]), self.setting("http_password", HTTP_LOGIN[1])
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

    result_headers = auth_headers

    def check(self):
        """The account's request list, without queuing a job (``check_archives``)."""
        tasks, url = self.task_list.read()
        return PairAnswer(no_data(f"the service answers: {len(tasks)} recent request(s) of this account"), url=url)

    def jd_start(self, start_mjd):
        """The JD a job asks from: the configured start, or the incremental one at the UTC midnight before it (a
        half-integer, which the request list echoes as it was sent whatever its number format)."""
        if start_mjd is None:
            return float(self.setting("jd_start", FIRST_JD))
        return math.floor(start_mjd) + 2400000.5

    def job_fields(self, positions, start_mjd):
        """A submission's form: the positions as JSON lists, the JD range, the account."""
        ras, decs = ([round(float(p[i]), 7) for p in positions] for i in (0, 1))
        return {"ra": json.dumps(ras), "dec": json.dumps(decs), "jdstart": json.dumps(self.jd_start(start_mjd)),
                "jdend": json.dumps(round(Time.now().jd + 1.0, 5)), "email": str(self.setting("email")),
                "userpass": str(self.setting("password"))}

    def query(self, located):
        target = located.target  # a cone archive: ``locate`` required the position
        start = self.refresh_start(target)
        return [Request(SUBMIT_PATH, method="POST", headers=self.auth_headers(), expect_html=True,
                        wait_when_throttled=False, job=target.pair.job, asked_from_mjd=start,
                        data=self.job_fields([(target.ra, target.dec)], start))]

    def submitted_job_path(self, submitted, req):
        """The service names no job: the job is the account's request at this position and start."""
        return job_key(json.loads(req.data["ra"])[0], json.loads(req.data["dec"])[0], req.data["jdstart"])

    def job_url(self, job):
        return f"{self.base_url}{LIST_PATH}"

    def task_by_itself(self, job):
        """Not on the request list yet: still waiting (resubmitted after ``job_lost_hours``)."""
        return {}

    def read_task_list(self, max_pages=1):
        """The account's recent requests (one HTML page), keyed by position and start; of a position asked
        twice, the latest request."""
        answer = self.request(Request(LIST_PATH, headers=self.auth_headers(), expect_html=True, params={
            "email": str(self.setting("email")), "userpass": str(self.setting("password")),
            "option": "All recent jobs", "action": "Query Database"}))
        table = RequestTable()
        table.feed(self.read(answer, lambda payload: payload.decode("utf-8", "replace")))
        if table.rows and not {"ra", "dec", "startJD", "ended", "lightcurve"} <= set(table.header):
            raise BrokerParseError(f"the ZTF FPS request list has columns {table.header[:12]}", url=answer.url)
        tasks = {}
        for row in sorted(table.rows, key=request_number):
            key = self.task_key(row)
            if key:
                code = str(row.get("exitcode", "")).strip()
                tasks[key] = {**row, "exitcode": f"exit code {code}: {EXIT_CODES.get(code, 'see the service log')}"}
        return tasks, answer.url

    def task_key(self, task):
        try:
            return job_key(task["ra"], task["dec"], task["startJD"])
        except (KeyError, TypeError, ValueError):
            return None

    def submit_jobs(self, targets):
        """The run's jobs in few submissions (up to ``batch_size``, 1500, positions each), grouped by the MJD they
        ask from; a submission the service refuses leaves its targets to be submitted one by one."""
        return self.submit_in_batches(targets, int(self.setting("batch_size", 1500)))

    def submit_batch(self, start, targets):
        answer = self.request(Request(SUBMIT_PATH, method="POST", headers=self.auth_headers(), expect_html=True,
                                      wait_when_throttled=False,
                                      data=self.job_fields([(t.ra, t.dec) for t in targets], start)))
        jd_start = self.jd_start(start)
        return {target.id: job_key(target.ra, target.dec, jd_start) for target in targets}, answer.url

    def parse(self, payload, target):
        frame = read_rows(payload)
        if frame.empty:
            return no_data("the ZTF forced-photometry result has no epochs")
        values = columns_of(frame)
        cuts = {**QUALITY_CUTS, **dict(self.setting("quality_cuts", {}) or {})}
        good, left_out = cut_rows(frame, values, cuts)
        unknown = sorted(set(frame["filter"][good]) - set(FILTERS))
        if unknown:
            raise BrokerParseError(f"unexpected ZTF FPS filter(s) {unknown}")
        (kind, brightness, error, limit, unit), flux, flux_error = photometry(
            {name: column[good] for name, column in values.items()}, float(self.setting("snr_detection", 3)),
            float(self.setting("snr_limit", 5)), float(self.setting("reference_match_arcsec", 1.4)))
        kept = frame[good]
        start = values["jd"][good]
        lightcurve = Lightcurve.from_columns(
            mjd=start - 2400000.5 + values["exptime"][good] / 2 / 86400, brightness=brightness,
            brightness_error=error, limit=limit, unit=unit, filter=kept["filter"].map(FILTERS).to_numpy(dtype=object),
            telescope=self.telescope, instrument=self.instrument, time_original=start, magnitude_kind=kind,
            flux_ujy=flux.round(4), flux_error_ujy=flux_error.round(4),
            field=kept["field"].to_numpy(dtype=object), ccdid=kept["ccdid"].to_numpy(dtype=object),
            qid=kept["qid"].to_numpy(dtype=object), rfid=kept["rfid"].to_numpy(dtype=object),
            procstatus=kept["procstatus"].to_numpy(dtype=object),
            extras={"time_system": "MJD (UTC), mid-exposure (archive: jd, the exposure start)",
                    "magnitude_system": "AB (ZTF's zpdiff); difference fluxes in uJy"})
        lightcurve.tallies = left_out
        return lightcurve
