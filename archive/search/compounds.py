"""Dutch compounds split into their parts, so a search for `akkoord` finds a piece that
only says "klimaatakkoord" (ranked below pieces that say "akkoord" itself).

The splitting runs inside PostgreSQL, in `compound_parts(title, lead, body)` (made by
migration 0009 from `function_sql()`), so the search vector stays a generated column:
every write path (ORM, bulk_create, raw SQL, COPY) gets the parts, and nothing can
drift. Its lexicon is compound_lexicon.tsv beside this module, built once by
`python -m archive.search.compounds` from two published word lists:

- the OpenTaal word list (Debian's `wdutch` package, /usr/share/dict/dutch): the
  spelling dictionary of the Dutch Language Union's spelling, inflected forms included;
  only its lower-case entries are used, so names (Eindhoven, Amsterdam) are never parts;
- wordfreq's Dutch frequencies (`wordfreq` on PyPI, version pinned below): how common
  each word is, in Zipf units (log10 of occurrences per billion words: 3 is once per
  million words, 6 once per thousand).

How a word is split (the rules, in words; the SQL is function_sql()):

- Only words of at least 8 letters are candidates, hyphenated parts included
  (concept-Klimaatakkoord); names in the dictionary (Steenwijk, Eindhoven) stay whole.
- A split is head + tail, both at least MIN_PART letters and both in the lexicon; the
  head may carry a linking -s-, -e- or -en- (beleid·s·makers, staten·verkiezingen) when
  the head with it is not a word itself.
- Parts are content words: no function words, prepositions or particles (voor·stel,
  onder·zoek, toe·komst), numerals, or prefix-like heads (anti-, mini-, trans-); no
  derivational endings as tails (weten·schap, mogelijk·heden, besteding); a tail must
  end at least MIN_TAIL_COMPOUNDS compounds of the dictionary, which rules out the
  many accidental words inside words (bemoei·lijkt, mis·standen).
- A word that is a prefixed derivation (be·sturen, ge·vangenis, ver·koop) is not split.
- Of the possible splits the one with the most common parts wins, and only when its
  parts are on average more common than the word itself (Koehn and Knight's geometric
  mean of frequencies): a lexicalised word (regelmatig, minister, ziekenhuis, Eindhoven)
  stays whole.
- Parts are split again, up to MAX_DEPTH levels: gemeenteraadsverkiezingen gives
  gemeenteraad, verkiezingen, gemeente and raad.

Changing the lexicon or the rules changes what the stored vectors would hold: it takes
a new migration that re-creates the function and recomputes search_vector (PostgreSQL
does not recompute stored generated columns when a function changes), and a new
FUNCTION_SHA256 here; tests/test_compounds.py checks that the two agree.
"""

import hashlib
import json
import math
import sys
from collections import Counter
from pathlib import Path

LEXICON_FILE = Path(__file__).with_name("compound_lexicon.tsv")
# The sha256 of function_sql() for the lexicon file as it is: see the module docstring.
FUNCTION_SHA256 = "125cd8107e6d889d41725635a24016ad1b8bee7e3f3b050331de230c17edf2c5"

WORDFREQ_VERSION = "3.1.1"
MIN_ZIPF = 3.0  # once per million words: rarer words are too often noise or names
MIN_PART = 4  # letters; shorter parts match too much (raad, punt and huis are in)
MIN_WORD = 2 * MIN_PART
MAX_DEPTH = 3
MIN_TAIL_COMPOUNDS = 3
# The frequency given to names: above any part's, so a name never splits.
NAME_ZIPF = 9.99

