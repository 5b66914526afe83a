"""Search that knows the archive's actors and events: a query naming one finds the
pieces linked to it, says why, and shows a panel about it."""

import datetime
import json

import pytest

from archive.models import Actor, ArticleActor, ArticleEvent, Event
from archive.search import Browse, Filters
from archive.search.entities import EVENT, EntityIndex
from tests.factories import make_article
from tests.seeds import SEED_SLUGS

pytestmark = pytest.mark.django_db

COUP = SEED_SLUGS["000_e5e2b52ac800a774.txt"]
OPMARS = SEED_SLUGS["001_d795838efdc0c2e1.txt"]


def slugs(query: str, **filters) -> list[str]:
    search = Browse(Filters(q=query, **filters))
    return [a.slug for a in search.page(1).object_list]


def test_an_event_word_finds_the_linked_pieces_that_never_say_it():
    # Neither seed piece about the mutiny says "muiterij" (they say opstand, bijna-coup).
    assert "muiterij" not in " ".join(
        a.body.lower() for a in Event.objects.get(slug="wagner-muiterij").articles.all()
    )
    assert set(slugs("muiterij")) == {COUP, OPMARS}
    assert set(slugs("Muiterij van Wagner")) >= {COUP, OPMARS}


def test_the_page_says_why_a_piece_was_found_by_its_link_only(client):
    html = client.get("/zoeken/", {"q": "muiterij"}).content.decode()
    assert html.count('class="via"') == 2
    assert "Gevonden via de koppeling met Muiterij van Wagner" in html


def test_a_piece_found_by_its_text_is_not_said_to_be_found_by_link(client):
    make_article("De muiterij van de matrozen in 1933.", title="De Zeven Provinciën")
    html = client.get("/zoeken/", {"q": "muiterij"}).content.decode()
    assert "De Zeven Provinciën" in html
    assert html.count('class="via"') == 2  # only the two seed pieces


def test_confirmed_links_rank_above_suggested_ones():
    event = Event.objects.create(
        name="Staking in de haven",
        slug="havenstaking",
        start_date=datetime.date(2024, 1, 1),
        signal_words=["staking"],
    )
    suggested = make_article("Het werk lag stil.", title="Voorgesteld")
    confirmed = make_article("Niemand laadde of loste.", title="Bevestigd")
    ArticleEvent.objects.create(article=suggested, event=event, confirmed=False)
    ArticleEvent.objects.create(article=confirmed, event=event, confirmed=True)
    assert slugs("staking") == [confirmed.slug, suggested.slug]


def test_linked_pieces_rank_with_the_text_matches_on_every_word():
    # "muiterij Prigozjin": the linked piece naming Prigozjin matches both words.
    found = slugs("muiterij Prigozjin")
    assert found[:2] and set(found[:2]) <= {COUP, OPMARS}


def test_filters_apply_to_linked_pieces_too():
    assert slugs("muiterij", start=datetime.date(2024, 1, 1)) == []
    june = {"start": datetime.date(2023, 6, 1), "end": datetime.date(2023, 7, 31)}
    assert set(slugs("muiterij", **june)) == {COUP, OPMARS}


def test_sorted_by_date_the_linked_pieces_are_there_too():
    assert set(slugs("muiterij", sort="newest")) == {COUP, OPMARS}


def test_linked_pieces_enter_a_pool_that_overflows(settings):
    settings.SEARCH_POOL_SIZE = 3
    for n in range(6):
        make_article(f"Over de muiterij, deel {n}.", title=f"Muiterij {n}")
    search = Browse(Filters(q="muiterij"))
    assert not search.complete
    # Confirmed links score as exact matches: the seed pieces compete with the text.
    found = set(search.pool.ids)
    linked = set(
        ArticleEvent.objects.filter(event__slug="wagner-muiterij", confirmed=True).values_list(
            "article_id", flat=True
        )
    )
    assert linked and linked & found


def test_an_actor_adds_only_the_pieces_an_editor_linked_by_hand():
    actor = Actor.objects.create(name="Havenbedrijf", slug="havenbedrijf", kind="organisation")
    quiet = make_article("Over de kades en de kranen.", title="Stil over de naam")
    link = ArticleActor.objects.create(article=quiet, actor=actor, mentions=0, confirmed=False)
    assert quiet.slug not in slugs("Havenbedrijf")
    link.confirmed = True
    link.save()
    assert quiet.slug in slugs("Havenbedrijf")
    # A link whose names tagging found in the text adds nothing the words do not find:
    # were it used, a popular actor's every piece would be read again for each search.
    link.mentions = 2
    link.save()
    assert quiet.slug not in slugs("Havenbedrijf")


def test_what_names_an_event():
    index = EntityIndex.load()
    names = {
        word: {n.name for n in index.named(word) if n.kind == EVENT}
        for word in [
            "muiterij",
            "Muiterij van Wagner",
            "makiivka",
            "wagner",
            "slag",
            "van",
            "Minsk-akkoorden",
            "minsk akkoorden",
            "russische",
        ]
    }
    assert names["muiterij"] == {"Muiterij van Wagner"}
    assert names["Muiterij van Wagner"] == {"Muiterij van Wagner"}
    assert names["makiivka"] == {"Slag om Makiivka"}
    assert names["Minsk-akkoorden"] == names["minsk akkoorden"] == {"Minsk-akkoorden"}
    # The actor's name, a word of every day that is no signal word, a stop word, and a
    # word of several events' names name no event.
    assert names["wagner"] == names["slag"] == names["van"] == names["russische"] == set()


def test_entity_panel_for_a_query_naming_one_event(client):
    html = client.get("/zoeken/", {"q": "muiterij"}).content.decode()
    panel = html[html.index('class="entity-panel"') : html.index("</aside>")]
    assert "gebeurtenis" in panel
    assert 'href="/gebeurtenis/wagner-muiterij/"' in panel
    assert "23 juni 2023" in panel
    assert "2 stukken" in panel
    assert 'href="/zoeken/?event=wagner-muiterij"' in panel


def test_entity_panel_for_an_actor_named_by_an_alias(client):
    html = client.get("/zoeken/", {"q": "Prigozhin"}).content.decode()
    panel = html[html.index('class="entity-panel"') : html.index("</aside>")]
    assert "Jevgeni Prigozjin" in panel and "persoon" in panel
    assert "Alleen stukken over Jevgeni Prigozjin" in panel


@pytest.mark.parametrize(
    "query", ["oorlog", "muiterij Prigozjin", "muiterij or opstand", "Poetin -Prigozjin"]
)
def test_no_panel_unless_the_whole_query_names_one(client, query):
    html = client.get("/zoeken/", {"q": query}).content.decode()
    assert 'class="entity-panel"' not in html


def test_no_panel_when_already_filtered_by_it(client):
    html = client.get("/zoeken/", {"q": "muiterij", "event": "wagner-muiterij"}).content.decode()
    assert 'class="entity-panel"' not in html


def test_the_json_search_says_it_too(client):
    data = json.loads(client.get("/api/zoeken/", {"q": "muiterij"}).content)
    assert data["entity"]["slug"] == "wagner-muiterij"
    assert data["entity"]["type"] == "event"
    assert {tuple(r["found_via"]) for r in data["results"]} == {("Muiterij van Wagner",)}
    plain = json.loads(client.get("/api/zoeken/", {"q": "oorlog"}).content)
    assert plain["entity"] is None
