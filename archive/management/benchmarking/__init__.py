"""The benchmark behind `make bench`: for each corpus size, a database of its own served
by gunicorn and measured over HTTP, with Tantivy on the same pieces as a yardstick.

- targets.py: the databases (embedded data folders or DATABASE_URL databases) and
  bringing each to its corpus;
- server.py: gunicorn on a free loopback port, and the HTTP client;
- workload.py: words from the corpus's vocabulary, the search classes and page kinds,
  and the timing loops;
- tantivy_index.py: the Tantivy yardstick;
- report.py: the figures as docs/benchmarks.md.
"""

import datetime
import os
import platform
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.conf import settings

from archive.management.benchmarking import tantivy_index, targets, workload
from archive.management.benchmarking.report import Run, SizeResult
from archive.management.benchmarking.server import (
    Client,
    Gunicorn,
    collect_static,
    gunicorn_settings,
)
from archive.management.commands.known_items import KINDS

# The benchmark asks thousands of searches a minute from one address, and 32 clients at
# once: what it measures is the archive's capacity, not the per-client limits
# (archive/ratelimit.py) nor the load shedding past a worker's queue (gunicorn.conf.py),
# which `manage.py loadtest` measures.
UNLIMITED = {"RATE_LIMITS_ENABLED": "0", "WEB_MAX_WAITING": str(10**9)}

POSTGRES_SETTINGS = [
    "shared_buffers",
    "work_mem",
    "effective_cache_size",
    "jit",
    "max_parallel_workers_per_gather",
    "random_page_cost",
]


@dataclass
class Options:
    sizes: list[int]
    data_root: Path
    runs: int
    duration: float
    concurrency: list[int]
    seed: int
    corpus_dir: Path | None  # None: no real corpus (quality skipped)
    known_items: list
    tantivy: bool
    corpus_alone: bool = True  # also a database of the real corpus alone, for quality
    warm_passes: int = 2


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram": f"{memory / 1024**3:.1f} GB",
        # Other work on the machine shows in the figures; this says how much there was.
        "load": ", ".join(f"{x:.1f}" for x in os.getloadavg()),
        "code": code_version(),
    }


def code_version() -> str:
    """The commit measured, and whether the working tree differs from it."""
    git = ["git", "--no-optional-locks", "-C", str(settings.BASE_DIR)]
    try:
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True)
        changed = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True
        )
    except OSError:
        return "unknown"
    if head.returncode:
        return "unknown"
    dirty = " with uncommitted changes" if changed.stdout.strip() else ""
    return head.stdout.decode().strip() + dirty


def database_facts(uri: str) -> tuple[dict, int, int]:
    """(PostgreSQL version and settings, database bytes, archive_article bytes)."""
    with psycopg.connect(uri) as conn:
        server = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]
            for name in ["server_version", *POSTGRES_SETTINGS]
        }
        database, article = conn.execute(
            "SELECT pg_database_size(current_database()), pg_total_relation_size('archive_article')"
        ).fetchone()
    return server, database, article


def run(options: Options, log) -> Run:
    result = Run(
        date=datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        machine=machine(),
        postgres={},
        gunicorn=gunicorn_settings(),
        runs=options.runs,
        duration=options.duration,
        concurrency=options.concurrency,
    )
    if not options.corpus_dir:
        result.notes.append("No real corpus at ../shared/corpus: known-item quality skipped.")
    if not options.tantivy:
        result.notes.append("The tantivy package is not installed: no Tantivy comparison.")
    password = secrets.token_urlsafe(16)
    collect_static(log)
    slugs = workload.target_slugs(options.corpus_dir) if options.corpus_dir else {}
    alone = bool(options.corpus_dir) and options.corpus_alone
    for target in targets.make_targets(options.sizes, options.data_root, alone):
        log(f"\n{target.label}: {target.where}")
        shutil.rmtree(target.cache_dir(), ignore_errors=True)
        with targets.opened(target) as uri:
            if others := targets.other_users(target):
                log(f"  also in use by processes {others}: figures may be disturbed")
            targets.prepare(
                target,
                uri,
                seed=options.seed,
                corpus_dir=options.corpus_dir,
                password=password,
                log=log,
            )
            pg_settings, database, article = database_facts(uri)
            result.postgres = result.postgres or pg_settings
            size = SizeResult(
                label=target.label,
                size=target.size,
                where=target.where,
                pieces=target.facts["pieces"],
                load_seconds=target.facts.get("load_seconds"),
                dpg_seconds=target.facts.get("dpg_seconds"),
                database_bytes=database,
                table_bytes=article,
                log_path=str(options.data_root / f"gunicorn-{target.label}.log"),
            )
            if target.label == targets.DPG_LABEL:
                result.corpus_alone = size
                with Gunicorn(target.env(**UNLIMITED), Path(size.log_path)) as server:
                    size.quality = _quality(server, options, slugs, log)
            else:
                result.results.append(size)
                _measure(target, uri, size, options, password, slugs, log, result)
        shutil.rmtree(target.cache_dir(), ignore_errors=True)
    return result


