"""From a parsed query to PostgreSQL tsqueries: one per group, and their combinations.

PostgreSQL itself turns every term into a tsquery (Dutch stemming, stop words), in one
round trip; the results come back as tsquery text and are combined here into the
queries the later stages need: all groups, all but one, any, the exclusions. Passing
them back as `'…'::tsquery` constants lets the planner estimate each one from the
column's statistics.
"""

import itertools
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.search import SearchQuery

from archive.routers import reading_connection
from archive.search import catalogue
from archive.search.parsing import ParsedQuery, Term, fold

# Prefix matching below this length would match half the vocabulary.
MIN_PREFIX_LENGTH = 4
# "All groups but one" is an OR over as many ANDs as there are groups; past this it
# grows too large to be worth it, and "any" takes over.
MAX_GROUPS_FOR_ALL_BUT_ONE = 6


class TsQuery(SearchQuery):
    """A tsquery given as its text, as PostgreSQL printed it: already stemmed, so no
    configuration applies."""

    def __init__(self, text: str):
        super().__init__(text, search_type="raw")
        self.text = text

    def as_sql(self, compiler, connection, **extra):
        return "%s::tsquery", [self.text]


def actors() -> list:
    """Every actor with its names, kept per process until the archive changes: the alias
    index and the entity index (entities.py) are both built from it."""
    from archive.models import Actor

    return catalogue.remember(
        "actors", lambda: list(Actor.objects.only("name", "aliases", "derived_forms", "kind"))
    )


class AliasIndex:
    """Which actor names a query word stands for: a name stands for every spelling of
    the same actor and its derived forms (Oekraine finds "Oekraïense"); a derived form
    stands only for its siblings. A reader who types "Russische" wants that word in its
    forms (Russisch, Russen), not every piece that names Rusland."""

    def __init__(self, actors):
        self.by_name: dict[str, set[str]] = {}
        for actor in actors:
            # match_names includes a person's surname alone: "Poetins regering".
            names = set(actor.match_names)
            forms = set(actor.match_forms)
            for key in {fold(name) for name in names - forms}:
                self.by_name.setdefault(key, set()).update(names)
            for key in {fold(form) for form in forms}:
                self.by_name.setdefault(key, set()).update(forms)

    @classmethod
    def load(cls):
        """The index for the current actors, kept per process until an actor changes."""
        return catalogue.remember("aliases", cls._build)

    @classmethod
    def _build(cls):
        return cls(actors())

    def expand(self, term: Term) -> list[Term]:
        from archive.search.parsing import _term

        names = self.by_name.get(fold(term.text), set())
        expanded = {t for t in map(_term, sorted(names)) if t}
        return [term, *sorted(expanded - {term}, key=lambda t: t.text)]


def _or(parts):
    parts = [p for p in parts if p]
    if not parts:
        return ""
    return parts[0] if len(parts) == 1 else " | ".join(f"( {p} )" for p in parts)


def _and(parts):
    parts = [p for p in parts if p]
    if not parts:
        return ""
    return parts[0] if len(parts) == 1 else " & ".join(f"( {p} )" for p in parts)


@dataclass
class Group:
    exact: str  # the words (and their aliases) as they are, stemmed, in the text itself
    loose: str  # ... or as the start or a part of a compound
    share: float = 0.0  # the share of pieces the planner's statistics expect to match
    terms: tuple = ()  # the reader's alternatives, before alias expansion


