from django.db import migrations

# The piece counts of actors and events are written by the link triggers alone (0004).
# Any other UPDATE (an editor saving an actor form loaded a minute ago, loaddata
# rewriting a fixture's actor with its default 0) keeps the counts as they are, so
# they can never drift from the links. pg_trigger_depth() tells the two apart: 1 when
# this trigger fires for a statement sent by the application, 2 or more when it fires
# for the UPDATE the link trigger makes. An INSERT starts at zero: a new row has no
# links yet.
GUARD = """
    CREATE FUNCTION {table}_counts_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF pg_trigger_depth() <= 1 THEN
            IF TG_OP = 'INSERT' THEN
                NEW.piece_count := 0;
                NEW.suggested_count := 0;
            ELSE
                NEW.piece_count := OLD.piece_count;
                NEW.suggested_count := OLD.suggested_count;
            END IF;
        END IF;
        RETURN NEW;
    END $$;
    CREATE TRIGGER {table}_counts_guard BEFORE INSERT OR UPDATE ON {table}
        FOR EACH ROW EXECUTE FUNCTION {table}_counts_guard();
"""
UNGUARD = """
    DROP TRIGGER {table}_counts_guard ON {table};
    DROP FUNCTION {table}_counts_guard();
"""
# Counts that a save before this migration may have overwritten, recounted with the
# guard lifted for that one statement (the guard would keep a plain recount out).
RECOUNT = """
    ALTER TABLE {table} DISABLE TRIGGER {table}_counts_guard;
    UPDATE {table} t SET piece_count = coalesce(c.n, 0), suggested_count = coalesce(c.s, 0)
      FROM {table} t2
      LEFT JOIN (SELECT {key} AS id, count(*) AS n, count(*) FILTER (WHERE NOT confirmed) AS s
                   FROM {links} GROUP BY {key}) c ON c.id = t2.id
     WHERE t.id = t2.id;
    ALTER TABLE {table} ENABLE TRIGGER {table}_counts_guard;
"""


class Migration(migrations.Migration):
    dependencies = [("archive", "0005_page_indexes")]

    operations = [
        migrations.RunSQL(GUARD.format(table=t), UNGUARD.format(table=t))
        for t in ("archive_actor", "archive_event")
    ] + [
        migrations.RunSQL(RECOUNT.format(table=t, key=k, links=l), migrations.RunSQL.noop)
        for t, k, l in (
            ("archive_actor", "actor_id", "archive_articleactor"),
            ("archive_event", "event_id", "archive_articleevent"),
        )
    ]
