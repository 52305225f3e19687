"""The tab's "Update survey light curves" on a site without a task worker: the update runs in a thread of the web
process.

django-tasks' immediate backend (what ``tom_setup`` writes) runs a task inside the request that enqueues it: an
update of every archive inside one POST took minutes with one archive host that never answers, past a production
server's worker timeout. There the button starts the update in a daemon thread of the web process instead and
answers at once; the pair statuses and the tab's "update running since …" line say how it goes, and
``TargetUpdateRequest.finished_at`` when it ended (seen by every process of the site). Each request of the run
keeps its own deadline and an archive host that stops answering is left alone after a few tries, so the thread
ends on its own; one that has not recorded its end after ``STALE_AFTER`` (a web process restarted under it) is
no longer shown as running. With a real backend (django-tasks' database backend and ``db_worker``) the button
enqueues a task as before. ``BHTOM_BROKERS['web_update']``: ``"thread"`` (default) or ``"inline"`` (run inside
the request, as the immediate backend does).
"""
import logging
import threading
from datetime import timedelta

from django.db import close_old_connections, connection
from django.utils import timezone

from tom_bhtom_brokers.app_settings import app_setting
from tom_bhtom_brokers.models import TargetUpdateRequest
from tom_bhtom_brokers.tasks import runs_inline, update_target_lightcurves

logger = logging.getLogger(__name__)

#: how long an unfinished threaded update is shown as running at most
STALE_AFTER = timedelta(hours=1)
BACKEND = "web thread"
START_DELAY_SECONDS = 1.0
_threads = {}
_lock = threading.Lock()


def in_a_thread():
    """Whether the tab's button runs its update in a thread here (no task worker, and the site did not say
    otherwise)."""
    return runs_inline() and app_setting("web_update", "thread") == "thread"


def start(target, requested_by):
    """Start the target's forced update in a daemon thread, unless one is running for it in this process; returns
    whether it started."""
    with _lock:
        running = _threads.get(target.pk)
        if running is not None and running.is_alive():
            return False
        request, _ = TargetUpdateRequest.objects.update_or_create(target=target, defaults={
            "task_result_id": "", "backend": BACKEND, "requested_by": requested_by,
            "requested_at": timezone.now(), "finished_at": None})
        # it starts a moment later: the page the button leads back to is served first, not beside 19 parsers
        thread = threading.Timer(START_DELAY_SECONDS, _run, args=(target.pk, request.pk))
        thread.daemon, thread.name = True, f"bhtom-update-{target.pk}"
        _threads[target.pk] = thread
        thread.start()
    return True


def _run(target_id, request_id):
    close_old_connections()
    try:
        counts = update_target_lightcurves.call(target_id, force=True)
        logger.info("web update of target %s finished: %s", target_id, counts)
    except Exception:  # noqa: BLE001 - a thread's failure must be logged and recorded, never lost
        logger.exception("the web update of target %s failed", target_id)
    finally:
        TargetUpdateRequest.objects.filter(pk=request_id).update(finished_at=timezone.now())
        connection.close()


def running(request):
    """Whether a threaded update recorded in ``request`` (a TargetUpdateRequest) is still running."""
    return (request.backend == BACKEND and request.finished_at is None
            and timezone.now() - request.requested_at < STALE_AFTER)


def join_all(timeout=60.0):
    """Wait for this process's update threads (tests, and a clean shutdown)."""
    for thread in list(_threads.values()):
        thread.join(timeout)
