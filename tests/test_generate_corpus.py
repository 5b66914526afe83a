"""manage.py generate_corpus: a synthetic archive whose links, text and search agree."""

import datetime
import re
import statistics
from io import StringIO
from unittest import mock

from django.core.management import CommandError, call_command
from django.db import connection
from django.test import TestCase

from archive.management import synthetic
from archive.models import Actor, Article, ArticleActor, ArticleEvent, DatePrecision

SEED = 7
COUNT = 300


def generate(**options) -> str:
    out = StringIO()
    options.setdefault("seed", SEED)
    call_command("generate_corpus", workers=1, stdout=out, **options)
    return out.getvalue()


def synthetic_pieces(seed=SEED):
    return Article.objects.filter(slug__startswith=f"synth-{seed}-")


def generated(seed, block=0):
    """What the generator makes for a seed, without writing anything."""
    with connection.cursor() as cursor:
        cast = synthetic.load_cast(cursor, synthetic.build_world())
    return synthetic.generate_block(cast, seed, block)


def text_of(article) -> str:
    return synthetic.fold(f"{article.title}\n{article.lead}\n{article.body}")


def names_in(text: str, names) -> bool:
    return any(re.search(rf"\b{re.escape(synthetic.fold(n))}\b", text) for n in names)


class GenerateCorpusTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.seeds = sorted(Article.objects.values_list("slug", "title", "body"))
        cls.output = generate(articles=COUNT)
        cls.pieces = list(synthetic_pieces().prefetch_related("authors"))

    def test_adds_the_pieces_and_leaves_the_archive_alone(self):
        assert len(self.pieces) == COUNT
        assert f"Added {COUNT} pieces (seed {SEED})" in self.output
        untouched = Article.objects.exclude(slug__startswith="synth-")
        assert sorted(untouched.values_list("slug", "title", "body")) == self.seeds

    def test_same_seed_gives_the_same_pieces_and_another_seed_others(self):
        stored = {a.slug: (a.title, a.lead, a.body) for a in self.pieces}
        again = {p.slug(SEED): (p.title, p.lead, p.body) for p in generated(SEED)[:COUNT]}
        assert again == stored
        other = [(p.title, p.body) for p in generated(SEED + 1)[:COUNT]]
        assert not set(other) & {(title, body) for title, _, body in stored.values()}

    def test_running_again_adds_nothing_and_says_so(self):
        output = generate(articles=COUNT)
        assert "Nothing to add" in output
        assert synthetic_pieces().count() == COUNT

    def test_a_larger_run_adds_only_the_missing_pieces(self):
        before = dict(synthetic_pieces().values_list("slug", "body"))
        output = generate(articles=COUNT + 50)
        assert "adding the other 50" in output
        after = dict(synthetic_pieces().values_list("slug", "body"))
        assert len(after) == COUNT + 50
        assert {slug: after[slug] for slug in before} == before
        expected = {p.slug(SEED): p.body for p in generated(SEED)[COUNT : COUNT + 50]}
        assert {slug: after[slug] for slug in expected} == expected

    def test_bodies_titles_and_intros_are_shaped_like_commentary(self):
        words = [len(a.body.split()) for a in self.pieces]
        assert 380 <= statistics.mean(words) <= 540
        assert min(words) >= 150
        assert all("\n\n" in a.body for a in self.pieces)
        assert all(5 <= len(a.title.split()) <= 12 for a in self.pieces)
        leads = [len(a.lead.split()) for a in self.pieces if a.lead]
        assert len(leads) >= 0.75 * COUNT
        assert all(15 <= n <= 35 for n in leads)

    def test_dates_span_25_years_with_day_month_and_year_precision(self):
        precisions = {p: [] for p in DatePrecision.values}
        for article in self.pieces:
            precisions[article.date_precision].append(article.published_on)
        assert len(precisions["day"]) > 0.8 * COUNT
        assert precisions["month"] and all(d.day == 1 for d in precisions["month"])
        assert precisions["year"] and all((d.month, d.day) == (1, 1) for d in precisions["year"])
        dates = [a.published_on for a in self.pieces]
        assert datetime.date(2001, 1, 1) <= min(dates) and max(dates) <= datetime.date(2025, 12, 31)
        recent = sum(d.year >= 2013 for d in dates)
        assert recent > 2 * (COUNT - recent)

    def test_linked_actors_are_named_in_the_text(self):
        links = ArticleActor.objects.filter(article__in=self.pieces).select_related("actor")
        texts = {a.pk: text_of(a) for a in self.pieces}
        assert len(links) > COUNT
        for link in links:
            assert link.mentions >= 1
            assert names_in(texts[link.article_id], link.actor.match_names), link
        confirmed = sum(link.confirmed for link in links) / len(links)
        assert 0.1 < confirmed < 0.6

    def test_poetin_is_in_about_a_fifth_of_the_pieces(self):
        linked = ArticleActor.objects.filter(article__in=self.pieces, actor__slug="vladimir-poetin")
        assert 0.13 * COUNT <= linked.count() <= 0.27 * COUNT

    def test_search_finds_exactly_the_pieces_linked_to_an_actor(self):
        invented = (
            Actor.objects.filter(slug__in=[a.slug for a in synthetic.build_world().actors])
            .filter(kind="person", description__gt="", article_links__article__in=self.pieces)
            .exclude(name__in=["Mark Rutte", "Donald Trump"])
            .first()
        )
        for actor, query in [
            (Actor.objects.get(slug="vladimir-poetin"), "Poetin"),
            (invented, invented.name.split()[-1]),
        ]:
            linked = set(
                synthetic_pieces().filter(actor_links__actor=actor).values_list("pk", flat=True)
            )
            found = set(synthetic_pieces().search(query).values_list("pk", flat=True))
            assert linked and found == linked, query

    def test_events_are_linked_in_their_window_with_their_signal_words(self):
        links = ArticleEvent.objects.filter(article__in=self.pieces).select_related(
            "event", "article"
        )
        assert links
        for link in links:
            first, last = link.article.period
            end = (link.event.end_date or datetime.date(2025, 12, 31)) + datetime.timedelta(30)
            assert link.event.start_date <= last and first <= end, link
            assert names_in(text_of(link.article), link.event.signal_words), link
            assert link.evidence.startswith("datum past; ")

    def test_pieces_have_sources_and_authors(self):
        with_source = [a for a in self.pieces if a.source_id]
        assert len(with_source) > 0.8 * COUNT
        assert len({a.source_id for a in with_source}) > 20
        with_authors = [a for a in self.pieces if a.authors.all()]
        assert len(with_authors) > 0.5 * COUNT
        assert len({au.pk for a in with_authors for au in a.authors.all()}) > 50


class IndexTests(TestCase):
    def index_names(self):
        with connection.cursor() as cursor:
            return synthetic.existing_index_names(cursor)

    def test_a_load_that_drops_the_indexes_rebuilds_them(self):
        declared = {index.name for _, index in synthetic.secondary_indexes()}
        output = generate(articles=20, seed=11, indexes="drop")
        assert "Dropped for the load" in output
        assert declared <= self.index_names()

    def test_a_failed_load_rebuilds_the_indexes_and_says_how_to_go_on(self):
        declared = {index.name for _, index in synthetic.secondary_indexes()}
        with (
            mock.patch.object(synthetic, "run_jobs", side_effect=RuntimeError("disk full")),
            self.assertRaisesMessage(CommandError, "disk full"),
        ):
            generate(articles=20, seed=12, indexes="drop")
        assert declared <= self.index_names()

    def test_workers_need_committed_data(self):
        with self.assertRaisesMessage(CommandError, "--workers 1"):
            call_command("generate_corpus", articles=10, workers=2, stdout=StringIO())
