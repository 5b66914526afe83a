"""Actor, event, source, author and genre pages, the indexes, related pieces and charts."""

import datetime

import pytest
from django.urls import reverse

from archive.charts import Bar, Chart, coverage_chart
from archive.models import Actor, Article, Author, Event, Source
from archive.querysets import AFTER, BEFORE, DURING, key_terms
from tests.factories import make_article

pytestmark = pytest.mark.django_db

COMMENTAAR = "opmars-van-prigozjin-laat-zien-hoe-kwetsbaar-poetins-rusland-is"
COLUMN = "de-bijna-coup-kent-aan-russische-kant-alleen-verliezers"

# Each page's query budget; none of them may grow with the data.
BUDGET = {
    "actor": 7,
    "event": 6,
    "source": 5,
    "author": 5,
    "genre": 4,
    "index": 1,
    "home": 5,
    "article": 5,
}


def get(client, url, assert_max, budget):
    with assert_max(budget):
        response = client.get(url)
    assert response.status_code == 200
    return response, response.content.decode()


def test_actor_page_shows_names_pieces_chart_and_who_appears_with_it(
    client, django_assert_max_num_queries
):
    poetin = Actor.objects.get(slug="vladimir-poetin")
    response, html = get(
        client, poetin.get_absolute_url(), django_assert_max_num_queries, BUDGET["actor"]
    )
    assert "<h1>Vladimir Poetin</h1>" in html
    assert "Putin" in html and "persoon" in html
    assert len(response.context["page"].object_list) == 4
    together = {actor.slug: actor.together for actor in response.context["together"]}
    assert together["jevgeni-prigozjin"] == 2
    assert together["rusland"] == 4
    assert len(together) == 10 and "vladimir-poetin" not in together
    prigozjin = Actor.objects.get(slug="jevgeni-prigozjin")
    assert f'<a href="{prigozjin.get_absolute_url()}">Jevgeni Prigozjin</a>' in html
    assert '<svg class="chart" role="img"' in html
    assert "Stukken over Vladimir Poetin per maand" in html
    assert "juni 2023: 2 stukken" in html


def test_actor_page_search_form_submits_to_browse_with_the_actor(client):
    html = client.get(reverse("archive:actor", args=["jevgeni-prigozjin"])).content.decode()
    assert f'action="{reverse("archive:browse")}"' in html
    assert '<label for="zoek-in-actor">Zoek in stukken over Jevgeni Prigozjin</label>' in html
    assert '<input type="hidden" name="actor" value="jevgeni-prigozjin">' in html


def test_actor_page_lists_its_events_involved_or_through_its_pieces(client):
    response = client.get(reverse("archive:actor", args=["alexander-dugin"]))
    slugs = {event.slug for event in response.context["events"]}
    # Involved in one event, and its one piece is about four.
    assert "aanslag-darya-dugina" in slugs
    assert {"terugtrekking-cherson", "russische-mobilisatie-2022"} <= slugs
    assert "wagner-muiterij" not in slugs
    starts = [event.start_date for event in response.context["events"]]
    assert starts == sorted(starts, reverse=True)


@pytest.fixture
def more_pieces():
    """Thirty more pieces with authors, a source, actors and an event: enough for two
    pages, many chart bars and many rows per prefetch."""
    wagner = Actor.objects.get(slug="wagner")
    others = list(Actor.objects.exclude(pk=wagner.pk)[:5])
    event = Event.objects.get(slug="wagner-muiterij")
    source = Source.objects.get(slug="het-parool")
    authors = [Author.objects.create(name=f"Auteur {n}", slug=f"auteur-{n}") for n in range(3)]
    for n in range(30):
        article = make_article(
            f"Wagner stuk {n}.",
            genre="column",
            source=source,
            published_on=datetime.date(2019 + n % 6, 1 + n % 12, 1),
            date_precision="month",
        )
        article.actors.add(wagner, *others)
        article.events.add(event)
        article.authors.add(*authors)
    return wagner


@pytest.mark.parametrize(
    ("url", "budget"),
    [
        (reverse("archive:actor", args=["wagner"]), BUDGET["actor"]),
        (reverse("archive:event", args=["wagner-muiterij"]), BUDGET["event"]),
        (reverse("archive:source", args=["het-parool"]), BUDGET["source"]),
        (reverse("archive:author", args=["derk-sauer"]), BUDGET["author"]),
        (reverse("archive:genre", args=["column"]), BUDGET["genre"]),
        (reverse("archive:actors"), BUDGET["index"]),
        (reverse("archive:events"), BUDGET["index"]),
        (reverse("archive:home"), BUDGET["home"]),
        (reverse("archive:article", args=[COLUMN]), BUDGET["article"]),
    ],
)
def test_page_queries_do_not_grow_with_the_data(
    client, django_assert_max_num_queries, more_pieces, url, budget
):
    get(client, url, django_assert_max_num_queries, budget)
    get(client, url + "?pagina=2", django_assert_max_num_queries, budget)


