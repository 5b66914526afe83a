"""Markup stored in any field a piece shows (headline, intro, text, actor, alias, event,
author, bio, source) reaches every surface as text: the reader's pages, search snippets,
Atom feeds, JSON, CSV, the sitemap and the editors' admin. Never as markup that a
browser, a feed reader or a spreadsheet would run."""

import csv
import datetime
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from archive.models import Actor, Article, ArticleActor, ArticleEvent, Author, Event, Source
from tests.test_csp import inline_code

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
# What each field holds: markup that would run if a surface printed it as is, each
# with a different payload so a failure names the field.
HOSTILE = {
    "title": 'Kop <script>alert("kop")</script> & "citaat" ]]> Zwartgallig',
    "lead": 'Intro "><img src=x onerror=alert("intro")> </textarea> <!-- javascript:alert(1)',
    "actor": 'Actor <b onmouseover=alert("actor")>Vet</b>',
    "alias": '"><script>alert("alias")</script>',
    "event": 'Gebeurtenis </title><script>alert("gebeurtenis")</script>',
    "author": 'Auteur <svg onload=alert("auteur")>',
    "bio": 'Bio ]]><![CDATA[ <script>alert("bio")</script>',
    "source": 'Bron <iframe src="javascript:alert(1)"></iframe>',
}
# The text: the word searched for sits next to the markup, so the snippet shows both.
BODY_MARKUP = '</textarea><script>alert("tekst")</script> <a href="javascript:alert(1)">klik</a>'
BODY = (
    f"Zwartgalligheid {BODY_MARKUP} ]]> einde.\n\n"
    "## Tussenkop <em onclick=alert(1)>nadruk</em>\n\n"
    "Een tweede alinea over zwartgalligheid en de rest."
)
JAVASCRIPT_URL = "javascript:alert(document.cookie)"


@dataclass
class Hostile:
    article: Article
    actor: Actor
    event: Event
    author: Author
    source: Source


@pytest.fixture
def hostile():
    source = Source.objects.create(name=HOSTILE["source"], slug="vijandige-bron")
    author = Author.objects.create(name=HOSTILE["author"], slug="vijandige-auteur")
    author.bio = HOSTILE["bio"]
    author.save()
    actor = Actor.objects.create(
        name=HOSTILE["actor"],
        slug="vijandige-actor",
        aliases=[HOSTILE["alias"]],
        description=HOSTILE["lead"],
    )
    event = Event.objects.create(
        name=HOSTILE["event"],
        slug="vijandige-gebeurtenis",
        start_date=datetime.date(2030, 1, 1),
        description=HOSTILE["bio"],
    )
    event.actors.add(actor)
    article = Article.objects.create(
        title=HOSTILE["title"],
        slug="vijandige-kop",
        lead=HOSTILE["lead"],
        body=BODY,
        genre="column",
        published_on=datetime.date(2030, 1, 2),
        source=source,
    )
    article.authors.add(author)
    ArticleActor.objects.create(article=article, actor=actor, mentions=3, confirmed=True)
    ArticleEvent.objects.create(article=article, event=event, confirmed=False)
    # Stored around the form's URL check, as a database edit or an old import could.
    Article.objects.filter(pk=article.pk).update(url=JAVASCRIPT_URL)
    Source.objects.filter(pk=source.pk).update(url=JAVASCRIPT_URL)
    article.refresh_from_db()
    source.refresh_from_db()
    return Hostile(article, actor, event, author, source)


