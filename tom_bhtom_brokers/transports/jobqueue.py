"""The one job-queue transport: an archive that answers through a queue of jobs (ATLAS's and ZTF's forced
photometry services).

The lifecycle, for every such archive (:class:`JobQueue`, a mixin of its adapter): a request with no job
submits one (``submit``) and raises JobQueued, so no thread waits; a later pass asks about the job (the
account's task list, read once for all the jobs of a pass: :class:`TaskList`; a job not on it by its own path),
raises JobQueued while it waits, reads the result when it is done and deletes the job within the account's
write budget (:class:`RateBudget`); a job the archive lost, or one queued longer than ``job_lost_hours``, is
submitted again; a throttled submission is postponed (JobPostponed), not waited for. Only paths under the
archive's ``own_prefix`` are followed. The adapter declares its queue (``queue_path``, ``own_prefix``,
``task_fields``: which field of a task says finished, result, error, queue position, address), its credentials
(``auth_headers``) and what to submit (its ``query``); batches are its ``submit_jobs``.

The defaults speak a JSON REST queue (ATLAS's: the submission answers with the task's address, the task list is
paged JSON, a task has its own address, a finished one is deleted). An archive whose queue speaks otherwise
overrides the hooks: ``submitted_job_path`` (what names the job just submitted), ``read_task_list`` and
``task_key`` (the account's tasks, and the key a task is found under), ``task_by_itself`` (a job the list does not
show), ``result_headers`` (what the result file asks) and ``deletes_jobs``; ZTF's service (an HTML request list,
jobs named by their position) does.
"""
import logging
import threading
import time
from collections import deque
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

from django.utils import timezone

from tom_bhtom_brokers.brokers.reading import read_json
from tom_bhtom_brokers.exceptions import (BrokerError, BrokerParseError, BrokerServiceError, JobPostponed, JobQueued,
                                          NoData, masked)
from tom_bhtom_brokers.steps import PairAnswer, QueuedJob, Request
from tom_bhtom_brokers.transports import fleet

logger = logging.getLogger(__name__)

#: tasks per page of the account's task list (ATLAS's most), and pages read at most: a job further down is asked
#: by its own path
TASK_LIST_PAGE_SIZE = 100
TASK_LIST_MAX_PAGES = 10


