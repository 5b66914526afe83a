"""Suggestions while a reader types (/api/suggesties/, archive/suggest.py): actors and
events by a word of their names, headlines by prefix, and no error for any input."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from archive import ratelimit, suggest
from archive.models import Actor, ArticleActor, ArticleEvent, Event
from tests.factories import make_article

pytestmark = pytest.mark.django_db

URL = reverse("archive:api_suggest")


def suggestions(client, q, **extra):
    response = client.get(URL, {"q": q}, **extra)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()["suggestions"]


def labels(client, q, kind=None):
    return [s["label"] for s in suggestions(client, q) if kind is None or s["kind"] == kind]


# Actors and events


@pytest.mark.parametrize("typed", ["prig", "Prigozh", "jevgeni p", "yevg", "приг"])
def test_finds_an_actor_by_the_start_of_any_of_its_names(client, typed):
    assert labels(client, typed, "actor") == ["Jevgeni Prigozjin"]


def test_finds_an_actor_by_an_alias_only(client):
    # Lukashenko is an alias: the suggestion shows the archive's own name.
    pieces = Actor.objects.get(slug="alexandr-loekasjenko").piece_count
    found = [s for s in suggestions(client, "lukash") if s["kind"] == "actor"]
    assert found == [
        {
            "kind": "actor",
            "label": "Alexandr Loekasjenko",
            "detail": f"persoon · {pieces} stuk" + ("" if pieces == 1 else "ken"),
            "url": "/actor/alexandr-loekasjenko/",
        }
    ]


def test_finds_an_actor_by_a_later_word_of_its_name(client):
    assert "Vladimir Poetin" in labels(client, "poe", "actor")
    assert "Rostov aan de Don" in labels(client, "don", "actor")


def test_a_word_inside_another_word_is_not_a_match(client):
    # "ussi" is inside Russische and Rusland, at the start of no word.
    assert labels(client, "ussi") == []


def test_earlier_words_must_be_whole_and_in_order(client):
    assert labels(client, "vladimir p", "actor") == ["Vladimir Poetin"]
    assert labels(client, "vlad poe", "actor") == []


@pytest.mark.parametrize("typed", ["muit", "MUITERIJ", "muiterij van w"])
def test_finds_an_event_by_the_start_of_its_name(client, typed):
    found = [s for s in suggestions(client, typed) if s["kind"] == "event"]
    assert found == [
        {
            "kind": "event",
            "label": "Muiterij van Wagner",
            "detail": "23 jun 2023",
            "url": "/gebeurtenis/wagner-muiterij/",
        }
    ]


def test_finds_an_event_by_a_later_word_of_its_name(client):
    assert labels(client, "makii", "event") == ["Slag om Makiivka"]


@pytest.mark.parametrize("typed", ["oekrai", "oekraï", "OEKRAÏ", "Oekraï"])
def test_names_match_without_accents_or_case(client, typed):
    assert "Oekraïne" in labels(client, typed, "actor")


def test_an_accent_typed_finds_a_name_without_one(client):
    assert labels(client, "kïev", "actor") == ["Kiev"]


def test_most_covered_subjects_come_first(client):
    pieces = [make_article(f"Tekst {n}.") for n in range(4)]
    for name, linked in [("Zandberg", 1), ("Zandvoort", 3), ("Zandstra", 2)]:
        actor = Actor.objects.create(name=name, slug=name.lower(), kind=Actor.Kind.PLACE)
        for article in pieces[:linked]:
            ArticleActor.objects.create(article=article, actor=actor)
    event = Event.objects.create(
        name="Zandstorm", slug="zandstorm", start_date=datetime.date(2020, 1, 1)
    )
    for article in pieces:
        ArticleEvent.objects.create(article=article, event=event)
    assert labels(client, "zand") == ["Zandstorm", "Zandvoort", "Zandstra", "Zandberg"]
    assert [s["detail"] for s in suggestions(client, "zandvoort")] == ["plaats · 3 stukken"]
    assert [s["detail"] for s in suggestions(client, "zandberg")] == ["plaats · 1 stuk"]


def test_no_more_than_a_few_subjects(client):
    for n in range(suggest.MAX_SUBJECTS + 3):
        Actor.objects.create(name=f"Quarkus {n}", slug=f"quarkus-{n}")
    assert len(labels(client, "quark")) == suggest.MAX_SUBJECTS


def test_a_new_actor_is_suggested_at_once(client):
    assert labels(client, "xylo") == []
    Actor.objects.create(name="Xylofoon", slug="xylofoon", kind=Actor.Kind.ORGANISATION)
    assert labels(client, "xylo") == ["Xylofoon"]


# Headlines


def test_finds_a_headline_by_the_start_of_a_word(client):
    found = [s for s in suggestions(client, "opma") if s["kind"] == "piece"]
    assert found == [
        {
            "kind": "piece",
            "label": "Opmars van Prigozjin laat zien hoe kwetsbaar Poetins Rusland is",
            "detail": "26 jun 2023",
            "url": "/artikel/opmars-van-prigozjin-laat-zien-hoe-kwetsbaar-poetins-rusland-is/",
        }
    ]


def test_a_headline_shows_its_source_and_date(client):
    found = [s for s in suggestions(client, "bijna") if s["kind"] == "piece"]
    assert [s["detail"] for s in found] == ["Het Parool · jun 2023"]


def test_headlines_match_without_accents_and_across_words(client):
    assert labels(client, "oekraiense gr", "piece") == [
        "Poetins missie aan de Oekraïense grens levert resultaten op, maar de risico’s groeien"
    ]


def test_a_whole_word_typed_finds_the_headline_that_inflects_it(client):
    # The vector holds the stem (muiterij); typed in full, the plural is stemmed too.
    make_article("Tekst.", title="Muiterij in de kazerne")
    assert labels(client, "muiterijen", "piece") == ["Muiterij in de kazerne"]


def test_only_the_headline_counts_not_the_intro(client):
    make_article("Tekst.", title="Een gewone kop", lead="Over de zwaluwstaartvlinder")
    assert labels(client, "zwaluw", "piece") == []
    make_article("Tekst 2.", title="De zwaluwstaartvlinder is terug")
    assert labels(client, "zwaluw", "piece") == ["De zwaluwstaartvlinder is terug"]


@pytest.mark.parametrize(("recent", "queries"), [(1000, 1), (4, 1), (1, 2)])
def test_newest_headlines_first_and_only_a_few(
    client, monkeypatch, django_assert_max_num_queries, recent, queries
):
    # Found by walking the newest pieces (the newest RECENT hold enough: one query), or
    # when they do not, from all matches (two queries): the same newest few either way.
    monkeypatch.setattr(suggest, "RECENT", recent)
    for day in (1, 5, 3, 4, 2):
        make_article(
            f"Tekst {day}.",
            title=f"Quokka's op {day} mei",
            published_on=datetime.date(2099, 5, day),
        )
    suggestions(client, "qu")  # the actors and events, read once
    with django_assert_max_num_queries(queries):
        found = labels(client, "quok", "piece")
    assert found == [f"Quokka's op {day} mei" for day in (5, 4, 3, 2, 1)][: suggest.MAX_HEADLINES]


def test_subjects_come_before_headlines(client):
    kinds = [s["kind"] for s in suggestions(client, "prig")]
    assert kinds[0] == "actor"
    assert "piece" in kinds
    assert kinds == sorted(kinds, key=lambda kind: kind == "piece")


# Input of every kind


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "p",
        " p ",
        "p o",
        "\x00",
        "\x00p",
        "\x01\x02\x03",
        "é",
        "a" * 10_240,
        "Poetin " * 1500,
        "::*",
        "'",
        "&|!<->()",
        "\ufeff\u200b",
        "\U0001f4a9\U0001f4a9",
    ],
)
def test_input_without_two_letters_or_too_long_gives_no_suggestions(client, typed):
    assert suggestions(client, typed) == []


@pytest.mark.parametrize(
    "typed",
    ["po:*", "po'", "po&po", "p\x00o", "po!", "(po)", "po:*A|x", "po<->ti", "'; DROP TABLE x;--"],
)
def test_tsquery_syntax_in_the_input_is_taken_as_words(client, typed):
    # Never an error, and no actor is found through an operator.
    for item in suggestions(client, typed):
        assert set(item) == {"kind", "label", "detail", "url"}


def test_a_nul_between_letters_is_dropped(client):
    assert labels(client, "prig\x00", "actor") == ["Jevgeni Prigozjin"]


def test_missing_q_gives_an_empty_list(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert response.json() == {"query": "", "suggestions": []}


def test_the_answer_names_the_query_cleaned(client):
    response = client.get(URL, {"q": "mui\x00t"})
    assert response.json()["query"] == "mui t"


# Cost and caching


def test_query_count_is_bounded(client, django_assert_max_num_queries):
    # Actors, events (once per process and change), newest headlines, all headlines.
    with django_assert_max_num_queries(4):
        suggestions(client, "xqzw")
    # Then at most the two headline queries; one when the newest pieces suffice.
    with django_assert_max_num_queries(2):
        suggestions(client, "qwxz")
    for n in range(suggest.MAX_HEADLINES):
        make_article(
            f"Tekst {n}.", title=f"Ruzie nummer {n}", published_on=datetime.date(2099, 1, 1)
        )
    suggestions(client, "ruzi")  # the index is rebuilt after the new pieces
    with django_assert_max_num_queries(1):
        suggestions(client, "ruzie")


def test_a_repeated_answer_comes_from_the_page_cache(client):
    suggestions(client, "prig")
    with CaptureQueriesContext(connection) as queries:
        again = client.get(URL, {"q": "prig"})
    assert len(queries) == 0
    assert again.json()["suggestions"][0]["label"] == "Jevgeni Prigozjin"


def test_browsers_may_keep_answers_briefly(client):
    first = client.get(URL, {"q": "prig"})
    cached = client.get(URL, {"q": "prig"})  # from the page cache
    for response in (first, cached):
        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert directives == {"public", f"max-age={suggest_max_age()}"}


def suggest_max_age():
    from archive.api import SUGGEST_MAX_AGE

    assert 0 < SUGGEST_MAX_AGE <= 3600
    return SUGGEST_MAX_AGE


# Rate limit: a class of its own


@pytest.fixture
def limits(settings, monkeypatch):
    monkeypatch.setattr(ratelimit, "clock", lambda: 1_800_000_010)
    settings.RATE_LIMITS_ENABLED = True
    settings.RATE_LIMIT_SUGGEST = (4, 60)
    settings.RATE_LIMIT_API = (1, 60)
    settings.RATE_LIMIT_REDIS_URL = ""
    settings.TRUSTED_PROXIES = 0


def test_suggestions_have_their_own_limit_and_answer_json_past_it(client, limits):
    assert client.get(reverse("archive:api_browse")).status_code == 200
    # The API's limit (1) is used up; suggestions count on their own (4).
    codes = [client.get(URL, {"q": f"po{n}"}).status_code for n in range(4)]
    assert codes == [200] * 4
    response = client.get(URL, {"q": "poe"})
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "50"
    assert "Probeer het over 50 seconden opnieuw" in response.json()["error"]


def test_the_default_limit_is_generous(settings):
    count, seconds = settings.RATE_LIMIT_SUGGEST
    assert count / seconds >= 5  # several keystrokes a second, for a minute
    assert count / seconds > settings.RATE_LIMIT_API[0] / settings.RATE_LIMIT_API[1]
