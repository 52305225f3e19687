"""django-tasks tasks: the same update, run by whatever task backend the site configures.

With TOM Toolkit's default ImmediateBackend a task runs at once, in the caller; with django-tasks'
DatabaseBackend it is queued and any number of ``python manage.py db_worker`` processes, on any
number of machines sharing the database, drain the queue.

One task per target (not per target and source): a target's sources are fetched concurrently inside
the task by the same thread pool and per-host limit as the command, its writes come from one worker,
and the queue holds one row per target instead of one per source, 15 times fewer at full size.
"""
from django_tasks import task

from tom_targets.models import Target

from tom_bhtom_brokers import updating


@task()
def update_target_lightcurves(target_id, sources=None, force=False, workers=updating.DEFAULT_WORKERS):
    """Update one target from the given sources (default all); returns counts by status."""
    targets = list(Target.objects.filter(pk=target_id))
    if not targets:
        return {"skipped": "target deleted before its update ran"}
    outcomes = updating.run(updating.plan(targets, updating.installed_brokers(sources), force=force), workers)
    counts = {}
    for outcome in outcomes:
        counts[str(outcome.status)] = counts.get(str(outcome.status), 0) + 1
    counts["added"] = sum(o.added for o in outcomes)
    counts["removed"] = sum(o.removed for o in outcomes)
    return counts


def enqueue_updates(items, sources=None, force=False):
    """One task per target that has a due (target, source) pair; returns the enqueued task results."""
    due_targets = list(dict.fromkeys(item.target.id for item in items if item.due))
    return [update_target_lightcurves.enqueue(target_id, sources=sources or None, force=force)
            for target_id in due_targets]
