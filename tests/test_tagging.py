"""Suggested actors and events: names matched like search, evidence an editor can check."""

import datetime

import pytest
from django.db import connection

from archive import tagging
from archive.models import Actor, Article, ArticleActor, ArticleEvent, Event
from archive.tagging import (
    Suggested,
    apply_suggestions,
    recheck_actor,
    suggest_actors,
    suggest_events,
)
from tests.factories import make_article

pytestmark = pytest.mark.django_db

BIJNA_COUP = "de-bijna-coup-kent-aan-russische-kant-alleen-verliezers"
OPMARS = "opmars-van-prigozjin-laat-zien-hoe-kwetsbaar-poetins-rusland-is"
MISSIE = "poetins-missie-aan-de-oekraiense-grens-levert-resultaten-op-maar-de-risicos-groeien"
SOLDATENVROUWEN = (
    "soldatenvrouwen-confronteren-commandant-dugin-roept-verhuld-op-tot-moord-op-poetin"
)


def mentions(article) -> dict[str, int]:
    return {s.actor.slug: s.mentions for s in suggest_actors(article)}


def events_for(article) -> dict[str, str]:
    actor_ids = {s.actor.pk for s in suggest_actors(article)}
    return {s.event.slug: s.evidence for s in suggest_events(article, actor_ids)}


def seed(slug) -> Article:
    return Article.objects.get(slug=slug)


def test_match_names_add_a_persons_surname_but_never_split_other_names():
    poetin = Actor(name="Vladimir Poetin", kind=Actor.Kind.PERSON, aliases=["Putin", " "])
    assert poetin.match_names == ["Vladimir Poetin", "Putin", "Poetin"]
    rostov = Actor(name="Rostov aan de Don", kind=Actor.Kind.PLACE, aliases=["Rostov"])
    assert rostov.match_names == ["Rostov aan de Don", "Rostov"]


def test_counts_every_mention_of_prigozjin_in_seed():
    # Lead 2, body 12, one of them "Prigozjins oproep"; the title does not name him.
    assert mentions(seed(BIJNA_COUP))["jevgeni-prigozjin"] == 14


def test_counts_inflected_surname_and_full_name_once():
    # Lead 1; body: Poetins troon, Vladimir Poetins geloofwaardigheid, Poetinschip and
    # eight more "Poetin".
    assert mentions(seed(BIJNA_COUP))["vladimir-poetin"] == 12
    article = make_article("Poetins regering zweeg. Vladimir Poetin sprak. Daarna zweeg Poetin.")
    assert mentions(article)["vladimir-poetin"] == 3


def test_multi_word_names_match_across_stopwords_and_longest_name_wins():
    article = make_article(
        "Vladimir Poetin las The Moscow Times in Rostov aan de Don, niet in Moskou."
    )
    found = mentions(article)
    assert found["vladimir-poetin"] == 1
    assert found["the-moscow-times"] == 1
    assert found["rostov-aan-de-don"] == 1
    # "Moscow" (an alias of Moskou) inside the paper's name is no mention of the city.
    assert found["moskou"] == 1


def test_no_suggestion_for_actors_the_piece_does_not_name():
    assert "sergej-lavrov" not in mentions(seed(BIJNA_COUP))
    Actor.objects.create(name="Kaja Kallas", slug="kaja-kallas", aliases=["Kallas"])
    for article in Article.objects.all():
        assert "kaja-kallas" not in mentions(article)


def test_compound_words_count_for_a_one_word_name():
    # Wagnermanschappen, Wagnersoldaten, Wagnercolonne and Wagner twice.
    assert mentions(seed(BIJNA_COUP))["wagner"] == 5
    article = make_article("De Wagnersoldaten trokken verder; de Wagnerleiding zweeg.")
    assert mentions(article)["wagner"] == 2


def test_a_longer_name_is_not_a_compound_of_a_shorter_one():
    article = make_article("Darja Dugina kwam om. Dugina was journaliste.")
    found = mentions(article)
    assert found["darya-dugina"] == 2
    assert "alexander-dugin" not in found


def test_hyphenated_word_counts_once():
    article = make_article("Volgens de Kremlin-theorie zijn de VS schuld.")
    assert mentions(article)["kremlin"] == 1


def test_seed_000_gets_the_wagner_mutiny_with_its_signal_words():
    evidence = events_for(seed(BIJNA_COUP))["wagner-muiterij"]
    assert evidence.startswith("datum past")
    assert "Jevgeni Prigozjin" in evidence
    signals = evidence.split("signaalwoorden: ")[1].split(", ")
    assert {"rebellie", "bijna-coup", "hoogverraad"} <= set(signals)


