"""The counters of archive/ratelimit.py when there is no Redis.

A plain table, not a model: nothing but the limiter's one statement reads or writes it.
UNLOGGED: counters of the last minute need no crash safety, so they skip the write-ahead
log (and so never reach a replica, which has no use for them).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("archive", "0006_counts_guarded")]

    operations = [
        migrations.RunSQL(
            """
            CREATE UNLOGGED TABLE archive_ratelimit (
                key text PRIMARY KEY,
                window_ends bigint NOT NULL,
                hits integer NOT NULL
            )
            """,
            reverse_sql="DROP TABLE archive_ratelimit",
        ),
    ]
