"""Every response carries the Content-Security-Policy, and no page the archive serves
holds what that policy would block: inline scripts, inline styles, event handler
attributes or javascript: links. (tests/browser/test_csp_in_browser.py loads the same
pages in Chromium and fails on any violation it reports.)"""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from archive.models import Actor, Article, Author, Event, Source

pytestmark = pytest.mark.django_db

EXPECTED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy(response) -> dict[str, str]:
    assert "Content-Security-Policy" in response, f"no CSP header on {response.request}"
    directives = [d.strip() for d in response["Content-Security-Policy"].split(";")]
    return {name: value.strip() for name, _, value in (d.partition(" ") for d in directives)}


class InlineFinder(HTMLParser):
    """Everything in a page that a policy without 'unsafe-inline' refuses."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._script = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not attrs.get("src"):
            self.found.append(f"inline <script> {attrs}")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs.items():
            if name == "style":
                self.found.append(f"style attribute on <{tag}>: {value!r}")
            if name.startswith("on"):
                self.found.append(f"{name} handler on <{tag}>")
            if name in ("href", "src", "action", "formaction") and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.found.append(f"javascript: URL in <{tag} {name}>")


def inline_code(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    return finder.found


# The pages by name; their addresses need the database, so they are made in the test.
READER_PAGES = [
    *("home", "search", "browse with filters", "no results", "piece", "actor", "event"),
    *("source", "author", "genre", "actors", "events", "not found"),
]
MACHINE_PAGES = [
    *("search feed", "actor feed", "event feed", "source feed", "author feed"),
    *("json search", "json piece", "json not found", "csv", "sitemap", "sitemap section"),
    "robots",
]
ADMIN_PAGES = [
    *("index", "pieces", "pieces filtered", "piece add", "piece change", "piece history"),
    *("piece delete", "paste", "actors", "actor add", "actor change", "event change"),
    *("events", "source change", "author change", "history", "autocomplete", "popup add"),
]


def reader_urls() -> dict[str, str]:
    article = Article.objects.order_by("pk").first()
    actor = Actor.objects.get(slug="vladimir-poetin")
    event = Event.objects.get(slug="wagner-muiterij")
    source, author = Source.objects.first(), Author.objects.first()
    return {
        "home": reverse("archive:home"),
        "search": reverse("archive:browse") + "?q=Poetin",
        "browse with filters": reverse("archive:browse")
        + f"?q=Wagner&actor={actor.slug}&genre=column&van=2023-01-01&sort=newest",
        "no results": reverse("archive:browse") + "?q=Prigozhinn",
        "piece": article.get_absolute_url(),
        "actor": actor.get_absolute_url(),
        "event": event.get_absolute_url(),
        "source": source.get_absolute_url(),
        "author": author.get_absolute_url(),
        "genre": reverse("archive:genre", args=["column"]),
        "actors": reverse("archive:actors"),
        "events": reverse("archive:events"),
        "not found": "/dit/bestaat/niet/",
    }


def machine_urls() -> dict[str, str]:
    article = Article.objects.order_by("pk").first()
    return {
        "search feed": reverse("archive:browse_feed") + "?q=Poetin",
        "actor feed": reverse("archive:actor_feed", args=["vladimir-poetin"]),
        "event feed": reverse("archive:event_feed", args=["wagner-muiterij"]),
        "source feed": reverse("archive:source_feed", args=[Source.objects.first().slug]),
        "author feed": reverse("archive:author_feed", args=[Author.objects.first().slug]),
        "json search": reverse("archive:api_browse") + "?q=Poetin",
        "json piece": reverse("archive:api_article", args=[article.slug]),
        "json not found": reverse("archive:api_article", args=["bestaat-niet"]),
        "csv": reverse("archive:browse_export") + "?q=Poetin",
        "sitemap": reverse("archive:sitemap"),
        "sitemap section": reverse("archive:sitemap_section", args=["stukken"]),
        "robots": reverse("archive:robots"),
    }


def admin_urls() -> dict[str, str]:
    article = Article.objects.order_by("pk").first()
    actor = Actor.objects.get(slug="vladimir-poetin")
    event = Event.objects.get(slug="wagner-muiterij")
    return {
        "index": reverse("admin:index"),
        "pieces": reverse("admin:archive_article_changelist"),
        "pieces filtered": reverse("admin:archive_article_changelist")
        + f"?actor={actor.pk}&voorstellen=open&q=Poetin&published_on__year=2023",
        "piece add": reverse("admin:archive_article_add"),
        "piece change": reverse("admin:archive_article_change", args=[article.pk]),
        "piece history": reverse("admin:archive_article_history", args=[article.pk]),
        "piece delete": reverse("admin:archive_article_delete", args=[article.pk]),
        "paste": reverse("admin:archive_article_paste"),
        "actors": reverse("admin:archive_actor_changelist"),
        "actor add": reverse("admin:archive_actor_add"),
        "actor change": reverse("admin:archive_actor_change", args=[actor.pk]),
        "event change": reverse("admin:archive_event_change", args=[event.pk]),
        "events": reverse("admin:archive_event_changelist"),
        "source change": reverse("admin:archive_source_change", args=[Source.objects.first().pk]),
        "author change": reverse("admin:archive_author_change", args=[Author.objects.first().pk]),
        "history": reverse("admin:admin_logentry_changelist"),
        "autocomplete": reverse("admin:autocomplete")
        + "?app_label=archive&model_name=article&field_name=source&term=Pa",
        "popup add": reverse("admin:archive_author_add") + "?_to_field=id&_popup=1",
    }


@pytest.mark.parametrize("name", READER_PAGES)
def test_reader_pages_carry_the_policy_and_no_inline_code(client, name):
    response = client.get(reader_urls()[name])
    assert response.status_code in (200, 404)
    assert policy(response) == EXPECTED
    assert inline_code(response.content.decode()) == []


@pytest.mark.parametrize("name", MACHINE_PAGES)
def test_feeds_json_csv_and_sitemaps_carry_the_policy(client, name):
    response = client.get(machine_urls()[name])
    assert response.status_code in (200, 404)
    assert policy(response) == EXPECTED


def test_admin_login_carries_the_policy_and_no_inline_code(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 200
    assert policy(response) == EXPECTED
    assert inline_code(response.content.decode()) == []


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_admin_pages_carry_the_policy_and_no_inline_code(staff_client, name):
    response = staff_client.get(admin_urls()[name])
    assert response.status_code == 200
    assert policy(response) == EXPECTED
    if response["Content-Type"].startswith("text/html"):
        assert inline_code(response.content.decode()) == []


def test_paste_review_page_has_no_inline_code(staff_client):
    raw = (
        "Poetin en Prigozjin\n\nDe muiterij van Wagner liet zien hoe kwetsbaar het "
        "Kremlin is. Foto Beeld ANP / EPA\n\nEen tweede alinea over het Kremlin."
    )
    response = staff_client.post(reverse("admin:archive_article_paste"), {"raw": raw})
    assert response.status_code == 200
    assert "Verwijderd bij het opschonen" in response.content.decode()
    assert policy(response) == EXPECTED
    assert inline_code(response.content.decode()) == []


@pytest.mark.parametrize("template", ["400.html", "403.html", "429.html", "500.html", "503.html"])
def test_error_pages_have_no_inline_code(template):
    from django.template.loader import render_to_string

    assert inline_code(render_to_string(template)) == []


def test_the_finder_sees_what_the_policy_blocks():
    html = (
        '<script>x()</script><style>p{}</style><p style="color:red" onclick="x()">'
        '<a href=" JavaScript:x()">a</a><script src="/static/a.js"></script>'
    )
    assert len(inline_code(html)) == 5