def test_event_suggestions_recover_the_seed_links_with_few_extras():
    extras = 0
    for article in Article.objects.all():
        fixture = set(ArticleEvent.objects.filter(article=article).values_list("event__slug"))
        suggested = set(events_for(article))
        assert {slug for (slug,) in fixture} <= suggested, article.slug
        extras += len(suggested - {slug for (slug,) in fixture})
    assert extras <= 2


def test_an_earlier_event_needs_two_signal_words():
    # 002 (Feb 2022) discusses the Minsk agreements of 2014-15; 000 only names Minsk.
    assert events_for(seed(MISSIE))["minsk-akkoorden"].startswith("stuk blikt terug")
    assert "minsk-akkoorden" not in events_for(seed(BIJNA_COUP))


def test_never_suggests_an_event_that_starts_after_the_piece():
    prigozjin, wagner = Actor.objects.filter(slug__in=["jevgeni-prigozjin", "wagner"])
    event = Event.objects.create(
        name="Tweede muiterij",
        slug="tweede-muiterij",
        # 000 is known to the month, June 2023: its last possible day is 30 June.
        start_date=datetime.date(2023, 7, 1),
        signal_words=["muiterij", "rebellie", "bijna-coup", "hoogverraad"],
    )
    event.actors.set([prigozjin, wagner])
    assert "tweede-muiterij" not in events_for(seed(BIJNA_COUP))
    # The same event starting within that month is suggested: the date alone decides.
    Event.objects.filter(pk=event.pk).update(start_date=datetime.date(2023, 6, 30))
    assert "tweede-muiterij" in events_for(seed(BIJNA_COUP))


def test_names_that_are_all_stopwords_are_skipped():
    Actor.objects.create(name="De", slug="de", kind=Actor.Kind.ORGANISATION, aliases=["het"])
    assert "de" not in mentions(seed(BIJNA_COUP))


@pytest.fixture
def mutiny_piece():
    return make_article(
        "Prigozjin leidde de muiterij van Wagner. De rebellie eindigde bij Rostov.",
        title="Muiterij voorbij",
        published_on=datetime.date(2023, 6, 25),
    )


def test_apply_suggestions_links_unconfirmed_and_is_idempotent(mutiny_piece):
    first = apply_suggestions(mutiny_piece)
    assert first.actors == 3  # Prigozjin, Wagner, Rostov aan de Don
    assert first.events == 1
    assert apply_suggestions(mutiny_piece) == Suggested(actors=0, events=0)
    links = ArticleActor.objects.filter(article=mutiny_piece)
    assert {link.actor.slug: link.mentions for link in links} == {
        "jevgeni-prigozjin": 1,
        "wagner": 1,
        "rostov-aan-de-don": 1,
    }
    assert not any(link.confirmed for link in links)
    (event_link,) = ArticleEvent.objects.filter(article=mutiny_piece)
    assert event_link.event.slug == "wagner-muiterij"
    assert not event_link.confirmed
    assert "signaalwoorden: muiterij" in event_link.evidence


def test_apply_suggestions_never_brings_back_what_an_editor_rejected(mutiny_piece):
    mutiny_piece.rejected_actors.add(Actor.objects.get(slug="wagner"))
    mutiny_piece.rejected_events.add(Event.objects.get(slug="wagner-muiterij"))
    assert apply_suggestions(mutiny_piece) == Suggested(actors=2, events=0)
    linked = set(ArticleActor.objects.filter(article=mutiny_piece).values_list("actor__slug"))
    assert ("wagner",) not in linked
    assert not ArticleEvent.objects.filter(article=mutiny_piece).exists()


def test_apply_suggestions_updates_counts_but_leaves_confirmation_alone():
    article = seed(BIJNA_COUP)
    ArticleActor.objects.filter(article=article, actor__slug="jevgeni-prigozjin").update(mentions=1)
    ArticleActor.objects.filter(article=article, actor__slug="wagner").update(confirmed=False)
    soldatenvrouwen = seed(SOLDATENVROUWEN)
    assert apply_suggestions(article).actors == 0  # every actor found was linked already
    links = {link.actor.slug: link for link in ArticleActor.objects.filter(article=article)}
    assert links["jevgeni-prigozjin"].mentions == 14
    assert links["jevgeni-prigozjin"].confirmed
    assert not links["wagner"].confirmed
    # Darya Dugina is named only as "Darya" in 003: the editor's link keeps its count.
    apply_suggestions(soldatenvrouwen)
    dugina = ArticleActor.objects.get(article=soldatenvrouwen, actor__slug="darya-dugina")
    assert (dugina.mentions, dugina.confirmed) == (1, True)
    assert ArticleEvent.objects.get(article=article, event__slug="wagner-muiterij").confirmed


