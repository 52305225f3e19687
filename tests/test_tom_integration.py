"""The app inside a TOM Toolkit site: its data services appear in TOM's own menus and forms, and TOM's
own update paths store through our sync."""
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse

from tom_dataproducts.models import PhotometryReducedDatum
from tom_dataservices.dataservices import get_data_service_classes
from tom_dataservices.forms import UpdateDataFromDataServiceForm

from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.sources import SURVEY_NAME_EXTRA_FIELDS


@pytest.fixture
def user(db):
    return User.objects.create_superuser("astronomer", "a@example.org", "correct horse battery")


def test_brokers_are_registered_as_tom_data_services(db):
    services = get_data_service_classes()
    assert services["Gaia Alerts"].__name__ == "GaiaAlertsBroker"
    assert services["NEOWISE"].__name__ == "NeowiseBroker"


def test_data_services_menu_lists_them(client, user):
    client.force_login(user)
    page = client.get("/").content.decode()
    for name in ("Gaia Alerts", "NEOWISE"):
        assert f'data_service={name}"' in page


def test_manage_data_form_offers_them(db):
    choices = dict(UpdateDataFromDataServiceForm().fields["data_service"].choices)
    assert {"Gaia Alerts", "NEOWISE"} <= set(choices)


def test_query_pages_render(client, user, archive):
    client.force_login(user)
    for name, field in (("Gaia Alerts", "alert_name"), ("NEOWISE", "radius_arcsec")):
        page = client.get(reverse("tom_dataservices:create"), {"data_service": name})
        assert page.status_code == 200 and f'name="{field}"' in page.content.decode()


def query_then_create(client, data_service, **fields):
    """TOM's Data Services path: the query form, its results page (returned), "Create Targets" on the first row."""
    response = client.post(reverse("tom_dataservices:create"),
                           {"data_service": data_service, "query_name": "", **fields})
    assert response.status_code == 302
    results = client.get(reverse("tom_dataservices:run")).content.decode()
    response = client.post(reverse("tom_dataservices:create-target"),
                           {"data_service": data_service, "query_id": "", "selected_results": ["0"]})
    assert response.status_code == 302
    return results


def test_query_form_run_and_create_target_through_toms_views(client, user, archive):
    client.force_login(user)
    results = query_then_create(client, "Gaia Alerts", alert_name="Gaia19dke")
    assert "Gaia19dke" in results and "Galactic disc" in results
    stored = PhotometryReducedDatum.objects.filter(target__name="Gaia19dke", source_name="Gaia Alerts")
    assert stored.count() > 100
    assert LightcurveUpdate.objects.get(target__name="Gaia19dke", source="Gaia Alerts").status == "ok"


def test_toms_manage_data_update_goes_through_our_sync(client, user, archive, make_target):
    target = make_target("Gaia18cbf", 268.8875, -31.2472, **{"Gaia Alerts name": "Gaia18cbf"})
    client.force_login(user)
    for _ in range(2):
        response = client.post(reverse("tom_dataservices:update-data"),
                               {"target": target.pk, "data_service": "Gaia Alerts"})
        assert response.status_code == 302
    count = PhotometryReducedDatum.objects.filter(target=target, source_name="Gaia Alerts").count()
    assert count > 100
    assert LightcurveUpdate.objects.get(target=target, source="Gaia Alerts").points_total == count


