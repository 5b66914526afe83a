"""Suggested links (confirmed=False) are told apart from confirmed ones on every public
page, feed and export that shows a piece's link to an actor or event; counts keep
counting them."""

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse
from django.utils.html import escape

from archive.models import Actor, Article, ArticleActor, ArticleEvent, Event
from tests.factories import make_article

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
COLUMN = "de-bijna-coup-kent-aan-russische-kant-alleen-verliezers"
COMMENTAAR = "opmars-van-prigozjin-laat-zien-hoe-kwetsbaar-poetins-rusland-is"
ANALYSE = "soldatenvrouwen-confronteren-commandant-dugin-roept-verhuld-op-tot-moord-op-poetin"
LABEL = 'class="suggested"'
EXPLANATION = "nog niet bevestigd door de redactie"


@pytest.fixture
def suggested():
    """The seed links are all confirmed: the commentaar gets a suggested link to Wagner
    (the column's link to Wagner stays confirmed), and the analyse a suggested link to
    the Wagner mutiny (the column's and the commentaar's stay confirmed)."""
    wagner = Actor.objects.get(slug="wagner")
    mutiny = Event.objects.get(slug="wagner-muiterij")
    ArticleActor.objects.create(
        article=Article.objects.get(slug=COMMENTAAR), actor=wagner, mentions=2, confirmed=False
    )
    ArticleEvent.objects.create(
        article=Article.objects.get(slug=ANALYSE), event=mutiny, confirmed=False
    )
    return wagner, mutiny


def pieces(html) -> dict[str, str]:
    """Each listed piece's markup, by the slug in its link."""
    found = {}
    for chunk in html.split('<li class="piece">')[1:]:
        chunk = chunk.split("</li>")[0]
        slug = chunk.split('href="/artikel/')[1].split("/")[0]
        found[slug] = chunk
    return found


def tags(html, heading) -> dict[str, str]:
    """The tag list items under an <h2> on the article page, by the tag's text."""
    section = html.split(f"<h2>{heading}</h2>")[1].split("</ul>")[0]
    found = {}
    for item in section.split("<li")[1:]:
        name = item.split("</a>")[0].rsplit(">", 1)[1]
        found[name] = item
    return found


def page(client, url, assert_max, budget, **params):
    with assert_max(budget):
        response = client.get(url, params)
    assert response.status_code == 200
    return response, response.content.decode()


# Reader pages


def test_actor_page_marks_pieces_linked_only_by_suggestion(
    client, django_assert_max_num_queries, suggested
):
    wagner, _ = suggested
    response, html = page(client, wagner.get_absolute_url(), django_assert_max_num_queries, 7)
    listed = pieces(html)
    assert set(listed) == {COLUMN, COMMENTAAR}
    assert LABEL in listed[COMMENTAAR]
    assert (
        'title="Koppeling met Wagner voorgesteld, nog niet bevestigd door de redactie"'
        in (listed[COMMENTAAR])
    )
    # Screen readers get the meaning as text, not from the title attribute alone.
    assert (
        f'<span class="visually-hidden"> (koppeling {EXPLANATION})</span>' in (listed[COMMENTAAR])
    )
    assert LABEL not in listed[COLUMN]
    assert "(2, waarvan 1 voorgesteld)" in html
    assert "Bij 1 stuk staat ‘voorgesteld’" in html
    assert response.context["subject"].suggested_pieces == 1


def test_actor_page_with_only_confirmed_links_has_no_label(
    client, django_assert_max_num_queries, suggested
):
    prigozjin = Actor.objects.get(slug="jevgeni-prigozjin")
    _, html = page(client, prigozjin.get_absolute_url(), django_assert_max_num_queries, 7)
    assert len(pieces(html)) == 2
    assert "voorgesteld" not in html


def test_event_timeline_marks_pieces_linked_only_by_suggestion(
    client, django_assert_max_num_queries, suggested
):
    _, mutiny = suggested
    response, html = page(client, mutiny.get_absolute_url(), django_assert_max_num_queries, 6)
    listed = pieces(html)
    assert set(listed) == {COLUMN, COMMENTAAR, ANALYSE}
    assert LABEL in listed[ANALYSE]
    assert "Koppeling met Muiterij van Wagner voorgesteld" in listed[ANALYSE]
    assert LABEL not in listed[COLUMN] and LABEL not in listed[COMMENTAAR]
    assert "(3 stukken, waarvan 1 voorgesteld)" in html
    # Suggested pieces stay on the timeline and in its counts.
    assert sum(count for _, count in response.context["phases"]) == 3


