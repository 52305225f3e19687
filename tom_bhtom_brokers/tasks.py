"""django-tasks tasks: the same update, run by whatever task backend the site configures.

With TOM Toolkit's default ImmediateBackend a task runs at once, in the caller; with django-tasks'
DatabaseBackend it is queued and any number of ``python manage.py db_worker`` processes, on any
number of machines sharing the database, drain the queue.

One task per target (not per target and source): a target's sources are fetched concurrently inside
the task by the same thread pool and per-host limit as the command, its writes come from one worker,
and the queue holds one row per target instead of one per source, 15 times fewer at full size.

A task never waits for a job in an archive's queue (ATLAS): it submits the job, records it, and, where the
backend can defer a task (django-tasks' DatabaseBackend), enqueues a task for that source to run
``poll_seconds`` later, which collects the result or defers itself again. With a backend that cannot defer
(TOM's default ImmediateBackend, which runs the task inside the web request), the next update collects it.
"""
from contextlib import nullcontext
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task
from django_tasks.backends.immediate import ImmediateBackend

from tom_targets.models import Target

from tom_bhtom_brokers import updating
from tom_bhtom_brokers.models import LightcurveUpdate


# enqueued in the caller's transaction (a stored task is seen by workers once it commits), so enqueue_updates'
# thousands of tasks are one commit rather than one each after it
@task(enqueue_on_commit=False)
def update_target_lightcurves(target_id, sources=None, force=False, workers=updating.DEFAULT_WORKERS):
    """Update one target from the given sources (default all); returns counts by status."""
    targets = list(Target.objects.filter(pk=target_id))
    if not targets:
        return {"skipped": "target deleted before its update ran"}
    brokers = updating.installed_brokers(sources)
    outcomes = updating.run(updating.plan(targets, brokers, force=force), workers, collect_jobs=False)
    if update_target_lightcurves.get_backend().supports_defer:
        defer_collection(target_id, brokers, outcomes, workers)
    counts = {}
    for outcome in outcomes:
        counts[str(outcome.status)] = counts.get(str(outcome.status), 0) + 1
    counts["added"] = sum(o.added for o in outcomes)
    counts["removed"] = sum(o.removed for o in outcomes)
    return counts


def defer_collection(target_id, brokers, outcomes, workers):
    """A task for the sources whose jobs are still queued, to run when the soonest is next asked about
    (``updating.next_ask_seconds``, as the updater's passes ask); none once ``max_wait_seconds`` have passed: then
    the next update collects."""
    queued = {o.source for o in outcomes if o.status == updating.Status.QUEUED}
    rows = {row.source: row for row in LightcurveUpdate.objects.filter(target_id=target_id, source__in=queued)}
    now = timezone.now()
    waits = [seconds for broker in brokers if broker.name in rows and rows[broker.name].job_submitted_at
             and (seconds := updating.next_ask_seconds(broker, rows[broker.name].job_submitted_at, now)) is not None]
    if waits:
        # an aware datetime: django-tasks 0.6 documents a timedelta too, but its check of one fails
        run_after = now + timedelta(seconds=min(waits))
        update_target_lightcurves.using(run_after=run_after).enqueue(target_id, sources=sorted(rows),
                                                                     workers=workers)


def runs_inline():
    """Whether the site's task backend runs a task at once, in the caller (django-tasks' ImmediateBackend, which
    ``tom_setup`` writes): then nothing is queued for a worker."""
    return isinstance(update_target_lightcurves.get_backend(), ImmediateBackend)


def enqueue_updates(items, sources=None, force=False):
    """One task per target that has a due (target, source) pair; returns the enqueued task results. A backend
    that stores tasks gets them in one transaction (thousands of tasks, one commit); one that runs them at once
    (ImmediateBackend) runs each in its own, as a worker would."""
    due_targets = list(dict.fromkeys(item.target.id for item in items if item.due))
    stores = not runs_inline()
    with transaction.atomic() if stores else nullcontext():
        return [update_target_lightcurves.enqueue(target_id, sources=sources or None, force=force)
                for target_id in due_targets]
