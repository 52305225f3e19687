"""The ATLAS forced-photometry queue, emulated: the API of fallingstar-data.com/forcedphot as its guide and
server source describe it (``POST queue/`` -> 201 ``{"url"}``, ``GET`` the task until ``finishtimestamp``,
its ``result_url``, ``DELETE`` the task; ``GET queue/`` the account's tasks, newest first, in cursor pages), with
token authentication and throttling.

Its behaviour comes from ``tests/data/atlas/queue.json``: the tokens it accepts, how many submissions after
a reset are throttled (429 "Expected available in N seconds", no ``Retry-After`` header, as the guide shows
it), how many polls a job stays queued and for how many seconds at least (``queue_seconds``), and how long a
submission of many positions takes to answer (``submit_seconds``). The result of
a job is the file a route for ``/forcedphot/_queue_result`` gives for the job's ra/dec (cone, region template,
else "No data returned"), its rows within the job's ``mjd_min``/``mjd_max`` and before the archive's clock.
A wrong token is answered 401 with the token echoed back, so the tests can show it is masked.
"""
import json
import re
import threading
import time
from datetime import datetime, timezone

MJD_TO_JD = 2400000.5

TASK = re.compile(r"^/forcedphot/queue/(\d+)/?$")
RESULT = re.compile(r"^/forcedphot/static/results/job(\d+)\.txt$")
JSON = "application/json"
#: the server's REST_FRAMEWORK PAGE_SIZE and TaskPagination.max_page_size (lukeshingles/atlasserver)
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 6, 100