def test_apply_suggestions_takes_a_fixed_number_of_queries(
    mutiny_piece, django_assert_max_num_queries
):
    for n in range(20):
        actor = Actor.objects.create(name=f"Naam{n} Achternaam{n}", slug=f"naam-{n}")
        event = Event.objects.create(
            name=f"Gebeurtenis {n}",
            slug=f"gebeurtenis-{n}",
            start_date=datetime.date(2023, 1, 1),
            signal_words=["muiterij", f"woord{n}"],
        )
        event.actors.set([actor])
    # Article text, rejected actors and events, actors and their names, links, events
    # with their actors and signal words, inserts and update; savepoints around them.
    with django_assert_max_num_queries(15):
        apply_suggestions(mutiny_piece)


def test_recheck_links_pieces_that_use_a_new_alias():
    napoleon = Actor.objects.create(name="Keizer der Fransen", slug="keizer")
    assert recheck_actor(napoleon) == 0
    napoleon.aliases = ["Napoleon"]
    napoleon.save()
    assert recheck_actor(napoleon, names=["Napoleon"]) == 1
    link = ArticleActor.objects.get(actor=napoleon)
    assert (link.article.slug, link.mentions, link.confirmed) == (OPMARS, 1, False)
    assert recheck_actor(napoleon) == 0


def test_recheck_skips_pieces_that_rejected_the_actor():
    napoleon = Actor.objects.create(name="Napoleon", slug="napoleon-i")
    seed(OPMARS).rejected_actors.add(napoleon)
    assert recheck_actor(napoleon) == 0
    assert not ArticleActor.objects.filter(actor=napoleon).exists()


def test_recheck_updates_counts_and_finds_compounds():
    gazprom = Actor.objects.get(slug="gazprom")
    compound_only = make_article("De Gazpromdirectie vergaderde; de Gazpromdirectie zweeg.")
    ArticleActor.objects.filter(actor=gazprom).update(mentions=7)
    # 000 gets its real count back, the new piece a suggestion found through `gazprom:*`.
    assert recheck_actor(gazprom) == 2
    links = {link.article_id: link for link in ArticleActor.objects.filter(actor=gazprom)}
    assert links[compound_only.pk].mentions == 2
    assert links[seed(BIJNA_COUP).pk].mentions == 1
    assert links[seed(BIJNA_COUP).pk].confirmed


def test_recheck_works_in_batches(monkeypatch, django_assert_max_num_queries):
    monkeypatch.setattr(tagging, "BATCH_SIZE", 10)
    actor = Actor.objects.create(name="Echo van Moskou", slug="echo", kind="media")
    for n in range(30):
        make_article(f"Bericht {n}: Echo Moskvy meldde het, en Echo Moskvy herhaalde het.")
    actor.aliases = ["Echo Moskvy"]
    actor.save()
    # Four to find the names and the pieces, then for each of the four batches of ten:
    # a savepoint, the texts, the links, the insert, the release.
    with django_assert_max_num_queries(4 + 4 * 5):
        assert recheck_actor(actor, names=["Echo Moskvy"]) == 31  # 30 new pieces and 002
    counts = set(ArticleActor.objects.filter(actor=actor).values_list("mentions", flat=True))
    assert counts == {1, 2}


def test_suggestions_do_not_depend_on_server_default_config(mutiny_piece):
    expected_actors = mentions(seed(BIJNA_COUP))
    expected_events = events_for(seed(MISSIE))
    with connection.cursor() as cursor:
        cursor.execute("SET default_text_search_config = 'simple'")
    try:
        assert mentions(seed(BIJNA_COUP)) == expected_actors
        assert events_for(seed(MISSIE)) == expected_events
        assert apply_suggestions(mutiny_piece) == Suggested(actors=3, events=1)
        # Found only when the name is stemmed in Dutch: "russische" is "russisch" there.
        office = Actor.objects.create(
            name="Russische president", slug="russische-president", kind="organisation"
        )
        assert recheck_actor(office) == 1
        assert ArticleActor.objects.get(actor=office).mentions == 3
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET default_text_search_config")
