"""The seed fixture: clean pieces, loadable on an empty and on a loaded archive."""

import pytest
from django.core.management import call_command

from archive.models import Actor, Article, ArticleActor, ArticleEvent, Author, Event, Source

pytestmark = pytest.mark.django_db

MODELS = [Source, Author, Actor, Event, Article, ArticleActor, ArticleEvent]
DEBRIS = ["Beeld ANP", "Onze excuses", "Volledig scherm", "©", "date 2022-02", "Aanvaard de social"]


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def test_loaddata_on_empty_archive_then_again_adds_nothing_twice():
    for model in reversed(MODELS):
        model.objects.all().delete()
    assert set(counts().values()) == {0}
    call_command("loaddata", "seed_articles", verbosity=0)
    first = counts()
    call_command("loaddata", "seed_articles", verbosity=0)
    assert counts() == first
    assert first["Article"] == 4


def test_seed_bodies_carry_no_scraping_debris():
    for article in Article.objects.all():
        for debris in DEBRIS:
            assert debris not in article.body, (article.slug, debris)


def test_author_bio_moved_out_of_the_column():
    column = Article.objects.get(genre="column")
    assert "is uitgever van The Moscow Times" not in column.body
    sauer = column.authors.get()
    assert "The Moscow Times" in sauer.bio
    assert sauer.actor is not None  # the author is also an actor, quoted in another piece


def test_seed_dates_and_precision_follow_the_texts():
    by_genre = {
        a.genre: (a.published_on.isoformat(), a.date_precision) for a in Article.objects.all()
    }
    assert by_genre == {
        "column": ("2023-06-01", "month"),
        "commentaar": ("2023-06-26", "day"),
        "analyse": ("2022-02-19", "day"),
        "nieuws": ("2022-11-01", "month"),
    }


def test_seed_actors_have_aliases_across_scripts():
    poetin = Actor.objects.get(slug="vladimir-poetin")
    assert {"Putin", "Путин"} <= set(poetin.aliases)
    assert Actor.objects.get(slug="jevgeni-prigozjin").articles.count() == 2


def test_wagner_mutiny_links_the_two_june_2023_pieces():
    mutiny = Event.objects.get(slug="wagner-muiterij")
    assert set(mutiny.articles.values_list("genre", flat=True)) == {"column", "commentaar"}
