"""A point is its measurement: nothing of the answer it came in (counts of what was left out, the separation of the
object a cone chose, how the object was found) may be part of it, or an unchanged measurement is removed and added
again whenever the answer around it changes (and shared again with every site it is shared with)."""
import importlib
import json

import pytest
from django.apps import apps

from tests.brokers.contract import stored, update
from tests.brokers.test_asassn import DEC as FU_ORI_DEC, JOB_URL as FU_ORI_URL, RA as FU_ORI_RA
from tests.data.make_fixtures import ANTARES_GAIA20FNR
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.asassn import AsassnBroker
from tom_bhtom_brokers.brokers.antares import AntaresBroker
from tom_bhtom_brokers.brokers.crts import CrtsBroker
from tom_bhtom_brokers.brokers.gaia_dr3 import GaiaDR3Broker
from tom_bhtom_brokers.brokers.neowise import NeowiseBroker
from tom_bhtom_brokers.models import LightcurveUpdate

GAIA20FNR = (90.26701, -18.96770)
FU_ORI = (FU_ORI_RA, FU_ORI_DEC)
LOCUS = ANTARES_GAIA20FNR[0]
migration = importlib.import_module("tom_bhtom_brokers.migrations.0008_answer_facts_out_of_points")


@pytest.mark.django_db
def test_one_more_alert_of_another_survey_on_an_antares_locus_changes_no_point(archive, make_target):
    target = make_target("Gaia20fnr", *GAIA20FNR)
    first = update(target, AntaresBroker)
    assert first.status == "ok" and first.added > 0
    locus = json.loads((DATA_DIR / "antares" / f"locus_{LOCUS}.json").read_text())
    lightcurve = locus["data"]["lightcurve"]
    assert isinstance(lightcurve, str)  # the API's CSV text: one more row of an LSST alert
    width = lightcurve.splitlines()[0].count(",")
    extra = "2026-06-26 10:06:29.957,lsst:170587117485817999,61217.42118,4" + "," * (width - 3)
    locus["data"]["lightcurve"] = lightcurve.rstrip("\n") + "\n" + extra + "\n"
    archive.add_fault(path=f"/v2/loci/{LOCUS}", kind="replace", body=json.dumps(locus))
    again = update(target, AntaresBroker)
    assert again.status == "ok", again.message
    assert (again.added, again.removed) == (0, 0)
    assert "alert(s) of other surveys left out" in again.message


@pytest.mark.django_db
def test_a_source_found_by_cone_and_then_by_its_recorded_id_is_the_same_points(archive, make_target):
    """Gaia DR3's first update finds the source by cone and records its id; the next (forced, or a concurrent run
    that sees the id) asks by the id: the same measurements, so nothing added or removed (was "107 added, 107
    removed": the cone's separation sat in every point)."""
    target = make_target("Gaia20fnr", *GAIA20FNR)
    by_cone = update(target, GaiaDR3Broker)
    assert by_cone.status == "ok" and by_cone.added > 0 and "arcsec away" in by_cone.message
    assert target.targetextra_set.filter(key="Gaia DR3 id").exists()
    by_name = update(target, GaiaDR3Broker)
    assert (by_name.added, by_name.removed) == (0, 0), by_name.message


def old_points(target, source, facts):
    """Make the stored points of (target, source) as the 0.4 parsers wrote them: the answer's facts in every
    point, and a fingerprint of another version (so the answer is read again)."""
    points = stored(target, source)
    for point in points:
        point.value = {**point.value, **facts}
        point.save()
    LightcurveUpdate.objects.filter(target=target, source=source).update(fingerprint="written by 0.4.0")
    return points.count()


@pytest.mark.django_db
@pytest.mark.parametrize("broker_class, target_spec, facts", [
    (AntaresBroker, {}, {"other_survey_alerts_left_out": 3, "repeated_alert_rows_left_out": 0}),
    (CrtsBroker, {}, {"source_separation_arcsec": 0.41, "other_objects_in_cone": 2}),
    (NeowiseBroker, {}, {"source_separation_arcsec": 0.2}),
    (GaiaDR3Broker, {}, {"source_separation_arcsec": 0.05}),
    (AsassnBroker, {"ra": FU_ORI[0], "dec": FU_ORI[1], "ASAS-SN URL": FU_ORI_URL}, {"failed_epochs_dropped": 1}),
])
def test_a_site_written_by_the_old_code_sees_no_churn_after_the_migration(archive, make_target, broker_class,
                                                                          target_spec, facts):
    spec = {"ra": GAIA20FNR[0], "dec": GAIA20FNR[1], **target_spec}
    target = make_target("target", **spec)
    assert update(target, broker_class).status == "ok"
    count = old_points(target, broker_class.name, facts)
    assert count > 0
    twin = make_target("twin", **spec)  # the same, left without the migration: it would churn
    update(twin, broker_class)
    old_points(twin, broker_class.name, facts)
    with_old_extras = {p.pk for p in stored(twin, broker_class.name)}

    migration.strip_answer_facts(apps, None)
    assert not [p for p in stored(target, broker_class.name) if set(facts) & set(p.value)]
    outcome = update(target, broker_class)
    assert outcome.status == "ok", outcome.message
    assert (outcome.added, outcome.removed) == (0, 0)
    assert stored(target, broker_class.name).count() == count
    # the test bites: the migration stripped the twin too, so put the facts back and see what the sync would do
    old_points(twin, broker_class.name, facts)
    unmigrated = update(twin, broker_class)
    assert unmigrated.removed == len(with_old_extras) == unmigrated.added