def test_other_actor_or_event_pages_do_not_mark_a_piece_for_someone_elses_suggestion(
    client, suggested
):
    # The commentaar's link to Wagner is suggested; its link to the mutiny is not.
    html = client.get(reverse("archive:event", args=["wagner-muiterij"])).content.decode()
    assert LABEL not in pieces(html)[COMMENTAAR]
    html = client.get(reverse("archive:actor", args=["vladimir-poetin"])).content.decode()
    assert "voorgesteld" not in html


def test_article_page_marks_suggested_actor_and_event_tags(
    client, django_assert_max_num_queries, suggested
):
    commentaar = Article.objects.get(slug=COMMENTAAR)
    _, html = page(client, commentaar.get_absolute_url(), django_assert_max_num_queries, 5)
    actors = tags(html, "Actoren")
    assert 'class="is-suggested"' in actors["Wagner"] and LABEL in actors["Wagner"]
    assert LABEL not in actors["Jevgeni Prigozjin"]
    assert "‘Voorgesteld’: een koppeling" in html

    analyse = Article.objects.get(slug=ANALYSE)
    _, html = page(client, analyse.get_absolute_url(), django_assert_max_num_queries, 5)
    events = tags(html, "Gebeurtenissen")
    assert LABEL in events["Muiterij van Wagner"]
    assert EXPLANATION in events["Muiterij van Wagner"]
    assert LABEL not in events["Terugtrekking uit Cherson"]


def test_article_page_with_only_confirmed_links_has_no_label(client, suggested):
    html = client.get(Article.objects.get(slug=COLUMN).get_absolute_url()).content.decode()
    assert "voorgesteld" not in html


def test_browse_narrowed_to_an_actor_or_event_marks_suggested_pieces(
    client, django_assert_max_num_queries, suggested
):
    url = reverse("archive:browse")
    _, html = page(client, url, django_assert_max_num_queries, 16, actor="wagner")
    listed = pieces(html)
    assert set(listed) == {COLUMN, COMMENTAAR}
    assert "voorgesteld: Wagner" in listed[COMMENTAAR]
    assert LABEL not in listed[COLUMN]

    _, html = page(
        client, url, django_assert_max_num_queries, 16, actor="wagner", event="wagner-muiterij"
    )
    assert set(pieces(html)) == {COLUMN, COMMENTAAR}
    assert "voorgesteld: Wagner<" in pieces(html)[COMMENTAAR]

    _, html = page(
        client, url, django_assert_max_num_queries, 16, event="wagner-muiterij", q="Dugin"
    )
    assert "voorgesteld: Muiterij van Wagner" in pieces(html)[ANALYSE]


def test_browse_without_actor_or_event_has_no_labels(client, suggested):
    html = client.get(reverse("archive:browse")).content.decode()
    assert len(pieces(html)) == 4
    assert LABEL not in html


def test_counts_and_facets_keep_counting_suggested_links(client, suggested):
    response = client.get(reverse("archive:actors"))
    counts = {a.slug: a.pieces for _, actors in response.context["kinds"] for a in actors}
    assert counts["wagner"] == 2
    response = client.get(reverse("archive:events"))
    assert {e.slug: e.pieces for e in response.context["events"]}["wagner-muiterij"] == 3
    facets = client.get(reverse("archive:browse")).context["facets"]
    assert ("wagner", "Wagner", 2) in facets["actor"]


# Feeds, JSON and CSV


def feed(client, url_name, slug, assert_max):
    with assert_max(5):
        response = client.get(reverse(url_name, args=[slug]))
    assert response.status_code == 200
    entries = ET.fromstring(response.content).findall(f"{ATOM}entry")
    return {entry.find(f"{ATOM}link").get("href").split("/")[-2]: entry for entry in entries}


