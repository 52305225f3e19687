"""Facts of an answer that were kept in every point's extras move to the pair's status line (0.5.0).

A point's extras are part of its identity in the sync: a count of what an answer left out (ANTARES' alerts of
other surveys, ASAS-SN v1's failed epochs, CRTS' other objects in the cone) or the separation of the object a cone
chose (Gaia DR3, NEOWISE, ALLWISE, CRTS) changes without the measurement changing, and then every unchanged point
was removed and added again. The parsers no longer write them; this removes them from the points stored before,
so the next update of an unchanged answer adds 0 and removes 0.
"""
from django.db import migrations

#: source name -> the extras keys that were facts of the answer
ANSWER_FACTS = {
    "ANTARES": ("other_survey_alerts_left_out", "repeated_alert_rows_left_out"),
    "ASAS-SN": ("failed_epochs_dropped",),
    "CRTS": ("source_separation_arcsec", "other_objects_in_cone"),
    "Gaia DR3": ("source_separation_arcsec",),
    "NEOWISE": ("source_separation_arcsec",),
    "ALLWISE": ("source_separation_arcsec",),
}
BATCH = 2000


def strip_answer_facts(apps, schema_editor):
    datum = apps.get_model("tom_dataproducts", "PhotometryReducedDatum")
    for source, keys in ANSWER_FACTS.items():
        rows = datum.objects.filter(source_name=source, value__has_any_keys=list(keys)).only("pk", "value")
        batch = []
        for row in rows.iterator(chunk_size=BATCH):
            row.value = {key: value for key, value in row.value.items() if key not in keys}
            batch.append(row)
            if len(batch) == BATCH:
                datum.objects.bulk_update(batch, ["value"])
                batch = []
        datum.objects.bulk_update(batch, ["value"])


class Migration(migrations.Migration):

    dependencies = [
        ('tom_bhtom_brokers', '0007_remembered_location'),
        ('tom_dataproducts', '0016_reduceddatum_instrument_reduceddatum_telescope_and_more'),
    ]

    operations = [
        migrations.RunPython(strip_answer_facts, migrations.RunPython.noop),
    ]