class Page(HTMLParser):
    """A page as a browser reads it: its text, its links and its form fields' values."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.text_parts: list[str] = []
        self.links: list[str] = []
        self.tags: list[str] = []
        # Elements only the stored markup could have made: the site writes no iframe,
        # and no image with src "x".
        self.injected: list[str] = []
        self.values: dict[str, str] = {}
        self.textareas: dict[str, str] = {}
        self._textarea = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "iframe" or (tag == "img" and attrs.get("src") == "x"):
            self.injected.append(f"<{tag} {attrs}>")
        if tag == "a" and attrs.get("href") is not None:
            self.links.append(attrs["href"])
        if tag == "input" and attrs.get("id"):
            self.values[attrs["id"]] = attrs.get("value") or ""
        if tag == "textarea":
            self._textarea = attrs.get("id")
            self.textareas[self._textarea] = ""
        for value in attrs.values():
            if value:
                self.text_parts.append(value)

    def handle_endtag(self, tag):
        if tag == "textarea":
            # Browsers drop the newline that opens a textarea's content.
            self.textareas[self._textarea] = self.textareas[self._textarea].removeprefix("\n")
            self._textarea = None

    def handle_data(self, data):
        self.text_parts.append(data)
        if self._textarea:
            self.textareas[self._textarea] += data

    @property
    def text(self) -> str:
        return "\n".join(self.text_parts)


def get_page(client, url, status=200) -> Page:
    response = client.get(url)
    assert response.status_code == status, url
    html = response.content.decode()
    # Nothing runnable: no inline script, no handler attribute, no javascript: link.
    assert inline_code(html) == [], url
    page = Page(html)
    assert page.injected == [], url
    assert "textarea" not in page.tags or "/admin/" in url, url
    return page


def assert_shows(page: Page, *keys, url=""):
    for key in keys:
        value = HOSTILE.get(key, key)
        assert value in page.text, f"{url}: {key} not shown as text"


# The reader's pages


def test_piece_page_shows_every_field_as_text(client, hostile):
    url = hostile.article.get_absolute_url()
    page = get_page(client, url)
    assert_shows(page, "title", "lead", "actor", "event", "author", "source", url=url)
    assert "Zwartgalligheid " + BODY_MARKUP in page.text
    assert "Tussenkop <em onclick=alert(1)>nadruk</em>" in page.text
    # A javascript: address stored as the original is never a link.
    assert not any(link.strip().lower().startswith("javascript:") for link in page.links)


def test_web_addresses_stay_links(client, hostile):
    Article.objects.filter(pk=hostile.article.pk).update(url="https://www.parool.nl/stuk")
    Source.objects.filter(pk=hostile.source.pk).update(url="HTTP://www.parool.nl/")
    assert (
        "https://www.parool.nl/stuk" in get_page(client, hostile.article.get_absolute_url()).links
    )
    assert "HTTP://www.parool.nl/" in get_page(client, hostile.source.get_absolute_url()).links


@pytest.mark.parametrize(
    "where, shown",
    [
        ("home", ["title", "lead", "source", "author", "event"]),
        ("actor", ["actor", "alias", "lead", "event", "title"]),
        ("event", ["event", "actor", "title", "bio"]),
        ("source", ["source", "title"]),
        ("author", ["author", "bio", "title"]),
        ("genre", ["title", "source", "author"]),
        ("actors", ["actor"]),
        ("events", ["event"]),
    ],
)
def test_reader_pages_show_the_markup_as_text(client, hostile, where, shown):
    url = {
        "home": reverse("archive:home"),
        "actor": hostile.actor.get_absolute_url(),
        "event": hostile.event.get_absolute_url(),
        "source": hostile.source.get_absolute_url(),
        "author": hostile.author.get_absolute_url(),
        "genre": reverse("archive:genre", args=["column"]),
        "actors": reverse("archive:actors"),
        "events": reverse("archive:events"),
    }[where]
    page = get_page(client, url)
    assert_shows(page, *shown, url=url)
    assert not any(link.strip().lower().startswith("javascript:") for link in page.links)


def test_search_results_and_snippets_show_the_markup_as_text(client, hostile):
    url = reverse("archive:browse") + "?q=zwartgalligheid"
    response = client.get(url)
    html = response.content.decode()
    page = get_page(client, url)
    assert_shows(page, "title", "source", "author", "actor", "event", url=url)
    # The snippet highlights the word; PostgreSQL's headline leaves tags out of the
    # passage, and what it keeps of the markup is escaped.
    snippet = html.split('<p class="snippet">', 1)[1].split("</p>", 1)[0]
    assert snippet.startswith("<mark>Zwartgalligheid</mark>")
    assert snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    assert "]]&gt; einde." in snippet
    assert 'alert("tekst")' in page.text


def test_a_search_for_markup_shows_it_as_text(client, hostile):
    query = '<script>alert("zoek")</script> "><img src=x onerror=alert(1)>'
    response = client.get(reverse("archive:browse"), {"q": query})
    assert response.status_code == 200
    html = response.content.decode()
    assert inline_code(html) == []
    assert query in Page(html).text
    assert "<img src=x" not in html


def test_stray_highlight_marks_in_a_text_do_not_make_markup(client):
    from tests.factories import make_article

    make_article("Zwartgalligheid \ue001 en \ue000 losse tekens.", title="Merktekens")
    html = client.get(reverse("archive:browse"), {"q": "zwartgalligheid"}).content.decode()
    snippet = html.split('<p class="snippet">', 1)[1].split("</p>", 1)[0]
    assert snippet.count("<mark>") == snippet.count("</mark>") == 1
    assert "\ue000" not in snippet and "\ue001" not in snippet


# Feeds, JSON, CSV, sitemap


def atom(response):
    assert response.status_code == 200
    return ET.fromstring(response.content)


def test_feeds_carry_the_markup_as_text(client, hostile):
    feeds = {
        reverse("archive:browse_feed") + "?q=zwartgalligheid": None,
        reverse("archive:actor_feed", args=[hostile.actor.slug]): "actor",
        reverse("archive:event_feed", args=[hostile.event.slug]): "event",
        reverse("archive:source_feed", args=[hostile.source.slug]): "source",
        reverse("archive:author_feed", args=[hostile.author.slug]): "author",
    }
    for url, subject in feeds.items():
        root = atom(client.get(url))
        if subject:
            assert root.find(f"{ATOM}title").text == f"Kroniek: {HOSTILE[subject]}"
        (entry,) = [
            e
            for e in root.findall(f"{ATOM}entry")
            if e.find(f"{ATOM}title").text == HOSTILE["title"]
        ]
        assert entry.find(f"{ATOM}author/{ATOM}name").text == HOSTILE["author"]
        terms = {c.get("term") for c in entry.findall(f"{ATOM}category")}
        assert HOSTILE["actor"] in terms, url
        # The summary is HTML for the feed reader: the lead in it is escaped, once.
        summary = entry.find(f"{ATOM}summary")
        assert summary.get("type") == "html"
        parsed = Page(summary.text)
        assert HOSTILE["lead"] in parsed.text
        assert not {"img", "script"} & set(parsed.tags), url


def test_browse_feed_title_holds_a_hostile_query_as_text(client, hostile):
    query = "]]><script>alert(1)</script>"
    root = atom(client.get(reverse("archive:browse_feed"), {"q": query}))
    assert query in root.find(f"{ATOM}title").text


def test_json_gives_back_the_exact_strings(client, hostile):
    data = json.loads(client.get(reverse("archive:api_browse"), {"q": "zwartgalligheid"}).content)
    (result,) = [r for r in data["results"] if r["slug"] == hostile.article.slug]
    assert result["title"] == HOSTILE["title"]
    assert result["source"]["name"] == HOSTILE["source"]
    assert [a["name"] for a in result["authors"]] == [HOSTILE["author"]]
    assert [a["name"] for a in result["actors"]] == [HOSTILE["actor"]]
    assert [e["name"] for e in result["events"]] == [HOSTILE["event"]]
    # The snippet is HTML like the page's: marked and escaped.
    snippet = result["snippet"]
    assert snippet.startswith("<mark>Zwartgalligheid</mark>")
    assert snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    assert "&lt;em onclick=alert(1)&gt;" in snippet
    facets = {row["label"] for rows in data["facets"].values() for row in rows}
    assert {HOSTILE["actor"], HOSTILE["event"], HOSTILE["source"], HOSTILE["author"]} <= facets

    piece = json.loads(
        client.get(reverse("archive:api_article", args=[hostile.article.slug])).content
    )
    assert piece["title"] == HOSTILE["title"] and piece["lead"] == HOSTILE["lead"]
    assert piece["blocks"][0] == {"type": "p", "text": f"Zwartgalligheid {BODY_MARKUP} ]]> einde."}
    assert piece["blocks"][1] == {
        "type": "h2",
        "text": "Tussenkop <em onclick=alert(1)>nadruk</em>",
    }


def test_csv_gives_back_the_exact_strings(client, hostile):
    response = client.get(reverse("archive:browse_export"), {"q": "zwartgalligheid"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    (row,) = [r for r in rows if r["titel"] == HOSTILE["title"]]
    assert row["bron"] == HOSTILE["source"]
    assert row["auteurs"] == HOSTILE["author"]
    assert row["actoren"] == HOSTILE["actor"]


def test_csv_defuses_a_formula_in_a_headline(client, hostile):
    formula = '=HYPERLINK("https://kwaad.example","klik") zwartgalligheid'
    Article.objects.filter(pk=hostile.article.pk).update(title=formula)
    response = client.get(reverse("archive:browse_export"), {"q": "zwartgalligheid"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert ["'" + formula] == [row[0] for row in rows[1:] if "HYPERLINK" in row[0]]


def test_sitemap_stays_well_formed(client, hostile):
    index = atom(client.get(reverse("archive:sitemap")))
    locations = [loc.text for loc in index.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert locations
    for location in locations:
        root = atom(client.get(location.replace("http://testserver", "")))
        urls = [u.text for u in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
        assert all("<" not in u and "javascript:" not in u for u in urls)


# The editors' admin


def test_admin_lists_show_the_markup_as_text(staff_client, hostile):
    lists = {
        "article": ["title", "source", "author"],
        "actor": ["actor", "alias"],
        "event": ["event"],
        "author": ["author"],
        "source": ["source"],
    }
    for model, shown in lists.items():
        url = reverse(f"admin:archive_{model}_changelist")
        assert_shows(get_page(staff_client, url), *shown, url=url)
    url = reverse("admin:archive_article_changelist") + "?q=zwartgalligheid"
    assert_shows(get_page(staff_client, url), "title", url=url)


def test_admin_forms_hold_the_exact_values(staff_client, hostile):
    article = get_page(
        staff_client, reverse("admin:archive_article_change", args=[hostile.article.pk])
    )
    assert article.values["id_title"] == HOSTILE["title"]
    assert article.textareas["id_lead"] == HOSTILE["lead"]
    assert article.textareas["id_body"] == BODY
    assert_shows(article, "actor", "event", "source", "author")

    actor = get_page(staff_client, reverse("admin:archive_actor_change", args=[hostile.actor.pk]))
    assert actor.values["id_name"] == HOSTILE["actor"]
    assert actor.values["id_aliases"] == HOSTILE["alias"]
    assert actor.textareas["id_description"] == HOSTILE["lead"]

    event = get_page(staff_client, reverse("admin:archive_event_change", args=[hostile.event.pk]))
    assert event.values["id_name"] == HOSTILE["event"]
    assert event.textareas["id_description"] == HOSTILE["bio"]

    author = get_page(
        staff_client, reverse("admin:archive_author_change", args=[hostile.author.pk])
    )
    assert author.values["id_name"] == HOSTILE["author"]
    assert author.textareas["id_bio"] == HOSTILE["bio"]

    source = get_page(
        staff_client, reverse("admin:archive_source_change", args=[hostile.source.pk])
    )
    assert source.values["id_name"] == HOSTILE["source"]
    # The admin shows a stored address as a link only when it is a valid web address.
    assert not any(link.lower().startswith("javascript:") for link in source.links)


def test_admin_history_and_delete_pages_show_the_markup_as_text(staff_client, hostile):
    for name in ("history", "delete"):
        url = reverse(f"admin:archive_article_{name}", args=[hostile.article.pk])
        assert_shows(get_page(staff_client, url), "title", url=url)


def test_paste_review_shows_pasted_markup_as_text(staff_client, hostile):
    raw = (
        f"{HOSTILE['title']}\n\n{HOSTILE['lead']}\n\n"
        f"Zwartgalligheid {BODY_MARKUP}.\n\nFoto Beeld ANP / EPA\n\nSlotalinea met meer tekst."
    )
    response = staff_client.post(reverse("admin:archive_article_paste"), {"raw": raw})
    assert response.status_code == 200
    html = response.content.decode()
    assert inline_code(html) == []
    page = Page(html)
    assert page.injected == []
    assert page.values["id_title"] == HOSTILE["title"]
    # The raw text travels on in a hidden field, exactly.
    assert page.values["id_raw"] == raw
    assert BODY_MARKUP in page.textareas["id_body"]


def test_autocomplete_gives_back_the_exact_names(staff_client, hostile):
    response = staff_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "archive", "model_name": "article", "field_name": "source", "term": "Bron"},
    )
    names = [row["text"] for row in json.loads(response.content)["results"]]
    assert HOSTILE["source"] in names
