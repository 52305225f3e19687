"""Run in a process of its own by tests/test_throwaway_archive.py, with tests/data/throwaway on the path (so the
throwaway archive's entry point is installed): the demo site's settings on a fresh SQLite file, the recorded answer
served on 127.0.0.1, and every place an archive should appear, asked the way a site asks it. Prints what it found
as one JSON object."""
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ANSWER = Path(__file__).resolve().parent / "data" / "throwaway" / "lightcurve.csv"


class RecordedAnswer(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        parts = urlsplit(self.path)
        found = parts.path == "/lightcurve.csv" and parse_qs(parts.query).get("id") == ["TW0001"]
        body = ANSWER.read_bytes() if found else b"no such object"
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def command(name, *args):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=out)
    except CommandError as exc:
        out.write(f"\nCommandError: {exc}")
    return out.getvalue()


def main(database):
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordedAnswer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ.update(DJANGO_SETTINGS_MODULE="example_site.settings", DEMO_DB=database,
                      DEMO_DATA_SERVICES=json.dumps({"Throwaway": {"url": f"http://127.0.0.1:{server.server_port}"}}))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client
    from tom_targets.models import Target, TargetExtra

    command("migrate", "--verbosity", "0")
    target = Target.objects.create(name="TW star", type=Target.SIDEREAL, ra=10.0, dec=20.0, epoch=2000.0)
    TargetExtra.objects.create(target=target, key="Throwaway id", value="TW0001")
    found = {"extra_fields": [field["name"] for field in settings.EXTRA_FIELDS],
             "update": command("update_lightcurves", "--source", "Throwaway", "--no-progress"),
             "check": command("check_archives", "--source", "Throwaway"),
             "docs": command("archive_tables")}
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # Django's test client's host name
    User.objects.create_superuser("admin", "admin@example.org", "admin")
    client = Client()
    client.login(username="admin", password="admin")
    found["names_form"] = client.get(f"/bhtom-brokers/targets/{target.pk}/survey-names/").content.decode()
    found["refused_name"] = client.post(f"/bhtom-brokers/targets/{target.pk}/survey-names/",
                                        {"throwaway_id": "XX12"}).content.decode()
    found["tab"] = client.get(f"/targets/{target.pk}/?tab=survey-light-curves").content.decode()
    plot = client.get(f"/bhtom-brokers/targets/{target.pk}/lightcurves.json")
    found["plot"] = plot.json() if plot.status_code == 200 else {"status": plot.status_code}
    server.shutdown()
    print(json.dumps(found))


if __name__ == "__main__":
    main(sys.argv[1])
