"""The figures of a run, and docs/benchmarks.md written from them."""

import math
from dataclasses import dataclass, field

from archive.management.benchmarking.workload import CLASSES, PAGES, Plan, Stats
from archive.management.commands.known_items import KINDS

HOW_TO_RUN = """\
## How to run

`make bench` runs `manage.py benchmark` for the sizes in `SIZES` (default 10000 generated
pieces): per size it builds a corpus in a data folder of its own under `.bench/` (or a
database `kroniek_bench_<size>` on the server `DATABASE_URL` names), reusing one that holds
it already, adds the real news corpus from `../shared/corpus/` when present, serves it
with gunicorn on a free loopback port and measures over HTTP, with Tantivy timed on the
same pieces beside it. It then rewrites this file. Your own archive (`.pgdata/`) is never
touched. For example `make bench SIZES="10000 100000 1000000"`,
`make bench SIZES=10000 BENCH_ARGS="--data-root /work/bench"` (folders `pg-10k`, ...),
or the smoke run that CI's `tests/test_benchmark.py` makes, `make bench
BENCH_ARGS=--smoke` (300 pieces, 3 requests each, 2 s per throughput level). `make
bench-quality` is the older in-process known-item and latency run (`bench_search`).
Known-item quality is given per kind of query (`archive/management/commands/known_items.py`);
the real corpus is linked, by the archive's own suggestions, to the seed fixture's actors
and events and to the benchmark's own (`archive/management/benchmarking/subjects.py`)."""


@dataclass
class SizeResult:
    label: str
    size: int
    where: str
    pieces: dict
    load_seconds: float | None = None
    dpg_seconds: float | None = None
    database_bytes: int = 0
    table_bytes: int = 0
    plan: Plan | None = None
    classes: dict[str, Stats] = field(default_factory=dict)
    tantivy: dict[str, Stats] = field(default_factory=dict)
    tantivy_build_seconds: float | None = None
    tantivy_bytes: int | None = None
    pages: dict[str, Stats] = field(default_factory=dict)
    throughput: dict[int, tuple[float, Stats]] = field(default_factory=dict)
    memory: tuple[int, list[int]] | None = None
    quality: dict | None = None
    log_path: str = ""


@dataclass
class Run:
    date: str
    machine: dict
    postgres: dict
    gunicorn: dict
    runs: int
    duration: float
    concurrency: list[int]
    results: list[SizeResult] = field(default_factory=list)
    corpus_alone: SizeResult | None = None
    notes: list[str] = field(default_factory=list)


def ms(seconds: float) -> str:
    if seconds is None or math.isnan(seconds):
        return "–"
    value = seconds * 1000
    if value < 1:
        return f"{value:.2f}"
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def megabytes(n: int | None) -> str:
    return "–" if n is None else f"{n / 1024**2:,.0f} MB"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def _ratio(kroniek: Stats | None, tantivy: Stats | None) -> str:
    if not kroniek or not tantivy or not tantivy.p50 or math.isnan(tantivy.p50):
        return "–"
    return f"{kroniek.p50 / tantivy.p50:,.0f}×"


def _errors(stats: Stats) -> str:
    if not stats.error_count:
        return "0"
    return f"{stats.error_count} (" + ", ".join(f"{s}: {n}" for s, n in stats.errors.items()) + ")"


def render(run: Run) -> str:
    out = ["# Benchmarks", "", HOW_TO_RUN, ""]
    out += _setting(run)
    sizes = run.results
    out += ["## Corpora", ""]
    out += table(
        ["", *(r.label for r in sizes)],
        [
            ["pieces in all", *(f"{r.pieces['all']:,}" for r in sizes)],
            ["generated", *(f"{r.pieces['synthetic']:,}" for r in sizes)],
            ["real corpus (DPG)", *(f"{r.pieces['dpg']:,}" for r in sizes)],
            [
                "generated in this run",
                *(f"{r.load_seconds:,.0f} s" if r.load_seconds else "reused" for r in sizes),
            ],
            [
                "real corpus imported in this run",
                *(f"{r.dpg_seconds:,.0f} s" if r.dpg_seconds else "–" for r in sizes),
            ],
            ["database (pg_database_size)", *(megabytes(r.database_bytes) for r in sizes)],
            ["archive_article with TOAST and indexes", *(megabytes(r.table_bytes) for r in sizes)],
            [
                "Tantivy index build",
                *(
                    f"{r.tantivy_build_seconds:,.1f} s" if r.tantivy_build_seconds else "–"
                    for r in sizes
                ),
            ],
            ["Tantivy index size", *(megabytes(r.tantivy_bytes) for r in sizes)],
        ],
    )
    out += ["## Search over HTTP: p50 in ms (Kroniek/Tantivy)", ""]
    out += table(
        ["class", *(r.label for r in sizes)],
        [
            [
                label,
                *(
                    f"{ms(r.classes[key].p50)} ({_ratio(r.classes[key], r.tantivy.get(key))})"
                    if key in r.classes
                    else "–"
                    for r in sizes
                ),
            ]
            for key, label in CLASSES.items()
        ],
    )
    out += ["## Pages over HTTP: p50 in ms", ""]
    out += table(
        ["page", *(r.label for r in sizes)],
        [
            [label, *(ms(r.pages[key].p50) if key in r.pages else "–" for r in sizes)]
            for key, label in PAGES.items()
        ],
    )
    for r in sizes:
        out += _detail(r)
    out += ["## Throughput (mixed searches and pages)", ""]
    out += table(
        ["size", "clients", "requests/s", "p50 ms", "p95 ms", "requests", "errors"],
        [
            [r.label, c, f"{rps:,.1f}", ms(s.p50), ms(s.p95), s.n, _errors(s)]
            for r in sizes
            for c, (rps, s) in r.throughput.items()
        ],
    )
    out += ["## Memory after the load (resident)", ""]
    out += table(
        ["size", "gunicorn master", "each worker"],
        [
            [r.label, megabytes(r.memory[0]), ", ".join(megabytes(w) for w in r.memory[1])]
            for r in sizes
            if r.memory
        ],
    )
    out += _quality(run)
    out += ["## Queries asked", ""]
    for r in sizes:
        if r.plan:
            out += [f"{r.label} (words from a sample of {r.plan.sample:,} pieces):", ""]
            out += [f"- {CLASSES[k]}: {words}" for k, words in r.plan.words().items()]
            out += [""]
    if run.notes:
        out += ["## Notes", "", *(f"- {note}" for note in run.notes), ""]
    return "\n".join(out).rstrip() + "\n"


