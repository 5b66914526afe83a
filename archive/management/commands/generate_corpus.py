"""A synthetic Dutch archive of any size, written straight into the database."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor

from archive.management import synthetic
from archive.search import catalogue

# A load this big (and at least as big as the archive) drops the secondary indexes and
# builds them once at the end: cheaper than growing them row by row.
DROP_INDEXES_FROM = 20_000


class Command(BaseCommand):
    help = (
        "Adds N generated Dutch pieces (slugs synth-<seed>-1 .. synth-<seed>-N) with "
        "sources, authors, actors and events, by COPY in parallel workers. Words follow "
        "real Dutch frequencies (wordfreq); every linked actor is named in the piece's "
        "text. The same seed always gives the same pieces; pieces of that seed already in "
        "the archive are skipped, so a run can be repeated or extended. Existing rows are "
        "never changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--articles", type=int, required=True, help="pieces wanted (N)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--batch",
            type=int,
            default=20_000,
            help="pieces per COPY transaction (default 20000)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=synthetic.default_workers(),
            help="worker processes, each with its own connection (default: up to 2 "
            "cores); 1 runs in this process and its transaction",
        )
        parser.add_argument(
            "--jsonl",
            metavar="FILE",
            help="write the N pieces to FILE as JSON Lines for import_articles (source "
            "and authors by name, no links) instead of adding them; the sources, authors, "
            "actors and events are added to the archive as usual",
        )
        parser.add_argument(
            "--indexes",
            choices=["auto", "drop", "keep"],
            default="auto",
            help="drop the search and browse indexes during the load and rebuild them "
            f"after: auto does so for loads of {DROP_INDEXES_FROM:,}+ pieces that are at "
            "least as many as the archive holds",
        )

    def handle(self, *args, articles, seed, batch, workers, indexes, jsonl=None, **options):
        if articles < 1 or batch < 1 or workers < 1 or seed < 0:
            raise CommandError("--articles, --batch and --workers must be positive, --seed >= 0")
        if workers > 1 and connection.in_atomic_block:
            raise CommandError("inside a transaction only --workers 1 can see the new rows")
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError("the database has unapplied migrations: run migrate first")

        started = synthetic.clock()
        repaired = synthetic.restore_indexes()
        if repaired:
            self.stdout.write(f"Recreated missing indexes: {', '.join(repaired)}.")

        world = synthetic.build_world()
        with transaction.atomic(), connection.cursor() as cursor:
            synthetic.store_world(world)
            cast = synthetic.load_cast(cursor, world)
        if jsonl:
            progress = Progress(self.stdout, articles)
            with connection.cursor() as cursor:
                size = synthetic.write_jsonl(cursor, cast, seed, articles, jsonl, progress.report)
            self.stdout.write(
                f"Wrote {articles:,} pieces (seed {seed}) to {jsonl} "
                f"({synthetic.human_bytes(size)}) in {synthetic.clock() - started:.1f} s."
            )
            return
        with connection.cursor() as cursor:
            present = {n for n in synthetic.numbers_present(cursor, seed) if n <= articles}
            cursor.execute("SELECT count(*) FROM archive_article")
            (in_archive,) = cursor.fetchone()
        wanted = articles - len(present)
        self.stdout.write(
            f"Cast: {len(cast.actors):,} actors, {len(cast.events)} events, "
            f"{len(cast.sources)} sources, {len(cast.authors):,} authors; "
            f"{len(cast.vocabulary.words):,} words."
        )
        if cast.poetin is None:
            self.stdout.write(f"No actor {synthetic.POETIN!r} in the archive: no piece names him.")
        if not wanted:
            self.stdout.write(
                f"Nothing to add: all {articles:,} pieces of seed {seed} are in the archive."
            )
            return
        if present:
            self.stdout.write(
                f"{len(present):,} of the {articles:,} pieces of seed {seed} are in the "
                f"archive already; adding the other {wanted:,}."
            )

        drop = indexes == "drop" or (
            indexes == "auto" and wanted >= max(DROP_INDEXES_FROM, in_archive)
        )
        with connection.cursor() as cursor:
            first_id = synthetic.reserve_ids(cursor, wanted)
        jobs = synthetic.plan_jobs(articles, present, batch, first_id, workers)
        workers = min(workers, len(jobs))
        self.stdout.write(
            f"Generating {wanted:,} pieces (seed {seed}) in {len(jobs)} batches, "
            f"{workers} worker{'s' if workers > 1 else ''}."
        )

        now = datetime.datetime.now(datetime.UTC)
        progress = Progress(self.stdout, wanted)
        loaded = synthetic.clock()
        tally = None
        try:
            if drop:
                with connection.cursor() as cursor:
                    dropped = synthetic.drop_indexes(cursor)
                self.stdout.write(f"Dropped for the load: {', '.join(dropped)}.")
            tally = synthetic.run_jobs(cast, seed, jobs, workers, now, progress.report)
        except Exception as error:
            raise CommandError(
                f"Load stopped: {error}. Finished batches stay in the archive; running "
                "the same command again adds the rest."
            ) from error
        finally:
            load_seconds = synthetic.clock() - loaded
            rebuilt_at = synthetic.clock()
            rebuilt = synthetic.restore_indexes()
            if rebuilt:
                self.stdout.write(
                    f"Rebuilt {', '.join(rebuilt)} in {synthetic.clock() - rebuilt_at:.1f} s."
                )

        analyzed_at = synthetic.clock()
        with connection.cursor() as cursor:
            # VACUUM also sets the hint bits and the visibility map now, so that the
            # first searches afterwards (a benchmark's) do not pay for it; it cannot run
            # inside a transaction, where ANALYZE alone does.
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            cursor.execute(
                f"{command} archive_article, archive_article_authors, archive_articleactor, "
                "archive_articleevent"
            )
            analyze_seconds = synthetic.clock() - analyzed_at
            size = synthetic.table_size(cursor)
            cursor.execute("SELECT pg_database_size(current_database())")
            (database,) = cursor.fetchone()
        # Rows written by COPY send no signals: what pages and searches cached is stale.
        catalogue.changed()
        self.summarise(tally, seed, started, load_seconds, analyze_seconds, size, database)

    def summarise(self, tally, seed, started, load_seconds, analyze_seconds, size, database):
        seconds = synthetic.clock() - started
        n = tally.pieces
        mix = ", ".join(f"{tally.precision[p] / n:.0%} {p}" for p in ("day", "month", "year") if n)
        human = synthetic.human_bytes
        self.stdout.write(
            f"Added {n:,} pieces (seed {seed}) in {seconds:.1f} s: {n / seconds:,.0f} "
            f"pieces/s overall, {n / load_seconds:,.0f}/s while loading "
            f"({load_seconds:.1f} s; vacuum and analyze {analyze_seconds:.1f} s).\n"
            f"Links: {tally.actor_links:,} to actors, {tally.event_links:,} to events, "
            f"{tally.author_links:,} to authors. Poetin in {tally.poetin / n:.1%} of the "
            f"pieces; dates known to the {mix}.\n"
            f"archive_article is {human(size)} with TOAST and indexes; "
            f"the database {human(database)}."
        )


class Progress:
    """A line every few seconds: pieces written, rate, and time left."""

    def __init__(self, stdout, total: int):
        self.stdout, self.total = stdout, total
        self.started = self.last = synthetic.clock()

    def report(self, done: int) -> None:
        now = synthetic.clock()
        if now - self.last < synthetic.PROGRESS_EVERY or not done:
            return
        self.last = now
        rate = done / (now - self.started)
        left = (self.total - done) / rate if rate else 0
        self.stdout.write(
            f"  {done:>11,} / {self.total:,} pieces  {rate:>7,.0f}/s  about {_duration(left)} left"
        )


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