class AtlasQueue:
    def __init__(self, archive, config_path):
        self.archive = archive
        self.config_path = config_path
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        path = self.config_path
        with self._lock:
            self.config = json.loads(path.read_text()) if path.is_file() else {"tokens": []}
            self.jobs = {}
            self.deleted = []
            self.next_id = 900001
            self.throttles_left = int(self.config.get("throttled_submissions", 0))

    def handle(self, method, path, params, headers):
        """(status, content type, body) for a queue request, or None when the path is not the queue's."""
        if path.rstrip("/") == "/forcedphot/queue" or TASK.match(path):
            token = (headers.get("Authorization") or "").removeprefix("Token ").strip()
            if token not in self.config["tokens"]:
                return 401, JSON, json.dumps({"detail": f"Invalid token {token}."}).encode()
            if TASK.match(path):
                return self.task(method, int(TASK.match(path).group(1)))
            if method == "POST":
                return self.submit(params)
            if method == "GET":
                return self.task_list(params)
            return 405, JSON, b'{"detail": "Method not allowed."}'
        match = RESULT.match(path)
        if match and int(match.group(1)) in self.jobs:
            job = self.jobs[int(match.group(1))]
            return (200, "text/plain; charset=utf-8", job["result"]) if job["result"] else (404, JSON, b"{}")
        return None

    def submit(self, params):
        with self._lock:
            if self.throttles_left > 0:
                self.throttles_left -= 1
                return 429, JSON, b'{"detail": "Request was throttled. Expected available in 1 second."}'
        if "radeclist" in params:
            return self.submit_list(params)
        return 201, JSON, json.dumps({"url": self.task_url(self.queue(params))}).encode()

    def submit_list(self, params):
        """Many positions in one submission, as the server's ``splitradeclist`` reads them: one "ra dec" (or
        "ra,dec") a line, at most 100, the other fields shared; 201 with the tasks made, in the lines' order."""
        lines = [line.replace(",", " ").split() for line in params["radeclist"].splitlines() if line.strip()]
        if not lines or len(lines) > 100 or any(len(line) != 2 for line in lines):
            return 400, JSON, json.dumps({"radeclist": f"{len(lines)} lines, or a line without two columns"}).encode()
        time.sleep(float(self.config.get("submit_seconds", 0)))  # a slow day at the server
        shared = {key: value for key, value in params.items() if key not in ("radeclist", "ra", "dec")}
        tasks = []
        for ra, dec in lines:
            job_id = self.queue({**shared, "ra": ra, "dec": dec})
            tasks.append(self.task_answer(job_id, self.jobs[job_id], asked=False))
        return 201, JSON, json.dumps(tasks).encode()

    def task_url(self, job_id):
        return f"{self.archive.url}/forcedphot/queue/{job_id}/"

    def queue(self, params):
        """Make the job of one position; its id."""
        with self._lock:
            job_id, self.next_id = self.next_id, self.next_id + 1
        status, _, content = self.archive.answer("/forcedphot/_queue_result", {"ra": params.get("ra", "nan"),
                                                                                "dec": params.get("dec", "nan")})
        if status == 200:
            from tests.sample_archive.server import rows_between

            content = rows_between(content, None, float(params.get("mjd_min", 0)),
                                   min(float(params.get("mjd_max", 1e6)), self.archive.until_jd - MJD_TO_JD))
            if len(content.splitlines()) < 2:
                status = 404  # "No data returned", as the server says for a range without measurements
        self.jobs[job_id] = {"polls_left": int(self.config.get("polls_queued", 1)), "params": params,
                             "result": content if status == 200 else None, "submitted": time.monotonic(),
                             "timestamp": datetime.now(timezone.utc).isoformat()}
        return job_id

    def task_list(self, params):
        """The account's tasks as the server's list view gives them: newest first, ``pagesize`` a page (6 by
        default, 100 at most or the config's ``max_page_size``), a ``cursor`` (here: the id the page starts
        below) in the ``next`` link. Listing a job counts as asking it."""
        size = min(int(params.get("pagesize", DEFAULT_PAGE_SIZE)),
                   int(self.config.get("max_page_size", MAX_PAGE_SIZE)))
        below = int(params.get("cursor", 10**12))
        with self._lock:
            ids = sorted((job_id for job_id in self.jobs if job_id < below), reverse=True)
            page = ids[:size]
            tasks = [self.task_answer(job_id, self.jobs[job_id]) for job_id in page]
            count = len(self.jobs)
        following = (f"{self.archive.url}/forcedphot/queue/?cursor={page[-1]}&pagesize={size}"
                     if len(ids) > size else None)
        return 200, JSON, json.dumps({"next": following, "previous": None, "pagefirsttaskposition": 0,
                                      "taskcount": count, "results": tasks}).encode()

    def task(self, method, job_id):
        job = self.jobs.get(job_id)
        if job is None:
            return 404, JSON, b'{"detail": "Not found."}'
        if method == "DELETE":
            self.deleted.append(job_id)
            del self.jobs[job_id]
            return 204, JSON, b""
        return 200, JSON, json.dumps(self.task_answer(job_id, job)).encode()

    def task_answer(self, job_id, job, asked=True):
        """The task as the server serialises it; asking it counts one of the polls it stays queued for."""
        finished = job["polls_left"] <= 0 \
            and time.monotonic() - job["submitted"] >= float(self.config.get("queue_seconds", 0))
        job["polls_left"] -= 1 if asked else 0
        now = datetime.now(timezone.utc).isoformat()
        answer = {"url": self.task_url(job_id), "id": job_id,
                  "ra": float(job["params"].get("ra", "nan")), "dec": float(job["params"].get("dec", "nan")),
                  "mjd_min": job["params"].get("mjd_min"), "mjd_max": job["params"].get("mjd_max"),
                  "timestamp": job["timestamp"], "starttimestamp": now if finished else None,
                  "finishtimestamp": now if finished else None, "queuepos": None if finished else 1,
                  "waittime": 0, "runtime": 1 if finished else None,
                  "result_url": (f"{self.archive.url}/forcedphot/static/results/job{job_id}.txt"
                                 if finished and job["result"] else None),
                  "error_msg": "No data returned" if finished and not job["result"] else None}
        return answer
