"""``python manage.py check_archives``: one small request per configured archive, a line per archive saying
whether it answered in the format its broker reads; exit status 1 when any did not."""
import logging

from django.core.management.base import BaseCommand, CommandError

from tom_bhtom_brokers import updating
from tom_bhtom_brokers.checking import check_archives


class Command(BaseCommand):
    help = ("Ask each archive about a well-known object and say, per archive: ok / format changed / unreachable /"
            " not configured. Exit status 1 if any archive failed.")

    def add_arguments(self, parser):
        parser.add_argument("--source", action="append", default=[], metavar="NAME",
                            help="only this source (repeatable); default: every enabled source")
        parser.add_argument("--timeout", type=float, default=8.0,
                            help="seconds each archive has to answer (default 8); all are asked at once")

    def handle(self, *args, **options):
        try:
            brokers = updating.installed_brokers(options["source"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        width = max((len(broker.name) for broker in brokers), default=0)
        failed = []
        # the brokers' log lines (retries, timeouts) would surround the results: shown only with -v 2 or more
        if options["verbosity"] < 2:
            logging.disable(logging.WARNING)
        try:
            results = check_archives(brokers, options["timeout"])
        finally:
            logging.disable(logging.NOTSET)
        for result in results:
            line = f"{result.source:<{width}}  {result.verdict:<14}  {result.detail}"
            if result.url and result.failed:
                line += f"  [{result.url}]"
            self.stdout.write(line)
            if result.failed:
                failed.append(result.source)
        if failed:  # CommandError: manage.py prints it and exits with status 1
            raise CommandError(f"{len(failed)} archive(s) failed the check: {', '.join(failed)}")
        self.stdout.write(f"{len(brokers)} archive(s) checked, none failed")
