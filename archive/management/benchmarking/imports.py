"""Bulk import and editing at scale, for `make bench`: a generated JSON Lines file of N
pieces imported into an empty archive (seeds and the generated world's actors and
events only) in a database of its own, stopped at half way and resumed, with the import
process's memory; then the editor's waits in admin on the full archive.

The archive is made anew for every run (an import measures an empty start); the JSON
Lines file (`<data root>/import-<size>.jsonl`) is kept and reused.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg
from django.conf import settings
from psycopg import sql

from archive.management.benchmarking import targets

SEED = 11  # the generated pieces: another seed than the search benchmark's corpora
POLL = 0.5  # seconds between looks at the import's progress and memory


@dataclass
class ImportRun:
    seconds: float = 0.0
    pieces_before: int = 0
    pieces_after: int = 0
    peak_rss: int = 0  # the import's processes together (shared pages counted once each)
    peak_rss_largest: int = 0
    first_batch_after: float | None = None  # seconds until its first batch was stored
    summary: str = ""
    interrupted: bool = False


@dataclass
class ImportResult:
    size: int
    label: str
    file_bytes: int = 0
    full: ImportRun | None = None
    first: ImportRun | None = None
    resumed: ImportRun | None = None
    pieces_end: int = 0
    duplicates_in_archive: int = 0
    without_keys: int = 0
    editor: dict = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return (self.first.seconds if self.first else 0) + (
            self.resumed.seconds if self.resumed else 0
        )


def target_for(size: int, data_root: Path) -> targets.Target:
    label = f"import-{targets.size_label(size)}"
    base = os.environ.get("DATABASE_URL")
    if base:
        url = urlunsplit(urlsplit(base)._replace(path=f"/kroniek_bench_{label.replace('-', '_')}"))
        return targets.Target(label, size, data_root, url=url)
    return targets.Target(label, size, data_root, data_dir=(data_root / f"pg-{label}").resolve())


def _fresh(target: targets.Target) -> None:
    """No archive left from an earlier run: an import is measured from empty."""
    if target.data_dir:
        shutil.rmtree(target.data_dir, ignore_errors=True)
        shutil.rmtree(target.cache_dir(), ignore_errors=True)
        return
    name = urlsplit(target.url).path.lstrip("/")
    maintenance = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _lines_done(uri: str) -> int:
    with psycopg.connect(uri, connect_timeout=3) as conn:
        if not conn.execute("SELECT to_regclass('archive_importedbatch')").fetchone()[0]:
            return 0
        (done,) = conn.execute(
            "SELECT coalesce(sum(last_line - first_line + 1), 0) FROM archive_importedbatch"
        ).fetchone()
    return int(done)


def _pieces(uri: str) -> int:
    with psycopg.connect(uri) as conn:
        return conn.execute("SELECT count(*) FROM archive_article").fetchone()[0]


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_import(target, uri: str, path: Path, log, stop_at: int | None = None) -> ImportRun:
    """import_articles on the file as a user runs it; with `stop_at`, Ctrl-C (SIGINT)
    once that many lines are stored."""
    run = ImportRun(pieces_before=_pieces(uri))
    done_before = _lines_done(uri)
    command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "import_articles"]
    # Batches small enough for a stop at half way to fall between two of them.
    command += ["--batch", str(max(10, min(500, target.size // 20)))]
    started = time.perf_counter()
    child = subprocess.Popen(
        [*command, str(path)],
        cwd=settings.BASE_DIR,
        env=target.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        # Ctrl-C must reach it as a user's would, even when this benchmark was started in
        # the background (where a shell ignores SIGINT, and children inherit that).
        preexec_fn=_default_sigint,
    )
    process = psutil.Process(child.pid)
    while child.poll() is None:
        time.sleep(POLL)
        try:
            tree = [process, *process.children(recursive=True)]
            sizes = [p.memory_info().rss for p in tree]
        except psutil.Error:
            continue
        run.peak_rss = max(run.peak_rss, sum(sizes))
        run.peak_rss_largest = max(run.peak_rss_largest, max(sizes))
        done = _lines_done(uri)
        if run.first_batch_after is None and done > done_before:
            run.first_batch_after = time.perf_counter() - started
        if stop_at is not None and not run.interrupted and done >= stop_at:
            child.send_signal(signal.SIGINT)
            run.interrupted = True
    out = child.stdout.read()
    child.wait()
    run.seconds = time.perf_counter() - started
    run.summary = next((line for line in out.splitlines() if "toegevoegd" in line), "")
    run.pieces_after = _pieces(uri)
    log(f"    {run.summary} [{run.seconds:.1f} s]")
    return run


@contextlib.contextmanager
def empty_archive(target, path: Path, log):
    """The target made anew with the seeds and the generated world (sources, authors,
    actors, events) and no other piece; the JSON Lines file written once and kept.
    Yields the database's URI."""
    _fresh(target)
    with targets.opened(target) as uri:
        targets.manage(target, "migrate", "--noinput", "-v0", log=log)
        targets.manage(target, "loaddata", "seed_articles", "-v0", log=log)
        out, articles = (path, target.size) if not path.exists() else (path.parent / "w.jsonl", 1)
        args = ["--articles", str(articles), "--seed", str(SEED), "--jsonl", str(out)]
        targets.manage(target, "generate_corpus", *args, log=log)
        yield uri


