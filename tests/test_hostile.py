"""A broken or hostile archive, a slow client and two operators at once: nothing stored is lost, no run is aborted.

Each test is one case against the sample archive (real HTTP on 127.0.0.1) answering as a hostile archive would:
values no database can hold, a deeply nested JSON answer, a body dripped under a large Content-Length, redirects
to other hosts, an answer cut at a line boundary, a CSV of a hundred thousand columns, spreadsheet formulas in
archive text, two command runs and a web update at once on a TOM site's default SQLite. At the end of the
session pytest prints ``[hostile] cases=N survived=N points lost=0 runs aborted=0`` (``counts``, summed over the
xdist workers by tests/conftest.py).
"""
import json
import logging
import os
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count

from tom_dataproducts.models import PhotometryReducedDatum
from tom_targets.models import Target

from tests.data.make_fixtures import CPCS_TEST_KEY
from tests.fleet import FLEET_SOURCES, create_fleet, expected_points, source_options
from tests.sample_archive.server import as_votable
from tom_bhtom_brokers import updating
from tom_bhtom_brokers.transports import http
from tom_bhtom_brokers.brokers.cpcs import CpcsBroker
from tom_bhtom_brokers.brokers.neowise import NeowiseBroker
from tom_bhtom_brokers.brokers.ztf import ZtfBroker
from tom_bhtom_brokers.models import LightcurveUpdate

REPO = Path(__file__).resolve().parent.parent
GAIA20FNR = (90.26701, -18.96770)
CASES = []


def survived(name, lost=0, aborted=0):
    """Record a case that held (called at the end of its test, after its assertions)."""
    CASES.append({"case": name, "lost": lost, "aborted": aborted})


def run_command(*args):
    """update_lightcurves in-process; returns (exit status, stdout, stderr). A run that dies with anything but
    its own CommandError is an aborted run: the exception propagates and fails the test."""
    out, err = StringIO(), StringIO()
    try:
        call_command("update_lightcurves", "--no-progress", *args, stdout=out, stderr=err)
        return 0, out.getvalue(), err.getvalue()
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue() + str(exc)


def cpcs_answer(mjd, mag, magerr):
    n = len(mjd)
    return json.dumps({"mjd": mjd, "mag": mag, "magerr": magerr, "caliberr": [0.01] * n, "filter": ["V"] * n,
                       "catalog": ["APASS"] * n, "observatory": ["=HYPERLINK(\"http://x\")"] + ["pt5m"] * (n - 1),
                       "id": list(range(n)), "alert_name": ["ivo://Gaia29hostile"] * n})


@pytest.mark.django_db
def test_values_no_database_can_hold_are_dropped_and_counted_never_abort_the_run(archive, make_target):
    """A CPCS answer with an MJD of 1e9 (a NaT), Infinity and NaN among good points, in a run over other pairs."""
    others = create_fleet(3)
    bad = make_target("hostile values", 10.0, 85.0, **{"CPCS name": "ivo://Gaia29hostile"})
    body = cpcs_answer([59000.1, 1e9, 59000.3, 59000.4, float("nan")], [15.0, 15.1, float("inf"), 15.3, 15.4],
                       [0.02, 0.02, 0.02, 0.02, 0.02]).replace("NaN", "NaN")  # json writes Infinity and NaN tokens
    archive.add_fault(path="/followup/get_alert_lc_data", query="Gaia29hostile", kind="replace", body=body)
    code, out, err = run_command("--source", "CPCS", "--source", "Gaia Alerts")
    assert "total" in out  # the summary was printed: the run ended normally
    row = LightcurveUpdate.objects.get(target=bad, source="CPCS")
    assert row.status == "ok" and "3 point(s) with a time or value that cannot be stored" in row.message
    assert PhotometryReducedDatum.objects.filter(target=bad, source_name="CPCS").count() == 2
    for target in others:
        assert PhotometryReducedDatum.objects.filter(target=target, source_name="Gaia Alerts").count() == \
            expected_points()["Gaia Alerts"]
    survived("NaT, NaN and inf values")


@pytest.mark.django_db
def test_a_deeply_nested_json_answer_is_a_parse_error(archive, make_target):
    target = make_target("nested", 10.0, 85.0, **{"CPCS name": "ivo://Gaia29hostile"})
    archive.add_fault(path="/followup/get_alert_lc_data", kind="replace", body="[" * 100_000 + "]" * 100_000)
    code, out, err = run_command("--source", "CPCS")
    row = LightcurveUpdate.objects.get(target=target, source="CPCS")
    assert code == 1 and row.status == "error" and "could not read" in row.message
    assert row.url.startswith(archive.url) and "no request made" not in err
    survived("RecursionError from nested JSON")


