"""Search quality and speed on real articles: known-item queries and latency."""

import statistics
import time
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from archive.management.benchmarking import subjects
from archive.management.commands.known_items import ALL_ITEMS, KINDS, by_kind, first_of_each_kind
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


def known_item_ranks(items, id_to_pk, depth: int = 10) -> list[tuple[int | str, str, int | None]]:
    """(target, query, 1-based rank of the target in the top `depth`, or None), one per
    known item; `id_to_pk` maps targets (corpus ids, seed slugs) to pieces."""
    out = []
    for target, query, *_ in items:
        pks = list(Article.objects.search(query).values_list("pk", flat=True)[:depth])
        pk = id_to_pk.get(target)
        out.append((target, query, pks.index(pk) + 1 if pk in pks else None))
    return out


def share(ranks, k: int) -> float:
    return sum(1 for _, _, r in ranks if r is not None and r <= k) / len(ranks)


def seed_pieces() -> dict[str, int]:
    """The seed pieces as the fixture has them (loaded into this transaction, so even an
    archive that changed them is measured on the fixture's): slug -> pk."""
    call_command("loaddata", "seed_articles", verbosity=0)
    seeds = {item.target for item in ALL_ITEMS if isinstance(item.target, str)}
    return dict(Article.objects.filter(slug__in=seeds).values_list("slug", "pk"))


class Command(BaseCommand):
    help = (
        "Imports the DPG news corpus (../shared/corpus/, 1,398 articles with text) and "
        "optionally generated pieces, loads the seed pieces, adds the benchmark's actors "
        "and events and links the corpus to them by the archive's suggestions, then "
        "reports known-item search quality per kind of query (target in top 1/3/10) and "
        "search latency. Everything runs inside one transaction that is rolled back at the "
        "end: the archive is left exactly as it was."
    )

    def add_arguments(self, parser):
        parser.add_argument("--corpus", type=Path, default=None, help="corpus folder")
        parser.add_argument(
            "--queries",
            type=int,
            default=0,
            help="use only N known-item queries, taken from every kind in turn",
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
        items = first_of_each_kind(ALL_ITEMS, queries)
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

        targets = {**id_to_pk, **seed_pieces()}
        added = subjects.add_subjects()
        started = time.perf_counter()
        actors, events = subjects.link_pieces(set(id_to_pk.values()))
        self.stdout.write(
            f"Benchmark actors and events added or completed: {added}; suggestions linked "
            f"the corpus to actors {actors} times and to events {events} times in "
            f"{time.perf_counter() - started:.1f} s."
        )

        ranks = known_item_ranks(items, targets)
        self.stdout.write(f"\nKnown items ({len(ranks)} queries), target in the top 1 / 3 / 10:")
        rows = [(KINDS[kind], found) for kind, found in by_kind(items, ranks).items()]
        width = max(len(label) for label, _ in [*rows, ("all", ())])
        for label, found in [*rows, ("all", ranks)]:
            self.stdout.write(
                f"  {label:<{width}}  {len(found):>3} queries  {share(found, 1):>4.0%} "
                f"{share(found, 3):>4.0%} {share(found, 10):>4.0%}"
            )
        for item, (target, query, rank) in zip(items, ranks, strict=True):
            if rank != 1:
                where = f"rank {rank}" if rank else "not in top 10"
                self.stdout.write(
                    f"  not first, {KINDS[item.kind]}: {query!r} -> {target} ({where})"
                )

        if synthetic:
            seconds = add_synthetic(corpus_dir, synthetic)
            self.stdout.write(f"\nAdded {synthetic} generated pieces in {seconds:.1f} s.")
        with transaction.get_connection().cursor() as cursor:
            cursor.execute("ANALYZE archive_article")
        self.latency([item.query for item in items] + EXTRA_LATENCY_QUERIES, rounds)

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
