"""``python manage.py update_lightcurves``: refresh archival light curves of the site's targets."""
import argparse
import sys
from collections import Counter, defaultdict
from datetime import datetime, timezone as dt_timezone

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone
from tqdm import tqdm

from tom_targets.models import Target

from tom_bhtom_brokers import updating
from tom_bhtom_brokers.changes import report_lines
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.tasks import enqueue_updates, runs_inline, update_target_lightcurves

#: exit statuses, for cron and monitoring (``--help`` and the README say them)
ALL_WELL, PAIR_ERRORS, USAGE, ARCHIVE_UNAVAILABLE, INTERRUPTED = 0, 1, 2, 3, 130
EXIT_STATUSES = ("exit status: 0 all well; 1 some (target, source) pairs failed (errors, refused names, held "
                 "shrinks); 2 wrong options; 3 an archive was unavailable (its host stopped answering in this "
                 "run, or no pair got any answer: an outage; takes precedence over 1); 130 interrupted (Ctrl-C)")


Status = LightcurveUpdate.Status
#: statuses of a pair that asked an archive (or was to)
ASKED = (Status.OK, Status.NO_DATA, Status.QUEUED, Status.SHRANK, Status.ERROR, Status.UNAVAILABLE)


def since_date(value):
    """``--changes-since``: a date (midnight UTC) or a date and time, ISO."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (YYYY-MM-DD)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt_timezone.utc)


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


class Command(BaseCommand):
    help = ("Fetch archival light curves for targets from every installed survey broker, concurrently, "
            "honouring each archive's cadence. " + EXIT_STATUSES)

    def add_arguments(self, parser):
        parser.add_argument("--target", action="append", default=[], metavar="ID_OR_NAME",
                            help="a target id or name (repeatable); default: all targets")
        parser.add_argument("--source", action="append", default=[], metavar="NAME",
                            help="a source such as 'Gaia Alerts' or GAIA_ALERTS (repeatable); default: all")
        parser.add_argument("--force", action="store_true", help="fetch even what is not due")
        parser.add_argument("--accept-shrink", action="store_true",
                            help="apply answers that remove more stored points than a sudden shrink may (held "
                                 "otherwise, status 'answer shrank', until the same answer comes again)")
        parser.add_argument("--workers", type=positive_int, default=updating.DEFAULT_WORKERS,
                            help=f"concurrent fetches (default {updating.DEFAULT_WORKERS})")
        parser.add_argument("--dry-run", action="store_true", help="say what would be fetched and why; fetch nothing")
        parser.add_argument("--enqueue", action="store_true",
                            help="put one django-tasks task per target with anything due on the site's task "
                                 "backend instead of fetching here (db_worker processes run them)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")
        parser.add_argument("--changes-since", type=since_date, metavar="DATE",
                            help="print the targets whose survey data changed since DATE (YYYY-MM-DD, UTC) and "
                                 "the departures among them; update nothing")

    def handle(self, *args, **options):
        if options["changes_since"]:
            return self.print_changes(options["changes_since"])
        started = timezone.now()
        try:
            brokers = updating.installed_brokers(options["source"])
        except ValueError as exc:
            raise CommandError(str(exc), returncode=USAGE) from None
        targets = self.targets(options["target"])
        if not (targets.exists() if hasattr(targets, "exists") else targets):
            self.stdout.write("this site has no targets: nothing to update (add targets, e.g. with TOM's target form, "
                              "then run this again)")
            return
        items = updating.plan(targets, brokers, force=options["force"], accept_shrink=options["accept_shrink"])
        if options["dry_run"]:
            return self.dry_run(items)
        if options["enqueue"] and not self.enqueue(items, options):
            return
        health = updating.HostHealth()
        try:
            outcomes = self.run_with_progress(items, options, health)
        except updating.Interrupted as stopped:
            stored = sum(o.status not in ("skipped", updating.DELETED) for o in stopped.outcomes)
            self.stderr.write(f"interrupted: {stored} pair(s) stored, {stopped.not_asked} not asked (due next run; "
                              "after --force, run it again with --force)")
            raise CommandError("interrupted", returncode=INTERRUPTED) from None
        try:
            self.report(outcomes, brokers, health)
        finally:
            self.print_changes(started, "in this run")

    def print_changes(self, since, when=None):
        """The departures since ``since`` (the run's start, or ``--changes-since``) and how many targets got data."""
        departures, with_data = report_lines(since)
        when = when or f"since {since:%Y-%m-%d %H:%M} UTC"
        self.stdout.write(f"survey changes {when}: {with_data} target(s) with new data, {len(departures)} "
                          "departure(s)" + (":" if departures else ""))
        for line in departures:
            self.stdout.write(f"  {line}")

    def dry_run(self, items):
        verdicts = Counter()
        for item in items:
            verdict, reason = updating.dry_run_verdict(item)
            verdicts[verdict] += 1
            self.stdout.write(f"{verdict} {item.target.name} · {item.broker.name}: {reason}")
        self.stdout.write(f"{verdicts['fetch']} of {len(items)} pair(s) would be fetched"
                          + "".join(f"; {n} {verdict}" for verdict, n in sorted(verdicts.items())
                                    if verdict != "fetch"))

    def enqueue(self, items, options):
        """Enqueue the targets' updates as tasks; True when they are to run here instead."""
        backend = update_target_lightcurves.get_backend().alias
        if runs_inline():
            # django-tasks' immediate backend (tom_setup's default) would run every task here, in this process,
            # and say only "enqueued": run as a plain update instead, with its summary and exit status
            self.stdout.write(f"the '{backend}' task backend runs tasks at once, in this process (ImmediateBackend): "
                              "updating here instead of enqueueing")
            return True
        per_target, per_batch = enqueue_updates(items, sources=options["source"], force=options["force"])
        batches = f" and {len(per_batch)} batch(es) of the archives that queue jobs in batches" if per_batch else ""
        self.stdout.write(f"enqueued {len(per_target)} target update(s){batches} on the '{backend}' task backend")
        return False

    def report(self, outcomes, brokers, health):
        """The summary, the hosts found down, the errors; the exit status (see the module's docstring)."""
        self.stdout.write(summary_table(outcomes, [b.name for b in brokers]))
        self.stdout.write(SUMMARY_LEGEND)
        for host, reason in sorted(health.down.items()):
            self.stdout.write(f"archive down in this run: {host} ({reason}); {health.skipped[host]} pair(s) not "
                              "asked, status 'archive unavailable', asked again next run")
        gone = sorted({o.target_name for o in outcomes if o.status == updating.DELETED})
        if gone:
            self.stdout.write(f"deleted while their update ran (nothing stored for them): {', '.join(gone)}")
        failures = [o for o in outcomes if o.failed]
        for outcome in failures:
            self.stderr.write(f"ERROR target '{outcome.target_name}' (id {outcome.target_id}) · {outcome.source}"
                              f" · {outcome.url or request_note(outcome)} · {outcome.message}")
        # an outage: a host found down (its other pairs not asked), or every pair that asked got no answer at all
        unavailable = [o for o in outcomes if o.status == LightcurveUpdate.Status.UNAVAILABLE or o.unreachable]
        asked = [o for o in outcomes if o.status in ASKED]
        if health.down or (asked and len(unavailable) == len(asked)):
            hosts = ", ".join(sorted(health.down)) or "no archive answered"
            raise CommandError(f"an archive was unavailable ({hosts}): {len(unavailable)} of {len(asked)} pair(s) "
                               f"got no answer, {len(failures)} failed", returncode=ARCHIVE_UNAVAILABLE)
        if failures:
            raise CommandError(f"{len(failures)} of {len(outcomes)} update(s) failed", returncode=PAIR_ERRORS)

    def targets(self, wanted):
        if not wanted:
            return Target.objects.order_by("pk")  # read by the plan in chunks
        found = []
        for value in wanted:
            query = Q(name=value) | Q(aliases__name=value)
            if value.isdigit():
                query |= Q(pk=int(value))
            matches = list(Target.objects.filter(query).distinct())
            if not matches:
                raise CommandError(f"no target with id or name '{value}'", returncode=USAGE)
            found.extend(m for m in matches if m not in found)
        return found

    def run_with_progress(self, items, options, health):
        due = sum(item.due for item in items)
        if options["no_progress"] or not sys.stderr.isatty() or not due:
            return updating.run(items, workers=options["workers"], health=health)
        with tqdm(total=due, unit="pair", desc="light curves", file=sys.stderr) as bar:
            def tick(outcome):
                if outcome.status != "skipped":
                    bar.update(1)
            return updating.run(items, workers=options["workers"], on_outcome=tick, health=health)


COLUMNS = ("source", "checked", "fetched", "no data", "not due", "no name", "not conf.", "unavail.", "queued",
           "deleted", "added", "removed", "errors")


SUMMARY_LEGEND = ("checked: pairs planned; fetched: asked and stored; "
                  "no data: the archive has nothing at the target, normal for a survey that does not cover it; "
                  "not due: read within its cadence (a data release: read once); no name: the archive is searched by "
                  "a name the target does not have; not conf.: the site has not configured the archive "
                  "(settings.DATA_SERVICES); unavail.: not asked, the archive's host stopped answering earlier in "
                  "this run (or kept throttling a job's submission); queued: a job still waits in the archive's queue "
                  "(ATLAS, ZTF FPS), collected by the next run; deleted: the target was deleted while its update ran; "
                  "added/removed: points stored anew / no longer served by the archive and deleted; errors: pairs "
                  "that failed, listed below with their URL and reason")


def request_note(outcome):
    """What to show for a failed pair without a URL: no request for a refused name, else no URL known."""
    return "no request made" if outcome.status == "invalid_name" else "no request URL recorded"


def summary_table(outcomes, source_names):
    """One row per source: pairs checked, fetched, skipped by reason, points added and removed, errors."""
    rows = defaultdict(Counter)
    for o in outcomes:
        row = rows[o.source]
        row["checked"] += 1
        row["added"] += o.added
        row["removed"] += o.removed
        row[{"ok": "fetched", "no_data": "no data", "skipped": "not due", "not_applicable": "no name",
             "not_configured": "not conf.", "unavailable": "unavail.", "error": "errors", "invalid_name": "errors",
             "shrank": "errors", updating.DELETED: "deleted"}.get(o.status, o.status)] += 1
    lines = [list(COLUMNS)]
    for name in source_names:
        lines.append([name] + [str(rows[name][c]) for c in COLUMNS[1:]])
    total = Counter()
    for name in source_names:
        total.update(rows[name])
    lines.append(["total"] + [str(total[c]) for c in COLUMNS[1:]])
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    text = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths)))
            for line in lines]
    text.insert(1, "-" * len(text[0]))
    text.insert(len(text) - 1, "-" * len(text[0]))
    return "\n".join(text)
