"""Dutch compounds split into their parts in the search vector: a search for a part
finds the compound, below pieces that use the word itself."""

import datetime

import pytest
from django.conf import settings
from django.db import connection

from archive.models import Actor, Article
from archive.search import compounds
from archive.tagging import suggest_actors
from tests.factories import make_article

pytestmark = pytest.mark.django_db

# Words that must be split, with the parts they must give (three-part compounds give
# their middle too).
MUST_SPLIT = {
    "klimaatakkoord": {"klimaat", "akkoord"},
    "statenverkiezingen": {"staten", "verkiezingen"},
    "beleidsmakers": {"beleid", "makers"},  # linking -s-
    "gemeenteraad": {"gemeente", "raad"},
    "gemeenteraadsverkiezingen": {"gemeenteraad", "gemeente", "raad", "verkiezingen"},
    "verkiezingscampagne": {"verkiezing", "campagne"},
    "coalitiepartijen": {"coalitie", "partijen"},
    "fractievoorzitter": {"fractie", "voorzitter"},
    "kabinetsformatie": {"kabinet", "formatie"},
    "gevangenisstraf": {"gevangenis", "straf"},
    "ontwikkelingshulp": {"ontwikkeling", "hulp"},
    "woningmarkt": {"woning", "markt"},
    "stikstofcrisis": {"stikstof", "crisis"},
    "beleidscoördinator": {"beleid", "coördinator"},  # diacritics, whatever the locale
}

# Words that must stay whole, and why.
MUST_NOT_SPLIT = [
    # derivations: a suffix is no word of its own (weten + schap, wetenschap + pers)
    "wetenschap",
    "wetenschappers",
    "wetenschappelijk",
    "mogelijkheden",
    "verantwoordelijkheid",
    "teleurstelling",
    "nieuwsgierig",
    # a preposition or particle before a word (toe + komst, onder + zoek, voor + stel)
    "toekomst",
    "onderzoek",
    "voorstel",
    "overeenkomst",
    "achtergrond",
    "buitenland",
    "buitenlandse",
    # an unstressed prefix before a word (be + sturen, ge + vangenis, ont + wikkeling)
    "besturen",
    "bestrijden",
    "gevangenis",
    "ontwikkeling",
    # too short to hold two parts of four letters
    "verkoop",
    "bestuur",
    "kabinet",
    # lexicalised: more common than its parts (regel + matig, mini + ster)
    "regelmatig",
    "minister",
    "ministers",
    "interview",
    "ziekenhuis",
    "burgemeester",
    # accidental words inside words (mis + standen, demon + strant, trans + actie)
    "misstanden",
    "demonstrant",
    "transactie",
    "minimaal",
    "geestelijken",
    "beleggers",
    # numerals
    "vijftien",
    "tweehonderd",
]


def parts(title="", lead="", body="") -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT compound_parts(%s, %s, %s)", [title, lead, body])
        text = cursor.fetchone()[0]
    return set(text.split())