def test_event_page_puts_pieces_before_during_and_after(client, django_assert_max_num_queries):
    event = Event.objects.get(slug="wagner-muiterij")
    response, html = get(
        client, event.get_absolute_url(), django_assert_max_num_queries, BUDGET["event"]
    )
    phases = {article.slug: article.phase for article in response.context["page"].object_list}
    # Published 26 June, two days after the mutiny ended on the 24th.
    assert phases[COMMENTAAR] == AFTER
    # Known only to June 2023: that month overlaps 23-24 June, so during.
    assert phases[COLUMN] == DURING
    assert html.index("Tijdens de gebeurtenis") < html.index("Na de gebeurtenis")
    assert html.index("Na de gebeurtenis") < html.index("Opmars van Prigozjin")
    assert "23 juni 2023" in html and "24 juni 2023" in html
    prigozjin = Actor.objects.get(slug="jevgeni-prigozjin")
    assert f'<a href="{prigozjin.get_absolute_url()}">Jevgeni Prigozjin</a>' in html
    assert response.context["phases"] == [
        ("Voor de gebeurtenis", 0),
        ("Tijdens de gebeurtenis", 1),
        ("Na de gebeurtenis", 1),
    ]


def test_event_phase_in_python_matches_the_sql():
    for event in Event.objects.all():
        for article in Article.objects.along_timeline(event):
            assert event.phase_of(article) == article.phase


def test_event_phase_rule_at_the_edges():
    event = Event(start_date=datetime.date(2023, 6, 23), end_date=datetime.date(2023, 6, 24))

    def phase(day, precision="day"):
        return event.phase_of(Article(published_on=day, date_precision=precision))

    assert phase(datetime.date(2023, 6, 22)) == BEFORE
    assert phase(datetime.date(2023, 6, 23)) == DURING
    assert phase(datetime.date(2023, 6, 25)) == AFTER
    assert phase(datetime.date(2023, 5, 1), "month") == BEFORE
    assert phase(datetime.date(2023, 1, 1), "year") == DURING
    ongoing = Event(start_date=datetime.date(2022, 2, 24))
    assert ongoing.phase_of(Article(published_on=datetime.date(2030, 1, 1))) == DURING


@pytest.mark.parametrize(
    ("model", "slug", "budget"),
    [(Source, "het-parool", BUDGET["source"]), (Author, "derk-sauer", BUDGET["author"])],
)
def test_source_and_author_pages(client, django_assert_max_num_queries, model, slug, budget):
    subject = model.objects.get(slug=slug)
    response, html = get(client, subject.get_absolute_url(), django_assert_max_num_queries, budget)
    assert f"<h1>{subject.name}</h1>" in html
    assert [a.slug for a in response.context["page"].object_list] == [COLUMN]
    assert 'role="img"' in html


def test_author_page_links_to_the_author_as_actor(client):
    html = client.get(reverse("archive:author", args=["derk-sauer"])).content.decode()
    assert f'href="{reverse("archive:actor", args=["derk-sauer"])}"' in html


def test_genre_page_lists_its_pieces(client, django_assert_max_num_queries):
    response, html = get(
        client,
        reverse("archive:genre", args=["column"]),
        django_assert_max_num_queries,
        BUDGET["genre"],
    )
    assert [a.slug for a in response.context["page"].object_list] == [COLUMN]
    assert "<h1>column</h1>" in html


@pytest.mark.parametrize("genre", ["bestaat-niet", "Column", "%00"])
def test_unknown_genre_is_a_404(client, genre):
    assert client.get(f"/genre/{genre}/").status_code == 404


def test_actor_index_groups_by_kind_with_counts(client, django_assert_max_num_queries):
    response, html = get(
        client, reverse("archive:actors"), django_assert_max_num_queries, BUDGET["index"]
    )
    kinds = dict(response.context["kinds"])
    assert list(kinds)[:2] == ["persoon", "organisatie"]
    counts = {actor.slug: actor.pieces for actor in kinds["persoon"]}
    assert counts["vladimir-poetin"] == 4 and counts["jevgeni-prigozjin"] == 2
    assert '<h2 id="soort-1">Persoon' in html
    assert "4 stukken" in html and "1 stuk<" in html


