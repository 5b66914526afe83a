import sys
import time
from collections import Counter
from contextlib import nullcontext

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from archive import failures
from archive.cleaning import parse_partial_date
from archive.ingest import Defaults, Outcome, count_pieces, files_in, read_file, store
from archive.models import Genre
from archive.tagging import Vocabulary

PROGRESS_EVERY = 2.0  # seconds between progress lines on long runs


class DryRun(Exception):
    """Raised at the end of a dry run to roll everything back."""


class Command(BaseCommand):
    help = (
        "Import pieces from raw text files (as copied from a news site), saved HTML pages "
        "and JSON Lines (one piece per line; .jsonl or .jsonl.gz). Folders are read for "
        "files of those kinds. Each piece is cleaned, checked against the archive for "
        "exact and near duplicates, stored in its own transaction and given actor and "
        "event suggestions. Ends with a summary: added, skipped as duplicates, failed "
        "with reasons. Running the same import again adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
        parser.add_argument(
            "--date",
            help="publication date for pieces that carry none: 2023, 2023-06 or 2023-06-25",
        )
        parser.add_argument(
            "--genre",
            choices=Genre.values,
            default=Genre.NIEUWS,
            help="genre for pieces that do not say (default: nieuws; a text ending in a "
            "columnist's bio is a column)",
        )
        parser.add_argument("--source", default="", help="source for pieces that name none")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="read, clean and check everything, then store nothing",
        )

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        defaults = Defaults(genre=options["genre"], source=options["source"])
        if options["date"]:
            try:
                defaults.published_on, defaults.date_precision = parse_partial_date(options["date"])
            except ValueError as error:
                raise CommandError(f"--date {options['date']!r} is geen datum") from error

        self.vocabulary = Vocabulary.load()
        files = list(files_in(options["paths"]))
        if not files:
            raise CommandError("geen bestanden gevonden om te importeren")
        total = sum(count_pieces(path) for path in files)
        self.tally, self.started, self.shown = Counter(), time.monotonic(), time.monotonic()
        self.outcomes: list[Outcome] = []
        # Each piece is its own transaction (see ingest.store), so an interrupted run
        # keeps what it finished; a dry run wraps them all in one that is rolled back.
        try:
            with transaction.atomic() if options["dry_run"] else nullcontext():
                for path in files:
                    for item in read_file(path):
                        outcome = item if isinstance(item, Outcome) else self.store(item, defaults)
                        self.record(outcome, total)
                if options["dry_run"]:
                    raise DryRun
        except DryRun:
            pass
        self.summarise(dry_run=options["dry_run"])

    def store(self, draft, defaults) -> Outcome:
        try:
            return store(draft, defaults, self.vocabulary)
        except Exception as error:  # One bad piece must not stop the run.
            # store() is all or nothing, so the archive holds no part of this piece.
            if failures.kind_of(error) != failures.UNAVAILABLE:
                return Outcome(draft.origin, "failed", reason=f"onverwachte fout: {error!r}")
            # A connection that died outside the piece's transaction stays dead: closed,
            # the next piece makes a new one once the database is back.
            if not connection.in_atomic_block and not connection.is_usable():
                connection.close()
            reason = f"verbinding met de database verbroken ({failures.first_line(error)})"
            return Outcome(draft.origin, "failed", reason=f"{reason}; niets opgeslagen")

    def record(self, outcome: Outcome, total: int):
        self.outcomes.append(outcome)
        self.tally[outcome.status] += 1
        if self.verbosity >= 2:
            self.stdout.write(f"{outcome.status:>9}  {outcome.origin}  {self.detail(outcome)}")
        now = time.monotonic()
        done = len(self.outcomes)
        if total > 20 and (now - self.shown >= PROGRESS_EVERY or done == total):
            self.shown = now
            rate = done / max(now - self.started, 1e-6)
            self.stderr.write(
                f"{done}/{total} ({done / total:.0%}), {rate:.0f} per seconde: "
                f"{self.tally['added']} toegevoegd, {self.tally['duplicate']} dubbel, "
                f"{self.tally['failed']} mislukt"
            )
            sys.stderr.flush()

    @staticmethod
    def detail(outcome: Outcome) -> str:
        if outcome.status == "added":
            return f"‘{outcome.article.title}’ (id {outcome.article.pk})"
        if outcome.status == "duplicate":
            return outcome.duplicate.describe()
        return outcome.reason

    def summarise(self, dry_run: bool):
        seconds = time.monotonic() - self.started
        prefix = "Proefimport, niets opgeslagen. " if dry_run else ""
        self.stdout.write(
            f"{prefix}{self.tally['added']} toegevoegd, "
            f"{self.tally['duplicate']} overgeslagen als dubbel, "
            f"{self.tally['failed']} mislukt ({len(self.outcomes)} stukken in {seconds:.1f} s)."
        )
        for status, heading in (("duplicate", "Dubbel"), ("failed", "Mislukt")):
            listed = [o for o in self.outcomes if o.status == status]
            if listed:
                self.stdout.write(f"{heading}:")
                for outcome in listed:
                    self.stdout.write(f"  {outcome.origin}: {self.detail(outcome)}")
