import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from archive.management import benchmarking
from archive.management.benchmarking import imports


class Command(BaseCommand):
    help = (
        "Bulk import at scale: for each size, a generated JSON Lines file imported with "
        "import_articles into an empty archive of its own under --data-root (made anew), "
        "stopped at half way and resumed (and, with --full, once without a stop), with the "
        "import's peak memory; then the editor's admin saves timed on the full archive. "
        "Writes the figures into the bulk import section of --output."
    )

    def add_arguments(self, parser):
        parser.add_argument("sizes", nargs="*", type=int, help="pieces (default 10000)")
        parser.add_argument("--data-root", type=Path, default=Path(settings.BASE_DIR) / ".bench")
        parser.add_argument(
            "--output", type=Path, default=Path(settings.BASE_DIR) / "docs" / "benchmarks.md"
        )
        parser.add_argument("--full", action="store_true", help="also import once without a stop")
        parser.add_argument("--editor-runs", type=int, default=3)
        parser.add_argument("--smoke", action="store_true", help="300 pieces, one run of each save")

    def handle(self, *args, sizes, data_root, output, full, editor_runs, smoke, **options):
        sizes = [300] if smoke else (sizes or [10_000])
        if smoke:
            editor_runs = 1
        if any(n < 10 for n in sizes):
            raise CommandError("sizes of at least 10 pieces")
        data_root.mkdir(parents=True, exist_ok=True)
        machine = benchmarking.machine()
        date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
        results = []
        for size in sizes:
            self.stdout.write(f"{size:,} pieces:")
            results.append(
                imports.measure(
                    size, data_root, self.stdout.write, full=full, editor_runs=editor_runs
                )
            )
        section = imports.render(results, machine, date)
        old = output.read_text(encoding="utf-8") if output.exists() else "# Benchmarks\n"
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(imports.splice(old, section), encoding="utf-8")
        self.stdout.write("\n" + section)
        self.stdout.write(f"Written to {output}.")