@dataclass
class CompiledQuery:
    """tsquery texts for a parsed query, after alias expansion. An empty string is a
    query that matches nothing (a group of stop words only is dropped)."""

    groups: list[Group]
    excluded: str
    pieces: float = 0.0  # how many pieces the archive holds, by the planner's statistics

    @classmethod
    def build(cls, parsed: ParsedQuery, aliases: AliasIndex | None = None):
        aliases = aliases or AliasIndex.load()
        config = settings.SEARCH_CONFIG
        selects, params, prefixes_of = [], [], []
        for group in parsed.groups:
            terms = _without_implied([t for term in group for t in aliases.expand(term)])
            exact = [_exact_sql(t, config) for t in terms]
            prefixes = _covering([p for p in (_prefix(t) for t in terms) if p])
            selects.append(" || ".join(sql for sql, _ in exact))
            params += [p for _, ps in exact for p in ps]
            selects.append(" || ".join(["to_tsquery('simple', %s)"] * len(prefixes)) or "''")
            params += prefixes
            # The group's lexemes, to look up in the planner's statistics below.
            selects.append("tsvector_to_array(to_tsvector(%s::regconfig, %s))")
            params += [config, " ".join(t.text for t in terms)]
            prefixes_of.append([p.removesuffix(":*") for p in prefixes])
        excluded = [_exact_sql(t, config) for t in parsed.excluded]
        selects.append(" || ".join(sql for sql, _ in excluded) or "''")
        params += [p for _, ps in excluded for p in ps]
        stale = _statistics.stale()
        with reading_connection().cursor() as cursor:
            cursor.execute(
                "SELECT "
                + ", ".join(f"({sql})::text" for sql in selects)
                + ", (SELECT reltuples FROM pg_class WHERE oid = 'archive_article'::regclass)"
                + (_STATISTICS if stale else ""),
                params,
            )
            row = cursor.fetchone()
        if stale:
            *row, elems, freqs = row
            _statistics.keep(elems, freqs)
        *texts, excluded_text, pieces = row
        groups = []
        for (exact, prefix, lexemes), prefixes, terms in zip(
            zip(texts[::3], texts[1::3], texts[2::3], strict=True),
            prefixes_of,
            parsed.groups,
            strict=True,
        ):
            if exact or prefix:
                share = _statistics.share(_array(lexemes), prefixes)
                exact = _unique(exact)
                loose = _or([exact, prefix])
                groups.append(Group(_as_written(exact), loose, share, terms=tuple(terms)))
        return cls(groups, _as_written(excluded_text), max(float(pieces or 0), 0))

    def expected(self, groups) -> float:
        """How many pieces match all these groups, by the statistics, taking words as
        independent: an estimate, used only to skip counting what is surely large."""
        share = 1.0
        for group in groups:
            share *= group.share
        return share * self.pieces

    @property
    def expected_any(self) -> float:
        miss = 1.0
        for group in self.groups:
            miss *= 1 - group.share
        return (1 - miss) * self.pieces

    @property
    def has_words(self) -> bool:
        return bool(self.groups)

    @property
    def all(self) -> str:
        return _and(g.loose for g in self.groups)

    @property
    def any(self) -> str:
        return _or(g.loose for g in self.groups)

    def tiers(self) -> list[list[tuple[str, float]]]:
        """Ever looser, each as its alternatives (tsquery text, expected pieces): all
        groups; all groups but one (one alternative per group left out); any group (one
        alternative per group).

        Asked one alternative at a time, a rare word's few pieces are all found even
        when a common word beside it matches a fifth of the archive.
        """
        n = len(self.groups)
        tiers = [[(self.all, self.expected(self.groups))]]
        if 3 <= n <= MAX_GROUPS_FOR_ALL_BUT_ONE:
            tiers.append(
                [
                    (_and(g.loose for g in others), self.expected(others))
                    for others in itertools.combinations(self.groups, n - 1)
                ]
            )
        if n >= 2:
            tiers.append([(g.loose, self.expected([g])) for g in self.groups])
        return tiers


# The planner's own statistics for the search vector: its most common lexemes and the
# share of pieces holding each (a rare word is not among them, and counts as 0).
_STATISTICS = """,
    (SELECT most_common_elems::text FROM pg_stats WHERE schemaname = current_schema()
        AND tablename = 'archive_article' AND attname = 'search_vector'),
    (SELECT most_common_elem_freqs FROM pg_stats WHERE schemaname = current_schema()
        AND tablename = 'archive_article' AND attname = 'search_vector')
"""