def part_lexemes(article) -> set[str]:
    """The lexemes a piece's search vector holds at weight D only."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tsvector_to_array(ts_filter(search_vector, '{d}')) FROM archive_article "
            "WHERE id = %s",
            [article.pk],
        )
        return set(cursor.fetchone()[0])


@pytest.mark.parametrize(("word", "expected"), sorted(MUST_SPLIT.items()))
def test_compounds_split_into_their_parts(word, expected):
    assert expected <= parts(body=f"Het ging over {word} vandaag.")


@pytest.mark.parametrize("word", MUST_NOT_SPLIT)
def test_words_that_are_no_compounds_stay_whole(word):
    assert parts(body=f"Het ging over {word} vandaag.") == set()


def test_names_stay_whole_and_capitalised_compounds_split():
    # Names are in the dictionary, capitalised: Amsterdammers, Eindhoven, Steenwijk.
    assert parts(body="Veel Amsterdammers wonen in Eindhoven, Steenwijk of Rotterdam.") == set()
    # Pieces write "het Klimaatakkoord" as a name, and hyphenate "concept-Klimaatakkoord".
    assert parts(body="Het concept-Klimaatakkoord en de Statenverkiezingen.") == {
        "klimaat",
        "akkoord",
        "staten",
        "verkiezingen",
    }


def test_each_part_once_whatever_the_number_of_compounds():
    assert parts(body="klimaatakkoord, klimaatakkoord en klimaatakkoorden") == {
        "klimaat",
        "akkoord",
        "akkoorden",
    }


def test_function_is_the_one_the_lexicon_and_rules_make():
    # A changed lexicon or rule needs a migration that re-creates the function and
    # recomputes the vectors (archive/search/compounds.py says how).
    assert compounds.function_sha256() == compounds.FUNCTION_SHA256
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'compound_parts'")
        (source,) = cursor.fetchone()
    assert source.strip() in compounds.function_sql()


def titles(query):
    return [a.title for a in Article.objects.search(query)]


# Words that make a body long, so ts_rank alone would favour the short compound piece.
FILLER = " ".join(["De vergadering duurde lang en er werd veel gesproken."] * 30)


def test_a_part_finds_the_compound_below_the_word_itself():
    make_article("Het klimaatakkoord is rond.", title="Alleen de samenstelling")
    make_article(f"Het akkoord is rond. {FILLER}", title="Het woord zelf")
    found = titles("akkoord")
    assert found.index("Het woord zelf") < found.index("Alleen de samenstelling")


def test_a_plural_part_finds_the_compound():
    make_article("De statenverkiezingen waren spannend.", title="Staten")
    assert "Staten" in titles("verkiezingen")


def test_a_compound_in_the_headline_ranks_below_the_word_in_the_body():
    # Parts carry weight D: finding the word itself counts more than where it stands.
    make_article("Zonder het woord in de kop wordt ook een akkoord gesloten.", title="Kop")
    make_article("Er is overeenstemming bereikt.", title="Pensioenakkoord gesloten")
    found = titles("akkoord")
    assert found.index("Kop") < found.index("Pensioenakkoord gesloten")


def test_exclusion_matches_only_the_word_itself():
    make_article("Het klimaatakkoord is rond, zegt de minister.", title="Klimaat")
    make_article("Het akkoord is rond, zegt de minister.", title="Akkoord")
    found = titles("minister -akkoord")
    assert "Klimaat" in found and "Akkoord" not in found


def test_a_phrase_is_not_matched_by_parts():
    make_article("Het klimaatakkoord is rond.", title="Samenstelling")
    assert titles('"klimaat akkoord"') == []


def test_a_part_never_becomes_a_mention():
    Actor.objects.create(name="Akkoord", slug="akkoord", kind=Actor.Kind.ORGANISATION)
    compound = make_article("Het klimaatakkoord is rond.")
    assert "akkoord" in part_lexemes(compound)  # the part is there, at weight D
    assert "akkoord" not in {s.actor.slug for s in suggest_actors(compound)}
    itself = make_article("Het akkoord is rond.")
    assert {s.actor.slug: s.mentions for s in suggest_actors(itself)}["akkoord"] == 1


def _row(n):
    return {
        "title": f"Stuk {n}",
        "slug": f"stuk-{n}",
        "lead": "",
        "body": f"Over de gemeenteraadsverkiezingen, deel {n}.",
        "genre": "nieuws",
        "published_on": datetime.date(2024, 1, 1),
    }


def stems(text) -> set[str]:
    """The lexemes the search configuration makes of `text`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tsvector_to_array(to_tsvector(%s::regconfig, %s))",
            [settings.SEARCH_CONFIG, text],
        )
        return set(cursor.fetchone()[0])


def test_bulk_create_gets_parts():
    created = Article.objects.bulk_create([Article(**_row(n)) for n in (1, 2)])
    for article in created:
        assert stems("gemeenteraad gemeente raad verkiezingen") == part_lexemes(article)


def test_raw_sql_and_copy_get_parts():
    columns = ["title", "slug", "lead", "body", "genre", "published_on", "date_precision"]
    columns += ["url", "created_at", "updated_at"]
    now = datetime.datetime.now(datetime.UTC)
    values = [*_row(3).values(), "day", "", now, now]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO archive_article ({', '.join(columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})",
            values,
        )
        with cursor.cursor.copy(f"COPY archive_article ({', '.join(columns)}) FROM STDIN") as c:
            c.write_row([*_row(4).values(), "day", "", now, now])
    expected = stems("gemeenteraad gemeente raad verkiezingen")
    for slug in ("stuk-3", "stuk-4"):
        assert part_lexemes(Article.objects.get(slug=slug)) == expected


def test_saving_new_text_recomputes_the_parts():
    article = make_article("Over het klimaatakkoord.", title="Stuk")
    article.body = "Over de statenverkiezingen."
    article.save()
    assert part_lexemes(article) == stems("staten verkiezingen")
