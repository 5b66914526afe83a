"""Atom feeds, the JSON API, the CSV export, the sitemap and page metadata."""

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from archive.models import Actor, Article, Author, Event, Source
from tests.factories import make_article

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
HOSTILE = [
    {"q": "Poetin\x00\x01 huurling"},
    {"q": "Poetin " * 1500},
    {"pagina": "-3"},
    {"pagina": "999999"},
    {"pagina": "'; DROP TABLE archive_article; --"},
    {"actor": ["bestaat-niet", "vladimir-poetin"]},
    {"event": "\x00"},
    {"source": "<script>"},
    {"van": "31-31-2023", "tot": "gisteren"},
    {"sort": "random()"},
]


def atom_entries(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    assert root.find(f"{ATOM}title").text
    return root, root.findall(f"{ATOM}entry")


def html_ids(client, **params):
    response = client.get(reverse("archive:browse"), params)
    return [article.pk for article in response.context["page"].object_list]


def api(client, **params):
    response = client.get(reverse("archive:api_browse"), params)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()


# Atom feeds


def test_search_feed_is_atom_with_newest_first_entries(client, django_assert_max_num_queries):
    # As for the CSV: the search's own queries, the rows and their subjects.
    with django_assert_max_num_queries(8):
        response = client.get(reverse("archive:browse_feed"), {"q": "Putin"})
    root, entries = atom_entries(response)
    assert "Putin" in root.find(f"{ATOM}title").text
    expected = list(
        Article.objects.search("Putin")
        .order_by("-published_on", "-id")
        .values_list("title", flat=True)
    )
    assert [entry.find(f"{ATOM}title").text for entry in entries] == expected
    assert expected


def test_feed_entries_carry_link_date_authors_categories_and_escaped_lead(client):
    article = make_article(
        "Tekst over de zeppelin.", title="Zeppelin & co", lead="Een <script>lead</script>"
    )
    _, entries = atom_entries(client.get(reverse("archive:browse_feed"), {"q": "zeppelin"}))
    (entry,) = entries
    assert entry.find(f"{ATOM}title").text == "Zeppelin & co"
    assert entry.find(f"{ATOM}link").get("href").endswith(article.get_absolute_url())
    assert entry.find(f"{ATOM}published").text.startswith("2024-01-01")
    # The summary is HTML: the plain lead arrives escaped, never as markup.
    assert entry.find(f"{ATOM}summary").text == "Een &lt;script&gt;lead&lt;/script&gt;"
    assert [c.get("term") for c in entry.findall(f"{ATOM}category")] == ["nieuws"]

    seeded = Article.objects.get(authors__slug="derk-sauer")
    _, entries = atom_entries(client.get(reverse("archive:author_feed", args=["derk-sauer"])))
    (entry,) = entries
    assert entry.find(f"{ATOM}author/{ATOM}name").text == "Derk Sauer"
    terms = {c.get("term") for c in entry.findall(f"{ATOM}category")}
    assert seeded.get_genre_display() in terms
    assert set(seeded.actors.values_list("name", flat=True)) <= terms


def test_feed_without_parameters_lists_newest_pieces(client):
    _, entries = atom_entries(client.get(reverse("archive:browse_feed")))
    expected = Article.objects.order_by("-published_on", "-id").values_list("title", flat=True)
    assert [entry.find(f"{ATOM}title").text for entry in entries] == list(expected[:30])


@pytest.mark.parametrize(
    ("url_name", "model", "slug", "field"),
    [
        ("archive:actor_feed", Actor, "vladimir-poetin", "actors"),
        ("archive:event_feed", Event, "wagner-muiterij", "events"),
        ("archive:source_feed", Source, "het-parool", "source"),
        ("archive:author_feed", Author, "derk-sauer", "authors"),
    ],
)
def test_subject_feeds_list_the_subjects_pieces(
    client, django_assert_max_num_queries, url_name, model, slug, field
):
    subject = model.objects.get(slug=slug)
    with django_assert_max_num_queries(5):
        response = client.get(reverse(url_name, args=[slug]))
    root, entries = atom_entries(response)
    assert str(subject) in root.find(f"{ATOM}title").text
    expected = (
        Article.objects.filter(**{field: subject})
        .order_by("-published_on", "-id")
        .values_list("title", flat=True)
    )
    assert [entry.find(f"{ATOM}title").text for entry in entries] == list(expected)
    assert entries


@pytest.mark.parametrize(
    "url_name", ["archive:actor_feed", "archive:event_feed", "archive:source_feed"]
)
def test_subject_feed_with_unknown_slug_is_not_found(client, url_name):
    assert client.get(reverse(url_name, args=["bestaat-niet"])).status_code == 404


@pytest.mark.parametrize("params", HOSTILE)
def test_search_feed_survives_hostile_parameters(client, params):
    atom_entries(client.get(reverse("archive:browse_feed"), params))


# JSON API


@pytest.mark.parametrize(
    "params",
    [
        {"q": "Putin"},
        {"q": "huurling", "actor": "vladimir-poetin"},
        {"q": "Wagner", "sort": "oldest"},
        {"genre": "column"},
        {},
    ],
)
def test_api_returns_the_same_results_as_the_browse_page(client, params):
    data = api(client, **params)
    ids = [result["id"] for result in data["results"]]
    assert ids == html_ids(client, **params)
    assert data["count"] == len(ids)
    assert data["problems"] == []


def test_api_result_shape(client):
    data = api(client, q="Prigozjin")
    assert data["query"] == "Prigozjin" and data["page"] == 1 and data["num_pages"] == 1
    result = data["results"][0]
    article = Article.objects.get(pk=result["id"])
    assert result["title"] == article.title
    assert result["url"] == f"http://testserver{article.get_absolute_url()}"
    assert result["published_on"] == article.published_on.isoformat()
    assert result["date_precision"] == article.date_precision
    assert result["genre"] == article.genre
    assert isinstance(result["score"], float)
    assert "<mark>" in result["snippet"]
    assert {"name", "slug", "confirmed", "mentions"} <= set(result["actors"][0])
    assert all({"name", "slug", "confirmed"} <= set(e) for e in result["events"])
    month = next(r for r in api(client)["results"] if r["date_precision"] == "month")
    assert month["date_display"] in {"juni 2023", "november 2022"}
    assert api(client)["results"][0]["score"] is None


def test_api_source_and_authors(client):
    parool = next(r for r in api(client)["results"] if r["source"])
    assert parool["source"] == {
        "name": "Het Parool",
        "slug": "het-parool",
        "url": "http://testserver" + reverse("archive:source", args=["het-parool"]),
    }
    sauer = api(client, author="derk-sauer")["results"][0]
    assert sauer["authors"] == [{"name": "Derk Sauer", "slug": "derk-sauer"}]


def test_api_facets_have_counts(client):
    data = api(client, q="Wagner")
    facets = data["facets"]
    assert set(facets) == {"actor", "event", "source", "author", "genre", "year"}
    assert facets["actor"] and facets["genre"] and facets["year"]
    for row in facets["actor"]:
        shown = [r for r in data["results"] if row["value"] in {a["slug"] for a in r["actors"]}]
        assert row["count"] == len(shown) > 0
    assert sum(row["count"] for row in facets["genre"]) == data["count"]


def test_api_snippet_marks_matches_and_escapes_article_text(client):
    make_article('Een <script>alert(1)</script> bij de zeppelin <img src=x onerror="boe"> 5 < 6.')
    (result,) = api(client, q="zeppelin")["results"]
    assert "<mark>zeppelin</mark>" in result["snippet"]
    # Apart from the marks, nothing in the snippet is markup.
    assert "<" not in result["snippet"].replace("<mark>", "").replace("</mark>", "")


@pytest.mark.parametrize("params", HOSTILE)
def test_api_survives_hostile_parameters(client, params):
    data = api(client, **params)
    assert isinstance(data["results"], list)
    if len(params.get("q", "")) > 500 or params.get("sort") or params.get("van"):
        assert data["problems"]


def test_api_lists_unknown_filters_and_pages_as_problems(client):
    data = api(client, actor="bestaat-niet", pagina="banaan")
    assert any(p.startswith("Actoren") for p in data["problems"])
    assert any(p.startswith("Pagina") for p in data["problems"])
    assert data["page"] == 1 and data["count"] == Article.objects.count()


def test_api_query_count_does_not_grow_with_results(client, django_assert_max_num_queries):
    for n in range(25):
        make_article(f"Stuk {n} over de zeppelin.", title=f"Zeppelin {n}")
    with django_assert_max_num_queries(16):
        data = api(client, q="zeppelin")
    assert data["count"] == 25 and len(data["results"]) == 20


def test_api_article_has_metadata_and_body_blocks(client, django_assert_max_num_queries):
    article = Article.objects.get(body__contains="## Lugubere verwijzing")
    url = reverse("archive:api_article", args=[article.slug])
    with django_assert_max_num_queries(5):
        response = client.get(url)
    data = response.json()
    assert data["id"] == article.pk and data["title"] == article.title
    assert data["lead"] == article.lead
    assert {"type": "h2", "text": "Lugubere verwijzing"} in data["blocks"]
    assert {block["type"] for block in data["blocks"]} == {"p", "h2"}
    assert "alexander-dugin" in {actor["slug"] for actor in data["actors"]}


def test_api_article_unknown_slug_is_json_404(client):
    response = client.get(reverse("archive:api_article", args=["bestaat-niet"]))
    assert response.status_code == 404 and "error" in response.json()


# CSV export


def export(client, **params):
    response = client.get(reverse("archive:browse_export"), params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_csv_has_a_header_and_one_row_per_result(client, django_assert_max_num_queries):
    # The search's own queries (names, words, the events it may name and their links),
    # the rows, their authors and actors: never one per row.
    with django_assert_max_num_queries(8):
        rows = export(client, q="Wagner")
    assert rows[0] == ["titel", "datum", "precisie", "genre", "bron", "auteurs", "actoren", "url"]
    assert [row[0] for row in rows[1:]] == [
        Article.objects.get(pk=pk).title for pk in html_ids(client, q="Wagner")
    ]
    assert len(rows) > 1


def test_csv_neutralises_formula_like_cells(client):
    make_article("De zeppelin landde.", title='=HYPERLINK("http://kwaad.example","klik")')
    make_article("De zeppelin steeg op.", title="-2+3 zeppelins")
    rows = export(client, q="zeppelin")
    assert {row[0] for row in rows[1:]} == {
        '\'=HYPERLINK("http://kwaad.example","klik")',
        "'-2+3 zeppelins",
    }


@pytest.mark.parametrize("params", HOSTILE)
def test_csv_survives_hostile_parameters(client, params):
    assert export(client, **params)[0][0] == "titel"


# Sitemap, robots.txt and page metadata


def test_sitemap_lists_every_article_and_subject(client, django_assert_max_num_queries):
    index = client.get(reverse("archive:sitemap"))
    assert index.status_code == 200
    sections = [loc.text for loc in ET.fromstring(index.content).iter(f"{SITEMAP}loc")]
    urls = set()
    for section in sections:
        with django_assert_max_num_queries(2):
            response = client.get(section.removeprefix("http://testserver"))
        assert response.status_code == 200
        urls |= {loc.text for loc in ET.fromstring(response.content).iter(f"{SITEMAP}loc")}
    for model in (Article, Actor, Event, Source, Author):
        for obj in model.objects.all():
            assert f"http://testserver{obj.get_absolute_url()}" in urls
    assert f"http://testserver{reverse('archive:browse')}" in urls


def test_robots_txt_points_to_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "Sitemap: http://testserver/sitemap.xml" in response.content.decode()


def test_pages_have_canonical_url_title_description_and_feed(client):
    article = Article.objects.first()
    html = client.get(article.get_absolute_url() + "?utm_source=x").content.decode()
    assert f'<link rel="canonical" href="http://testserver{article.get_absolute_url()}">' in html
    assert f"<title>{article.title} · Kroniek</title>" in html
    assert '<meta name="description" content="' in html
    assert 'type="application/atom+xml"' in html

    actor = Actor.objects.get(slug="vladimir-poetin")
    html = client.get(actor.get_absolute_url()).content.decode()
    assert f'href="{reverse("archive:actor_feed", args=[actor.slug])}"' in html


def test_browse_page_canonical_keeps_filters_and_links_to_feed_csv_and_json(client):
    html = client.get(
        reverse("archive:browse"), {"q": "Wagner", "genre": "", "utm_source": "x", "pagina": "1"}
    ).content.decode()
    assert '<link rel="canonical" href="http://testserver/zoeken/?q=Wagner">' in html
    assert '<meta name="description" content="' in html and "over ‘Wagner’" in html
    assert 'href="/zoeken/feed/?q=Wagner' in html and "Atom-feed" in html
    assert "Exporteer als CSV" in html and 'href="/zoeken/export.csv?q=Wagner' in html
    assert 'href="/api/zoeken/?q=Wagner' in html