# Never parts: they either carry no meaning of their own or are prepositions and
# particles that make separable verbs and derivations look like compounds.
FUNCTION_WORDS = set(
    """
    aldaar aldus alle allebei allen alleen alles altijd ander andere anders beide
    beiden behalve binnen boven buiten daar daarom dank deze dezelfde dezen doch door
    echter eens eigen elke enige enkel enkele even geen geweest haar hebben heeft heel
    heen hier hierbij iedere iemand iets jegens jullie kunnen langs later maar mede
    meer meest mijn moet moeten mogen naar nabij neer niet niets noch nooit omdat onder
    ongeveer onze ooit over overal reeds richting rond rondom samen sinds sommige
    steeds tegen terug thuis tijdens toch toen tussen vanaf vandaan veel verder volgens
    voor vooral voort waar waren wanneer want weer wegens welk welke werd wezen wordt
    worden zelf zelfs zich zijn zoals zonder zeer zulk zulke zullen doorheen omheen
    tegemoet opzij omhoog omlaag omver achter achteruit vooruit vooraan voorop teleur
    overeen aller twee drie vier vijf zeven acht negen tien twaalf dertien veertien
    vijftien zestien zeventien achttien negentien twintig dertig veertig vijftig zestig
    zeventig tachtig negentig honderd duizend miljoen miljard eerste tweede derde
    vierde vijfde
    """.split()  # noqa: SIM905 (a list of words reads better as words)
)
# Pronominal adverbs: er, daar, hier, waar with a preposition (eraf, daarvoor, ...).
FUNCTION_WORDS |= {
    stem + preposition
    for stem in ("er", "daar", "hier", "waar")
    for preposition in """
        aan af bij door in langs mee na naar om onder op over tegen toe tussen uit van voor
        achter boven binnen buiten heen mede
        """.split()  # noqa: SIM905
}
# Endings that are also words: as a tail they turn derivations and inflections into
# false compounds (wetenschap: weten + schap; wetenschappers: wetenschap + pers).
NOT_TAILS = set(
    """
    schap schappen heid heden lijk lijke lijks lijker lijkst lijkheid lijkt lijken baar
    bare baarheid loos loze loosheid achtig achtige isme ismen isch ische isten iste
    ering eringen atie aties natie naties ratie ingen teit iteit erij erijen ling
    lingen zaam zame matig matige ende enden eren erend erende rende eert eerde eerden
    keren pers kers ters ring ringen laar laars aars tjes etje trant velde gers ding
    gierig
    """.split()  # noqa: SIM905 (a list of words reads better as words)
)
# Prefix-like heads: mini·maal, trans·actie, kilo·meters.
NOT_HEADS = set(
    """
    anti mini maxi mega kilo trans inter pseudo semi ultra hyper multi micro macro miss
    neder stik
    """.split()  # noqa: SIM905 (a list of words reads better as words)
)
# Unstressed prefixes of derived words: a word that is one of these before a word
# (be·sturen, ge·vangenis, ver·koop, ont·wikkeling) is a derivation, not a compound.
PREFIXES = ("be", "ge", "ver", "ont", "her", "er")
LINKERS = ("s", "e", "en")

HEADER = f"""\
# The lexicon of archive/search/compounds.py: word, Zipf frequency, role (part: a head
# or tail of compounds; head: only a head; word: never a part). Generated by
# `python -m archive.search.compounds` (do not edit by hand) from:
#
# - the OpenTaal word list 2.20.19 (Debian package wdutch 1:2.20.19-2), (c) 1996
#   Nederlandstalige TeX Gebruikersgroep, 2001-2005 Simon Brouwer e.a., 2006-2010 and
#   2020 OpenTaal (Simon Brouwer, Sander van Geloven); BSD (revised) or CC BY 3.0,
#   https://github.com/OpenTaal/opentaal-wordlist
# - wordfreq {WORDFREQ_VERSION} by Robyn Speer, https://github.com/rspeer/wordfreq, whose
#   data is redistributed under CC BY-SA 4.0 and derives from, among others, SUBTLEX-NL
#   (Keuleers, Brysbaert & New, 2010, Behavior Research Methods 42(3), 643-650; freely
#   available data), OpenSubtitles 2018 (OPUS, opensubtitles.org), Wikipedia, ParaCrawl,
#   the Leeds Internet Corpus, Google Books Ngrams and Twitter.
#
# As data derived from wordfreq, this file is licensed under CC BY-SA 4.0
# (https://creativecommons.org/licenses/by-sa/4.0/).
"""

# Roles in the lexicon, and how the function's jsonb encodes them with the frequency:
# part (head or tail): z; head only: 10 + z; a known word that is never a part (kept for
# its frequency and for the linker and prefix rules): 20 + z. Zipf values are below 10.
PART, HEAD, WORD = "part", "head", "word"
_OFFSET = {PART: 0, HEAD: 10, WORD: 20}


