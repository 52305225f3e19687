"""IPAC's ZTF forced-photometry service, emulated as its users' scripts and guide describe it: every request carries
the service's HTTP login (``ztffps``; 401 otherwise); ``POST /cgi-bin/batchfp.py/submit`` with JSON lists ``ra``,
``dec`` and ``jdstart``/``jdend``, ``email``, ``userpass`` answers an HTML page and names no job; ``GET
/cgi-bin/getBatchForcedPhotometryRequests.cgi`` (``email``, ``userpass``, ``option``, ``action``) answers the
account's requests as an HTML table (``reqId, ra, dec, startJD, endJD, created, started, ended, exitcode,
lightcurve``); a finished request's ``lightcurve`` is a path under ``/ztf/ops/forcedphot/``.

Its behaviour comes from ``tests/data/ztf_fps/queue.json``: the accounts it accepts (e-mail, password), and how
many reads of the request list a job stays pending (``polls_pending``). A job's result is the real file of
tests/data/ztf_fps whose requested position is within 1 arcsec of the job's (its rows within the job's JD range);
elsewhere the job ends with exit code 63 and no light curve.
"""
import base64
import json
import math
import threading
from datetime import datetime, timezone
from pathlib import Path

HTML = "text/html; charset=utf-8"
SUBMIT_PATH = "/cgi-bin/batchfp.py/submit"
LIST_PATH = "/cgi-bin/getBatchForcedPhotometryRequests.cgi"
RESULT_PREFIX = "/ztf/ops/forcedphot/lc/"
HTTP_LOGIN = "ztffps:dontgocrazy!"
#: the real result files and the positions their headers say were asked
RESULTS = {(169.522886, 18.799654): "forcedphotometry_req00010458_lc.txt",
           (245.3167016, 14.55266508): "forcedphotometry_req00012234_lc_ZTF21aaqwjlz.txt"}
COLUMNS = ("reqId", "ra", "dec", "startJD", "endJD", "created", "started", "ended", "exitcode", "lightcurve")


def page(body, status=200):
    return status, HTML, f"<html><head><title>ZTF Forced Photometry</title></head><body>{body}</body></html>".encode()


class ZtfFpsQueue:
    def __init__(self, archive, folder):
        self.archive, self.folder = archive, Path(folder)
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        path = self.folder / "queue.json"
        with self._lock:
            self.config = json.loads(path.read_text()) if path.is_file() else {"accounts": {}}
            self.jobs, self.next_id, self.submissions = {}, 12001, []

    def handle(self, method, path, params, headers):
        """(status, content type, body) of a request to the service, or None when the path is not its own."""
        if path not in (SUBMIT_PATH, LIST_PATH) and not path.startswith(RESULT_PREFIX):
            return None
        login = (headers.get("Authorization") or "").removeprefix("Basic ").strip()
        if base64.b64decode(login or b"").decode("utf-8", "replace") != HTTP_LOGIN:
            return page("<h1>401 Unauthorized</h1>", 401)
        if path.startswith(RESULT_PREFIX):
            return self.result(path)
        if self.config["accounts"].get(params.get("email")) != params.get("userpass"):
            # the service's refusal of an unknown account, its credentials echoed (the tests show they are masked)
            return page(f"<p>Invalid email/userpass: {params.get('email')} {params.get('userpass')}</p>", 401)
        if path == SUBMIT_PATH and method == "POST":
            return self.submit(params)
        if path == LIST_PATH and method == "GET":
            return self.request_list()
        return page("<h1>405 Method Not Allowed</h1>", 405)

    def submit(self, params):
        try:
            ras, decs = json.loads(params["ra"]), json.loads(params["dec"])
            start, end = float(json.loads(params["jdstart"])), float(json.loads(params["jdend"]))
        except (KeyError, ValueError, TypeError):
            return page("<p>Submission failed: ra, dec, jdstart and jdend are required</p>", 400)
        if not isinstance(ras, list) or len(ras) != len(decs) or not 0 < len(ras) <= 1500:
            return page("<p>Submission failed: ra and dec must be lists of equal length, at most 1500</p>", 400)
        now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        with self._lock:
            self.submissions.append(len(ras))
            for ra, dec in zip(ras, decs):
                self.jobs[self.next_id] = {"ra": ra, "dec": dec, "startJD": start, "endJD": end, "created": now,
                                           "reads": 0}
                self.next_id += 1
        return page(f"<p>Submitted {len(ras)} position(s). You will receive an e-mail when they are done.</p>")

    def request_list(self):
        rows = []
        with self._lock:
            for req_id, job in sorted(self.jobs.items()):
                job["reads"] += 1
                done = job["reads"] > int(self.config.get("polls_pending", 1))
                result = self.result_name(job) if done else None
                lightcurve = f"{RESULT_PREFIX}{req_id % 10}/{req_id}/{result}" if result else ""
                code = "" if not done else ("0" if result else "63")
                cells = (req_id, job["ra"], job["dec"], job["startJD"], job["endJD"], job["created"],
                         job["created"] if done else "", job["created"] if done else "", code, lightcurve)
                rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
        header = "<tr>" + "".join(f"<th>{name}</th>" for name in COLUMNS) + "</tr>"
        return page(f"<p>Your recent requests</p><table border=1>{header}{''.join(rows)}</table>")

    def result_name(self, job):
        for (ra, dec), name in RESULTS.items():
            if math.hypot((job["ra"] - ra) * math.cos(math.radians(dec)), job["dec"] - dec) * 3600 <= 1.0:
                return name
        return None

    def result(self, path):
        parts = path.removeprefix(RESULT_PREFIX).split("/")
        with self._lock:
            job = self.jobs.get(int(parts[1])) if len(parts) == 3 and parts[1].isdigit() else None
        if job is None or parts[2] != self.result_name(job):
            return page("<h1>404 Not Found</h1>", 404)
        lines = (self.folder / parts[2]).read_text().splitlines(keepends=True)
        kept = [line for line in lines if not line[:1].isspace() or not line.strip()[:1].isdigit()
                or job["startJD"] <= float(line.split()[22]) < job["endJD"]]
        return 200, "text/plain; charset=utf-8", "".join(kept).encode()
