"""`make bench`: the archive at several sizes, served by gunicorn and measured over HTTP."""

import signal
from pathlib import Path

from django.conf import settings
from django.core.management import get_commands
from django.core.management.base import BaseCommand, CommandError

from archive.management import benchmarking
from archive.management.benchmarking import imports, report, tantivy_index, targets
from archive.management.commands.known_items import ALL_ITEMS, first_of_each_kind
from archive.management.corpus import default_corpus_dir

SMOKE = {"sizes": [300], "runs": 3, "duration": 2.0, "known_items": 10}


def _interrupt(signum, frame):
    # SIGTERM unwinds like Ctrl-C, so gunicorn and the database servers are stopped.
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = (
        "For each SIZE, builds (or reuses) a database of SIZE generated pieces plus the real "
        "news corpus in ../shared/corpus, serves it with gunicorn on a free loopback port "
        "and measures search classes, every page kind, the admin, throughput at several "
        "concurrencies, worker memory and known-item quality over HTTP, with Tantivy on the "
        "same pieces as a yardstick; writes the figures to docs/benchmarks.md and prints "
        "them. Embedded data folders live under --data-root (pg-<size>); with DATABASE_URL "
        "set, databases kroniek_bench_<size> on that server. The archive's own database "
        "is never used."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("sizes", nargs="*", type=int, help="generated pieces per corpus")
        parser.add_argument(
            "--runs", type=int, default=50, help="requests per search class and page kind"
        )
        parser.add_argument(
            "--duration", type=float, default=20, help="seconds per throughput level"
        )
        parser.add_argument(
            "--concurrency",
            default="1,8,32",
            help="clients per throughput level, comma-separated (default 1,8,32)",
        )
        parser.add_argument(
            "--data-root",
            type=Path,
            default=Path(settings.BASE_DIR) / ".bench",
            help="folder of the embedded data folders pg-<size> (default .bench/)",
        )
        parser.add_argument("--seed", type=int, default=1, help="corpus and sampling seed")
        parser.add_argument("--corpus", type=Path, default=None, help="real corpus folder")
        parser.add_argument(
            "--known-items",
            type=int,
            default=0,
            help="only N known-item queries, taken from every kind in turn",
        )
        parser.add_argument(
            "--output",
            type=Path,
            default=Path(settings.BASE_DIR) / "docs" / "benchmarks.md",
            help="where the report goes (default docs/benchmarks.md)",
        )
        parser.add_argument(
            "--smoke",
            action="store_true",
            help="the whole path in under a minute: 300 pieces, 3 runs, 2 s per level",
        )

    def handle(self, *args, sizes, runs, duration, concurrency, smoke, **options):
        if smoke:
            sizes = sizes or SMOKE["sizes"]
            runs, duration = SMOKE["runs"], SMOKE["duration"]
            options["known_items"] = options["known_items"] or SMOKE["known_items"]
        sizes = sizes or [10_000]
        try:
            levels = [int(n) for n in concurrency.split(",")]
        except ValueError as error:
            raise CommandError("--concurrency takes numbers such as 1,8,32") from error
        if min(sizes) < 1 or runs < 1 or duration <= 0 or min(levels) < 1:
            raise CommandError("sizes, --runs, --duration and --concurrency must be positive")
        if "generate_corpus" not in get_commands():
            raise CommandError("the generate_corpus command is missing: no corpus to build")
        corpus_dir = options["corpus"] or default_corpus_dir()
        if not targets.corpus_present(corpus_dir):
            self.stdout.write(f"No corpus at {corpus_dir}: known-item quality is skipped.")
            corpus_dir = None
        items = first_of_each_kind(ALL_ITEMS, options["known_items"])
        plan = benchmarking.Options(
            sizes=sorted(set(sizes)),
            data_root=options["data_root"].resolve(),
            runs=runs,
            duration=duration,
            concurrency=levels,
            seed=options["seed"],
            corpus_dir=corpus_dir,
            known_items=items,
            tantivy=tantivy_index.available(),
            # The smoke run proves the path, not the figures: one database, one warm-up.
            corpus_alone=not smoke,
            warm_passes=1 if smoke else 2,
        )
        plan.data_root.mkdir(parents=True, exist_ok=True)

        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            result = benchmarking.run(plan, log=self.stdout.write)
        except KeyboardInterrupt:
            raise CommandError(
                "Interrupted; gunicorn and the database servers are stopped."
            ) from None
        finally:
            signal.signal(signal.SIGTERM, previous)
        text = report.render(result)
        output = options["output"]
        output.parent.mkdir(parents=True, exist_ok=True)
        # The bulk import section is bench_import's, measured apart: it stays.
        if output.exists():
            text = imports.splice(text, imports.section_of(output.read_text(encoding="utf-8")))
        output.write_text(text, encoding="utf-8")
        self.stdout.write("\n" + text)
        self.stdout.write(f"Written to {output}.")
