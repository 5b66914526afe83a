"""One run of `manage.py import_articles`: the files read as a stream of batches, stored
by worker processes, resumable.

The parent process reads lines and groups them into batches of BATCH_SIZE; it never
parses or holds more than the batches in flight (two per worker), so memory stays the
same for a file of a thousand lines or of a million. Each worker parses, cleans and
stores whole batches (archive/bulk.py) on its own connection. A batch's lines are
recorded in the import journal in the batch's own transaction, so after Ctrl-C, a crash
or a lost database the same command skips what was stored and goes on with the rest;
the lines that failed are tried again.

Text and HTML files are one piece each and are not journalled: a file read again is
refused as the duplicate it is.
"""

import hashlib
import json
import multiprocessing
import signal
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, connections, transaction

from archive import bulk, failures
from archive.ingest import (
    JSONL_SUFFIXES,
    Defaults,
    Outcome,
    Unreadable,
    draft_from_json,
    numbered_lines,
    open_lines,
    read_file,
    suffix_of,
    too_long,
)
from archive.models import ImportedBatch
from archive.routers import replica_aliases, settle
from archive.search import catalogue
from archive.tagging import Vocabulary

BATCH_SIZE = 500
KEY_BYTES = 1 << 20  # a file is known by its name and the digest of its first megabyte


@dataclass(frozen=True)
class Result:
    """What the parent keeps of one piece: enough for the summary and --failures."""

    origin: str
    status: str  # added, duplicate, failed, or done (in the journal from an earlier run)
    detail: str = ""
    line: str | None = None  # the raw JSON line of a failed piece


@dataclass
class Batch:
    path: str
    file_key: str | None
    items: list[tuple[int, str | None]] = field(default_factory=list)  # (line, raw)


def file_key(path: Path) -> str:
    with path.open("rb") as handle:
        digest = hashlib.sha256(handle.read(KEY_BYTES)).hexdigest()[:32]
    return f"{path.name[:60]}:{digest}"


def done_lines(key: str) -> bytearray:
    """Per line number, 1 when an earlier run stored it (or found it a duplicate)."""
    done = bytearray()
    batches = ImportedBatch.objects.filter(file_key=key).order_by("id")
    for first, last, failed in batches.values_list("first_line", "last_line", "failed_lines"):
        if len(done) <= last:
            done.extend(bytes(last + 1 - len(done)))
        done[first : last + 1] = b"\x01" * (last + 1 - first)
        for line in failed:
            done[line] = 0
    return done


def count_lines(path: Path) -> int:
    """Pieces a file will give, for the progress bar: its lines, counted in C."""
    if suffix_of(path) not in JSONL_SUFFIXES:
        return 1
    try:
        with open_lines(path) as handle:
            return sum(1 for line in handle if line.strip())
    except (OSError, UnicodeDecodeError, EOFError):
        return 1


def batches(paths: list[Path], size: int, skipped) -> Iterator[Batch]:
    """The work, BATCH_SIZE lines at a time; `skipped(origin)` hears of every line an
    earlier run stored."""
    for path in paths:
        if suffix_of(path) not in JSONL_SUFFIXES:
            yield Batch(str(path), None, [(0, None)])
            continue
        try:
            key = file_key(path)
        except OSError:
            yield Batch(str(path), None, [(0, None)])  # read_file says why
            continue
        done = done_lines(key)
        batch = Batch(str(path), key)
        for number, line in _numbered(path, batch):
            if number < len(done) and done[number]:
                skipped(f"{path.name}:{number}")
                continue
            batch.items.append((number, line))
            if len(batch.items) >= size:
                yield batch
                batch = Batch(str(path), key)
        if batch.items:
            yield batch


def _numbered(path: Path, batch: Batch) -> Iterator[tuple[int, str | None]]:
    """(line number, line) of a JSON Lines file, blank lines left out; a line too long
    to read comes as None (its length in the raw form: the worker says so)."""
    try:
        with open_lines(path) as handle:
            for number, line, length in numbered_lines(handle):
                if line is None:
                    yield number, f"\0{length}"
                elif line.strip():
                    yield number, line
    except (OSError, UnicodeDecodeError, EOFError) as error:
        yield 0, f"\0\0{error}"


