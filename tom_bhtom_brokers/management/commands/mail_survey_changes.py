"""``python manage.py mail_survey_changes``: the daily digest of survey changes by e-mail, through Django's mail
settings (``EMAIL_BACKEND``, ``DEFAULT_FROM_EMAIL``): the departures since ``--since`` (default: 24 hours ago), one
line each as ``update_lightcurves`` prints them, and how many targets got new data. Recipients: ``--to`` or
``settings.BHTOM_BROKERS["digest_recipients"]``. Nothing is sent when nothing changed (``--always`` sends anyway).
Run it daily after the refresh (cron, or a django-tasks schedule)."""
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tom_bhtom_brokers.app_settings import app_setting
from tom_bhtom_brokers.changes import report_lines
from tom_bhtom_brokers.management.commands.update_lightcurves import since_date


class Command(BaseCommand):
    help = "E-mail the survey changes (departures, targets with new data) since a time, by default a day ago."

    def add_arguments(self, parser):
        parser.add_argument("--since", type=since_date, metavar="DATE", help="YYYY-MM-DD (UTC); default: 24 h ago")
        parser.add_argument("--to", action="append", default=[], metavar="ADDRESS", help="a recipient (repeatable)")
        parser.add_argument("--always", action="store_true", help="send even when nothing changed")

    def handle(self, *args, **options):
        since = options["since"] or timezone.now() - timedelta(days=1)
        recipients = options["to"] or list(app_setting("digest_recipients", []))
        if not recipients:
            raise CommandError("no recipients: give --to or settings.BHTOM_BROKERS['digest_recipients']")
        departures, with_data = report_lines(since)
        if not (departures or with_data or options["always"]):
            self.stdout.write(f"no survey changes since {since:%Y-%m-%d %H:%M} UTC: nothing sent")
            return
        subject = f"Survey changes since {since:%Y-%m-%d %H:%M} UTC: {len(departures)} departure(s), " \
                  f"{with_data} target(s) with new data"
        body = "\n".join([subject, "", *departures]) + "\n"
        send_mail(subject, body, getattr(settings, "DEFAULT_FROM_EMAIL", None), recipients)
        self.stdout.write(f"sent to {', '.join(recipients)}: {subject}")
