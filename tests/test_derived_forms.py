"""Derived forms of actors (Russische, Oekraïners): found by search and counted by
tagging, but weaker than names."""

import datetime

import pytest
from django.urls import reverse

from archive.models import Actor, Article, ArticleActor, ArticleEvent
from archive.search.parsing import Term
from archive.search.queries import AliasIndex
from archive.tagging import apply_suggestions, recheck_actor, suggest_actors, suggest_events
from tests.factories import make_article, run_tasks
from tests.test_admin import form_data, messages_of

pytestmark = pytest.mark.django_db

BIJNA_COUP = "de-bijna-coup-kent-aan-russische-kant-alleen-verliezers"


def titles(query):
    return [article.title for article in Article.objects.search(query)]


def found(article) -> dict[str, tuple[int, bool]]:
    return {s.actor.slug: (s.mentions, s.named) for s in suggest_actors(article)}


# The model


def test_match_names_end_with_the_derived_forms_and_names_stay_names():
    rusland = Actor(
        name="Rusland",
        kind=Actor.Kind.COUNTRY,
        aliases=["Russia"],
        derived_forms=["Russisch", " ", "Russen", "Russia", "Russisch"],
    )
    assert rusland.names == ["Rusland", "Russia"]
    assert rusland.match_forms == ["Russisch", "Russen"]
    assert rusland.match_names == ["Rusland", "Russia", "Russisch", "Russen"]


def test_a_persons_derived_form_is_never_split_into_a_surname():
    person = Actor(name="Karel Testman", kind=Actor.Kind.PERSON, derived_forms=["Karel-achtig"])
    assert person.match_names == ["Karel Testman", "Testman", "Karel-achtig"]


def test_seed_countries_ship_their_derived_forms():
    forms = dict(Actor.objects.values_list("slug", "derived_forms"))
    assert {"Russisch", "Russische", "Rus", "Russen"} <= set(forms["rusland"])
    assert {"Oekraïens", "Oekraïense", "Oekraïner", "Oekraïners"} <= set(forms["oekraine"])
    assert {"Amerikaans", "Amerikaanse", "Amerikaan", "Amerikanen"} <= set(
        forms["verenigde-staten"]
    )
    assert {"Wit-Russisch", "Wit-Russische"} <= set(forms["belarus"])


# Search


def test_the_name_finds_a_piece_that_has_only_the_adjective():
    make_article("De Oekraïense regering vroeg om steun.", title="Alleen bijvoeglijk")
    for query in ["Oekraine", "Oekraïne", "Ukraine"]:
        assert "Alleen bijvoeglijk" in titles(query), query


def test_an_adjective_finds_its_siblings_but_not_the_country():
    make_article("Rusland zweeg die dag.", title="Alleen het land")
    make_article("De Russen zwegen die dag.", title="Alleen de inwoners")
    make_article("Russische diplomaten zwegen.", title="Het woord zelf")
    shown = titles("Russische")
    assert "Alleen het land" not in shown
    assert {"Alleen de inwoners", "Het woord zelf"} <= set(shown)
    # The same without a diacritic or capital: "oekraiense" is "Oekraïense".
    make_article("Oekraïne zweeg die dag.", title="Ander land")
    make_article("Oekraïners zwegen die dag.", title="Andere inwoners")
    shown = titles("oekraiense")
    assert "Ander land" not in shown and "Andere inwoners" in shown


def test_alias_index_expands_names_to_all_forms_and_forms_to_forms_only():
    oekraine = Actor(
        name="Oekraïne",
        kind=Actor.Kind.COUNTRY,
        aliases=["Ukraine"],
        derived_forms=["Oekraïens", "Oekraïense"],
    )
    index = AliasIndex([oekraine])

    def expand(text):
        return {t.text for t in index.expand(Term((text,)))}

    assert expand("Ukraine") == {"Ukraine", "Oekraïne", "Oekraïens", "Oekraïense"}
    assert expand("oekraiense") == {"oekraiense", "Oekraïens", "Oekraïense"}


# Tagging


def test_adjectives_and_demonyms_count_as_mentions_of_the_country():
    article = make_article(
        "De Russische regering zweeg. Volgens Russen in Moskou is het stil.",
        published_on=datetime.date(2023, 1, 1),
    )
    mentions = found(article)
    assert mentions["rusland"] == (2, False)
    assert mentions["moskou"] == (1, True)


def test_a_longer_form_of_another_actor_wins():
    article = make_article(
        "De Wit-Russische president en de Wit-Russen zwegen; de Russische Federatie ook."
    )
    mentions = found(article)
    # "Russische Federatie" is one mention (the alias, so a name), "Wit-Russische" none.
    assert mentions["rusland"] == (1, True)
    assert mentions["belarus"] == (2, False)


def test_derived_forms_count_without_diacritics_but_not_as_compounds():
    article = make_article("De Oekraiense grens. Russischtalige kranten verschenen.")
    mentions = found(article)
    assert mentions["oekraine"] == (1, False)
    assert "rusland" not in mentions


