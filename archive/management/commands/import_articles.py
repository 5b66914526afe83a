import json
import os
import time
from collections import Counter
from contextlib import nullcontext

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from archive import importrun
from archive.cleaning import parse_partial_date
from archive.ingest import Defaults, files_in
from archive.models import Genre

PROGRESS_EVERY = 5.0  # seconds between progress lines when stderr is not a terminal
LISTED = 50  # duplicates and failures listed in the summary; --failures has them all


class DryRun(Exception):
    """Raised at the end of a dry run to roll everything back."""


class Command(BaseCommand):
    help = (
        "Import pieces from raw text files (as copied from a news site), saved HTML pages "
        "and JSON Lines (one piece per line; .jsonl or .jsonl.gz). Folders are read for "
        "files of those kinds. Each piece is cleaned, checked against the archive and the "
        "rest of its batch for exact and near duplicates and given actor and event "
        "suggestions; batches of pieces are stored all or nothing by worker processes. "
        "Shows progress, ends with a summary: added, skipped as duplicates, failed with "
        "reasons. Running the same import again goes on where an interrupted one stopped "
        "and adds nothing twice."
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
            "--workers",
            type=int,
            default=min(os.cpu_count() or 1, 4),
            help="worker processes, each storing whole batches on its own connection "
            "(default: the number of cores, at most 4)",
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=importrun.BATCH_SIZE,
            help=f"pieces per batch and transaction (default {importrun.BATCH_SIZE})",
        )
        parser.add_argument(
            "--failures",
            metavar="FILE",
            help="write the pieces that failed to FILE as JSON Lines, each with its reason "
            "(field error), ready to fix and import again",
        )
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
        if options["workers"] < 1 or options["batch"] < 1:
            raise CommandError("--workers en --batch moeten minstens 1 zijn")
        # A dry run is one transaction, rolled back at the end: one connection only.
        workers = 1 if options["dry_run"] or connection.in_atomic_block else options["workers"]

        files = list(files_in(options["paths"]))
        if not files:
            raise CommandError("geen bestanden gevonden om te importeren")
        self.failures_file = None
        if options["failures"]:
            try:
                self.failures_file = open(options["failures"], "w", encoding="utf-8")  # noqa: SIM115
            except OSError as error:
                raise CommandError(f"--failures {options['failures']}: {error.strerror}") from error
        self.tally = Counter()
        self.listed: dict[str, list[importrun.Result]] = {"duplicate": [], "failed": []}
        self.progress = Progress(self.stderr, sum(importrun.count_lines(p) for p in files))
        interrupted = False
        try:
            with transaction.atomic() if options["dry_run"] else nullcontext():
                importrun.run(files, defaults, workers, options["batch"], self.record)
                if options["dry_run"]:
                    raise DryRun
        except DryRun:
            pass
        except KeyboardInterrupt:
            interrupted = True
        finally:
            if self.failures_file:
                self.failures_file.close()
        self.progress.finish()
        self.summarise(dry_run=options["dry_run"], interrupted=interrupted)
        if interrupted:
            raise CommandError(
                "onderbroken; wat hierboven als toegevoegd staat is opgeslagen. Start "
                "dezelfde opdracht opnieuw om verder te gaan waar de import stopte."
            )

    def record(self, results: list[importrun.Result]):
        for result in results:
            self.tally[result.status] += 1
            if result.status in self.listed:
                self.listed[result.status].append(result)
            if result.status == "failed" and self.failures_file:
                self.failures_file.write(failure_line(result) + "\n")
            if self.verbosity >= 2 and result.status != "done":
                self.stdout.write(f"{result.status:>9}  {result.origin}  {result.detail}")
        self.progress.update(sum(self.tally.values()), self.tally)

    def summarise(self, dry_run: bool, interrupted: bool = False):
        seconds = self.progress.elapsed()
        prefix = "Proefimport, niets opgeslagen. " if dry_run else ""
        if interrupted:
            prefix = "Onderbroken. "
        done = sum(n for status, n in self.tally.items() if status != "done")
        earlier = (
            f", {self.tally['done']} al geïmporteerd in een eerdere run"
            if self.tally["done"]
            else ""
        )
        rate = f", {done / seconds:.0f} per seconde" if seconds >= 1 and done else ""
        self.stdout.write(
            f"{prefix}{self.tally['added']} toegevoegd, "
            f"{self.tally['duplicate']} overgeslagen als dubbel, "
            f"{self.tally['failed']} mislukt{earlier} ({done} stukken in {seconds:.1f} s{rate})."
        )
        for status, heading in (("duplicate", "Dubbel"), ("failed", "Mislukt")):
            listed = self.listed[status]
            if listed:
                self.stdout.write(f"{heading}:")
                for result in listed[:LISTED]:
                    self.stdout.write(f"  {result.origin}: {result.detail}")
                if len(listed) > LISTED:
                    more = len(listed) - LISTED
                    where = " (alle mislukte in --failures)" if status == "failed" else ""
                    self.stdout.write(f"  … en nog {more}{where}")


def failure_line(result: importrun.Result) -> str:
    """A failed piece as a JSON line: the record itself with `error` and `origin` added,
    to fix and import again (the import ignores both fields); a line that was no JSON
    object, or a whole file, as `origin`, `error` and the raw `line`."""
    record = None
    if result.line is not None:
        try:
            record = json.loads(result.line)
        except ValueError:
            record = None
    if isinstance(record, dict):
        record = {**record, "error": result.detail, "origin": result.origin}
    else:
        record = {"origin": result.origin, "error": result.detail}
        if result.line is not None and not result.line.startswith("\0"):
            record["line"] = result.line.rstrip("\n")
    return json.dumps(record, ensure_ascii=False)


class Progress:
    """A bar with rate and time left on a terminal, redrawn in place; elsewhere (a log,
    a pipe) a plain line every PROGRESS_EVERY seconds."""

    def __init__(self, stream, total: int):
        self.stream, self.total = stream, max(total, 1)
        self.tty = stream.isatty()
        self.started = self.shown = time.monotonic()
        self.done, self.drawn = 0, False

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def update(self, done: int, tally: Counter):
        self.done = done
        now = time.monotonic()
        every = 0.25 if self.tty else PROGRESS_EVERY
        if self.total <= 20 or (now - self.shown < every and done < self.total):
            return
        self.shown = now
        new = done - tally["done"]
        rate = new / max(now - self.started, 1e-6)
        left = (self.total - done) / rate if rate else 0
        counts = (
            f"{tally['added']} toegevoegd, {tally['duplicate']} dubbel, {tally['failed']} mislukt"
        )
        share = min(done / self.total, 1)
        figures = f"{done}/{self.total} ({share:.0%}), {rate:.0f} per seconde, nog {_clock(left)}"
        if self.tty:
            bar = "█" * round(share * 24) + "░" * (24 - round(share * 24))
            self.stream.write(f"\r{bar} {figures}: {counts}\x1b[K", ending="")
            self.drawn = True
        else:
            self.stream.write(f"{figures}: {counts}")
        self.stream.flush()

    def finish(self):
        if self.drawn:
            self.stream.write("")


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} u {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"