def test_event_index_lists_events_with_dates_and_counts(client, django_assert_max_num_queries):
    response, html = get(
        client, reverse("archive:events"), django_assert_max_num_queries, BUDGET["index"]
    )
    counts = {event.slug: event.pieces for event in response.context["events"]}
    assert counts["wagner-muiterij"] == 2 and counts["minsk-akkoorden"] == 1
    assert len(counts) == Event.objects.count()
    assert "sinds <time" in html  # an event without an end is still going on
    assert html.index("Muiterij van Wagner") < html.index("Minsk-akkoorden")


def test_home_shows_current_events_top_actors_and_index_links(
    client, django_assert_max_num_queries
):
    response, html = get(
        client, reverse("archive:home"), django_assert_max_num_queries, BUDGET["home"]
    )
    assert response.context["events"][0].slug == "wagner-muiterij"
    actors = [a.slug for a in response.context["actors"]]
    # Three actors are in all four pieces; ties go by name.
    assert actors[:3] == ["oekraine", "rusland", "vladimir-poetin"] and len(actors) == 10
    assert f'href="{reverse("archive:actors")}"' in html
    assert f'href="{reverse("archive:events")}"' in html


def test_article_related_pieces_share_actors_and_events(client, django_assert_max_num_queries):
    column = Article.objects.get(slug=COLUMN)
    with django_assert_max_num_queries(BUDGET["article"]):
        response = client.get(column.get_absolute_url())
    related = list(response.context["related"])
    assert 1 <= len(related) <= 5
    # The other piece on the mutiny shares the event and most actors: first.
    assert related[0].slug == COMMENTAAR
    assert related[0].shared_events == 1
    mine = set(column.actors.values_list("pk", flat=True))
    for other in related:
        assert mine & set(other.actors.values_list("pk", flat=True))
    html = response.content.decode()
    assert "Verwante stukken" in html
    assert f'href="{column.get_genre_url()}"' in html
    assert "?van=2023-06-01&amp;tot=2023-06-30" in html


def test_related_pieces_fall_back_to_similar_text():
    article = make_article("Een stuk over tulpenbollen.", title="Tulpenbollen in de Bollenstreek")
    other = make_article("Nog meer bloemen.", title="Tulpenbollen duurder dan ooit")
    make_article("Iets heel anders over het weer.", title="Regen op komst")
    loaded = Article.objects.annotate(key_terms=key_terms()).get(pk=article.pk)
    assert [a.pk for a in Article.objects.related_to(loaded)] == [other.pk]


def test_chart_gives_counts_as_text_and_escapes_labels():
    chart = Chart(
        "Stukken over <b>iemand</b>",
        [Bar("<i>x</i>", "juni <2023>", 3), Bar("jul", "juli 2023", 0), Bar("aug", "aug", 1)],
    )
    html = str(chart)
    assert '<svg class="chart" role="img"' in html
    assert '<title id="grafiek-titel">Stukken over &lt;b&gt;iemand&lt;/b&gt;</title>' in html
    assert "juni &lt;2023&gt;: 3 stukken" in html and "aug: 1 stuk" in html
    assert "Totaal: 4 stukken." in html
    assert 'aria-labelledby="grafiek-titel grafiek-beschrijving"' in html
    assert "<b>" not in html and "<i>" not in html
    assert '<th scope="row">juli 2023</th><td>0</td>' in html


def test_coverage_chart_uses_months_then_years_for_long_spans():
    short = coverage_chart(
        [(datetime.date(2022, 11, 1), "month", 1), (datetime.date(2023, 1, 1), "year", 2)],
        "Stukken",
    )
    assert [bar.label for bar in short.bars] == ["nov"]
    assert "2 stukken waarvan alleen het jaar bekend is" in short.note
    long = coverage_chart(
        [(datetime.date(2015, 3, 1), "day", 1), (datetime.date(2023, 6, 1), "day", 2)], "Stukken"
    )
    assert long.title == "Stukken per jaar"
    assert len(long.bars) == 9 and long.bars[-1].value == 2
    assert coverage_chart([], "Stukken") is None


def test_event_still_going_on_has_nothing_after_it(client):
    response = client.get(reverse("archive:event", args=["russische-invasie-oekraine"]))
    assert response.status_code == 200
    assert "sinds <time" in response.content.decode()
    assert response.context["phases"][2] == ("Na de gebeurtenis", 0)