def test_toms_manage_data_shows_our_errors(client, user, archive, make_target):
    target = make_target("Gaia18cbf", 268.8875, -31.2472, **{"Gaia Alerts name": "Gaia18cbf"})
    archive.add_fault(path="/lightcurve.csv", kind="html")
    client.force_login(user)
    response = client.post(reverse("tom_dataservices:update-data"),
                           {"target": target.pk, "data_service": "Gaia Alerts"}, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert any("HTML page" in m for m in messages)


def test_survey_name_fields_are_ready_for_extra_fields():
    names = [f["name"] for f in SURVEY_NAME_EXTRA_FIELDS]
    assert "Gaia Alerts name" in names and "ASAS-SN URL" in names and len(names) == len(set(names))


def test_migrations_are_up_to_date(db):
    out = StringIO()
    call_command("makemigrations", "tom_bhtom_brokers", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_toms_updatereduceddata_path_runs_our_brokers_without_duplicating(archive, make_target):
    """What TOM's `updatereduceddata` does per (target, service): query_reduced_data then to_reduced_datums.
    (The command itself also instantiates TOM's SIMBAD service, which connects to the internet on creation,
    so it cannot run offline here.)"""
    from tom_dataservices.dataservices import get_data_service_class

    target = make_target("Gaia18cbf", 268.8875, -31.2472, **{"Gaia Alerts name": "Gaia18cbf"})
    call_command("update_lightcurves", "--source", "Gaia Alerts", "--no-progress", stdout=StringIO())
    before = PhotometryReducedDatum.objects.filter(target=target).count()
    requests = len(archive.requests)
    service = get_data_service_class("Gaia Alerts")()
    service.to_reduced_datums(target, service.query_reduced_data(target))
    assert len(archive.requests) > requests  # TOM's path did ask the archive again
    assert PhotometryReducedDatum.objects.filter(target=target).count() == before > 100


def test_toms_manage_data_records_an_atlas_job_and_the_next_press_collects_it(client, user, archive, make_target):
    """TOM's Manage Data form on ATLAS (the queue route): the first press queues a job and says so, without waiting
    in the web request; each later press asks about that job once (the sample queue finishes a job on its second
    asking) and the one that finds it done stores its points; no second job is submitted."""
    target = make_target("Gaia20fnr", 90.26701, -18.96770)
    client.force_login(user)
    response = client.post(reverse("tom_dataservices:update-data"),
                           {"target": target.pk, "data_service": "ATLAS"}, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert any("queued at ATLAS since" in m for m in messages), messages
    row = LightcurveUpdate.objects.get(target=target, source="ATLAS")
    assert row.status == "queued" and row.job_path and len(archive.atlas.jobs) == 1
    for _ in range(2):
        response = client.post(reverse("tom_dataservices:update-data"),
                               {"target": target.pk, "data_service": "ATLAS"})
        assert response.status_code == 302
    assert [r["method"] for r in archive.requests].count("POST") == 1
    assert len([r for r in archive.requests if r["method"] == "GET" and "/queue/" in r["path"]]) == 2
    row.refresh_from_db()
    assert row.status == "ok" and row.job_path == "" and archive.atlas.jobs == {}
    assert PhotometryReducedDatum.objects.filter(target=target, source_name="ATLAS").count() == row.points_total > 0


def test_create_targets_from_a_cone_names_them_as_an_astronomer_would(client, user, archive):
    """ZTF's cone at Gaia20fnr finds four object ids: the created target is named by its coordinates (was
    "ZTF DR oid 1352111200004321,…", across TOM's tab bar), and the results table wraps the list."""
    from tom_targets.models import Target

    client.force_login(user)
    results = query_then_create(client, "ZTF", ra=90.26701, dec=-18.96770, radius_arcsec=5)
    assert "1352111200004321" in results and "overflow-wrap: anywhere" in results

    assert list(Target.objects.values_list("name", flat=True)) == ["J060104.08-185803.7"]


@pytest.mark.parametrize("broker_name, identifier, name", [
    ("ALeRCE ZTF", "ZTF18abbuksn", "ZTF18abbuksn"),
    ("AAVSO", "FU Ori", "FU Ori"),
    ("OGLE EWS", "OGLE-2019-BLG-0001", "OGLE-2019-BLG-0001"),
    ("Gaia DR3", "2945521337401118464", "Gaia DR3 2945521337401118464"),
    ("ZTF", "ZTF DR oid 1352111200004321,1352111300009876", ""),
    ("ALLWISE", "AllWISE cntr_mf 1234567", ""),
    ("NEOWISE", "90.267010 -18.967700", ""),
    ("ASAS-SN", "ASASSN-V J060000.76-310027.8", "ASASSN-V J060000.76-310027.8"),
])
def test_a_designation_is_a_name_or_nothing(broker_name, identifier, name):
    from tom_bhtom_brokers.updating import installed_brokers

    (broker,) = installed_brokers([broker_name])
    assert broker.designation(identifier) == name