@pytest.mark.django_db
def test_an_infinity_stored_by_anyone_never_reaches_the_figure(make_target, client, admin_user):
    target = make_target("inf", 10.0, 10.0)
    from django.utils import timezone

    for brightness, limit in ((float("inf"), None), (float("nan"), None), (15.0, None), (None, float("-inf"))):
        PhotometryReducedDatum.objects.create(target=target, source_name="CPCS", bandpass="V(CPCS)",
                                              timestamp=timezone.now() - timezone.timedelta(days=len(str(limit))),
                                              brightness=brightness, limit=limit, unit="mag",
                                              brightness_error=float("inf"), value={"x": 1})
    client.force_login(admin_user)
    response = client.get(f"/bhtom-brokers/targets/{target.pk}/lightcurves.json")

    def refuse(token):
        raise ValueError(f"{token} is not JSON")

    document = json.loads(response.content, parse_constant=refuse)  # a browser's strict parser
    assert 15.0 in document["points"]["y"] and all(v is None or abs(v) < 1e300 for v in document["points"]["y"])
    survived("Infinity in stored data")


@pytest.mark.django_db
def test_a_dripped_body_under_a_large_content_length_stops_at_the_deadline(archive, make_target):
    target = make_target("drip", *GAIA20FNR)
    archive.add_fault(path="/TAP/sync", kind="drip", size=1_000_000, seconds=0.5)
    started = time.monotonic()
    outcome = updating.run(updating.plan([target], [NeowiseBroker()]))[0]
    elapsed = time.monotonic() - started
    timeout = 1.0  # the tests' broker timeout; the deadline is 3 x timeout
    assert outcome.status == "error" and "after the time limit" in outcome.message
    assert elapsed < 3 * timeout + timeout + 2.0, elapsed
    survived("Content-Length drip")


@pytest.mark.django_db
@pytest.mark.parametrize("location", ["http://127.0.0.2:{port}/followup/get_alert_lc_data?alert_name=x",
                                      "http://[::1]:{port}/followup/get_alert_lc_data",
                                      "http://2130706433:{port}/followup/get_alert_lc_data",
                                      "https://evil.example.org/followup/get_alert_lc_data",
                                      "//127.0.0.2:{port}/followup/get_alert_lc_data"])
def test_a_redirect_to_another_host_is_not_followed(archive, make_target, location):
    port = archive.url.rsplit(":", 1)[1]
    target = make_target("redirected", 10.0, 85.0, **{"CPCS name": "ivo://Gaia29aaa"})
    archive.add_fault(path="/followup/get_alert_lc_data", kind="redirect", status=302,
                      location=location.format(port=port))
    outcome = updating.run(updating.plan([target], [CpcsBroker()], force=True))[0]
    assert outcome.status == "error" and "redirected to" in outcome.message and "not followed" in outcome.message
    assert len(archive.requests) == 1  # nothing was asked of the other host (nor of this one twice)
    survived(f"cross-host redirect {location.split('/')[2]}")


@pytest.mark.django_db
def test_a_redirect_on_the_same_host_is_followed_and_no_secret_is_logged(archive, make_target, caplog):
    target = make_target("moved", 10.0, 85.0, **{"CPCS name": "ivo://Gaia29aaa"})
    # the archive moves the answer, and (carelessly) puts the site's key into the new address
    archive.add_fault(path="/followup/get_alert_lc_data", times=1, kind="redirect", status=301,
                      location=f"{archive.url}/followup/get_alert_lc_data?alert_name=ivo://Gaia29aaa"
                               f"&hashtag={CPCS_TEST_KEY}")
    caplog.set_level(logging.DEBUG, logger="urllib3")
    outcome = updating.run(updating.plan([target], [CpcsBroker()], force=True))[0]
    assert outcome.status == "ok", outcome.message
    assert [r["path"] for r in archive.requests] == ["/followup/get_alert_lc_data"] * 2
    assert archive.requests[1]["params"]["hashtag"] == CPCS_TEST_KEY  # it did go to the archive's own host
    assert "GET /followup/get_alert_lc_data" in caplog.text  # urllib3 did log the request lines ...
    assert CPCS_TEST_KEY not in caplog.text  # ... without the key
    assert CPCS_TEST_KEY not in LightcurveUpdate.objects.get(target=target).url
    survived("same-host redirect, key kept out of urllib3's log")