def _measure(target, uri, size: SizeResult, options: Options, password, slugs, log, result):
    work = size.plan = workload.plan(uri, options.seed)
    log(f"  words from {work.sample:,} sampled pieces:")
    for key, words in work.words().items():
        log(f"    {workload.CLASSES[key]}: {words[:150]}")
    result.notes += [f"{size.label}: {note}" for note in work.notes]
    if options.tantivy:
        index = tantivy_index.TantivyIndex(
            options.data_root / f"tantivy-{size.label}", pieces=targets.counts(uri)["all"]
        )
        try:
            log("  building the Tantivy index")
            index.build(uri, log)
            size.tantivy_build_seconds, size.tantivy_bytes = index.build_seconds, index.size
            log(f"  Tantivy: {index.pieces:,} pieces in {index.build_seconds:.1f} s")
            size.tantivy = index.time_probes(work, options.runs)
        finally:
            index.close()

    log("  starting gunicorn")
    with Gunicorn(target.env(**UNLIMITED), Path(size.log_path)) as server:
        client, admin = Client(server.port), Client(server.port)
        admin.login(targets.ADMIN_USER, password)
        workload.last_sitemap_section(client, work)
        workload.warm_up(client, admin, work, options.warm_passes)
        for key, probes in work.probes.items():
            # Every class but "cached" asks for a fresh answer (Cache-Control: no-cache),
            # so the figures are what a search costs the first time it is asked.
            paths = [p.path() for p in probes]
            size.classes[key] = workload.measure(client, paths, options.runs, key != "cached")
            log(f"  {workload.CLASSES[key]}: p50 {size.classes[key].p50 * 1000:.1f} ms")
        for key, paths in work.pages.items():
            who = admin if key in workload.ADMIN_PAGES else client
            size.pages[key] = workload.measure(who, paths, options.runs, fresh=True)
            log(f"  {workload.PAGES[key]}: p50 {size.pages[key].p50 * 1000:.1f} ms")
        if options.corpus_dir:
            size.quality = _quality(server, options, slugs, log)
        stream = workload.mix(work)
        for clients in options.concurrency:
            rps, stats = workload.throughput(
                server.port, stream, clients, options.duration, options.seed
            )
            size.throughput[clients] = (rps, stats)
            log(f"  {clients} clients: {rps:.1f} requests/s, {stats.error_count} errors")
        size.memory = server.rss()
        errors = sum(s.error_count for s in [*size.classes.values(), *size.pages.values()])
        errors += sum(s.error_count for _, s in size.throughput.values())
        if errors:
            result.notes.append(
                f"{size.label}: {errors} requests failed; gunicorn's log: {size.log_path}"
            )


def _quality(server, options: Options, slugs, log) -> dict:
    quality = workload.known_items(Client(server.port), options.known_items, slugs)
    log(
        f"  known items: top 1 {quality['top1']:.0%}, top 3 {quality['top3']:.0%}, "
        f"top 10 {quality['top10']:.0%} of {quality['n']}"
    )
    for kind, found in quality["kinds"].items():
        log(
            f"    {KINDS[kind]}: top 1 {found['top1']:.0%}, top 3 {found['top3']:.0%}, "
            f"top 10 {found['top10']:.0%} of {found['n']}"
        )
    return quality
