"""Whatever ends up in the browse page's query string, the answer is never a server error."""

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

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