def measure(size: int, data_root: Path, log, *, full: bool, editor_runs: int = 3) -> ImportResult:
    """The import without a stop (with `full`), then stopped at half way and resumed,
    then the editor's waits on the archive it made."""
    target = target_for(size, data_root)
    result = ImportResult(size, targets.size_label(size))
    path = (data_root / f"import-{result.label}.jsonl").resolve()
    if full:
        with empty_archive(target, path, log) as uri:
            log(f"  importing {size:,} pieces without a stop")
            result.full = run_import(target, uri, path, log)
    with empty_archive(target, path, log) as uri:
        result.file_bytes = path.stat().st_size
        empty = _pieces(uri)
        log(f"  importing {size:,} pieces, stopped at half way, then resumed")
        result.first = run_import(target, uri, path, log, stop_at=size // 2)
        result.resumed = run_import(target, uri, path, log)
        with psycopg.connect(uri, autocommit=True) as conn:
            result.pieces_end = conn.execute("SELECT count(*) FROM archive_article").fetchone()[0]
            result.duplicates_in_archive = conn.execute(
                "SELECT count(*) - count(DISTINCT content_hash) FROM archive_article"
            ).fetchone()[0]
            result.without_keys = conn.execute(
                "SELECT count(*) FROM archive_article a WHERE NOT EXISTS "
                "(SELECT 1 FROM archive_nearcopykey k WHERE k.article_id = a.id)"
            ).fetchone()[0]
            # As after any large load: statistics for the planner, the visibility map.
            conn.execute("VACUUM (ANALYZE) archive_article, archive_articleactor")
        log(f"  {result.pieces_end - empty:,} pieces imported; timing the editor's saves")
        lines = []
        targets.manage(target, "bench_editor", "--runs", str(editor_runs), log=lines.append)
        result.editor = json.loads(next(line for line in reversed(lines) if "{" in line))
    return result


START, END = "<!-- bulk-import -->", "<!-- /bulk-import -->"


def _mb(n: int) -> str:
    return f"{n / 1024**2:,.0f} MB"


def _s(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:,.0f} s"


def _spread(times: list[float]) -> str:
    if not times:
        return "–"
    ordered = sorted(times)
    middle = ordered[len(ordered) // 2]
    return f"{_s(middle)} (max {_s(ordered[-1])}, n={len(ordered)})"


def render(results: list[ImportResult], machine: dict, date: str) -> str:
    lines = [
        START,
        "## Bulk import and editing",
        "",
        "`make bench` runs `manage.py bench_import` for the sizes in `IMPORT_SIZES` (default "
        "10000): a generated JSON Lines file of that many pieces (`generate_corpus --jsonl`, "
        "names of sources and authors, no links) is imported with `import_articles` into an "
        "empty archive of its own (the seeds and the generated world: 2,000+ actors, 40 "
        "events) under `.bench/`, as a user runs it: cleaning, duplicate checks, "
        "suggestions, 2 worker processes. Once without a stop (when `--full`), once stopped "
        "with Ctrl-C (SIGINT) when half the lines are stored and run again. Memory is the "
        "peak RSS of the import's processes (parent and workers). Then `manage.py "
        "bench_editor` times the editor's admin requests on the full archive (Django's test "
        "client in one process, no HTTP), and the background re-checks they queued.",
        "",
        f"- Date: {date}; code {machine['code']}",
        f"- CPU: {machine['cpu']}, {machine['cores']} cores; RAM {machine['ram']}; load "
        f"average when the run began {machine['load']}",
        "",
        "| size | file | without a stop | rate | stopped at | resumed: first batch after | "
        "resumed run | both runs | rate | peak memory (all processes / largest) | "
        "pieces at the end | duplicate texts | pieces without fingerprints |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        full = r.full
        lines.append(
            "| "
            + " | ".join(
                [
                    f"{r.size:,}",
                    _mb(r.file_bytes),
                    _s(full.seconds) if full else "–",
                    f"{r.size / full.seconds:,.0f}/s" if full else "–",
                    f"{r.first.pieces_after - r.first.pieces_before:,} pieces, "
                    f"{_s(r.first.seconds)}"
                    if r.first.interrupted
                    else "done before the stop",
                    _s(r.resumed.first_batch_after),
                    _s(r.resumed.seconds),
                    _s(r.total_seconds),
                    f"{r.size / r.total_seconds:,.0f}/s",
                    f"{_mb(max(r.first.peak_rss, r.resumed.peak_rss))} / "
                    f"{_mb(max(r.first.peak_rss_largest, r.resumed.peak_rss_largest))}",
                    f"{r.pieces_end:,}",
                    f"{r.duplicates_in_archive}",
                    f"{r.without_keys}",
                ]
            )
            + " |"
        )
    lines += [
        "",
        "Editor's waits (median, max, runs):",
        "",
        "| size | save a piece (text changed) | actor: common new alias | event: signal word "
        "added | paste: review | paste: save |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        e = r.editor
        lines.append(
            f"| {e.get('pieces', 0):,} | {_spread(e.get('piece', []))} | "
            f"{_spread(e.get('actor', []))} (“{e.get('actor_alias', '')}”) | "
            f"{_spread(e.get('event', []))} | {_spread(e.get('paste_review', []))} | "
            f"{_spread(e.get('paste_save', []))} |"
        )
    lines += ["", "Background re-checks those saves queued (`db_worker`):", ""]
    lines += ["| size | re-check | pieces looked at | links made or changed | time |"]
    lines += ["|---|---|---|---|---|"]
    for r in results:
        for recheck in r.editor.get("rechecks", []):
            lines.append(
                f"| {r.size:,} | {recheck['reason']} ({recheck['status']}) | "
                f"{recheck['pieces'] or 0:,} | {recheck['changed']:,} | "
                f"{_s(recheck['seconds'])} |"
            )
    lines += ["", END]
    return "\n".join(lines) + "\n"


def section_of(text: str) -> str:
    """The bulk import section of a benchmarks file, kept when the rest is rewritten."""
    if START in text and END in text:
        return text[text.index(START) : text.index(END) + len(END)] + "\n"
    return ""


def splice(text: str, section: str) -> str:
    """The file's text with its bulk import section replaced (or added at the end)."""
    old = section_of(text)
    if not section:
        return text
    if old:
        return text.replace(old, section)
    return text.rstrip("\n") + "\n\n" + section
