"""Compound parts in the search vector: compound_parts() splits the text's compounds
with an embedded lexicon (archive/search/compounds.py), and search_vector holds the
parts at weight D after the text's own words.

PostgreSQL cannot change a generated column's expression in place before version 17,
so the column is dropped and added again: every piece's vector is computed anew and its
GIN index rebuilt, all in this migration.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models

from archive.search.compounds import function_sql


class Migration(migrations.Migration):
    dependencies = [("archive", "0008_actor_derived_forms")]

    operations = [
        migrations.RunSQL(
            sql=function_sql(),
            reverse_sql="DROP FUNCTION IF EXISTS compound_parts(text, text, text);",
        ),
        migrations.RemoveIndex(model_name="article", name="article_search_gin"),
        migrations.RemoveField(model_name="article", name="search_vector"),
        migrations.AddField(
            model_name="article",
            name="search_vector",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.contrib.postgres.search.CombinedSearchVector(
                    django.contrib.postgres.search.CombinedSearchVector(
                        django.contrib.postgres.search.CombinedSearchVector(
                            django.contrib.postgres.search.SearchVector(
                                "title", config="dutch_unaccent", weight="A"
                            ),
                            "||",
                            django.contrib.postgres.search.SearchVector(
                                "lead", config="dutch_unaccent", weight="B"
                            ),
                            django.contrib.postgres.search.SearchConfig("dutch_unaccent"),
                        ),
                        "||",
                        django.contrib.postgres.search.SearchVector(
                            "body", config="dutch_unaccent", weight="C"
                        ),
                        django.contrib.postgres.search.SearchConfig("dutch_unaccent"),
                    ),
                    "||",
                    django.contrib.postgres.search.SearchVector(
                        models.Func(
                            "title",
                            "lead",
                            "body",
                            function="compound_parts",
                            output_field=models.TextField(),
                        ),
                        config="dutch_unaccent",
                        weight="D",
                    ),
                    django.contrib.postgres.search.SearchConfig("dutch_unaccent"),
                ),
                output_field=django.contrib.postgres.search.SearchVectorField(),
            ),
        ),
        migrations.AddIndex(
            model_name="article",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_vector"], name="article_search_gin"
            ),
        ),
    ]
