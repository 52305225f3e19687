"""django-tasks tasks: the same update, run by whatever task backend the site configures.

With TOM Toolkit's default ImmediateBackend a task runs at once, in the caller; with django-tasks'
DatabaseBackend it is queued and any number of ``python manage.py db_worker`` processes, on any
number of machines sharing the database, drain the queue.

One task per target (not per target and source): a target's sources are fetched concurrently inside
the task by the same thread pool and per-host limit as the command, its writes come from one worker,
and the queue holds one row per target instead of one per source, 15 times fewer at full size.

The archives that take many jobs in one submission (ATLAS, ZTF forced photometry) are not in those tasks when
``enqueue_updates`` queues many targets: each gets tasks of its own, one per BATCH_TARGETS due targets
(``update_archive_batch``), so a fleet submits their jobs in batches (one write for up to 100 positions, where
per-target tasks made one write each against ATLAS's 60 a minute). Submissions also stay within the account's
writes a minute across the fleet (``writes_per_minute``, transports/jobqueue.py).

A task never waits for a job in an archive's queue: it submits the job, records it, and, where the backend can
defer a task (django-tasks' DatabaseBackend), enqueues a task for the pairs still queued to run when the soonest
is next asked about, which collects the results (one read of the account's task list for all of them) or defers
itself again. With a backend that cannot defer (TOM's default ImmediateBackend, which runs the task inside the
web request), the next update collects them.
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

#: targets in one task of an archive that batches its jobs: ATLAS's most positions in one submission
BATCH_TARGETS = 100


# enqueued in the caller's transaction (a stored task is seen by workers once it commits), so enqueue_updates'
# thousands of tasks are one commit rather than one each after it
@task(enqueue_on_commit=False)
def update_target_lightcurves(target_id, sources=None, force=False, workers=updating.DEFAULT_WORKERS):
    """Update one target from the given sources (default all); returns counts by status."""
    targets = list(Target.objects.filter(pk=target_id))
    if not targets:
        return {"skipped": "target deleted before its update ran"}

    def collect_later(run_after, queued):
        sources_queued = sorted({o.source for o in queued})
        update_target_lightcurves.using(run_after=run_after).enqueue(target_id, sources=sources_queued,
                                                                     workers=workers)

    return updated(targets, updating.installed_brokers(sources), force, workers, collect_later)


@task(enqueue_on_commit=False)
def update_archive_batch(source, target_ids, force=False, workers=updating.DEFAULT_WORKERS):
    """Update many targets from one archive that queues jobs in batches: the jobs not yet queued are submitted
    together (few writes), those queued are asked about (one task list read for all); a task for the pairs still
    queued is deferred (``collection_time``). Returns counts by status."""
    targets = list(Target.objects.filter(pk__in=target_ids))
    if not targets:
        return {"skipped": "targets deleted before their update ran"}

    def collect_later(run_after, queued):
        update_archive_batch.using(run_after=run_after).enqueue(source, sorted(o.target_id for o in queued),
                                                                workers=workers)

    return updated(targets, updating.installed_brokers([source]), force, workers, collect_later)


def updated(targets, brokers, force, workers, collect_later):
    """A task's update: the pairs run as a run's pool runs them (no job waited for), then ``collect_later(run_after,
    the queued outcomes)`` when jobs are still queued and the backend can defer (``collection_time``); the
    counts by status."""
    outcomes = updating.run(updating.plan(targets, brokers, force=force), workers, collect_jobs=False)
    run_after = collection_time(brokers, outcomes)
    if run_after is not None:
        collect_later(run_after, [o for o in outcomes if o.status == updating.Status.QUEUED])
    return counted(outcomes)


def counted(outcomes):
    counts = {}
    for outcome in outcomes:
        counts[str(outcome.status)] = counts.get(str(outcome.status), 0) + 1
    counts["added"] = sum(o.added for o in outcomes)
    counts["removed"] = sum(o.removed for o in outcomes)
    return counts


def collection_time(brokers, outcomes):
    """When the pairs whose jobs are still queued are next asked about (``updating.next_ask_seconds``, as the
    updater's passes ask, the soonest of them), where the backend can defer a task; None when none is queued,
    when all have waited ``max_wait_seconds`` (the next update collects them) or the backend cannot defer."""
    if not update_target_lightcurves.get_backend().supports_defer:
        return None
    queued = [o for o in outcomes if o.status == updating.Status.QUEUED]
    rows = LightcurveUpdate.objects.filter(target_id__in={o.target_id for o in queued},
                                           source__in={o.source for o in queued}, job_submitted_at__isnull=False)
    by_name, now = {broker.name: broker for broker in brokers}, timezone.now()
    waits = [seconds for row in rows if row.source in by_name
             and (seconds := updating.next_ask_seconds(by_name[row.source], row.job_submitted_at, now)) is not None]
    # an aware datetime: django-tasks 0.6 documents a timedelta too, but its check of one fails
    return now + timedelta(seconds=min(waits)) if waits else None


def runs_inline():
    """Whether the site's task backend runs a task at once, in the caller (django-tasks' ImmediateBackend, which
    ``tom_setup`` writes): then nothing is queued for a worker."""
    return isinstance(update_target_lightcurves.get_backend(), ImmediateBackend)


def enqueue_updates(items, sources=None, force=False):
    """One task per target that has a due (target, source) pair of an archive read pair by pair, and one per
    BATCH_TARGETS due targets of each archive that batches its jobs (``update_archive_batch``); returns
    (the targets' task results, the batches' task results). A backend that stores tasks gets them in one
    transaction (thousands of tasks, one commit); one that runs them at once (ImmediateBackend) runs each in its
    own, as a worker would."""
    batched = {item.broker.name for item in items if item.broker.queues_jobs and item.broker.batches_jobs}
    pairwise = sorted({item.broker.name for item in items} - batched) if batched else (sources or None)
    due_targets = list(dict.fromkeys(item.target.id for item in items if item.due and item.broker.name not in batched))
    if pairwise == []:  # every source asked batches its jobs
        due_targets = []
    batches = {}
    for item in items:
        if item.due and item.broker.name in batched:
            batches.setdefault(item.broker.name, []).append(item.target.id)
    with transaction.atomic() if not runs_inline() else nullcontext():
        per_target = [update_target_lightcurves.enqueue(target_id, sources=pairwise, force=force)
                      for target_id in due_targets]
        per_batch = [update_archive_batch.enqueue(name, ids[start:start + BATCH_TARGETS], force=force)
                     for name, ids in sorted(batches.items()) for start in range(0, len(ids), BATCH_TARGETS)]
    return per_target, per_batch
