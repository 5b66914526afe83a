"""Whatever ends up in the browse page's query string, the answer is never a server error;
and input too large for the archive is refused with a message saying so."""

import datetime
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.contrib.postgres.search import SearchQuery
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from archive.models import Article

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"

PARAMS = ("q", "actor", "event", "source", "author", "genre", "van", "tot", "sort", "pagina")

# Text that search parsers, date parsers and PostgreSQL find hard: NUL and other control
# characters, quotes left open, boolean and tsquery operators, wildcards, unicode.
# fmt: off
NASTY = [
    "\x00", "\x01", "\x1b", "\x7f", "\u200b", "\ufeff", "\ud7ff", "\U0001f4a9",
    '"', "'", "`", "\\", "(", ")", "[", "]", "{", "}", "<", ">",
    "&", "|", "!", ":", "*", "-", "+", "~", "^", "%", "_", "?", "#", ";", ",", "/",
    "AND", "OR", "NOT", "<->", "<2>", "&&", "||", "!!", ":*", "-Rostov", '"Wagner',
    "Poetin", "Putin", "prigozjin", "vladimir-poetin", "wagner-muiterij", "het-parool",
    "relevantie", "nieuwste", "oudste", "column", "2023-06-24", "24-06-2023", "2023-02-30",
    "0000-00-00", "9999-12-31", "-1", "0", "1e9", "NaN", " ", "\t", "\n", "%00", "&amp;",
    "'; DROP TABLE archive_article; --", "<script>alert(1)</script>",
]
# fmt: on
text = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(NASTY), max_size=12).map("".join),
    st.lists(st.sampled_from(NASTY) | st.text(max_size=5), max_size=12).map(" ".join),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.builds(lambda s, n: s * n, st.sampled_from([*NASTY, "Poetin ", "a"]), st.integers(1, 3000)),
)
# A parameter may be missing, given once, or repeated (?actor=a&actor=b).
query = st.dictionaries(st.sampled_from(PARAMS), st.lists(text, min_size=1, max_size=3))


def get_browse(client, params):
    # A savepoint per request: a database error in one example must not poison the next.
    with transaction.atomic():
        return client.get(reverse("archive:browse"), params)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(params=query)
@example(params={"q": ["Poetin\x00Wagner"], "pagina": ["999999999999999999999999"]})
@example(params={"q": ['"Wagner muiterij'], "actor": ["\x00"], "van": ["2023-13-45"]})
@example(params={"q": ["!(&|:*<->)"], "sort": ["\x00"], "pagina": ["-1"], "tot": ["\x00"]})
@example(params={"q": ["a" * 20000], "genre": ["'"], "event": ["wagner-muiterij"] * 3})
@example(params={"source": ["\x00"], "author": ["\x00"], "genre": ["\x00"]})
def test_browse_never_answers_with_a_server_error(client, params):
    response = get_browse(client, params)
    assert response.status_code == 200, (params, response.status_code)


def test_a_nul_byte_in_every_parameter_is_harmless(client):
    response = get_browse(client, {name: "Poetin\x00" for name in PARAMS})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "raw",
    [
        "q=%FF%FE%00&pagina=%00",  # not UTF-8 at all
        "q=%C3%28&actor=%ED%A0%80",  # broken and surrogate UTF-8 sequences
        "q=&q=Poetin&pagina=2&pagina=-5&sort=",  # repeated and empty
        "q=Poetin&pagina=99999999999999999999999999999999999999",
        "%00=%00&=&&&q",  # junk names
    ],
)
def test_raw_query_strings_are_harmless(client, raw):
    with transaction.atomic():
        response = client.get(reverse("archive:browse") + "?" + raw)
    assert response.status_code == 200


# Input too large: refused with a message naming the size and the limit, never a 500 and
# never half stored.

LONG_QUERY = "Poetin " * 120  # 840 characters; the search box takes 500


@pytest.mark.parametrize(
    "url_name",
    ["archive:browse", "archive:api_browse", "archive:browse_feed", "archive:browse_export"],
)
def test_an_over_long_query_is_searched_for_its_first_part(client, url_name):
    response = client.get(reverse(url_name), {"q": LONG_QUERY})
    assert response.status_code == 200
    content = response.content.decode("utf-8-sig")
    if url_name == "archive:browse":
        assert "ingekort tot 500 tekens" in content
        assert response.context["search"].filters.q == " ".join(LONG_QUERY.split())[:500]
        assert response.context["page"].object_list
    elif url_name == "archive:api_browse":
        data = json.loads(content)
        assert "Zoekopdracht: ingekort tot 500 tekens." in data["problems"]
        assert data["results"]
    elif url_name == "archive:browse_feed":
        assert ET.fromstring(response.content).find(f"{ATOM}entry") is not None
    else:
        assert len(content.splitlines()) > 1