@pytest.mark.django_db
def test_an_atlas_result_redirected_elsewhere_is_refused(archive, make_target):
    target = make_target("atlas", *GAIA20FNR)
    port = archive.url.rsplit(":", 1)[1]
    archive.add_fault(path="/forcedphot/static/results/", kind="redirect", status=302,
                      location=f"http://127.0.0.2:{port}/forcedphot/static/results/job1.txt")
    from tom_bhtom_brokers.brokers.atlas import AtlasBroker

    outcome = updating.run(updating.plan([target], [AtlasBroker()], force=True))[0]
    assert outcome.status == "error" and "127.0.0.2" in outcome.message and "not followed" in outcome.message
    survived("ATLAS result_url redirect")


def test_redirect_rules_for_scheme_and_port():
    class Raw:
        status_code = 302

        def __init__(self, url, location):
            self.url, self.headers = url, {"Location": location}

    client = http.HttpClient(secrets=("s3cret",))
    origin = http.urlsplit("http://archive.test/a")
    assert client._redirect_target(origin, Raw("http://archive.test/a", "/b?x=1"), "u") == "http://archive.test/b?x=1"
    assert client._redirect_target(origin, Raw("http://archive.test/a", "https://archive.test/b"), "u") \
        == "https://archive.test/b"  # an upgrade to https on the same host is fine
    for location in ("https://archive.test:8443/b", "http://archive.test:8080/b", "ftp://archive.test/b",
                     "http://user:pw@archive.test/b", "http://archive.test.evil.org/b",
                     "http://evil.org/b?key=s3cret"):
        with pytest.raises(http.BrokerServiceError, match="not followed") as refused:
            client._redirect_target(origin, Raw("http://archive.test/a", location), "u")
        assert "s3cret" not in str(refused.value)
    https_origin = http.urlsplit("https://archive.test/a")
    with pytest.raises(http.BrokerServiceError):  # never down from https to http
        client._redirect_target(https_origin, Raw("https://archive.test/a", "http://archive.test/b"), "u")
    survived("redirect rules")


@pytest.mark.django_db
def test_an_answer_cut_at_a_line_boundary_does_not_delete_points(archive, make_target):
    """No Content-Length, closed after a whole line: a CSV so cut is complete for any client. ZTF's release is
    read again weekly and may shrink by a fifth at most, so this shrink is held; the same answer on the next run
    is the archive's word; --accept-shrink applies it at once. A VOTable (TAP) so cut is not even well-formed."""
    target = make_target("Gaia20fnr", *GAIA20FNR)
    assert updating.run(updating.plan([target], [ZtfBroker()]))[0].status == "ok"
    stored = PhotometryReducedDatum.objects.filter(target=target, source_name="ZTF").count()
    archive.add_fault(path="/nph_light_curves", kind="cut_at_line", keep=0.4)
    held = updating.run(updating.plan([target], [ZtfBroker()], force=True))[0]
    assert held.status == "shrank" and f"kept {stored} points" in held.message
    assert PhotometryReducedDatum.objects.filter(target=target, source_name="ZTF").count() == stored
    assert updating.plan([target], [ZtfBroker()])[0].due  # asked again next run
    again = updating.run(updating.plan([target], [ZtfBroker()]))[0]  # the same shrunken answer again
    assert again.status == "ok" and again.removed > 0
    assert PhotometryReducedDatum.objects.filter(target=target, source_name="ZTF").count() < stored

    archive.reset()
    other = make_target("Gaia20fnr twin", *GAIA20FNR)
    assert updating.run(updating.plan([other], [ZtfBroker(), NeowiseBroker()]))[0].status == "ok"
    archive.add_fault(path="/nph_light_curves", kind="cut_at_line", keep=0.4)
    code, out, err = run_command("--source", "ZTF", "--target", "Gaia20fnr twin", "--force")
    assert code == 1 and "answer shrank" in err
    code, out, err = run_command("--source", "ZTF", "--target", "Gaia20fnr twin", "--force", "--accept-shrink")
    assert code == 0 and LightcurveUpdate.objects.get(target=other, source="ZTF").status == "ok"

    neowise = PhotometryReducedDatum.objects.filter(target=other, source_name="NEOWISE").count()
    archive.add_fault(path="/TAP/sync", kind="cut_at_line", keep=0.4)
    cut = updating.run(updating.plan([other], [NeowiseBroker()], force=True))[0]
    assert cut.status == "error" and "not a VOTable" in cut.message
    assert PhotometryReducedDatum.objects.filter(target=other, source_name="NEOWISE").count() == neowise
    survived("cut-short answer (held, then confirmed or accepted)")


