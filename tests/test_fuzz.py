"""Every public URL and parameter, fed hostile and valid-looking input: never a server
error, and every answer in the format its URL promises (HTML, Atom, JSON, CSV, XML).

Hypothesis profiles (FUZZ_PROFILE):
- "ci", the default: a fixed few hundred examples, derandomized so a failure repeats
  run after run, well under a minute on two cores;
- "deep", for `make fuzz`: FUZZ_EXAMPLES examples in all (default 20000), random, with
  the example database in .hypothesis/ (kept out of git) so a failure found once is
  tried first the next time.

Inputs mix any Unicode (lone surrogates included, as far as a URL can carry them:
percent-encoded), control characters, 10 kB strings, open quotes and brackets, tsquery
and websearch syntax (the inputs of PostgreSQL's own full-text regression tests, in
tests/fuzz/tsearch_inputs.txt) with values that look right: the seed archive's slugs,
dates in every accepted format, page numbers such as 0, -1 and 10**20.

The test client re-raises what a view raises, so an exception fails the test with its
traceback, not as a bare 500. The rate limits are off, as for every test (conftest.py).
"""

import csv
import datetime
import io
import json
import os
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote, quote_from_bytes

import lxml.html
import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from archive.forms import SORTS
from archive.models import Genre
from archive.sitemaps import SITEMAPS

pytestmark = pytest.mark.django_db

HERE = Path(__file__).parent
ATOM = "{http://www.w3.org/2005/Atom}"
CSV_HEADER = ["titel", "datum", "precisie", "genre", "bron", "auteurs", "actoren", "url"]

# Profiles --------------------------------------------------------------------------

PROFILE = os.environ.get("FUZZ_PROFILE", "ci")
TOTAL_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or (20_000 if PROFILE == "deep" else 400))
_COMMON = {
    # A generous ceiling per request, against hangs (a regex that backtracks forever, a
    # query that never ends), not a speed test: a request here takes tens of ms.
    "deadline": datetime.timedelta(seconds=10),
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    "print_blob": True,
}
hypothesis_settings.register_profile("ci", derandomize=True, database=None, **_COMMON)
hypothesis_settings.register_profile("deep", **_COMMON)


def fuzz(share: float):
    """The chosen profile, with this test's share of the run's examples."""
    return hypothesis_settings(
        hypothesis_settings.get_profile(PROFILE),
        max_examples=max(1, round(TOTAL_EXAMPLES * share)),
    )


# What the archive holds: the seed fixture's slugs, read without a database -----------


def _seed_slugs() -> dict[str, list[str]]:
    found = defaultdict(list)
    for row in json.loads((HERE.parent / "fixtures" / "seed_articles.json").read_text()):
        slug = row["fields"].get("slug")
        if slug:
            found[row["model"].removeprefix("archive.")].append(slug)
    return found


SLUGS = _seed_slugs()
ALL_SLUGS = sorted({slug for slugs in SLUGS.values() for slug in slugs})


def tsearch_inputs() -> list[str]:
    """tests/fuzz/tsearch_inputs.txt, one input a line, backslash escapes undone."""
    lines = (HERE / "fuzz" / "tsearch_inputs.txt").read_text(encoding="utf-8").splitlines()
    return [
        line.encode("ascii", "backslashreplace").decode("unicode_escape")
        for line in lines
        if line.strip() and not line.startswith("#")
    ]


TSEARCH = tsearch_inputs()

# Strategies ------------------------------------------------------------------------

