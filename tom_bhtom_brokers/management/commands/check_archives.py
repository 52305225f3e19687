"""``python manage.py check_archives``: one small request per configured archive, a line per archive saying
whether it answered in the format its broker reads; exit status 1 when any did not."""
from django.core.management.base import BaseCommand, CommandError

from tom_bhtom_brokers import updating
from tom_bhtom_brokers.checking import check_archive


class Command(BaseCommand):
    help = ("Ask each archive about a well-known object and say, per archive: ok / format changed / unreachable /"
            " not configured. Exit status 1 if any archive failed.")

    def add_arguments(self, parser):
        parser.add_argument("--source", action="append", default=[], metavar="NAME",
                            help="only this source (repeatable); default: every enabled source")

    def handle(self, *args, **options):
        try:
            brokers = updating.installed_brokers(options["source"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        width = max((len(broker.name) for broker in brokers), default=0)
        failed = []
        for broker in brokers:
            result = check_archive(broker)
            line = f"{result.source:<{width}}  {result.verdict:<14}  {result.detail}"
            if result.url and result.failed:
                line += f"  [{result.url}]"
            self.stdout.write(line)
            if result.failed:
                failed.append(result.source)
        if failed:  # CommandError: manage.py prints it and exits with status 1
            raise CommandError(f"{len(failed)} archive(s) failed the check: {', '.join(failed)}")
        self.stdout.write(f"{len(brokers)} archive(s) checked, none failed")