@pytest.fixture
def small_limits(settings):
    settings.MAX_PIECE_CHARS = 2_000
    settings.MAX_LEAD_CHARS = 300
    settings.MAX_PASTE_CHARS = 4_000
    settings.MAX_IMPORT_CHARS = 10_000
    return settings


def words(n_chars: int, word: str = "Wagnerlegioen ") -> str:
    """Text of exactly n_chars characters, ending in a full stop."""
    return (word * (n_chars // len(word) + 1))[: n_chars - 1] + "."


def admin_add(staff_client, **fields):
    data = {
        "title": "Een lang stuk",
        "slug": "een-lang-stuk",
        "lead": "",
        "body": "Korte tekst.",
        "genre": "analyse",
        "published_on": "01-06-2023",
        "date_precision": "day",
        "url": "",
        **{
            f"{group}-{key}": value
            for group in ("actor_links", "event_links")
            for key, value in {
                "TOTAL_FORMS": "0",
                "INITIAL_FORMS": "0",
                "MIN_NUM_FORMS": "0",
                "MAX_NUM_FORMS": "1000",
            }.items()
        },
        **fields,
    }
    return staff_client.post(reverse("admin:archive_article_add"), data)


def test_admin_refuses_a_text_over_the_limit_saying_how_long(staff_client, small_limits):
    response = admin_add(staff_client, body=words(2_500))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["body"]
    assert errors == [
        "Tekst is 2.500 tekens lang; er passen er ten hoogste 2.000. "
        "Kort de tekst in of verdeel hem over meer stukken."
    ]
    assert "Tekst is 2.500 tekens lang" in response.content.decode()
    assert not Article.objects.filter(slug="een-lang-stuk").exists()


def test_admin_refuses_an_intro_over_the_limit(staff_client, small_limits):
    response = admin_add(staff_client, lead=words(400))
    assert (
        response.context["adminform"]
        .form.errors["lead"][0]
        .startswith("Intro is 400 tekens lang; er passen er ten hoogste 300.")
    )
    assert not Article.objects.filter(slug="een-lang-stuk").exists()


def test_admin_takes_a_text_at_the_limit(staff_client, small_limits):
    body = words(2_000)
    assert len(body) == 2_000
    response = admin_add(staff_client, body=body)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Article.objects.get(slug="een-lang-stuk").body == body
    # The form has no maxlength: a browser would cut a longer paste off unseen.
    page = staff_client.get(reverse("admin:archive_article_add")).content.decode()
    assert "maxlength" not in page.split('name="body"', 1)[1].split(">", 1)[0]


def test_paste_refuses_raw_text_over_the_limit(staff_client, small_limits):
    response = staff_client.post(reverse("admin:archive_article_paste"), {"raw": words(4_100)})
    assert response.status_code == 200
    html = response.content.decode()
    assert "De geplakte tekst is 4.100 tekens lang; er passen er ten hoogste 4.000." in html
    assert "Plak alleen het stuk zelf" in html
    assert "Opslaan en voorstellen bekijken" not in html


def test_paste_refuses_a_cleaned_text_over_the_piece_limit(staff_client, small_limits):
    raw = "Kop van het stuk\n\n" + words(3_000)
    response = staff_client.post(reverse("admin:archive_article_paste"), {"raw": raw})
    html = response.content.decode()
    assert "De opgeschoonde tekst is 3.000 tekens lang; er passen er ten hoogste 2.000." in html
    assert "Opslaan en voorstellen bekijken" not in html


def test_paste_review_with_forged_over_long_text_stores_nothing(staff_client, small_limits):
    before = Article.objects.count()
    data = {
        "_save": "1",
        "raw": words(5_000),
        "title": "Vervalst",
        "body": words(2_500),
        "genre": "analyse",
        "published_on": "01-06-2023",
        "date_precision": "day",
    }
    response = staff_client.post(reverse("admin:archive_article_paste"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Tekst is 2.500 tekens lang" in html
    assert "De geplakte tekst is 5.000 tekens lang" in html
    assert Article.objects.count() == before


def test_a_form_bigger_than_the_upload_limit_answers_400(staff_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = admin_add(staff_client, body=words(20_000))
    assert response.status_code == 400
    assert "Dit verzoek begrijpen we niet" in response.content.decode()


def test_the_upload_limit_admits_a_piece_at_the_limits_in_the_widest_characters(settings):
    """Percent-encoded, a 4-byte character takes 12 bytes: the piece's admin form must
    still fit at the limits (paste forms go as multipart, UTF-8 as is)."""
    from urllib.parse import urlencode

    wide = "\U00020000"
    form = urlencode(
        {
            "body": wide * settings.MAX_PIECE_CHARS,
            "lead": wide * settings.MAX_LEAD_CHARS,
            "title": wide * 300,
        }
    )
    assert len(form) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    pasted = (settings.MAX_PASTE_CHARS + settings.MAX_PIECE_CHARS + settings.MAX_LEAD_CHARS) * 4
    assert pasted < settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def test_a_piece_at_the_limits_in_the_worst_text_is_stored_and_found(settings):
    """Every word another word of 4-byte characters: the full-text vector is as large as a
    text of MAX_PIECE_CHARS can make it, and must stay under PostgreSQL's 1 MB."""
    import itertools

    letters = [chr(c) for c in range(0x20000, 0x20000 + 3000)]
    pairs = ("".join(p) for p in itertools.product(letters, repeat=2))

    def worst(n):
        return " ".join(itertools.islice(pairs, n // 3 + 1))[:n]

    title, lead, body = worst(300), worst(settings.MAX_LEAD_CHARS), worst(settings.MAX_PIECE_CHARS)
    article = Article.objects.create(
        title=title,
        slug="zwaarste-stuk",
        lead=lead,
        body=body,
        genre="nieuws",
        published_on=datetime.date(2024, 1, 1),
    )
    last_word = body.split()[-2]
    assert article in Article.objects.filter(
        search_vector=SearchQuery(last_word, config=settings.SEARCH_CONFIG)
    )


def jsonl(tmp_path, *rows) -> Path:
    path = tmp_path / "stukken.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def run_import(*args) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_articles", *map(str, args), stdout=out, stderr=err)
    return out.getvalue()


def json_row(body, **fields) -> str:
    return json.dumps({"body": body, "date": "2023-06-24", **fields})


def test_import_fails_an_over_long_line_by_number_and_goes_on(tmp_path, small_limits):
    long_line = json_row(words(12_000))
    path = jsonl(
        tmp_path,
        json_row("Eerste stuk over de muiterij van Wagner in juni."),
        long_line,
        json_row("Derde stuk over Prigozjin en zijn opmars naar Moskou."),
    )
    output = run_import(path)
    assert output.startswith("2 toegevoegd, 0 overgeslagen als dubbel, 1 mislukt")
    length = f"{len(long_line):,}".replace(",", ".")
    assert f"stukken.jsonl:2: regel te lang: {length} tekens, ten hoogste 10.000" in output
    assert "(MAX_IMPORT_CHARS)" in output


def test_import_fails_a_text_or_intro_over_the_limit(tmp_path, small_limits):
    path = jsonl(
        tmp_path,
        json_row(words(3_000)),
        json_row("Een stuk met een te lange intro over Wagner.", lead=words(400)),
        json_row(words(5_000)),
    )
    output = run_import(path)
    assert output.startswith("0 toegevoegd, 0 overgeslagen als dubbel, 3 mislukt")
    assert (
        "stukken.jsonl:1: opgeschoonde tekst te lang: 3.000 tekens, "
        "ten hoogste 2.000 (MAX_PIECE_CHARS)" in output
    )
    assert "stukken.jsonl:2: intro te lang: 400 tekens, ten hoogste 300 (MAX_LEAD_CHARS)" in output
    assert (
        "stukken.jsonl:3: tekst te lang: 5.000 tekens, ten hoogste 4.000 (MAX_PASTE_CHARS)"
        in output
    )


def test_import_fails_an_over_long_text_file_without_reading_it_all(tmp_path, small_limits):
    big = tmp_path / "groot.txt"
    big.write_text(words(50_000), encoding="utf-8")
    small = tmp_path / "klein.txt"
    small.write_text("Een kort stuk over de opmars van Wagner naar Moskou.", encoding="utf-8")
    output = run_import(big, small, "--date", "2023-06")
    assert output.startswith("1 toegevoegd, 0 overgeslagen als dubbel, 1 mislukt")
    assert "groot.txt: bestand te lang: meer dan 10.000 tekens (MAX_IMPORT_CHARS)" in output