class _Statistics:
    """The lexeme shares, kept in the process for a few minutes: they change only when
    PostgreSQL analyzes the table, and reading pg_stats costs more than a search."""

    TTL = 300

    def __init__(self):
        self.shares: dict[str, float] = {}
        self.expires = 0.0

    def stale(self) -> bool:
        return time.monotonic() > self.expires

    def keep(self, elems, freqs) -> None:
        lexemes = _array(elems) if elems else []
        self.shares = dict(zip(lexemes, freqs or [], strict=False))
        self.expires = time.monotonic() + self.TTL

    def share(self, lexemes, prefixes) -> float:
        """The share of pieces expected to hold any of these lexemes or words starting
        with these prefixes (summed: an upper estimate)."""
        total = sum(self.shares.get(lexeme, 0.0) for lexeme in lexemes)
        for prefix in prefixes:
            total += sum(f for lexeme, f in self.shares.items() if lexeme.startswith(prefix))
        return min(total, 1.0)


_statistics = _Statistics()


def _array(text: str) -> list[str]:
    """A PostgreSQL text[] as printed ({a,"b c"}) to a list; lexemes hold no commas."""
    inner = text.strip("{}")
    return [item.strip('"') for item in inner.split(",")] if inner else []


def _without_implied(terms: list[Term]) -> list[Term]:
    """Leave out a phrase that one of the single words already finds: "Vladimir Poetin"
    beside "Poetin" adds no piece, and a phrase makes PostgreSQL check word positions
    in every candidate's vector."""
    words = {fold(t.text) for t in terms if not t.is_phrase}
    return [t for t in terms if not t.is_phrase or not words & {fold(w) for w in t.words}]


def _exact_sql(term: Term, config: str) -> tuple[str, list[str]]:
    function = "phraseto_tsquery" if term.is_phrase else "plainto_tsquery"
    return f"{function}(%s::regconfig, %s)", [config, term.text]


def _prefix(term: Term) -> str | None:
    """`wagner:*`: the word as the start of longer words (Dutch compounds).

    The word is folded but not stemmed: the stemmer cuts "paarse" to "par", and "par:*"
    would match "partij". The 'simple' configuration keeps the folded word as it is.
    """
    word = fold(term.words[0])
    if term.is_phrase or len(word) < MIN_PREFIX_LENGTH:
        return None
    # Only letters and digits reach to_tsquery, so no input can break its syntax.
    return f"{word}:*"


# A lexeme as tsquery prints it: quoted, a quote inside doubled.
_LEXEME = re.compile(r"'(?:[^']|'')*'")


def _as_written(tsquery: str) -> str:
    """The tsquery restricted to the text's own words (weights A, B, C): the search
    vector holds the parts of compounds at weight D (archive/search/compounds.py), and
    a piece that says only "klimaatakkoord" holds `akkoord` there. Matched that way it
    is found (the loose query), but not as saying the word itself."""
    return _LEXEME.sub(lambda m: m.group(0) + ":ABC", tsquery)


# A flat alternative of lexemes, as PostgreSQL prints `plainto_tsquery(a) || ...`.
_FLAT_OR = re.compile(r"'(?:[^']|'')*'(?: \| '(?:[^']|'')*')*")


def _unique(tsquery: str) -> str:
    """Each lexeme of a flat alternative once: the spellings of a name often stem alike
    ('brussel' | 'brussel' | 'brussel'), and the planner adds up the share of every copy:
    past a few copies it takes the match to be common, chooses to read the table row by
    row, and a rare match then costs a read of every piece (10 s at a million)."""
    if not _FLAT_OR.fullmatch(tsquery):
        return tsquery
    return " | ".join(dict.fromkeys(tsquery.split(" | ")))


def _covering(prefixes: list[str]) -> list[str]:
    """The prefixes without those a shorter one already covers (`brussel:*` covers
    `brusselse:*`), for the same reason."""
    stems = sorted({p.removesuffix(":*") for p in prefixes}, key=len)
    kept: list[str] = []
    for stem in stems:
        if not any(stem.startswith(shorter) for shorter in kept):
            kept.append(stem)
    return [f"{stem}:*" for stem in kept]