def build(dictionary: Path) -> dict[str, tuple[float, str]]:
    """word -> (Zipf frequency, role), from the OpenTaal list and wordfreq."""
    from importlib.metadata import version

    import wordfreq

    if version("wordfreq") != WORDFREQ_VERSION:
        raise SystemExit(f"wordfreq {WORDFREQ_VERSION} is needed, not {version('wordfreq')}")
    frequencies = wordfreq.get_frequency_dict("nl", wordlist="large")
    zipf = {w: round(math.log10(f * 1e9), 2) for w, f in frequencies.items() if f > 0}
    entries = {w.strip() for w in dictionary.read_text(encoding="utf-8").splitlines()}
    common = {w for w in entries if w.isalpha() and w.islower() and zipf.get(w, 0) >= MIN_ZIPF}
    parts = {w for w in common if len(w) >= MIN_PART and w not in FUNCTION_WORDS}
    tails = _productive_tails(entries, parts | FUNCTION_WORDS, parts)

    lexicon = {}
    for word in common | FUNCTION_WORDS:
        if word not in zipf or len(word) < MIN_PART:
            continue
        if word in parts and word not in NOT_HEADS:
            role = PART if word in tails and word not in NOT_TAILS else HEAD
        else:
            role = WORD
        lexicon[word] = (zipf[word], role)
    # Long words of any kind, names included: their own frequency keeps them whole.
    for word, z in zipf.items():
        if len(word) >= MIN_WORD and z >= MIN_ZIPF and word.isalpha() and word not in lexicon:
            lexicon[word] = (z, WORD)
    # Names in the dictionary (capitalised only: Steenwijk, Waterland, Abrahamstraat)
    # that end in a part: a frequency no split can beat keeps them whole.
    lower = {w for w in entries if w.islower()}
    tails_ = {w for w, (_, role) in lexicon.items() if role == PART}
    for entry in entries:
        name = entry.lower()
        if (
            entry[:1].isupper()
            and entry.isalpha()
            and len(name) >= MIN_WORD
            and name not in lower
            and any(name[i:] in tails_ for i in range(MIN_PART, len(name) - MIN_PART + 1))
        ):
            lexicon[name] = (NAME_ZIPF, WORD)
    return lexicon


def _productive_tails(entries, known, parts) -> set[str]:
    """Parts that end at least MIN_TAIL_COMPOUNDS of the dictionary's compounds, split as
    the function would (a known head, or one with a linker, before them)."""
    counts = Counter()
    for word in entries:
        if len(word) < MIN_WORD or not (word.isalpha() and word.islower()):
            continue
        found = set()
        for i in range(MIN_PART, len(word) - MIN_PART + 1):
            stem, tail = word[:i], word[i:]
            if tail in parts and any(h in parts for h in _heads(stem, known)):
                found.add(tail)
        counts.update(found)
    return {tail for tail, n in counts.items() if n >= MIN_TAIL_COMPOUNDS}


def _heads(stem: str, known) -> list[str]:
    if stem in known:
        return [stem]
    return [stem[: -len(link)] for link in LINKERS if stem.endswith(link)]


def write(lexicon: dict[str, tuple[float, str]], path: Path = LEXICON_FILE) -> None:
    lines = [f"{w}\t{z:.2f}\t{role}" for w, (z, role) in sorted(lexicon.items())]
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")


def read(path: Path = LEXICON_FILE) -> dict[str, tuple[float, str]]:
    lexicon = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            word, z, role = line.split("\t")
            lexicon[word] = (float(z), role)
    return lexicon


def function_sql(lexicon: dict[str, tuple[float, str]] | None = None) -> str:
    """CREATE OR REPLACE FUNCTION compound_parts(title, lead, body): the distinct parts
    of the text's compounds, sorted, separated by spaces ('' when there are none).

    PL/pgSQL keeps the plan of its one query for the session, so the lexicon (a jsonb
    constant in it) is parsed once per connection, not per row; jsonb finds a key by
    binary search.
    """
    lexicon = read() if lexicon is None else lexicon
    encoded = {w: round(_OFFSET[role] + z, 2) for w, (z, role) in sorted(lexicon.items())}
    literal = json.dumps(encoded, ensure_ascii=False, separators=(",", ":")).replace("'", "''")
    return _FUNCTION.replace("{lexicon}", literal)


def function_sha256(sql: str | None = None) -> str:
    return hashlib.sha256((sql or function_sql()).encode()).hexdigest()


