"""Actor.derived_forms: adjectives and demonyms (Russische, Oekraïners) that find the
actor in text without being its names."""

import django.contrib.postgres.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("archive", "0007_ratelimit")]

    operations = [
        migrations.AddField(
            model_name="actor",
            name="derived_forms",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(max_length=200),
                blank=True,
                default=list,
                help_text=(
                    "Bijvoeglijke naamwoorden en inwonersnamen (Russisch, Russische, Rus, "
                    "Russen), gescheiden door komma's."
                ),
                size=None,
                verbose_name="afgeleide vormen",
            ),
        ),
    ]