# fmt: off
TOKENS = [
    "\x00", "\x01", "\x08", "\x1b", "\x7f", "\x85", "\u200b", "\u200e", "\u202e", "\ufeff",
    "\ufffd", "\ud800", "\udfff", "\U0001f4a9", "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    '"', "'", "`", "\\", "(", ")", "[", "]", "{", "}", "<", ">", "“", "”", "„", "«", "»",
    "&", "|", "!", ":", "*", "-", "+", "~", "^", "%", "_", "?", "#", ";", ",", "/", "=",
    "AND", "OR", "or", "NOT", "<->", "<2>", "<0>", "<-1>", "&&", "||", "!!", ":*", ":A",
    ":*AB", "-Rostov", '"Wagner', '-"', '""', "(()", "())", "a:::b", "or(", "or-",
    "Poetin", "Putin", "Путин", "Prigozjin", "Čaputová", "Wagnersoldaten", "de", "het",
    "2023-06-24", "24-06-2023", "24/06/2023", "2023-02-30", "0000-00-00", "9999-12-31",
    "-1", "0", "1e9", "NaN", "Infinity", " ", "\t", "\n", "\r\n", "%00", "%", "&amp;",
    "'; DROP TABLE archive_article; --", "<script>alert(1)</script>", "{{ 7*7 }}",
]
# fmt: on
HOSTILE_ONLY = [t for t in TOKENS if not t.isalnum()]

any_unicode = st.text(st.characters(codec=None), max_size=40)  # surrogates included
lone_surrogates = st.text(st.characters(categories=["Cs"]), min_size=1, max_size=4)
scripts = st.text(
    st.characters(categories=["L", "M", "N", "Zs", "Cf", "So", "Sm", "Pi", "Pf"]), max_size=30
)
token_soup = st.lists(st.sampled_from(TOKENS), max_size=14)
big = st.builds(
    lambda unit, n: (unit * n)[:10_240],
    st.sampled_from(["a", "Poetin ", '"', "(", "\x00", "é", "\U0001f4a9", "a<->b ", "-x "]),
    st.integers(1, 10_240),
)
tsearch = st.sampled_from(TSEARCH)
hostile_text = st.one_of(
    any_unicode,
    lone_surrogates,
    scripts,
    token_soup.map("".join),
    token_soup.map(" ".join),
    tsearch,
    st.tuples(tsearch, token_soup.map(" ".join)).map(" ".join),
    big,
)
numbers = st.one_of(
    st.sampled_from([0, -1, 1, 2, 50, 51, 10**20, -(10**20), 2**31, 2**63]),
    st.integers(-(10**30), 10**30),
).map(str)
dates = st.one_of(
    st.builds(
        lambda d, fmt: d.strftime(fmt),
        st.dates(),
        st.sampled_from(["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%Y%m%d", "%d.%m.%Y"]),
    ),
    st.sampled_from(["2023-02-30", "2023-13-01", "0000-01-01", "9999-12-31", "1-1-1"]),
)


def slugs_of(kind: str):
    return st.sampled_from(SLUGS.get(kind) or ALL_SLUGS)


VALUES = {
    "q": st.one_of(
        hostile_text,
        st.lists(st.sampled_from([*TOKENS, *ALL_SLUGS]), max_size=8).map(" ".join),
    ),
    "actor": slugs_of("actor") | hostile_text,
    "event": slugs_of("event") | hostile_text,
    "source": slugs_of("source") | hostile_text,
    "author": slugs_of("author") | hostile_text,
    "genre": st.sampled_from(Genre.values) | hostile_text,
    "van": dates | hostile_text,
    "tot": dates | hostile_text,
    "sort": st.sampled_from([value for value, _ in SORTS]) | hostile_text,
    "pagina": numbers | hostile_text,
    "page": numbers | hostile_text,
    "p": numbers | hostile_text,
}
# A parameter is missing, given once, or repeated (?actor=a&actor=b); now and then a
# name no view knows.
params = st.lists(
    st.one_of(
        st.sampled_from(sorted(VALUES)).flatmap(
            lambda name: st.tuples(st.just(name), VALUES[name])
        ),
        st.tuples(hostile_text, hostile_text),
    ),
    max_size=8,
)


def encoded(text: str) -> str:
    """Percent-encoded UTF-8; a lone surrogate goes as its (invalid) UTF-8 bytes, which
    is as far as a URL can carry one."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def query_string(pairs) -> str:
    return "&".join(f"{encoded(name)}={encoded(value)}" for name, value in pairs)


# Raw query strings: bytes that are not UTF-8, malformed escapes, stray separators.
raw_piece = st.one_of(
    st.binary(max_size=20).map(lambda b: quote_from_bytes(b, safe="")),
    st.sampled_from(["%", "%z", "%zz", "%0", "%ED%A0%80", "%C3%28", "%FF%FE", "+", "=", "=="]),
    st.sampled_from([*VALUES, ""]),
    st.text("&=;+%?", max_size=5),
)
raw_query = st.lists(raw_piece, max_size=16).map("".join)

# Checking what came back ------------------------------------------------------------


def get(client, path: str):
    # A savepoint per request: a database error in one example must not poison the next.
    with transaction.atomic():
        return client.get(path)


def check(response, kind: str, path: str) -> None:
    """No server error, and the body in the format the URL promises (`kind`)."""
    status = response.status_code
    assert status < 500, (status, path)
    content = response.content
    if 300 <= status < 400:
        assert response.has_header("Location"), path
        return
    if status != 200:
        if path.startswith("/api/"):
            data = _json(response, path)
            assert isinstance(data.get("error"), str) and data["error"], (data, path)
            assert data.get("status", status) == status, (data, path)
        else:
            _html(response, path)
        return
    if kind == "html":
        _html(response, path)
    elif kind == "atom":
        assert response["Content-Type"].startswith("application/atom+xml"), path
        root = ET.fromstring(content)
        assert root.tag == f"{ATOM}feed", (root.tag, path)
        for entry in root.iter(f"{ATOM}entry"):
            assert entry.find(f"{ATOM}title") is not None, path
    elif kind == "json":
        data = _json(response, path)
        assert isinstance(data.get("results"), list) and isinstance(data.get("count"), int)
    elif kind == "suggest":
        data = _json(response, path)
        assert isinstance(data.get("suggestions"), list), path
        for item in data["suggestions"]:
            assert item["kind"] in {"actor", "event", "piece"}, (item, path)
            assert item["url"].startswith("/") and item["label"], (item, path)
    elif kind == "article-json":
        data = _json(response, path)
        assert isinstance(data.get("slug"), str) and isinstance(data.get("blocks"), list)
    elif kind == "csv":
        assert response["Content-Type"].startswith("text/csv"), path
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
        assert rows[0] == CSV_HEADER, (rows[0], path)
        assert all(len(row) == len(CSV_HEADER) for row in rows), path
    elif kind == "xml":
        assert response["Content-Type"].startswith("application/xml"), path
        root = ET.fromstring(content)
        assert root.tag.rsplit("}", 1)[-1] in {"urlset", "sitemapindex"}, (root.tag, path)
    elif kind == "text":
        assert response["Content-Type"].startswith("text/plain"), path
        content.decode("utf-8")
    else:
        raise AssertionError(f"unknown kind {kind}")


def _json(response, path: str) -> dict:
    assert response["Content-Type"].startswith("application/json"), (response["Content-Type"], path)
    data = json.loads(response.content.decode("utf-8"))
    assert isinstance(data, dict), path
    return data


def _html(response, path: str) -> None:
    assert response["Content-Type"].startswith("text/html"), (response["Content-Type"], path)
    text = response.content.decode("utf-8")
    document = lxml.html.document_fromstring(text)
    assert document.find(".//title") is not None, path


# The search and its twins -----------------------------------------------------------

SEARCHES = [
    ("/zoeken/", "html"),
    ("/zoeken/feed/", "atom"),
    ("/zoeken/export.csv", "csv"),
    ("/api/zoeken/", "json"),
    ("/", "html"),
    ("/api/suggesties/", "suggest"),
]


@fuzz(0.35)
@given(endpoint=st.sampled_from(SEARCHES), pairs=params)
@example(endpoint=SEARCHES[0], pairs=[("q", "Poetin\x00Wagner"), ("pagina", str(10**20))])
@example(endpoint=SEARCHES[1], pairs=[("q", '"Wagner muiterij'), ("actor", "\ud800")])
@example(endpoint=SEARCHES[2], pairs=[("q", "!(&|:*<->)"), ("sort", "\x00"), ("van", "0")])
@example(endpoint=SEARCHES[3], pairs=[("q", "a" * 10_240), ("pagina", "-1"), ("tot", "x")])
@example(endpoint=SEARCHES[3], pairs=[("actor", "vladimir-poetin"), ("actor", "wagner")])
@example(endpoint=SEARCHES[0], pairs=[("van", "2023-06-24"), ("tot", "2022-01-01")])
@example(endpoint=SEARCHES[2], pairs=[("q", '=HYPERLINK("x")'), ("q", "+1"), ("pagina", "0")])
@example(endpoint=SEARCHES[5], pairs=[("q", "prig\x00:*A|!"), ("q", "a" * 10_240)])
@example(endpoint=SEARCHES[5], pairs=[("q", "Пригожин оек"), ("q", "\ud800po")])
def test_search_and_its_feed_export_and_json_never_fail(client, endpoint, pairs):
    base, kind = endpoint
    path = f"{base}?{query_string(pairs)}" if pairs else base
    check(get(client, path), kind, path)


@fuzz(0.15)
@given(endpoint=st.sampled_from([*SEARCHES, ("/robots.txt", "text")]), raw=raw_query)
@example(endpoint=SEARCHES[0], raw="q=%FF%FE%00&pagina=%00")
@example(endpoint=SEARCHES[3], raw="q=%C3%28&actor=%ED%A0%80&van=%ED%B0%80")
@example(endpoint=SEARCHES[1], raw="%00=%00&=&&&q&q=%")
@example(endpoint=SEARCHES[2], raw="&".join(f"q{i}=x" for i in range(1001)))
def test_raw_query_strings_never_fail(client, endpoint, raw):
    base, kind = endpoint
    path = f"{base}?{raw}"
    check(get(client, path), kind, path)


@pytest.mark.parametrize(
    ("number", "text"), list(enumerate(TSEARCH)), ids=[str(i) for i in range(len(TSEARCH))]
)
def test_postgresql_tsearch_inputs_as_queries(client, number, text):
    """Each of PostgreSQL's own tsquery test inputs once, as a reader's query, in turn on
    each of the search's formats."""
    base, kind = SEARCHES[number % 4]
    path = f"{base}?{query_string([('q', text)])}"
    check(get(client, path), kind, path)


def test_postgresql_tsearch_inputs_as_suggestions(client):
    """Each of PostgreSQL's own tsquery test inputs typed into the search box."""
    for text in TSEARCH:
        path = f"/api/suggesties/?{query_string([('q', text)])}"
        check(get(client, path), "suggest", path)


# Pages of one thing, by slug ---------------------------------------------------------

SUBJECT_PAGES = [
    ("/artikel/{}/", "article", "html"),
    ("/actor/{}/", "actor", "html"),
    ("/gebeurtenis/{}/", "event", "html"),
    ("/bron/{}/", "source", "html"),
    ("/auteur/{}/", "author", "html"),
    ("/genre/{}/", "genre", "html"),
    ("/actor/{}/feed/", "actor", "atom"),
    ("/gebeurtenis/{}/feed/", "event", "atom"),
    ("/bron/{}/feed/", "source", "atom"),
    ("/auteur/{}/feed/", "author", "atom"),
    ("/api/artikel/{}/", "article", "article-json"),
]
SLUG_LIKE = st.from_regex(r"[-a-zA-Z0-9_]{1,80}", fullmatch=True)


@st.composite
def subject_requests(draw):
    pattern, kind, fmt = draw(st.sampled_from(SUBJECT_PAGES))
    own = st.sampled_from(Genre.values) if kind == "genre" else slugs_of(kind)
    slug = draw(
        st.one_of(
            own.map(quote),
            st.sampled_from(ALL_SLUGS).map(quote),
            SLUG_LIKE,
            hostile_text.map(encoded),
            st.sampled_from(HOSTILE_ONLY).map(encoded),
            st.builds(lambda s: (s * 2000)[:10_240], own).map(quote),
        )
    )
    path = pattern.format(slug)
    extra = draw(st.lists(st.tuples(st.sampled_from(["pagina", "q", "p"]), VALUES["pagina"])))
    return (f"{path}?{query_string(extra)}" if extra else path), fmt


@fuzz(0.35)
@given(target=subject_requests())
@example(target=("/actor/vladimir-poetin/?pagina=" + str(10**20), "html"))
@example(target=("/gebeurtenis/wagner-muiterij/?pagina=-1", "html"))
@example(target=("/genre/%00/", "html"))
@example(target=("/genre/column/?pagina=0", "html"))
@example(target=("/api/artikel/%ED%A0%80/", "article-json"))
@example(target=("/auteur/derk-sauer/feed/?pagina=%00", "atom"))
@example(target=("/artikel/" + "a" * 10_240 + "/", "html"))
def test_subject_pages_never_fail(client, target):
    path, fmt = target
    check(get(client, path), fmt, path)


# What crawlers read -----------------------------------------------------------------


@fuzz(0.15)
@given(
    section=st.one_of(st.sampled_from(sorted(SITEMAPS)), SLUG_LIKE, hostile_text.map(encoded)),
    page=st.none() | VALUES["p"],
    index=st.booleans(),
)
@example(section="stukken", page=str(10**20), index=False)
@example(section="stukken", page="0", index=False)
@example(section="auteurs", page="-1", index=False)
@example(section="", page="1", index=True)
def test_sitemaps_never_fail(client, section, page, index):
    path = "/sitemap.xml" if index else f"/sitemap-{section}.xml"
    if page is not None:
        path += f"?p={encoded(page)}"
    check(get(client, path), "xml", path)


# Other methods ----------------------------------------------------------------------

EVERY_KIND = [
    ("/", "html"),
    ("/zoeken/?q=Poetin", "html"),
    ("/zoeken/feed/?q=Wagner", "atom"),
    ("/zoeken/export.csv?q=Wagner", "csv"),
    ("/api/zoeken/?q=Poetin", "json"),
    ("/api/suggesties/?q=prig", "suggest"),
    ("/api/artikel/{}/".format(SLUGS["article"][0]), "article-json"),
    ("/artikel/{}/".format(SLUGS["article"][0]), "html"),
    ("/actor/vladimir-poetin/", "html"),
    ("/actor/vladimir-poetin/feed/", "atom"),
    ("/gebeurtenis/wagner-muiterij/", "html"),
    ("/genre/column/", "html"),
    ("/actoren/", "html"),
    ("/sitemap.xml", "xml"),
    ("/sitemap-stukken.xml", "xml"),
    ("/robots.txt", "text"),
]


@pytest.mark.parametrize(("path", "kind"), EVERY_KIND, ids=[p for p, _ in EVERY_KIND])
def test_head_is_answered_as_get_is(client, path, kind):
    """Crawlers and link checkers ask HEAD: the same status as GET, without a body."""
    got = get(client, path)
    check(got, kind, path)
    with transaction.atomic():
        head = client.head(path)
    assert head.status_code == got.status_code, path
    assert head.content == b"", path


@pytest.mark.parametrize("path", [p for p, _ in EVERY_KIND])
def test_other_methods_never_fail(path):
    """Without a CSRF token, as a stranger sends them: refused or answered, never a 5xx."""
    stranger = Client(enforce_csrf_checks=True)
    for method in ("POST", "PUT", "DELETE", "OPTIONS", "BREW"):
        with transaction.atomic():
            response = stranger.generic(
                method, path, data="q=x", content_type="application/x-www-form-urlencoded"
            )
        assert response.status_code < 500, (method, path, response.status_code)