# The lexicon `j` maps a word to its role's offset + its Zipf frequency (see _OFFSET):
# below 10 a part, below 20 a possible head, any value a known word, and
# `v - 10 * floor(v / 10)` is the frequency. Splitting is set-based, one level of parts
# per round (a plan per statement, not per word), and the word lists never depend on
# the server's locale: letters are spelled out (not [[:alpha:]]), an initial capital
# lowered by translate() (not lower()), parts sorted with COLLATE "C", so every server
# stores the same vector.
_FUNCTION = r"""
CREATE OR REPLACE FUNCTION compound_parts(title text, lead text, body text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $function$
DECLARE
    doc text := coalesce(title, '') || E'\n' || coalesce(lead, '') || E'\n'
                || coalesce(body, '');
    words text[];
    parts text[] := '{}';
BEGIN
    -- Words of letters only, split at hyphens too (concept-Klimaatakkoord), an initial
    -- capital lowered: names are in the lexicon, which keeps them whole.
    words := ARRAY(
        SELECT DISTINCT translate(left(w, 1), '{upper}', '{lower_letters}') || substr(w, 2)
        FROM (
            SELECT btrim(token, '{punctuation}') AS w
            FROM unnest(string_to_array(translate(doc, E'\n\r\t\u00a0-/', '      '), ' '))
                AS token
            WHERE octet_length(token) >= {min_word}
        ) AS tokens
        WHERE w ~ '^{upper_class}?{lower}{{min_word_1}}$'
    );
    FOR depth IN 1..{max_depth} LOOP
        EXIT WHEN cardinality(words) = 0;
        words := ARRAY(
            -- Written once and pulled up by the planner: the constant sits in the plan,
            -- never copied per execution (a MATERIALIZED CTE would copy it every time).
            WITH lexicon AS NOT MATERIALIZED (SELECT '{lexicon}'::jsonb AS j),
            candidates AS (
                SELECT w, (j ->> w)::float8 AS whole
                FROM unnest(words) AS w, lexicon
                WHERE NOT coalesce(j ? {prefix_rest}, false)
            ),
            splits AS (
                SELECT c.w, c.whole, i, left(c.w, i) AS stem, j ? left(c.w, i) AS known,
                       substr(c.w, i + 1) AS tail, (j ->> substr(c.w, i + 1))::float8 AS t
                FROM candidates AS c, lexicon,
                     generate_series({min_part}, length(c.w) - {min_part}) AS i
            ),
            scored AS (
                SELECT s.w, s.i, h.head, s.tail, s.t, s.whole, (j ->> h.head)::float8 AS v
                FROM splits AS s, lexicon,
                LATERAL (VALUES
                    (CASE WHEN s.known THEN s.stem END),
                    (CASE WHEN NOT s.known AND right(s.stem, 1) IN ('s', 'e')
                          THEN left(s.stem, -1) END),
                    (CASE WHEN NOT s.known AND right(s.stem, 2) = 'en'
                          THEN left(s.stem, -2) END)
                ) AS h(head)
                WHERE s.t < 10 AND length(h.head) >= {min_part}
            ),
            best AS (
                SELECT DISTINCT ON (w) head, tail
                FROM scored
                WHERE v < 20
                  AND (v - 10 * floor(v / 10) + t) / 2
                      > coalesce(whole - 10 * floor(whole / 10), 0)
                ORDER BY w, v - 10 * floor(v / 10) + t DESC, i
            )
            SELECT part FROM best, LATERAL (VALUES (head), (tail)) AS p(part)
        );
        parts := parts || words;
        words := ARRAY(SELECT w FROM unnest(words) AS w WHERE length(w) >= {min_word});
    END LOOP;
    RETURN array_to_string(
        ARRAY(SELECT DISTINCT p COLLATE "C" FROM unnest(parts) AS p ORDER BY 1), ' '
    );
END
$function$
"""


def _prefix_rest() -> str:
    """SQL: the word without its unstressed prefix, NULL when it has none."""
    by_length = {}
    for prefix in PREFIXES:
        by_length.setdefault(len(prefix), []).append(f"starts_with(w, '{prefix}')")
    cases = " ".join(
        f"WHEN {' OR '.join(tests)} THEN substr(w, {n + 1})"
        for n, tests in sorted(by_length.items(), reverse=True)
    )
    return f"CASE {cases} END"


_LOWER = "[a-zß-öø-ÿ]"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞ"
_FUNCTION = (
    _FUNCTION.replace("{lower}", _LOWER)
    .replace("{upper_class}", "[A-ZÀ-ÖØ-Þ]")
    .replace("{{min_word_1}}", f"{{{MIN_WORD - 1},}}")
    .replace("{punctuation}", """.,;:!?''"()[]…’‘“”«»*""")
    .replace("{upper}", _UPPER)
    .replace("{lower_letters}", _UPPER.lower())
    .replace("{prefix_rest}", _prefix_rest())
    .replace("{min_word}", str(MIN_WORD))
    .replace("{min_part}", str(MIN_PART))
    .replace("{max_depth}", str(MAX_DEPTH))
)


def main(argv: list[str]) -> None:
    dictionary = Path(argv[1] if len(argv) > 1 else "/usr/share/dict/dutch")
    if not dictionary.exists():
        raise SystemExit(f"No word list at {dictionary}: apt-get install wdutch")
    lexicon = build(dictionary)
    write(lexicon)
    roles = Counter(role for _, role in lexicon.values())
    print(f"{LEXICON_FILE.name}: {len(lexicon)} words {dict(roles)}")
    print(f"FUNCTION_SHA256 = {function_sha256(function_sql(lexicon))!r}")


if __name__ == "__main__":
    main(sys.argv)