class JobQueue:
    """The queue's lifecycle in an adapter's ``send`` (see the module's docstring)."""

    #: the path jobs are submitted to (POST) and the task list is read from (GET)
    queue_path = ""
    #: the path every address the archive gives must start with, to be followed
    own_prefix = "/"
    #: which field of a task says: finished (a time), result (its address), error, position in the queue, address
    task_fields = {"finished": "finished", "result": "result", "error": "error", "position": "position",
                   "url": "url"}
    #: the path the account's task list is read from (GET); None: ``queue_path``
    task_list_path = None
    #: whether a finished job is deleted (ATLAS's API guide asks for it; ZTF's service has no delete)
    deletes_jobs = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.task_list = TaskList(self)
        # every write (submissions and deletes) counts in ``writes``; deletes also in their own, smaller budget, so
        # that submissions always have room
        self.writes = write_budget(self.name, int(self.setting("writes_per_minute", 60)))
        self.deletes = write_budget(f"{self.name}:deletes", int(self.setting("deletes_per_minute", 50)))

    def refresh_start(self, target):
        """A job already queued asks from where it was submitted to ask (the plan may have changed since: a full
        read due meanwhile); a new one from where the plan says."""
        job = target.pair.job
        return job.asked_from_mjd if job is not None else super().refresh_start(target)

    def auth_headers(self):
        """The headers that carry the account's credentials."""
        raise NotImplementedError

    def send(self, req):
        """A result file is one GET. A job: the one already queued is asked once (its result read and the job
        deleted when finished); else a job is submitted. A job waiting in the queue raises JobQueued: the
        updater asks again later, no thread waits."""
        if not (req.method == "POST" and req.path == self.queue_path):
            return super().send(req)
        job = req.job
        if job is None:
            return self.submit(req, attempts=1)
        task, url = self.task_list.task(job), self.job_url(job)
        if task is None:  # not on the task list read: the job itself
            task = self.task_by_itself(job)
            if task is None:  # the server no longer knows the job (results are kept for a short time only)
                return self.submit_again(req, job)
        if not task.get(self.task_fields["finished"]):
            lost_after = timedelta(hours=float(self.setting("job_lost_hours", 24)))
            if timezone.now() - job.submitted_at > lost_after:
                self.delete(job.path)
                return self.submit_again(req, job)
            raise JobQueued(job, self.queued_note(job, task.get(self.task_fields["position"])), url=url)
        if not task.get(self.task_fields["result"]):
            self.delete(job.path)
            error = str(task.get(self.task_fields["error"]) or "no data returned")[:200]
            raise NoData(f"{self.name}: {error} for this position")
        field = self.task_fields["result"]
        result = self.request(Request(self.own_path(task[field], field, job.path), headers=self.result_headers()),
                              lost_ok=True)
        if result is None:  # deleted meanwhile (another update collected the same job first)
            return self.submit_again(req, job)
        self.delete(job.path)
        return result

    def job_url(self, job):
        """The address a waiting job's status line shows."""
        return f"{self.base_url}{job.path}"

    def task_by_itself(self, job):
        """The task of a job the task list did not show, asked by its own path; None when the server no longer
        knows it (404)."""
        answer = self.request(Request(job.path, headers=self.auth_headers()), lost_ok=True)
        if answer is None:
            return None
        return self.read(answer, lambda payload: read_json(payload, f"{self.name} task"))

    def result_headers(self):
        """The headers a finished job's result file is asked with (ATLAS's are public: none)."""
        return {}

    def submitted_job_path(self, submitted, req):
        """The path naming the job a submission queued: the task's address in the server's JSON answer."""
        answer = self.read(submitted, lambda payload: read_json(payload, f"{self.name} queue answer"))
        return self.own_path(answer.get(self.task_fields["url"]), "task url", submitted.url)

    def task_key(self, task):
        """The key a task of the list is found under (a job's ``path``): its address's path; None: skipped."""
        url = task.get(self.task_fields["url"]) if isinstance(task, dict) else None
        return urlsplit(url).path.rstrip("/") if isinstance(url, str) else None

    def submit_in_batches(self, targets, limit):
        """``submit_jobs`` for an archive that takes many positions in one submission (``submit_batch``): the
        targets grouped by the MJD they ask from (within ``overlap_days``; a group asks from its earliest, full
        reads go together), at most ``limit`` a submission. A submission the server refuses (a 429 included: those
        targets then go one by one, postponed as usual) leaves its targets out; after one that got no answer at
        all (the host down?) the others are not tried."""
        spread = float(self.setting("overlap_days", 30))
        starts = sorted(((self.refresh_start(t), t) for t in targets if t.has_position),
                        key=lambda pair: (pair[0] is not None, pair[0] or 0.0))
        batches, queued = [], {}
        for start, target in starts:
            batch = batches[-1] if batches else None
            if batch is None or len(batch[1]) >= limit or (start is None) != (batch[0] is None) \
                    or (start is not None and start - batch[0] > spread):
                batches.append(batch := (start, []))
            batch[1].append(target)
        for number, (start, batch) in enumerate(batches):
            if not self.writes.take():
                logger.info("%s: this minute's writes are spent; %d position(s) are submitted later", self.name,
                            sum(len(later) for _, later in batches[number:]))
                break
            try:
                paths, url = self.submit_batch(start, batch)
            except BrokerError as exc:
                logger.warning("%s: a submission of %d positions failed (%s); they are submitted one by one",
                               self.name, len(batch), masked(exc, self.secrets()))
                if isinstance(exc, BrokerServiceError) and exc.status is None:
                    break
                continue
            now = timezone.now()
            for target_id, path in paths.items():
                job = QueuedJob(path, now, 1, start)
                queued[target_id] = PairAnswer.waiting(self.queued_note(job), url, job=job)
        return queued

    def submit_batch(self, start, targets):
        """One submission of many positions asking from ``start``: ({target id: its job's path}, the URL)."""
        raise NotImplementedError

    def submit_again(self, req, job):
        logger.info("the %s job %s or its result is gone: submitted again", self.name, job.path)
        return self.submit(req, attempts=job.attempts + 1)

    def request(self, req, lost_ok=False):
        """One request to the server; with ``lost_ok``, None for a 404 (a job the server no longer has)."""
        try:
            return super().request(req)
        except BrokerServiceError as exc:
            if lost_ok and exc.status == 404:
                return None
            raise

    def submit(self, req, attempts):
        """Queue the job; raises JobQueued with it, or JobPostponed when the server throttles submissions or the
        account's writes this minute are spent (``writes_per_minute``, counted across the fleet)."""
        if not self.writes.take():
            wait = self.writes.seconds_to_next()
            raise JobPostponed(f"{self.name}: this minute's {self.writes.count} writes are spent: submitted in "
                               f"{wait:.0f} s", wait)
        try:
            submitted = self.request(req)
        except BrokerServiceError as exc:
            if exc.status != 429:
                raise
            wait = getattr(exc, "retry_after", None) or float(self.setting("poll_seconds", 10))
            raise JobPostponed(f"{self.name} throttled the submission: asked again in {wait:.0f} s", wait,
                               url=exc.url) from None
        job = QueuedJob(self.submitted_job_path(submitted, req), timezone.now(), attempts, req.asked_from_mjd)
        raise JobQueued(job, self.queued_note(job), url=submitted.url)

    def delete(self, task_path):
        """Delete the finished job, as the API guide asks, within the account's write budget: the server allows
        60 writes a minute (submissions and deletes: ``writes_per_minute``, counted across the fleet where the
        site's cache is shared), so at most ``deletes_per_minute`` (50, leaving room for submissions) are deleted a
        minute and the others are left to the server, which removes a finished API task 31 days after it finished
        (its taskrunner's maintenance sweep). A failure is logged only, and a throttled
        delete is not waited for. An archive without deletes (``deletes_jobs``) keeps its jobs."""
        if not self.deletes_jobs or not (self.deletes.take() and self.writes.take()):
            logger.debug("%s: %s left to the server's sweep (this minute's deletes are spent)", self.name, task_path)
            return
        try:
            self.request(Request(task_path, method="DELETE", headers=self.auth_headers(), wait_when_throttled=False))
        except BrokerServiceError as exc:
            logger.warning("could not delete the %s job %s: %s", self.name, task_path, exc)

    def read_task_list(self, max_pages=TASK_LIST_MAX_PAGES):
        """({task key: task}, the first page's URL): the list's JSON pages in turn (``results``, linked by
        ``next``), only on the server's own host."""
        tasks, first_url = {}, ""
        path, params, seen = self.task_list_path or self.queue_path, {"pagesize": TASK_LIST_PAGE_SIZE}, set()
        for _ in range(max_pages):
            answer = self.request(Request(path, params=params, headers=self.auth_headers()))
            first_url = first_url or answer.url
            page = self.read(answer, lambda payload: read_json(payload, f"{self.name} task list"))
            if not isinstance(page.get("results"), list):
                raise BrokerParseError(f"the {self.name} task list has no 'results' list", url=answer.url)
            for task in page["results"]:
                key = self.task_key(task)
                if key:
                    tasks[key] = task
            following = page.get("next")
            if following and not isinstance(following, str):
                raise BrokerParseError(f"the {self.name} task list's 'next' is not an address: "
                                       f"{str(following)[:60]!r}", url=answer.url)
            if not following or following in seen:
                break
            seen.add(following)
            path = self.own_path(following, "task list's next page", answer.url)
            params = dict(parse_qsl(urlsplit(following).query))
        return tasks, first_url

    def queued_note(self, job, position=None):
        """The status line of a job waiting in the archive's queue (a position only when it is a plain number)."""
        where = f", position {position}" if type(position) is int and 0 <= position < 10**9 else ""
        again = f"; submission {job.attempts}" if job.attempts > 1 else ""
        return f"queued at {self.name} since {job.submitted_at:%Y-%m-%d %H:%M} UTC{where}{again}"

    def own_path(self, url, what, origin):
        """The path of an address the server gave, to be asked of the configured host only."""
        if not isinstance(url, str) or not url:
            raise BrokerParseError(f"the {self.name} answer has no {what}", url=origin)
        path = urlsplit(url).path
        if not path.startswith(self.own_prefix):
            raise BrokerParseError(f"the {self.name} {what} {url!r} is not on the archive's job server", url=origin)
        return path