def _parse(path: Path, number: int, raw: str | None):
    """A draft, or a failed Outcome, from one item of a batch."""
    if number == 0 and raw is None:
        return list(read_file(path))
    origin = f"{path.name}:{number}"
    if raw.startswith("\0\0"):
        return [Outcome(path.name, "failed", reason=f"niet te lezen: {raw[2:]}")]
    if raw.startswith("\0"):
        reason = too_long("regel", int(raw[1:]), settings.MAX_IMPORT_CHARS, "MAX_IMPORT_CHARS")
        return [Outcome(origin, "failed", reason=reason)]
    try:
        return [draft_from_json(json.loads(raw), origin)]
    except json.JSONDecodeError as error:
        return [Outcome(origin, "failed", reason=f"geen geldige JSON ({error.msg})")]
    except Unreadable as error:
        return [Outcome(origin, "failed", reason=str(error))]


def detail(outcome: Outcome) -> str:
    if outcome.status == "added":
        return f"‘{outcome.article.title}’ (id {outcome.article.pk})"
    if outcome.status == "duplicate":
        return outcome.duplicate.describe()
    return outcome.reason


class Worker:
    """Parses and stores batches; one per process, with the run's vocabulary."""

    def __init__(self, defaults: Defaults):
        self.defaults = defaults
        self.vocabulary = Vocabulary.load()
        self.names = bulk.Names()

    def run(self, batch: Batch) -> list[Result]:
        path = Path(batch.path)
        raws = dict(batch.items)
        parsed = [item for number, raw in batch.items for item in _parse(path, number, raw)]
        drafts = [p for p in parsed if not isinstance(p, Outcome)]
        journal = None
        if batch.file_key:
            numbers = [n for n, _ in batch.items]
            unread = [n for p in parsed if isinstance(p, Outcome) and (n := bulk.line_of(p.origin))]
            journal = bulk.Journal(batch.file_key, min(numbers), max(numbers), unread)
        try:
            stored = iter(self._store(drafts, journal))
        except Exception as error:
            if failures.kind_of(error) != failures.UNAVAILABLE:
                raise
            if not connection.in_atomic_block and not connection.is_usable():
                connection.close()
            self.names.forget()
            reason = f"verbinding met de database verbroken ({failures.first_line(error)})"
            stored = iter(
                Outcome(d.origin, "failed", reason=f"{reason}; niets opgeslagen") for d in drafts
            )
        outcomes = [p if isinstance(p, Outcome) else next(stored) for p in parsed]
        return [
            Result(
                o.origin,
                o.status,
                detail(o),
                raws.get(bulk.line_of(o.origin) or 0) if o.status == "failed" else None,
            )
            for o in outcomes
        ]

    def _store(self, drafts, journal) -> list[Outcome]:
        if not drafts:
            if journal:
                with transaction.atomic():
                    bulk.write_journal(journal, [])
            return []
        return bulk.store_batch(drafts, self.defaults, self.vocabulary, self.names, journal)


_worker: Worker | None = None


def _start_worker(defaults: Defaults):
    global _worker
    # Ctrl-C is the parent's: it stops the pool, and a batch cut off is rolled back.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker = Worker(defaults)


def _run_in_worker(batch: Batch) -> list[Result]:
    return _worker.run(batch)


def run(paths: list[Path], defaults: Defaults, workers: int, size: int, heard) -> None:
    """Store everything in `paths`; `heard(results)` is called with each batch's results
    in the order of the files (and with skipped lines as they are passed)."""

    def skipped(origin):
        heard([Result(origin, "done")])

    def stored(results):
        # Rows written in batches send no signals: cached pages and searches move on
        # here, as after an editor's save.
        if any(r.status == "added" for r in results) and not connection.in_atomic_block:
            catalogue.changed()
        heard(results)

    try:
        _run(paths, defaults, workers, size, skipped, stored)
    finally:
        # Readers go back to a replica only once it has replayed the whole import.
        if replica_aliases() and not connection.in_atomic_block:
            settle()


def _run(paths, defaults, workers, size, skipped, heard) -> None:
    work = batches(paths, size, skipped)
    if workers <= 1:
        worker = Worker(defaults)
        for batch in work:
            heard(worker.run(batch))
        return
    context = multiprocessing.get_context("fork")
    connections.close_all()  # each worker opens its own connection
    pool = context.Pool(workers, initializer=_start_worker, initargs=(defaults,))
    pending = deque()
    try:
        for batch in work:
            pending.append(pool.apply_async(_run_in_worker, (batch,)))
            # Two batches a worker in flight: the parent reads no further ahead.
            while len(pending) >= 2 * workers:
                heard(pending.popleft().get())
        while pending:
            heard(pending.popleft().get())
        pool.close()
    except BaseException:
        # Cut off: a batch being stored is rolled back with its connection.
        pool.terminate()
        raise
    finally:
        pool.join()
