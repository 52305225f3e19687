"""The operator's path: targets created and edited through TOM Toolkit's own target forms (with the survey-name
fields in ``EXTRA_FIELDS``, so TOM saves an empty extra for every field left blank), then
``update_lightcurves`` as a site runs it. The names the archives matched must land in those fields, and the next
run's plan must follow each archive's cadence — for names found by cone and for names the user typed."""
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse

from tom_targets.models import Target, TargetExtra

from tom_bhtom_brokers import updating
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.sources import SURVEY_NAME_EXTRA_FIELDS

LABELS = [field["name"] for field in SURVEY_NAME_EXTRA_FIELDS]
GAIA20FNR = {"ra": "90.26701", "dec": "-18.96770"}


@pytest.fixture
def astronomer(client, db, settings):
    settings.EXTRA_FIELDS = SURVEY_NAME_EXTRA_FIELDS
    user = User.objects.create_superuser("astronomer", "a@example.org", "correct horse battery")
    client.force_login(user)
    return client


def formsets(**overrides):
    """The management forms of TOM's names and extras formsets, submitted empty as the page does."""
    data = {}
    for prefix in ("targetextra_set", "aliases"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0",
                     f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})
    return {**data, **overrides}


def create_through_toms_form(client, name, names=None):
    """POST TOM's target create form: every survey-name field submitted, blank unless given."""
    fields = {label: (names or {}).get(label, "") for label in LABELS}
    response = client.post(reverse("targets:create"), formsets(
        name=name, type=Target.SIDEREAL, epoch="2000", permissions="PRIVATE", **GAIA20FNR, **fields))
    assert response.status_code == 302, response.context["form"].errors
    return Target.objects.get(name=name)


def edit_through_toms_form(client, target, names):
    fields = {label: TargetExtra.objects.filter(target=target, key=label).values_list("value", flat=True).first()
              or "" for label in LABELS}
    fields.update(names)
    response = client.post(reverse("targets:update", kwargs={"pk": target.pk}), formsets(
        name=target.name, type=Target.SIDEREAL, epoch="2000", permissions="PRIVATE", **GAIA20FNR, **fields))
    assert response.status_code == 302, response.context["form"].errors


def names_of(target):
    return dict(TargetExtra.objects.filter(target=target, key__in=LABELS).values_list("key", "value"))


def due_pairs(target):
    brokers = updating.installed_brokers()
    return {(item.broker.name, item.reason) for item in updating.plan([target], brokers) if item.due}


def run_command(*args):
    out = StringIO()
    call_command("update_lightcurves", "--no-progress", *args, stdout=out)
    return out.getvalue()


def test_names_matched_by_cone_are_recorded_in_the_blank_fields_toms_form_saved(astronomer, archive):
    target = create_through_toms_form(astronomer, "Gaia20fnr")
    assert set(names_of(target).values()) == {""}  # TOM saved a blank extra for every field: "unset"
    run_command()
    rows = {row.source: row for row in LightcurveUpdate.objects.filter(target=target)}
    names = names_of(target)
    recorded = {"Gaia Alerts": "Gaia Alerts name", "Gaia DR3": "Gaia DR3 id", "PS1": "PS1 objID",
                "SDSS": "SDSS objid", "ANTARES": "ZTF name"}
    for source, label in recorded.items():
        assert rows[source].status == "ok", (source, rows[source].message)
        assert names[label] == rows[source].matched_identifier != "", (label, names[label])
    assert names["Gaia Alerts name"] == "Gaia20fnr"
    # the next run follows each archive's cadence: no pair is due because its own name was recorded. ALeRCE's cone
    # found nothing here, and ANTARES then filled the "ZTF name" they share: ALeRCE is asked by that name once
    assert rows["ALeRCE ZTF"].status == "no_data" and names["ZTF name"] != rows["ALeRCE ZTF"].matched_identifier
    assert [pair for pair in due_pairs(target) if "changed" in pair[1]] == [
        ("ALeRCE ZTF", "survey name or position changed")]
    assert all(not item.due for item in updating.plan([target], updating.installed_brokers())
               if item.broker.name in recorded)
    run_command("--source", "ALeRCE ZTF")
    assert not [pair for pair in due_pairs(target) if "changed" in pair[1]]
    dry = run_command("--dry-run")
    assert "survey name or position changed" not in dry


def test_a_name_typed_by_the_user_is_kept_and_the_pair_then_follows_its_cadence(astronomer, archive):
    target = create_through_toms_form(astronomer, "Gaia20fnr", {"Gaia Alerts name": "Gaia19dke"})
    run_command("--source", "Gaia Alerts", "--source", "Gaia DR3")
    assert names_of(target)["Gaia Alerts name"] == "Gaia19dke"  # never overwritten by the cone's Gaia20fnr
    dr3_id = names_of(target)["Gaia DR3 id"]
    assert dr3_id.isdigit()
    # the user now writes the id as SIMBAD does: a new name, the same object, byte for byte the same answer
    edit_through_toms_form(astronomer, target, {"Gaia DR3 id": f"Gaia DR3 {dr3_id}"})
    assert due_pairs(target) == {("Gaia DR3", "survey name or position changed")} | {
        pair for pair in due_pairs(target) if pair[0] != "Gaia DR3"}
    output = run_command("--source", "Gaia DR3")
    assert "Gaia DR3" in output
    row = LightcurveUpdate.objects.get(target=target, source="Gaia DR3")
    assert row.queried_with == f"Gaia DR3 id=Gaia DR3 {dr3_id}"
    # read once: the release is not read again on the next runs
    assert "Gaia DR3" not in {source for source, _ in due_pairs(target)}
    before = len(archive.requests)
    run_command("--source", "Gaia DR3")
    assert len(archive.requests) == before
    assert names_of(target)["Gaia DR3 id"] == f"Gaia DR3 {dr3_id}"


def test_an_identifier_the_archive_sends_is_written_only_if_it_passes_the_fields_rule(astronomer, archive):
    """A crafted light-curve file names its alert 'Gaia99aaa"><script>': the field stays blank, the status says
    why, and the target is not stuck at "invalid name" afterwards."""
    archive.add_fault(path="/alerts/alert/Gaia20fnr/lightcurve.csv", kind="replace",
                      body=b'Gaia99aaa"><script>x</script>\n#Date,JD(TCB),averagemag\n'
                           b'2015-01-10 04:19:25,2457032.68015,16.00\n')
    target = create_through_toms_form(astronomer, "Gaia20fnr")
    run_command("--source", "Gaia Alerts")
    assert names_of(target)["Gaia Alerts name"] == ""
    row = LightcurveUpdate.objects.get(target=target, source="Gaia Alerts")
    assert row.status == "ok" and "was not recorded" in row.message


@pytest.mark.django_db(transaction=True)  # autocommit, as in a real request: django-tasks runs on commit
def test_the_pages_update_button_records_the_names_too(astronomer, archive):
    """The same path from the target page: TOM's create form, then the tab's update button (a django-tasks task,
    run at once by TOM's default immediate backend)."""
    target = create_through_toms_form(astronomer, "Gaia20fnr")
    response = astronomer.post(reverse("bhtom_brokers:update", kwargs={"pk": target.pk}))
    assert response.status_code == 302
    assert names_of(target)["Gaia Alerts name"] == "Gaia20fnr"
    assert names_of(target)["Gaia DR3 id"].isdigit()
    # only ALeRCE, whose cone found nothing, is due once by the ZTF name ANTARES recorded (see the test above)
    assert [pair for pair in due_pairs(target) if "changed" in pair[1]] == [
        ("ALeRCE ZTF", "survey name or position changed")]