def write_budget(name, per_minute):
    """The account's writes a minute: counted across the fleet where the site's cache is shared
    (fleet.FleetBudget), else by this process (RateBudget)."""
    cache = fleet.shared_cache()
    if cache is not None:
        return fleet.FleetBudget(cache, name, per_minute, per_seconds=60.0)
    return RateBudget(per_minute, per_seconds=60.0)


class RateBudget:
    """At most ``count`` uses in any ``per_seconds`` (a sliding window), shared by a run's threads."""

    def __init__(self, count, per_seconds):
        self.count, self.per_seconds = count, per_seconds
        self.lock, self.uses = threading.Lock(), deque()

    def take(self):
        """Use one, if the window has one left."""
        with self.lock:
            now = self._forget_old()
            if len(self.uses) >= self.count:
                return False
            self.uses.append(now)
            return True

    def seconds_to_next(self):
        """Seconds until the oldest use in the window leaves it."""
        with self.lock:
            now = self._forget_old()
            return max(0.0, self.uses[0] + self.per_seconds - now) if self.uses else 0.0

    def _forget_old(self):
        now = time.monotonic()
        while self.uses and now - self.uses[0] >= self.per_seconds:
            self.uses.popleft()
        return now


class TaskList:
    """The account's tasks as the server's task list shows them (``GET`` on the queue path, newest first, in pages
    linked by ``next``), read at most once every ``task_list_seconds`` (default: half of ``poll_seconds``) for
    all the jobs the run's threads ask about: one request or a few per pass, not one per job. Shared by the
    threads of a run (one broker instance), so it is read under a lock."""

    def __init__(self, broker):
        self.broker = broker
        self.lock = threading.Lock()
        self.tasks, self.read_at = {}, None

    @property
    def fresh_for(self):
        seconds = self.broker.setting("task_list_seconds", float(self.broker.setting("poll_seconds", 10)) / 2)
        return timedelta(seconds=float(seconds))

    def task(self, job):
        """The job's task as the list shows it; None when the list (read since the job was submitted) does not
        hold it or cannot be read: then the job is asked by its own path. The list is read again only for a job
        it showed queued, once it is older than ``fresh_for``."""
        key = job.path.rstrip("/")
        with self.lock:
            now, known = timezone.now(), self.tasks.get(key)
            if known is not None and known.get(self.broker.task_fields["finished"]):
                return known  # a finished job stays finished: no read for it while its result is collected
            if self.read_at is None or self.read_at < job.submitted_at or now - self.read_at > self.fresh_for:
                self.read_at = now
                try:
                    self.tasks, _ = self.read()
                except BrokerError as exc:
                    logger.warning("the %s task list could not be read (%s): each job is asked by itself",
                                   self.broker.name, exc)
                    self.tasks = {}
            return self.tasks.get(key)

    def read(self, max_pages=TASK_LIST_MAX_PAGES):
        """({task key: task}, the first page's URL): the broker's ``read_task_list``."""
        return self.broker.read_task_list(max_pages)


def same_position(task, target):
    """Whether a task the server made is at the target's position (to the 1e-5 degree)."""
    try:
        return abs(float(task["ra"]) - target.ra) < 1e-5 and abs(float(task["dec"]) - target.dec) < 1e-5
    except (KeyError, TypeError, ValueError):
        return False