def test_seed_counts_include_the_adjectives():
    mentions = found(Article.objects.get(slug=BIJNA_COUP))
    # Three times "Rusland", nine times "Russische", three times "Russen"; not the
    # "Wit-Russische" of Loekasjenko, which counts for Belarus.
    assert mentions["rusland"] == (15, True)
    assert mentions["oekraine"] == (2, False)  # "Oekraïense", twice
    assert mentions["belarus"] == (2, True)


@pytest.fixture
def makiivka_piece():
    """A piece in the window of the Slag om Makiivka with one of its signal words and
    the two countries it involves named only by adjectives."""
    return make_article(
        "Russische soldaten sneuvelden bij een Oekraïense aanval; velen zijn gesneuveld.",
        title="Na de aanval",
        published_on=datetime.date(2023, 1, 3),
    )


def test_an_actor_named_only_by_adjectives_is_no_evidence_for_an_event(makiivka_piece):
    actor_ids = {s.actor.pk for s in suggest_actors(makiivka_piece)}
    assert {"rusland", "oekraine"} <= set(
        Actor.objects.filter(pk__in=actor_ids).values_list("slug", flat=True)
    )
    assert "slag-om-makiivka" not in {
        s.event.slug for s in suggest_events(makiivka_piece, actor_ids)
    }
    # Named by name, the same two actors and the same signal word make the event.
    named = make_article(
        "Rusland verloor soldaten bij een aanval van Oekraïne; velen zijn gesneuveld.",
        published_on=datetime.date(2023, 1, 3),
    )
    actor_ids = {s.actor.pk for s in suggest_actors(named)}
    assert "slag-om-makiivka" in {s.event.slug for s in suggest_events(named, actor_ids)}


def test_the_seed_piece_on_the_mutiny_gets_no_battle_from_its_adjectives():
    article = Article.objects.get(slug=BIJNA_COUP)
    actor_ids = {s.actor.pk for s in suggest_actors(article)}
    assert "slag-om-makiivka" not in {s.event.slug for s in suggest_events(article, actor_ids)}


def test_apply_suggestions_links_the_countries_but_an_editor_decides_their_weight(
    makiivka_piece,
):
    apply_suggestions(makiivka_piece)
    links = {link.actor.slug: link for link in ArticleActor.objects.filter(article=makiivka_piece)}
    assert (links["rusland"].mentions, links["rusland"].confirmed) == (1, False)
    assert (links["oekraine"].mentions, links["oekraine"].confirmed) == (1, False)
    assert not ArticleEvent.objects.filter(article=makiivka_piece).exists()
    # Once an editor confirms the countries, they are the piece's actors like any other.
    ArticleActor.objects.filter(article=makiivka_piece).update(confirmed=True)
    assert apply_suggestions(makiivka_piece).events == 1
    assert ArticleEvent.objects.filter(
        article=makiivka_piece, event__slug="slag-om-makiivka"
    ).exists()


def test_recheck_links_pieces_that_use_a_new_derived_form():
    piece = make_article("De Kroniekse regering zweeg. Kroniekers wachtten af.")
    actor = Actor.objects.create(name="Kroniekland", slug="kroniekland", kind="country")
    assert recheck_actor(actor) == 0
    actor.derived_forms = ["Kroniekse", "Kroniekers"]
    actor.save()
    assert recheck_actor(actor, names=["Kroniekse", "Kroniekers"]) == 1
    link = ArticleActor.objects.get(actor=actor)
    assert (link.article, link.mentions, link.confirmed) == (piece, 2, False)
    assert recheck_actor(actor) == 0


# Admin


def test_admin_edits_derived_forms_next_to_the_aliases(staff_client):
    piece = make_article("De Kroniekse regering zweeg. Kroniekers wachtten af.")
    actor = Actor.objects.create(
        name="Kroniekland", slug="kroniekland", kind="country", aliases=["Kroniekrijk"]
    )
    change_url = reverse("admin:archive_actor_change", args=[actor.pk])
    page = staff_client.get(change_url)
    fields = list(page.context["adminform"].form.fields)
    assert fields.index("derived_forms") == fields.index("aliases") + 1
    html = page.content.decode()
    assert "Afgeleide vormen" in html
    assert "Bijvoeglijke naamwoorden en inwonersnamen (Russisch, Russische, Rus, Russen)" in html

    data = form_data(page)
    data.update(derived_forms="Kroniekse, Kroniekers", _save="Opslaan")
    response = staff_client.post(change_url, data)
    assert response.status_code == 302
    actor.refresh_from_db()
    assert actor.derived_forms == ["Kroniekse", "Kroniekers"]
    assert actor.aliases == ["Kroniekrijk"]
    assert "Nieuwe afgeleide vormen “Kroniekse”, “Kroniekers”: het archief loopt" in " ".join(
        messages_of(response)
    )
    run_tasks()
    assert ArticleActor.objects.get(actor=actor, article=piece).mentions == 2
    # The form shows them again as the editor typed them, and saving unchanged
    # re-checks nothing.
    data = form_data(staff_client.get(change_url))
    assert data["derived_forms"] == "Kroniekse,Kroniekers"
    data["_save"] = "Opslaan"
    response = staff_client.post(change_url, data)
    assert response.status_code == 302
    assert not any("Nieuwe" in m for m in messages_of(response))
    actor.refresh_from_db()
    assert actor.derived_forms == ["Kroniekse", "Kroniekers"]
