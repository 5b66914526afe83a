"""Reader pages render the seed articles, with dates at their true precision."""

import pytest
from django.urls import reverse

from archive.models import Actor, Article, Author, Event, Source

pytestmark = pytest.mark.django_db


def test_home_lists_seed_pieces_newest_first(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        response = client.get(reverse("archive:home"))
    assert response.status_code == 200
    shown = [article.title for article in response.context["page"].object_list]
    expected = list(
        Article.objects.order_by("-published_on", "-id").values_list("title", flat=True)
    )
    assert shown == expected
    assert len(shown) == 4


def test_home_shows_dates_at_their_true_precision(client):
    html = client.get(reverse("archive:home")).content.decode()
    assert '<time datetime="2023-06-26">26 juni 2023</time>' in html
    assert '<time datetime="2023-06">juni 2023</time>' in html
    assert '<time datetime="2022-11">november 2022</time>' in html
    # A month-precision piece must never show as the first of the month.
    assert "1 juni 2023" not in html and "1 november 2022" not in html


def test_home_shows_genre_source_and_author(client):
    html = client.get(reverse("archive:home")).content.decode()
    assert "column" in html and "commentaar" in html and "analyse" in html
    assert "Het Parool" in html and "Derk Sauer" in html


def test_article_page_shows_text_subheadings_and_links(client, django_assert_max_num_queries):
    article = Article.objects.get(body__contains="## Lugubere verwijzing")
    with django_assert_max_num_queries(6):
        response = client.get(article.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h2>Lugubere verwijzing</h2>" in html
    assert "Onze excuses" not in html
    dugin = Actor.objects.get(slug="alexander-dugin")
    assert f'href="{dugin.get_absolute_url()}"' in html


def test_article_text_is_escaped_not_rendered_as_markup(client):
    from tests.factories import make_article

    article = make_article("Een <script>alert(1)</script> in de tekst.", title="<b>Kop</b>")
    html = client.get(article.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;Kop&lt;/b&gt;" in html


@pytest.mark.parametrize(
    ("model", "slug"),
    [
        (Actor, "vladimir-poetin"),
        (Event, "wagner-muiterij"),
        (Source, "het-parool"),
        (Author, "derk-sauer"),
    ],
)
def test_subject_pages_list_their_pieces(client, django_assert_max_num_queries, model, slug):
    subject = model.objects.get(slug=slug)
    # Fixed, whatever the data: the actor page also draws its coverage chart and lists who
    # appears with it and its events (tests/test_subject_pages.py has each page's budget).
    with django_assert_max_num_queries(7):
        response = client.get(subject.get_absolute_url())
    assert response.status_code == 200
    assert subject.name in response.content.decode()
    assert len(response.context["page"].object_list) >= 1


def test_unknown_slug_is_a_404_not_an_error(client):
    assert client.get("/artikel/bestaat-niet/").status_code == 404
    assert client.get("/actor/bestaat-niet/").status_code == 404


@pytest.mark.parametrize("number", ["-1", "0", "99999", "abc", "1e9", "\x00"])
def test_junk_page_numbers_give_a_page(client, number):
    response = client.get(reverse("archive:home"), {"pagina": number})
    assert response.status_code == 200
    assert response.context["page"].object_list
