"""Search quality on real Dutch articles: readers find a piece by what they remember.

The DPG news corpus (../shared/corpus/) is imported once per class inside the class's
transaction (setUpTestData), so none of it leaks into tests that expect the four seeds.
"""

import unittest
from pathlib import Path

from django.conf import settings
from django.test import TestCase

from archive.management.commands.bench_search import known_item_ranks, share
from archive.management.commands.known_items import KNOWN_ITEMS
from archive.management.corpus import DPG_FILE, import_dpg
from archive.models import Article
from tests.factories import make_article

CORPUS = Path(settings.BASE_DIR).parent / "shared" / "corpus"

# Measured: 52 of 52 known items in the top 3 (49 at rank 1). The bar sits at 90% so
# one or two new queries or a ranking tweak can move it a little, while a regression
# that loses the coverage ranking (any word matches, all words first) falls far below.
MIN_TOP3_SHARE = 0.9


def titles(queryset):
    return [article.title for article in queryset]


# Skipped by marker, not from setUpTestData: pytest's skip is a BaseException, which
# would escape TestCase's class-level rollback and leave the connection broken.
@unittest.skipUnless((CORPUS / DPG_FILE).exists(), f"corpus not found at {CORPUS}")
class KnownItemSearchTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.id_to_pk = import_dpg(CORPUS)

    def test_known_items_are_found_in_the_top_three(self):
        ranks = known_item_ranks(KNOWN_ITEMS, self.id_to_pk)
        misses = [(query, rank) for _, query, rank in ranks if rank is None or rank > 3]
        assert share(ranks, 3) >= MIN_TOP3_SHARE, misses

    def test_one_word_absent_from_the_piece_does_not_lose_it(self):
        # The piece says "afgetreden"; "treedt" is nowhere in it.
        target = self.id_to_pk[10776565]
        found = list(Article.objects.search("Bouteflika treedt af").values_list("pk", flat=True))
        assert target in found[:3]

    def test_name_without_diacritics_finds_the_piece_and_back(self):
        # The corpus writes "Caputova"; a reader may type it either way.
        target = self.id_to_pk[10766115]
        for query in ("Čaputová president Slowakije", "Caputova president Slowakije"):
            pks = list(Article.objects.search(query).values_list("pk", flat=True)[:3])
            assert target in pks, query


class MemoryIsInexactTests(TestCase):
    """Made-up pieces: the behaviours the issue names, independent of the corpus."""

    @classmethod
    def setUpTestData(cls):
        make_article("Wagner trok naar Moskou, zei de generaal.", title="Wagner alleen")
        make_article("Wagnersoldaten trokken Rostov binnen.", title="Wagnersoldaten")
        make_article("Een huurling sprak over geld.", title="Huurling")
        make_article("Het huurlingenleger rukte op.", title="Huurlingenleger")
        make_article("Zuzana Čaputová wint de verkiezingen in Slowakije.", title="Met accenten")
        make_article("Poetin sprak met de generaals over de aftocht.", title="Alle woorden")
        make_article("Poetin sprak over de economie.", title="Twee woorden")

    def test_search_finds_compound_words_below_exact_matches(self):
        wagner = titles(Article.objects.search("Wagner"))
        assert wagner.index("Wagner alleen") < wagner.index("Wagnersoldaten")
        huurling = titles(Article.objects.search("huurling"))
        assert huurling.index("Huurling") < huurling.index("Huurlingenleger")

    def test_search_ignores_diacritics_in_names(self):
        assert "Met accenten" in titles(Article.objects.search("Caputova"))
        assert "Met accenten" in titles(Article.objects.search("Čaputová"))

    def test_pieces_matching_all_words_rank_above_those_matching_most(self):
        found = titles(Article.objects.search("Poetin generaals aftocht"))
        assert found.index("Alle woorden") < found.index("Twee woorden")

    def test_one_unmatched_word_never_empties_the_results(self):
        found = titles(Article.objects.search("Poetin generaals zwijnenstal"))
        assert found[0] == "Alle woorden"
