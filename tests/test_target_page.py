"""The target page's "Survey light curves" tab, its data, download, names form and update button,
through Django's test client (the browser check is tests/test_browser.py)."""
import csv as csv_module
import html
import io
import json

import numpy as np
import pytest
from astropy.table import Table
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm

from tom_dataproducts.models import PhotometryReducedDatum
from tom_targets.models import Target, TargetExtra

from tests.brokers.contract import update
from tom_bhtom_brokers.brokers.gaia_alerts import GaiaAlertsBroker
from tom_bhtom_brokers.brokers.neowise import NeowiseBroker
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.models import LightcurveUpdate, TargetUpdateRequest
from tom_bhtom_brokers.sources import DataSource
from tom_bhtom_brokers.store import sync
from tom_bhtom_brokers.target_tab import survey_tab_context

pytestmark = pytest.mark.django_db

TAB = "survey-light-curves"


@pytest.fixture
def editor(client):
    """A user who may change every target (the site-wide ``change_target`` permission)."""
    user = User.objects.create_user("editor", password="pw")
    user.user_permissions.add(Permission.objects.get(codename="change_target", content_type__app_label="tom_targets"))
    client.force_login(user)
    return user


def refused(response):
    """TOM's Raise403Middleware turns a 403 into a redirect to the login page with a message."""
    return response.status_code == 403 or (response.status_code == 302 and "/accounts/login/" in response["Location"])


