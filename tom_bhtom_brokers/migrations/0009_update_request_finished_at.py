from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tom_bhtom_brokers', '0008_answer_facts_out_of_points'),
    ]

    operations = [
        migrations.AddField(
            model_name='targetupdaterequest',
            name='finished_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