@pytest.mark.django_db
def test_a_csv_of_a_hundred_thousand_columns_is_refused_unread(archive, make_target):
    import resource

    target = make_target("wide", *GAIA20FNR)
    header = ",".join(f"c{i}" for i in range(100_000))
    archive.add_fault(path="/cgi-bin/ZTF/nph_light_curves", kind="replace", body=header + "\n" + "1," * 99_999 + "1\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcome = updating.run(updating.plan([target], [ZtfBroker()], force=True))[0]
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert outcome.status == "error" and "100000 columns" in outcome.message
    assert grown_mb < 200, grown_mb
    survived("huge-column CSV")


@pytest.mark.django_db
def test_archive_text_cannot_run_as_a_spreadsheet_formula(archive, make_target, client, admin_user):
    target = make_target("formulas", 10.0, 85.0, **{"CPCS name": "ivo://Gaia29hostile"})
    archive.add_fault(path="/followup/get_alert_lc_data", kind="replace",
                      body=cpcs_answer([59000.1, 59000.2], [15.0, -1.5], [0.02, 0.02]))
    assert updating.run(updating.plan([target], [CpcsBroker()]))[0].status == "ok"
    client.force_login(admin_user)
    text = client.get(f"/bhtom-brokers/targets/{target.pk}/lightcurves.csv").content.decode()
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    assert ",-1.5," in text  # a number stays a number
    ecsv = client.get(f"/bhtom-brokers/targets/{target.pk}/lightcurves.ecsv").content.decode()
    assert "=HYPERLINK" in ecsv and "'=HYPERLINK" not in ecsv  # ECSV keeps the data exact
    survived("CSV injection")


@pytest.mark.django_db
def test_cpcs_prefers_https():
    assert CpcsBroker.default_url.startswith("https://")
    survived("CPCS over https")


@pytest.mark.django_db(transaction=True)
def test_two_runs_and_a_web_update_at_once_on_a_default_sqlite_site(archive, admin_user, client):
    """SQLite as tom_setup configures it (no timeout option, deferred transactions): cron twice and a button."""
    targets = create_fleet(8)
    archive.latency = 0.02
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(REPO),
           "BHTOM_TEST_SQLITE": connection.settings_dict["NAME"], "BHTOM_TEST_ARCHIVE_URL": archive.url,
           "BHTOM_TEST_SQLITE_TOM_DEFAULTS": "1"}
    runs = [subprocess.Popen([sys.executable, "-m", "django", "update_lightcurves", "--force", "--no-progress",
                              *source_options()],
                             cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    client.force_login(admin_user)
    web = [client.post(f"/bhtom-brokers/targets/{target.pk}/update/") for target in targets[:3]]
    outputs = [r.communicate(timeout=300) for r in runs]
    assert all(r.returncode == 0 for r in runs), [o[1][-3000:] for o in outputs]
    assert all(response.status_code == 302 for response in web)
    dups = (PhotometryReducedDatum.objects.values("target", "source_name", "bandpass", "timestamp", "brightness",
                                                  "limit").annotate(n=Count("id")).filter(n__gt=1).count())
    assert dups == 0
    # the runs update the fleet's sources; the button updates every source of its target: the fleet's are counted
    expected = len(targets) * sum(expected_points().values())
    lost = expected - PhotometryReducedDatum.objects.filter(source_name__in=FLEET_SOURCES).count()
    assert lost == 0
    fleet_statuses = LightcurveUpdate.objects.filter(source__in=FLEET_SOURCES).values_list("status", flat=True)
    assert set(fleet_statuses) == {"ok"}
    assert not LightcurveUpdate.objects.filter(status="error").exists()  # the button's other archives: no error
    survived("two runs and a web update on SQLite", lost=lost)


@pytest.mark.django_db
def test_a_target_deleted_during_a_run_is_reported_as_deleted(archive):
    targets = create_fleet(3)
    archive.latency = 0.1
    items = updating.plan(targets, updating.installed_brokers(["Gaia Alerts", "NEOWISE"]))
    deleted = []

    def delete_one(outcome):
        if not deleted:
            deleted.append(targets[2].pk)
            Target.objects.filter(pk=targets[2].pk).delete()

    outcomes = updating.run(items, workers=2, on_outcome=delete_one)
    gone = [o for o in outcomes if o.target_id in deleted]
    assert gone and all(o.status == "deleted" for o in gone)
    survived("target deleted mid-run")


def counts():
    """This process's counts of the cases that survived: a case is counted only once its test's assertions held."""
    return {"cases": len(CASES), "survived": len(CASES), "points lost": sum(c["lost"] for c in CASES),
            "runs aborted": sum(c["aborted"] for c in CASES)}


def test_a_tap_service_refusing_the_query_inside_a_votable_is_an_error_with_its_words(archive, make_target):
    """A TAP service reports a refused query as a VOTable whose QUERY_STATUS is ERROR, with HTTP 200 (as IRSA's
    usage faults read): pyvo sees it, the pair's status is an error carrying the service's text, and the points
    stored before stay. A VOTable of another table (no quality columns) is refused by name, not read."""
    target = make_target("Gaia20fnr", *GAIA20FNR)
    assert updating.run(updating.plan([target], [NeowiseBroker()]))[0].status == "ok"
    stored = PhotometryReducedDatum.objects.filter(target=target, source_name="NEOWISE").count()
    refusal = (archive.data_dir / "ztf" / "usage_fault_400.xml").read_bytes()
    archive.add_fault(path="/TAP/sync", kind="replace", body=refusal)
    refused = updating.run(updating.plan([target], [NeowiseBroker()], force=True))[0]
    assert refused.status == "error" and "refused the query" in refused.message
    assert "UsageFault: Internal error (invalid TAP query)" in refused.message
    assert refused.url.endswith("/TAP/sync")

    archive.reset()
    other_table = as_votable((archive.data_dir / "allwise" / "cone_Gaia20fnr.tbl").read_bytes())
    archive.add_fault(path="/TAP/sync", kind="replace", body=other_table)
    wrong = updating.run(updating.plan([target], [NeowiseBroker()], force=True))[0]
    assert wrong.status == "error" and "has no column(s)" in wrong.message and "ph_qual" in wrong.message
    assert PhotometryReducedDatum.objects.filter(target=target, source_name="NEOWISE").count() == stored
    survived("TAP refusal inside a VOTable with HTTP 200; a VOTable of the wrong table")


# --- answers that reach past the HTTP client, bombs, secrets, odd values (round 3) ----------------------------------

def votable_with_stream(href):
    """A VOTable whose data is a STREAM at ``href``: astropy would open that address itself."""
    return ('<?xml version="1.0"?><VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE>'
            '<TABLE><FIELD name="mjd" datatype="double"/><FIELD name="w1mpro" datatype="double"/>'
            f'<DATA><BINARY><STREAM href="{href}"/></BINARY></DATA></TABLE></RESOURCE></VOTABLE>')


def zipped(members):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in members:
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("href", ["http://127.0.0.2:{port}/secret", "file:///dev/zero",
                                  "http://127.0.0.1:{port}/TAP/sync?never"])
def test_a_votable_whose_data_is_a_stream_elsewhere_is_refused_unread(archive, make_target, href):
    port = archive.url.rsplit(":", 1)[1]
    target = make_target("stream", *GAIA20FNR)
    assert updating.run(updating.plan([target], [NeowiseBroker()]))[0].status == "ok"
    stored = PhotometryReducedDatum.objects.filter(target=target).count()
    archive.reset()
    archive.add_fault(path="/TAP/sync", kind="replace", body=votable_with_stream(href.format(port=port)))
    started = time.monotonic()
    outcome = updating.run(updating.plan([target], [NeowiseBroker()], force=True))[0]
    assert outcome.status == "error" and "STREAM href" in outcome.message and "refused unread" in outcome.message
    assert time.monotonic() - started < 5
    assert [r["path"] for r in archive.requests] == ["/TAP/sync"]  # nothing else asked, of any host
    assert PhotometryReducedDatum.objects.filter(target=target).count() == stored
    survived(f"VOTable STREAM href {href.split(':')[0]}")


@pytest.mark.django_db
@pytest.mark.parametrize("href", ["http://127.0.0.2:{port}/secret", "file:///dev/zero"])
def test_a_dasch_answer_that_is_a_votable_streaming_from_elsewhere_is_refused_unread(archive, make_target, href):
    """DASCH reads a light curve saved from its legacy service (a VOTable) as well as DR7's: such an answer from the
    archive gets the same check as a TAP answer, so a STREAM in it cannot make astropy fetch another address."""
    from tom_bhtom_brokers.brokers.dasch import API_PATH, DaschBroker

    port = archive.url.rsplit(":", 1)[1]
    target = make_target("APASS J200349.5+441051", 300.95625, 44.18083)
    assert updating.run(updating.plan([target], [DaschBroker()]))[0].status == "ok"
    stored = PhotometryReducedDatum.objects.filter(target=target).count()
    archive.reset()
    archive.add_fault(path=f"{API_PATH}/lightcurve", kind="replace", body=votable_with_stream(href.format(port=port)))
    started = time.monotonic()
    outcome = updating.run(updating.plan([target], [DaschBroker()], force=True))[0]
    assert outcome.status == "error" and "STREAM href" in outcome.message and "refused unread" in outcome.message
    assert time.monotonic() - started < 5
    assert all(r["path"].startswith(API_PATH) for r in archive.requests), archive.requests  # nothing else asked
    assert PhotometryReducedDatum.objects.filter(target=target).count() == stored
    survived(f"DASCH VOTable STREAM href {href.split(':')[0]}")


PLAIN_VOTABLE = ('<?xml version="1.0" encoding="utf-8"?><VOTABLE version="1.4"><RESOURCE><TABLE>'
                 '<FIELD name="mjd" datatype="double"/><DATA><TABLEDATA><TR><TD>1</TD></TR></TABLEDATA></DATA>'
                 '</TABLE></RESOURCE></VOTABLE>')
ENTITY_STREAM = ('<?xml version="1.0"?><!DOCTYPE VOTABLE [<!ENTITY s "&#60;STREAM href=\'file:///dev/zero\'/&#62;">]>'
                 '<VOTABLE version="1.4"><RESOURCE><TABLE><FIELD name="mjd" datatype="double"/>'
                 '<DATA><BINARY>&s;</BINARY></DATA></TABLE></RESOURCE></VOTABLE>')


@pytest.mark.parametrize("document, plainly_safe, refused", [
    (PLAIN_VOTABLE.encode(), True, False),
    # a STREAM made by an entity: no "<STREAM" in the bytes, but a DOCTYPE: the full pass expands it and refuses
    (ENTITY_STREAM.encode(), False, True),
    # a prefixed, lower-case stream tag; one across a line break
    (votable_with_stream("file:///dev/zero").replace("<STREAM", "<v:stream")
     .replace('<VOTABLE version="1.4"', '<VOTABLE version="1.4" xmlns:v="urn:v"').encode(), False, True),
    (votable_with_stream("file:///dev/zero").replace("<STREAM ", "<STREAM\n").encode(), False, True),
    # another encoding: the tags are not in the bytes as ASCII
    (votable_with_stream("file:///dev/zero").replace('version="1.0"', 'version="1.0" encoding="utf-16"')
     .encode("utf-16"), False, True),
    # a STREAM only in a comment: not plainly safe, and the full pass finds no element to refuse
    (PLAIN_VOTABLE.replace("<RESOURCE>", "<!-- <STREAM href='x'/> --><RESOURCE>").encode(), False, False),
    (votable_with_stream("").replace("<STREAM", "<FIELD name='x'/>" * 1001 + "<STREAM").encode(), False, True),
    # many prefixed FIELDs and no STREAM: counted by their prefix, refused by the full pass for their number
    (PLAIN_VOTABLE.replace('<VOTABLE version="1.4"', '<v:VOTABLE version="1.4" xmlns:v="urn:v"')
     .replace("</VOTABLE>", "</v:VOTABLE>").replace('<FIELD name="mjd" datatype="double"/>',
                                                    "<v:FIELD name='x' datatype='double'/>" * 1001).encode(),
     False, True),
    # the word in a cell's text: not plainly safe (the scan reads bytes, not elements), and nothing to refuse
    (PLAIN_VOTABLE.replace("<TD>1</TD>", "<TD>upstream</TD>").encode(), False, False),
])
def test_the_fast_votable_check_lets_through_only_what_the_full_pass_would(document, plainly_safe, refused):
    """The byte scan that spares most TAP answers the expat pass never lets through a document the full pass refuses:
    an entity, another encoding, a prefix or a case it does not read as such all go to the full pass."""
    from tom_bhtom_brokers.exceptions import BrokerParseError
    from tom_bhtom_brokers.transports import tap

    assert tap.plainly_safe(document) is plainly_safe
    if refused:
        with pytest.raises(BrokerParseError, match="STREAM href|more than 1000 columns"):
            tap.check_votable(document, "TAP answer")
    else:
        tap.check_votable(document, "TAP answer")
    survived("a VOTable that a byte scan could misjudge")


@pytest.mark.django_db
def test_a_stream_inside_a_gaia_dr3_zip_is_refused(archive, make_target):
    from tom_bhtom_brokers.brokers.gaia_dr3 import GaiaDR3Broker

    target = make_target("zip stream", *GAIA20FNR, **{"Gaia DR3 id": "Gaia DR3 2945521337401118464"})
    archive.add_fault(path="/data-server/data", kind="replace",
                      body=zipped([("EPOCH_PHOTOMETRY-Gaia DR3 1.xml", votable_with_stream("file:///dev/zero"))]))
    outcome = updating.run(updating.plan([target], [GaiaDR3Broker()], force=True))[0]
    assert outcome.status == "error" and "STREAM href" in outcome.message
    survived("STREAM href in a zip member")


@pytest.mark.django_db
@pytest.mark.parametrize("members, reason", [
    ([("EPOCH_PHOTOMETRY-Gaia DR3 1.csv", b"0" * (300 * 1024 * 1024))], "unpacks to more than"),
    ([(f"m{i}.csv", b"x") for i in range(5000)], "holds 5000 files"),
])
def test_a_decompression_bomb_from_the_gaia_archive_is_refused(archive, make_target, members, reason):
    import resource

    from tom_bhtom_brokers.brokers.gaia_dr3 import GaiaDR3Broker

    target = make_target("bomb", *GAIA20FNR, **{"Gaia DR3 id": "Gaia DR3 2945521337401118464"})
    body = zipped(members)
    assert len(body) < 1_000_000
    archive.add_fault(path="/data-server/data", kind="replace", body=body)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    outcome = updating.run(updating.plan([target], [GaiaDR3Broker()], force=True))[0]
    assert outcome.status == "error" and reason in outcome.message, outcome.message
    assert time.monotonic() - started < 10
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 300
    survived(f"zip bomb ({reason})")


def gzipped(content):
    import gzip

    return gzip.compress(content, compresslevel=9)


def tarball(members):
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


@pytest.mark.django_db
def test_linears_bombs_and_cut_files_never_stay_in_the_cache(archive, make_target, settings, tmp_path):
    """A tarball that unpacks past the limit, a target list cut short: errors naming the file, nothing cached, and
    the next run (the archive well again) downloads and stores."""
    from tests.brokers.test_catalogues import DEC19, RA19
    from tom_bhtom_brokers.brokers.linear import LinearBroker

    settings.DATA_SERVICES["LINEAR"].update(cache_dir=str(tmp_path), max_unpacked_bytes=2 * 1024 * 1024)
    star = make_target("Gaia19dke", RA19, DEC19)
    archive.add_fault(path="allLINEARfinal_dat.tar.gz", kind="replace", times=1,
                      body=tarball([("1.dat", b"0" * (8 * 1024 * 1024))]))
    outcome = updating.run(updating.plan([star], [LinearBroker()], force=True))[0]
    assert outcome.status == "error" and "unpacks to more than" in outcome.message, outcome.message
    assert not list(tmp_path.rglob("*.tar.gz")) and not list(tmp_path.rglob("*.dat"))
    whole = gzipped((archive.data_dir / "linear" / "astroML_allLINEARfinal_targets_head40.dat").read_bytes())
    other = make_target("cut list", RA19, DEC19)
    archive.add_fault(path="allLINEARfinal_targets", kind="replace", times=1, body=whole[:len(whole) // 2])
    cut = updating.run(updating.plan([other], [LinearBroker()], force=True))[0]
    assert cut.status == "error" and "not a whole gzip file" in cut.message, cut.message
    assert not list(tmp_path.rglob("*targets*"))
    assert updating.run(updating.plan([other], [LinearBroker()]))[0].status == "ok"
    survived("LINEAR tarball bomb and cut target list, not cached")


@pytest.mark.django_db
def test_a_linear_cache_that_no_longer_reads_is_fetched_again(archive, make_target, settings, tmp_path):
    from tests.brokers.test_catalogues import DEC19, RA19
    from tom_bhtom_brokers.brokers.linear import TARGETS_FILE, LinearBroker

    settings.DATA_SERVICES["LINEAR"]["cache_dir"] = str(tmp_path)
    first = make_target("Gaia19dke", RA19, DEC19)
    assert updating.run(updating.plan([first], [LinearBroker()]))[0].status == "ok"
    (cached,) = tmp_path.rglob(TARGETS_FILE)
    cached.write_bytes(cached.read_bytes()[:100])  # damaged on disk (a full disk, an old version's partial file)
    again = make_target("again", RA19, DEC19)
    outcome = updating.run(updating.plan([again], [LinearBroker()]))[0]
    assert outcome.status == "ok", outcome.message
    survived("damaged LINEAR cache dropped and fetched again")


@pytest.mark.django_db
def test_a_votable_of_many_thousand_columns_is_refused_unread(archive, make_target):
    target = make_target("wide votable", *GAIA20FNR)
    fields = "".join(f'<FIELD name="c{i}" datatype="int"/>' for i in range(40_000))
    body = (f'<?xml version="1.0"?><VOTABLE version="1.4"><RESOURCE><TABLE>{fields}<DATA><TABLEDATA><TR>'
            + "<TD>1</TD>" * 40_000 + "</TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>")
    archive.add_fault(path="/TAP/sync", kind="replace", body=body)
    started = time.monotonic()
    outcome = updating.run(updating.plan([target], [NeowiseBroker()], force=True))[0]
    assert outcome.status == "error" and "more than 1000 columns" in outcome.message
    assert time.monotonic() - started < 5
    survived("VOTable of 40,000 columns")


@pytest.mark.django_db
@pytest.mark.parametrize("secret_name", ["CPCS", "ATLAS"])
def test_a_secret_echoed_across_the_cut_of_an_error_body_is_masked(archive, make_target, secret_name, client,
                                                                   admin_user):
    from tests.data.make_fixtures import ATLAS_TEST_TOKEN
    from tom_bhtom_brokers.brokers.atlas import AtlasBroker

    key = CPCS_TEST_KEY if secret_name == "CPCS" else ATLAS_TEST_TOKEN
    broker, path, names = ((CpcsBroker, "/followup/get_alert_lc_data", {"CPCS name": "ivo://Gaia29aaa"})
                           if secret_name == "CPCS" else (AtlasBroker, "/forcedphot/queue/", {}))
    target = make_target("echo", *GAIA20FNR, **names)
    for cut in range(150, 210, 7):  # the key straddles the 200-character cut somewhere in here
        archive.reset()
        archive.add_fault(path=path, kind="status", status=403, body="denied: " + "x" * (cut - 8) + key + " more")
        outcome = updating.run(updating.plan([target], [broker()], force=True))[0]
        assert outcome.status == "error", outcome.message
        row = LightcurveUpdate.objects.get(target=target, source=broker.name)
        for text in (outcome.message, row.message, row.url):
            assert not any(key[i:i + 8] in text for i in range(len(key) - 7)), text
    survived(f"{secret_name} secret across the cut")


@pytest.mark.django_db
def test_a_400_digit_integer_is_a_parse_error_not_an_internal_error(archive, make_target):
    target = make_target("overflow", 10.0, 85.0, **{"CPCS name": "ivo://Gaia29hostile"})
    body = cpcs_answer([59000.1], [15.0], [0.02]).replace('"mag": [15.0]', '"mag": [' + "9" * 400 + "]")
    archive.add_fault(path="/followup/get_alert_lc_data", kind="replace", body=body)
    outcome = updating.run(updating.plan([target], [CpcsBroker()], force=True))[0]
    assert outcome.status == "error" and "internal error" not in outcome.message
    assert "could not read" in outcome.message
    survived("400-digit integer")


def test_an_atlas_task_list_whose_next_is_not_an_address_is_a_parse_error(archive, settings):
    from tom_bhtom_brokers.brokers.atlas import AtlasBroker
    from tom_bhtom_brokers.transports.jobqueue import TaskList
    from tom_bhtom_brokers.exceptions import BrokerParseError

    archive.add_fault(path="/forcedphot/queue/", kind="replace",
                      body=json.dumps({"results": [], "next": {"url": "elsewhere"}}))
    with pytest.raises(BrokerParseError, match="'next' is not an address"):
        TaskList(AtlasBroker()).read()
    survived("ATLAS task list with an object as next")