def test_actor_feed_marks_suggested_entries_in_summary_and_categories(
    client, django_assert_max_num_queries, suggested
):
    entries = feed(client, "archive:actor_feed", "wagner", django_assert_max_num_queries)
    assert set(entries) == {COLUMN, COMMENTAAR}
    summary = entries[COMMENTAAR].find(f"{ATOM}summary").text
    assert summary.startswith(
        "<p><em>Koppeling met Wagner voorgesteld, nog niet bevestigd door de redactie.</em></p>"
    )
    lead = escape(Article.objects.get(slug=COMMENTAAR).lead)
    assert summary.endswith(f"<p>{lead}</p>")
    terms = {c.get("term") for c in entries[COMMENTAAR].findall(f"{ATOM}category")}
    assert "Wagner (voorgesteld)" in terms and "Wagner" not in terms
    assert "Jevgeni Prigozjin" in terms

    assert "voorgesteld" not in entries[COLUMN].find(f"{ATOM}summary").text
    terms = {c.get("term") for c in entries[COLUMN].findall(f"{ATOM}category")}
    assert "Wagner" in terms and not any("voorgesteld" in term for term in terms)


def test_event_feed_marks_suggested_entries(client, django_assert_max_num_queries, suggested):
    entries = feed(client, "archive:event_feed", "wagner-muiterij", django_assert_max_num_queries)
    assert set(entries) == {COLUMN, COMMENTAAR, ANALYSE}
    assert "Koppeling met Muiterij van Wagner voorgesteld" in (
        entries[ANALYSE].find(f"{ATOM}summary").text
    )
    for slug in (COLUMN, COMMENTAAR):
        assert "voorgesteld" not in entries[slug].find(f"{ATOM}summary").text


def test_api_says_which_links_are_confirmed(client, suggested):
    data = client.get(reverse("archive:api_article", args=[COMMENTAAR])).json()
    confirmed = {actor["slug"]: actor["confirmed"] for actor in data["actors"]}
    assert confirmed["wagner"] is False and confirmed["jevgeni-prigozjin"] is True
    data = client.get(reverse("archive:api_article", args=[ANALYSE])).json()
    confirmed = {event["slug"]: event["confirmed"] for event in data["events"]}
    assert confirmed["wagner-muiterij"] is False and confirmed["terugtrekking-cherson"] is True


def test_csv_marks_suggested_actors_in_the_actors_column(client, suggested):
    response = client.get(reverse("archive:browse_export"), {"actor": "wagner"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    column = rows[0].index("actoren")
    by_title = {row[0]: row[column].split("; ") for row in rows[1:]}
    commentaar = by_title[Article.objects.get(slug=COMMENTAAR).title]
    assert "Wagner (voorgesteld)" in commentaar and "Jevgeni Prigozjin" in commentaar
    assert sum("voorgesteld" in name for name in commentaar) == 1
    column_piece = by_title[Article.objects.get(slug=COLUMN).title]
    assert "Wagner" in column_piece
    assert not any("voorgesteld" in name for name in column_piece)


# Query counts


def test_marking_many_suggested_pieces_costs_no_extra_queries(
    client, django_assert_max_num_queries, suggested
):
    wagner, mutiny = suggested
    for n in range(25):
        article = make_article(f"Wagner stuk {n}.", title=f"Wagner stuk {n}")
        ArticleActor.objects.create(article=article, actor=wagner, mentions=1, confirmed=False)
        ArticleEvent.objects.create(article=article, event=mutiny, confirmed=False)
    _, html = page(client, wagner.get_absolute_url(), django_assert_max_num_queries, 7)
    assert html.count(LABEL) == 20  # a full page, all of them suggested
    assert "(27, waarvan 26 voorgesteld)" in html
    _, html = page(client, mutiny.get_absolute_url(), django_assert_max_num_queries, 6)
    assert "(28 stukken, waarvan 26 voorgesteld)" in html
    _, html = page(
        client, reverse("archive:browse"), django_assert_max_num_queries, 16, actor="wagner"
    )
    assert html.count(LABEL) == 20
    entries = feed(client, "archive:actor_feed", "wagner", django_assert_max_num_queries)
    assert len(entries) == 27
