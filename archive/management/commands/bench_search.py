"""Search quality and speed on real articles: known-item queries and latency."""

import statistics
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from archive.management.commands.known_items import KNOWN_ITEMS
from archive.management.corpus import DPG_FILE, add_synthetic, default_corpus_dir, import_dpg
from archive.models import Article

# Latency set: the known-item queries plus the shapes that cost most (common words,
# one word, a prefix-heavy name, exclusion, phrase).
EXTRA_LATENCY_QUERIES = [
    "de",
    "Nederland",
    "politie",
    "kabinet Rutte",
    "verkiezingen Baudet Forum",
    "brexit -May",
    '"Tweede Kamer"',
    "Europese verkiezingen or Statenverkiezingen",
]


def known_item_ranks(items, id_to_pk, depth: int = 10) -> list[tuple[int, str, int | None]]:
    """(corpus id, query, 1-based rank of the target in the top `depth`, or None)."""
    out = []
    for corpus_id, query in items:
        pks = list(Article.objects.search(query).values_list("pk", flat=True)[:depth])
        target = id_to_pk.get(corpus_id)
        out.append((corpus_id, query, pks.index(target) + 1 if target in pks else None))
    return out


def share(ranks, k: int) -> float:
    return sum(1 for _, _, r in ranks if r is not None and r <= k) / len(ranks)


class Command(BaseCommand):
    help = (
        "Imports the DPG news corpus (../shared/corpus/, 1,398 articles with text) and "
        "optionally generated pieces, then reports known-item search quality (target in "
        "top 1/3/10) and search latency. Everything runs inside one transaction that is "
        "rolled back at the end: the archive is left exactly as it was."
    )

    def add_arguments(self, parser):
        parser.add_argument("--corpus", type=Path, default=None, help="corpus folder")
        parser.add_argument(
            "--queries", type=int, default=0, help="use only the first N known-item queries"
        )
        parser.add_argument("--rounds", type=int, default=5, help="latency rounds (default 5)")
        parser.add_argument(
            "--synthetic",
            type=int,
            default=0,
            help="also add N generated pieces (corpus word frequencies) for the latency run",
        )

    def handle(self, *args, corpus=None, queries=0, rounds=5, synthetic=0, **options):
        corpus_dir = corpus or default_corpus_dir()
        if not (corpus_dir / DPG_FILE).exists():
            self.stdout.write(f"No corpus at {corpus_dir} ({DPG_FILE} missing); nothing to do.")
            return
        if rounds < 1:
            raise CommandError("--rounds must be at least 1")
        items = KNOWN_ITEMS[:queries] if queries > 0 else KNOWN_ITEMS
        with transaction.atomic():
            try:
                self._run(corpus_dir, items, rounds, synthetic)
            finally:
                transaction.set_rollback(True)
        self.stdout.write("Rolled back: the archive is unchanged.")

    def _run(self, corpus_dir, items, rounds, synthetic):
        started = time.perf_counter()
        id_to_pk = import_dpg(corpus_dir)
        self.stdout.write(
            f"Imported {len(set(id_to_pk.values()))} corpus pieces in "
            f"{time.perf_counter() - started:.1f} s; archive holds "
            f"{Article.objects.count()} pieces."
        )

        ranks = known_item_ranks(items, id_to_pk)
        n = len(ranks)
        self.stdout.write(
            f"\nKnown items ({n} queries): top 1 {share(ranks, 1):.0%}, "
            f"top 3 {share(ranks, 3):.0%}, top 10 {share(ranks, 10):.0%}"
        )
        for corpus_id, query, rank in ranks:
            if rank != 1:
                where = f"rank {rank}" if rank else "not in top 10"
                self.stdout.write(f"  not first: {query!r} -> {corpus_id} ({where})")

        if synthetic:
            seconds = add_synthetic(corpus_dir, synthetic)
            self.stdout.write(f"\nAdded {synthetic} generated pieces in {seconds:.1f} s.")
        with transaction.get_connection().cursor() as cursor:
            cursor.execute("ANALYZE archive_article")
        self.latency([q for _, q in items] + EXTRA_LATENCY_QUERIES, rounds)

    def latency(self, queries, rounds):
        """First result page (20, ranked) and total count, as the search page asks."""
        size = Article.objects.count()
        per_query, per_round = [], []
        for _ in range(rounds):
            round_started = time.perf_counter()
            for query in queries:
                t = time.perf_counter()
                results = Article.objects.search(query)
                list(results.values_list("pk", flat=True)[:20])
                results.count()
                per_query.append(time.perf_counter() - t)
            per_round.append(time.perf_counter() - round_started)
        ms = sorted(x * 1000 for x in per_query)
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        spread = statistics.pstdev(per_round) / statistics.mean(per_round)
        self.stdout.write(
            f"\nLatency over {size} pieces, {len(queries)} queries x {rounds} rounds "
            f"(first page of 20 + count): median {statistics.median(ms):.1f} ms, "
            f"p95 {p95:.1f} ms, max {ms[-1]:.1f} ms; round-to-round spread "
            f"{spread:.1%} (round means {min(per_round) * 1000 / len(queries):.1f}-"
            f"{max(per_round) * 1000 / len(queries):.1f} ms/query)"
        )