def detail(client, target):
    response = client.get(f"/targets/{target.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def data(client, target):
    response = client.get(f"/bhtom-brokers/targets/{target.pk}/lightcurves.json")
    assert response.status_code == 200
    return response.json()


def test_tab_shows_statuses_and_the_figure_loads_every_point(archive, make_target, client, editor):
    target = make_target("Gaia20fnr", 90.26701, -18.96770, **{"Gaia Alerts name": "Gaia20fnr"})
    update(target, GaiaAlertsBroker)
    update(target, NeowiseBroker)
    page = detail(client, target)
    assert f'id="{TAB}-tab"' in page and 'id="bhtom-lightcurve-plot"' in page
    assert 'id="bhtom-update-button"' in page and "Update survey light curves" in page
    assert 'href="https://gsaweb.ast.cam.ac.uk/alerts/alert/Gaia20fnr/"' in page
    assert "read once (data release)" in page and "never updated" in page  # NEOWISE read; ZTF never
    payload = data(client, target)
    stored = PhotometryReducedDatum.objects.filter(target=target)
    assert len(payload["points"]["mjd"]) == stored.count()
    bandpasses = set(stored.values_list("bandpass", flat=True))
    detections = {(t["bandpass"]) for t in payload["traces"] if not t["limit"]}
    assert detections == bandpasses  # one trace per stored bandpass (plus the limit traces)
    limits = [t for t in payload["traces"] if t["limit"]]
    assert [t["bandpass"] for t in limits] == ["W1(NEOWISE)"] and limits[0]["symbol"] == "triangle-down-open"
    colours = {t["bandpass"]: t["colour"] for t in payload["traces"]}
    assert colours["W1(NEOWISE)"] != colours["W2(NEOWISE)"]
    symbols = {t["source"]: t["symbol"] for t in payload["traces"] if not t["limit"]}
    assert symbols["Gaia Alerts"] != symbols["NEOWISE"]


def test_fluxes_get_their_own_panel_and_magnitudes_keep_theirs(make_target, client, editor):
    target = make_target("radio source", 10.0, 10.0)
    sync(target, DataSource.GAIA_DR3, "Gaia DR3", Lightcurve.from_columns(
        mjd=[57000.0, 57001.0], brightness=[15.0, 15.1], brightness_error=[0.01, 0.01], filter="G"))
    sync(target, DataSource.FIRST, "FIRST", Lightcurve.from_columns(
        mjd=[50000.0], brightness=[3.2], brightness_error=[0.15], filter="Flux 1.4GHz", unit="mJy"))
    traces = {t["bandpass"]: t for t in data(client, target)["traces"]}
    assert traces["Flux 1.4GHz(FIRST)"]["flux"] and traces["Flux 1.4GHz(FIRST)"]["unit"] == "mJy"
    assert not traces["G(Gaia DR3)"]["flux"]


def test_a_target_without_data_says_how_to_get_some(make_target, client, editor):
    target = make_target("nothing yet", 10.0, 10.0)
    page = detail(client, target)
    assert 'id="bhtom-no-data"' in page and "update_lightcurves --target" in page
    assert 'id="bhtom-lightcurve-plot"' not in page


def test_100000_points_one_bounded_payload_and_a_small_page(make_target, client, editor):
    target = make_target("crowded", 10.0, 10.0)
    n = 100_000
    mjd = 58000 + np.arange(n) * 0.01
    sync(target, DataSource.ZTF, "ZTF", Lightcurve.from_columns(
        mjd=mjd, brightness=17 + 0.1 * np.sin(mjd), brightness_error=np.full(n, 0.02),
        filter=np.where(np.arange(n) % 2, "g", "r"), catflags=np.where(np.arange(n) % 1000, 0, 4)))
    # TOM's own page also renders its photometry tab, which inlines every point (tens of MB at this size,
    # not ours to change): our tab is measured on its own, rendered as TOM renders it
    request = client.get("/").wsgi_request
    with CaptureQueriesContext(connection) as tab_queries:
        tab = render_to_string("tom_bhtom_brokers/partials/survey_tab.html",
                               survey_tab_context({"object": target, "request": request}), request=request)
    with CaptureQueriesContext(connection) as data_queries:
        response = client.get(f"/bhtom-brokers/targets/{target.pk}/lightcurves.json")
    payload = json.loads(response.content)
    assert len(payload["points"]["mjd"]) == n and len(payload["traces"]) == 2
    assert len(payload["notes"]) <= 3  # hover notes are shared, not repeated per point
    print(f"\n[target page] tab {len(tab) / 1024:.0f} kB, {len(tab_queries)} queries; "
          f"data {len(response.content) / 1e6:.1f} MB for {n} points, {len(data_queries)} queries")
    assert len(tab) < 30_000 and str(n) in tab  # the points are not in the page, their number is
    assert len(response.content) < 60 * n  # bytes per point, in one payload
    assert len(data_queries) <= 10  # session, user, permission, target, the points: not per point
    assert len(tab_queries) <= 12


def test_download_csv_and_ecsv(archive, make_target, client, editor):
    target = make_target("Gaia18cbf", 268.8875, -31.2472, **{"Gaia Alerts name": "Gaia18cbf"})
    update(target, GaiaAlertsBroker)
    count = PhotometryReducedDatum.objects.filter(target=target).count()
    csv = client.get(f"/bhtom-brokers/targets/{target.pk}/lightcurves.csv")
    assert csv.status_code == 200 and "attachment" in csv["Content-Disposition"]
    rows = Table.read(csv.content.decode(), format="ascii.csv")
    assert len(rows) == count
    cells = list(csv_module.DictReader(io.StringIO(csv.content.decode())))
    assert cells[0]["limit"] == "" and "nan" not in csv.content.decode()  # no limit: an empty cell
    assert rows.colnames == ["source", "bandpass", "time_utc", "mjd", "time_original", "time_system", "value",
                             "error", "limit", "unit", "telescope", "extras"]
    first = rows[0]
    assert first["source"] == "Gaia Alerts" and first["bandpass"] == "G(Gaia Alerts)"
    assert abs(first["time_original"] - 2400000.5 - first["mjd"]) * 86400 < 1  # JD as the archive wrote it
    assert "Date column (UTC" in first["time_system"] and first["unit"] == "mag"
    answer = client.get(f"/bhtom-brokers/targets/{target.pk}/lightcurves.ecsv")
    text = answer.content.decode()
    assert answer["Content-Type"].startswith("text/plain")  # ECSV is not CSV
    assert '"""' not in text and "datatype: string, subtype: json" not in text  # strings as strings
    ecsv = Table.read(text, format="ascii.ecsv")
    assert len(ecsv) == count and ecsv.meta["target"] == "Gaia18cbf" and ecsv["source"][0] == "Gaia Alerts"
    assert ecsv.meta["citations"] == {"Gaia Alerts": GaiaAlertsBroker.citation}  # only the sources in the file
    tab = client.get(f"/targets/{target.pk}/").content.decode()
    cited = tab[tab.index('id="bhtom-citations"'):]
    assert html.escape(GaiaAlertsBroker.citation) in cited and "Mainzer" not in cited  # NEOWISE has no points here
    assert client.get(f"/bhtom-brokers/targets/{target.pk}/lightcurves.xlsx").status_code == 404


def test_survey_names_are_validated_and_nothing_is_saved_when_one_is_wrong(make_target, client, editor):
    target = make_target("star", 10.0, 10.0)
    url = f"/bhtom-brokers/targets/{target.pk}/survey-names/"
    assert client.get(url).status_code == 200
    bad = client.post(url, {"gaia_alerts_name": "Gaia18cbf", "ztf_name": "ZTF18abc",
                            "asas_sn_url": "https://evil.example.org/sky-patrol/coordinate/x",
                            "gaia_dr3_id": "12ab"})
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "ZTF name is &#x27;ZTF&#x27;, two digits and seven lower-case letters" in text
    assert "must be an address on asas-sn.osu.edu" in text and "Gaia DR3 id is a Gaia DR3 source_id" in text
    assert not TargetExtra.objects.filter(target=target).exists()
    good = client.post(url, {"gaia_alerts_name": "Gaia18cbf", "ztf_name": "ZTF18abcdefg",
                             "asas_sn_url": "https://asas-sn.osu.edu/sky-patrol/coordinate/"
                                            "5740d76a-0b3e-4d5b-9f66-6ee3b8d3b1a2",
                             "cpcs_name": "ivo://Gaia19drz"})
    assert good.status_code == 302 and good["Location"].endswith(f"?tab={TAB}")
    assert dict(target.targetextra_set.values_list("key", "value")) == {
        "Gaia Alerts name": "Gaia18cbf", "ZTF name": "ZTF18abcdefg", "CPCS name": "ivo://Gaia19drz",
        "ASAS-SN URL": "https://asas-sn.osu.edu/sky-patrol/coordinate/5740d76a-0b3e-4d5b-9f66-6ee3b8d3b1a2"}
    client.post(url, {"gaia_alerts_name": "", "ztf_name": "ZTF18abcdefg"})
    assert set(target.targetextra_set.values_list("key", flat=True)) == {"ZTF name"}


def test_only_editors_may_change_names_or_update(make_target, client):
    target = make_target("private star", 10.0, 10.0)
    target.permissions = Target.Permissions.PRIVATE
    target.save()
    stranger = User.objects.create_user("stranger", password="pw")
    names = f"/bhtom-brokers/targets/{target.pk}/survey-names/"
    update_url = f"/bhtom-brokers/targets/{target.pk}/update/"
    # anonymous: refused
    assert refused(client.post(update_url))
    assert refused(client.get(f"/bhtom-brokers/targets/{target.pk}/lightcurves.json"))
    client.force_login(stranger)
    assert refused(client.get(names))
    assert refused(client.post(names, {"ztf_name": "ZTF18abcdefg"}))
    assert refused(client.post(update_url))
    assert refused(client.get(f"/bhtom-brokers/targets/{target.pk}/lightcurves.csv"))
    assert not TargetExtra.objects.filter(target=target).exists() and not TargetUpdateRequest.objects.exists()
    assign_perm("tom_targets.view_target", stranger, target)
    assert client.get(f"/bhtom-brokers/targets/{target.pk}/lightcurves.json").status_code == 200
    assert 'id="bhtom-update-button"' not in detail(client, target)  # may look, may not change
    assign_perm("tom_targets.change_target", stranger, target)
    assert client.get(names).status_code == 200
    # a GET never updates
    assert client.get(update_url).status_code == 405


def test_names_and_messages_are_escaped(make_target, client, editor):
    target = make_target("<script>alert(1)</script>", 10.0, 10.0)
    TargetExtra.objects.create(target=target, key="AAVSO name", value="<b>x</b>")
    # TOM's own target form does not validate extras: a javascript: "URL" is shown as text, never linked
    TargetExtra.objects.create(target=target, key="ASAS-SN URL", value="javascript:alert(1)")
    LightcurveUpdate.objects.create(target=target, source="NEOWISE", status="error",
                                    message="<img src=x onerror=alert(1)>")
    page = detail(client, target)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>x</b>" not in page
    assert 'href="javascript:' not in page and "javascript:alert(1)" in page


@pytest.mark.django_db(transaction=True)  # autocommit, as in a real request: django-tasks runs on commit
def test_update_button_runs_at_once_with_the_immediate_backend(archive, make_target, client, editor):
    target = make_target("Gaia18cbf", 268.8875, -31.2472, **{"Gaia Alerts name": "Gaia18cbf"})
    response = client.post(f"/bhtom-brokers/targets/{target.pk}/update/", follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Survey light curves updated:" in text
    assert LightcurveUpdate.objects.filter(target=target).count() >= 6
    assert PhotometryReducedDatum.objects.filter(target=target, source_name="Gaia Alerts").exists()


@pytest.mark.django_db(transaction=True)
def test_update_button_only_queues_with_a_background_backend(archive, make_target, client, editor, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.database.DatabaseBackend"}}
    target = make_target("Gaia18cbf", 268.8875, -31.2472, **{"Gaia Alerts name": "Gaia18cbf"})
    response = client.post(f"/bhtom-brokers/targets/{target.pk}/update/", follow=True)
    text = response.content.decode()
    assert "queued on the &#x27;default&#x27; task backend" in text
    assert archive.requests == [] and not LightcurveUpdate.objects.exists()  # nothing ran in the request
    assert 'id="bhtom-update-state"' in text and "Update queued" in text
    # a worker (here in-process, --batch) runs it; the page then shows the statuses, not "queued"
    call_command("db_worker", "--batch", "--no-startup-delay", "-v", "0")
    page = detail(client, target)
    assert 'id="bhtom-update-state"' not in page
    assert LightcurveUpdate.objects.filter(target=target, source="Gaia Alerts", status="ok").exists()
    assert 'id="bhtom-lightcurve-plot"' in page


def test_hover_notes_from_the_archive_are_escaped(make_target, client, editor):
    target = make_target("odd archive", 10.0, 10.0)
    sync(target, DataSource.ZTF, "ZTF", Lightcurve.from_columns(
        mjd=[58000.0], brightness=[17.0], brightness_error=[0.02], filter="r", oid=['<a href="javascript:x">1</a>']))
    notes = data(client, target)["notes"]
    assert 'oid=&lt;a href="javascript:x"&gt;1&lt;/a&gt;' in notes and not any("<a" in n for n in notes)


def test_a_target_without_points_downloads_an_empty_table(make_target, client, editor):
    target = make_target("nothing yet", 10.0, 10.0)
    assert data(client, target)["traces"] == []
    text = client.get(f"/bhtom-brokers/targets/{target.pk}/lightcurves.csv").content.decode()
    assert text.strip() == ("source,bandpass,time_utc,mjd,time_original,time_system,value,error,limit,unit,"
                            "telescope,extras")