def _setting(run: Run) -> list[str]:
    m, pg, g = run.machine, run.postgres, run.gunicorn
    workers = ", ".join(f"{k} {v}" for k, v in g.items() if k != "config")
    return [
        "## Machine and settings",
        "",
        f"- Date: {run.date}; code {m['code']}",
        f"- CPU: {m['cpu']}, {m['cores']} cores; RAM {m['ram']}; load average when the run "
        f"began {m['load']} (1, 5, 15 min)",
        f"- PostgreSQL {pg.get('server_version', '?')}: "
        + ", ".join(f"{k} {v}" for k, v in pg.items() if k != "server_version"),
        f"- gunicorn ({g['config']}): {workers}; DEBUG off",
        f"- {run.runs} requests per search class and page kind, one at a time after a "
        "warm-up, each with `Cache-Control: no-cache`: no cached page, pool or facets "
        'serve it, so these are first-time costs (the class "cached" alone repeats one '
        "query without it); what changes only with the archive (an actor's chart, the "
        "archive's size, a sitemap page) stays cached, as between two edits; throughput "
        f"{run.duration:g} s per level at {', '.join(map(str, run.concurrency))} clients, "
        "a mix of searches and pages as readers send them, the cache in use as in "
        "production",
        "- Client: Python http.client threads on the same machine, sharing its cores with "
        "gunicorn and PostgreSQL. Tantivy runs in the benchmark's own process (no HTTP, no "
        "page), so the ratio is what a page costs over a bare index lookup.",
        "",
    ]


def _detail(r: SizeResult) -> list[str]:
    out = [f"## {r.label}: {r.pieces['all']:,} pieces", "", "Search, ms:", ""]
    out += table(
        ["class", "p50", "p95", "max", "n", "errors", "Tantivy p50", "Kroniek/Tantivy"],
        [
            [
                label,
                ms(s.p50),
                ms(s.p95),
                ms(s.max),
                s.n,
                _errors(s),
                ms(r.tantivy[key].p50) if key in r.tantivy else "–",
                _ratio(s, r.tantivy.get(key)),
            ]
            for key, label in CLASSES.items()
            if (s := r.classes.get(key))
        ],
    )
    paths = r.plan.pages if r.plan else {}
    out += ["Pages, ms:", ""]
    out += table(
        ["page", "path", "p50", "p95", "max", "n", "errors"],
        [
            [label, f"`{paths[key][0]}`", ms(s.p50), ms(s.p95), ms(s.max), s.n, _errors(s)]
            for key, label in PAGES.items()
            if (s := r.pages.get(key))
        ],
    )
    return out


def _quality(run: Run) -> list[str]:
    rows = [
        (r.label if r is not run.corpus_alone else "real corpus alone", r)
        for r in [run.corpus_alone, *run.results]
        if r and r.quality
    ]
    if not rows:
        return ["## Known-item search quality", "", "Skipped: no corpus at ../shared/corpus.", ""]
    out = ["## Known-item search quality (JSON search over HTTP)", ""]
    out += table(
        ["database", "pieces", "queries", "top 1", "top 3", "top 10", "errors"],
        [
            [
                label,
                f"{r.pieces['all']:,}",
                r.quality["n"],
                f"{r.quality['top1']:.0%}",
                f"{r.quality['top3']:.0%}",
                f"{r.quality['top10']:.0%}",
                r.quality["errors"],
            ]
            for label, r in rows
        ],
    )
    # One row per kind of query (archive/management/commands/known_items.py), one
    # column per database: what kind of memory search serves, and what kind it fails.
    kinds = [kind for kind in KINDS if any(kind in r.quality.get("kinds", {}) for _, r in rows)]
    if not kinds:
        return out
    out += ["By kind of query, target in the top 1 / 3 / 10:", ""]
    return out + table(
        ["kind", "queries", *(label for label, _ in rows)],
        [
            [
                KINDS[kind],
                max(r.quality["kinds"].get(kind, {}).get("n", 0) for _, r in rows),
                *(_shares(r.quality["kinds"].get(kind)) for _, r in rows),
            ]
            for kind in kinds
        ],
    )


def _shares(found: dict | None) -> str:
    if not found:
        return "–"
    return " / ".join(f"{found[f'top{k}']:.0%}" for k in (1, 3, 10))
