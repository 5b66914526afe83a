"""The browse-and-search page: ranking, highlights, names, filters, facets, bad input."""

import datetime

import pytest
from django.urls import reverse

from archive.models import Actor, Article, ArticleActor
from tests.factories import make_article

pytestmark = pytest.mark.django_db

URL = reverse("archive:browse")


def browse(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200
    return response


def titles(response):
    return [article.title for article in response.context["page"].object_list]


def test_without_query_lists_everything_newest_first(client):
    shown = titles(browse(client))
    assert shown == list(
        Article.objects.order_by("-published_on", "-id").values_list("title", flat=True)
    )


def test_pieces_matching_all_words_rank_above_those_matching_some(client):
    make_article("Het kabinet sprak over de stikstofcrisis en boeren.", title="Alles")
    make_article("De stikstofcrisis houdt aan.", title="Een deel")
    shown = titles(browse(client, q="stikstofcrisis boeren"))
    assert shown[:2] == ["Alles", "Een deel"]


def test_one_unmatched_word_never_empties_the_results(client):
    make_article("Bouteflika is afgetreden na weken van protest.", title="Algerije")
    assert titles(browse(client, q="Bouteflika treedt af"))[0] == "Algerije"
    assert titles(browse(client, q="Bouteflika fantasiewoord"))[0] == "Algerije"


def test_compounds_are_found_below_exact_matches(client):
    make_article("Het huurlingenleger trok verder.", title="Samenstelling")
    make_article("Een huurling vertelt.", title="Precies")
    shown = titles(browse(client, q="huurling"))
    assert shown.index("Precies") < shown.index("Samenstelling")
    wagner = titles(browse(client, q="Wagnersoldaten"))
    assert "De bijna-coup kent aan Russische kant alleen verliezers" in wagner


@pytest.mark.parametrize("spelling", ["Putin", "Путин", "Poetin", "poetins"])
def test_any_spelling_of_an_actor_finds_the_others(client, spelling):
    expected = set(
        Article.objects.filter(actors__slug="vladimir-poetin").values_list("title", flat=True)
    )
    assert set(titles(browse(client, q=spelling))) >= expected


def test_english_place_name_finds_dutch_spelling(client):
    shown = titles(browse(client, q="Kherson"))
    assert any("Dugin" in title for title in shown)


def test_names_match_without_diacritics(client):
    make_article("Zuzana Čaputová won de verkiezingen.", title="Slowakije")
    assert titles(browse(client, q="Caputova")) == ["Slowakije"]


def test_phrase_exclusion_or_and_curly_quotes(client):
    make_article("De gestreepte olifant sprak lang.", title="Olifant")
    make_article("De gestreepte giraf zweeg.", title="Giraf")
    assert titles(browse(client, q="“gestreepte olifant”")) == ["Olifant"]
    assert titles(browse(client, q="gestreepte -giraf")) == ["Olifant"]
    assert set(titles(browse(client, q="olifant or giraf"))) == {"Olifant", "Giraf"}


def test_snippets_highlight_matches_and_escape_article_text(client):
    make_article(
        'Een <script>alert(1)</script> bij de zeppelin <img src=x onerror="boe"> en 5 < 6 & 7.',
        title="Gevaarlijk",
    )
    response = browse(client, q="zeppelin")
    snippet = next(iter(response.context["snippets"].values()))
    assert "<mark>zeppelin</mark>" in snippet
    assert "5 &lt; 6 &amp; 7" in snippet
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html


def test_actor_filters_combine_and_all_must_match(client):
    both = set(
        Article.objects.filter(actors__slug="vladimir-poetin")
        .filter(actors__slug="jevgeni-prigozjin")
        .values_list("title", flat=True)
    )
    shown = titles(browse(client, actor=["vladimir-poetin", "jevgeni-prigozjin"]))
    assert set(shown) == both and len(both) == 2


def test_filters_by_event_source_author_and_genre(client):
    assert len(titles(browse(client, event="wagner-muiterij"))) == 2
    assert len(titles(browse(client, source="het-parool"))) == 1
    assert len(titles(browse(client, author="derk-sauer"))) == 1
    assert len(titles(browse(client, genre="analyse"))) == 1


def test_date_range_matches_pieces_known_only_to_the_month(client):
    # The column is dated "juni 2023" (month precision): any range touching June matches.
    shown = titles(browse(client, van="2023-06-20", tot="2023-06-30"))
    assert "De bijna-coup kent aan Russische kant alleen verliezers" in shown
    assert titles(browse(client, van="2023-06-27", tot="2023-07-31")) == [
        "De bijna-coup kent aan Russische kant alleen verliezers"
    ]
    assert titles(browse(client, van="2023-07-01")) == []


def test_sort_orders(client):
    newest = titles(browse(client, q="Poetin", sort="newest"))
    oldest = titles(browse(client, q="Poetin", sort="oldest"))
    assert newest == list(reversed(oldest))


def test_facets_count_the_current_results(client):
    facets = browse(client, q="Prigozjin").context["facets"]
    actors = {slug: n for slug, _, n in facets["actor"]}
    assert actors["jevgeni-prigozjin"] == 2
    assert dict((v, n) for v, _, n in facets["genre"]) == {"column": 1, "commentaar": 1}
    assert dict((v, n) for v, _, n in facets["year"]) == {"2023": 2}


def test_clicking_a_facet_narrows(client):
    html = browse(client, q="Poetin").content.decode()
    assert "?q=Poetin&amp;actor=jevgeni-prigozjin" in html
    narrowed = titles(browse(client, q="Poetin", actor="jevgeni-prigozjin"))
    assert len(narrowed) == 2


def test_zero_results_say_so_keep_filters_and_suggest_a_spelling(client):
    response = browse(client, q="Prigoschin", genre="column")
    html = response.content.decode()
    assert response.context["page"].paginator.count == 0
    assert "Geen stukken gevonden" in html
    assert "Bedoelde u" in html and "Prigozjin" in html
    assert 'value="column" selected' in html


@pytest.mark.parametrize(
    "params",
    [
        {"q": "\x00\x01Poetin\x1f"},
        {"q": "Poetin " * 2000},
        {"q": '"unbalanced quote'},
        {"q": "(()) )))) ||| && -"},
        {"q": "!!!:*&|<->"},
        {"actor": "bestaat-niet"},
        {"actor": "\x00"},
        {"event": "x" * 5000},
        {"van": "2023-02-30", "tot": "gisteren"},
        {"van": "2024-01-01", "tot": "2023-01-01"},
        {"pagina": "-5"},
        {"pagina": "99999999999999999999999"},
        {"pagina": "\x00"},
        {"sort": "DROP TABLE"},
        {"genre": "<script>"},
    ],
)
def test_bad_input_gives_a_page_never_an_error(client, params):
    response = browse(client, **params)
    assert "page" in response.context


def test_bad_filters_are_reported(client):
    response = browse(client, actor="bestaat-niet", van="2023-02-30")
    problems = response.context["form"].problems
    assert any(p.startswith("Actoren") for p in problems)
    assert any(p.startswith("Van") for p in problems)


def test_over_long_query_is_cut_with_a_message(client):
    html = browse(client, q="Poetin " * 2000).content.decode()
    assert "ingekort" in html


def test_pagination_is_stable_and_past_the_end_gives_last_page(client, settings):
    settings.ARTICLES_PER_PAGE = 2
    for n in range(5):
        make_article(
            f"Gelijk nieuws over tulpen nummer {n}.",
            title=f"Tulp {n}",
            published_on=datetime.date(2024, 3, 1),
        )
    first = titles(browse(client, q="tulpen"))
    second = titles(browse(client, q="tulpen", pagina=2))
    third = titles(browse(client, q="tulpen", pagina=3))
    assert len(set(first + second + third)) == 5
    assert titles(browse(client, q="tulpen", pagina=99)) == third


def test_page_queries_are_bounded(client, django_assert_max_num_queries):
    for n in range(30):
        article = make_article(f"Poetin en nummer {n} in het nieuws.", title=f"Stuk {n}")
        ArticleActor.objects.create(
            article=article, actor=Actor.objects.get(slug="vladimir-poetin"), mentions=1
        )
    with django_assert_max_num_queries(16):
        browse(client, q="Poetin", actor="vladimir-poetin", genre="nieuws")
