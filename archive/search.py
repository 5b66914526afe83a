"""Full-text search over articles. All search logic lives here.

A reader's query is parsed into groups (a word, an "exact phrase", or alternatives
joined by `or`) and exclusions (`-word`). A piece is found when it matches any group
and no exclusion; pieces matching more groups rank first, and within that exact
words rank above compounds and prefixes (`Wagner` also finds `Wagnersoldaten`). So a
misremembered word lowers a piece's rank but never empties the results.

A query word that is a name of an actor also finds the actor's other names
(`Putin` finds `Poetin`). Every query names the Dutch configuration, so results never
depend on the server's default_text_search_config.
"""

import datetime
import functools
import html
import operator
import re
import unicodedata
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
)
from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.db.models.functions import ExtractYear

MAX_QUERY_LENGTH = 500
MAX_GROUPS = 12
# Prefix matching below this length would match half the vocabulary.
MIN_PREFIX_LENGTH = 4

_QUOTES = str.maketrans({c: '"' for c in "“”„‟«»″〝〞＂"} | {c: "'" for c in "‘’‚‛′"})
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"[^\W_]+")
_START, _STOP = "\ue000", "\ue001"  # private-use sentinels: never in real text


def clean_query(text: str) -> str:
    """Drop control characters (NUL included: PostgreSQL text cannot hold it), squeeze
    whitespace and cut over-long input, so any string a reader types can be searched."""
    kept = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text or "")
    return " ".join(kept.split())[:MAX_QUERY_LENGTH]


def fold(text: str) -> str:
    """Lower case without diacritics: how names are compared (Čaputová = caputova)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Term:
    """A word or a phrase, as its plain words."""

    words: tuple[str, ...]

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass
class ParsedQuery:
    groups: list[list[Term]] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)

    def __bool__(self):
        return bool(self.groups or self.excluded)

    @property
    def words(self) -> list[str]:
        return [w for group in self.groups for term in group for w in term.words]


def _term(text: str) -> Term | None:
    words = tuple(_WORD.findall(text))
    return Term(words) if words else None


def parse_query(text: str) -> ParsedQuery:
    """Web-search syntax: words, "phrases", `or` between alternatives, `-word`.

    Curly quotes count as straight ones; an unclosed quote runs to the end; anything
    that is not a word (operator soup) is dropped.
    """
    parsed = ParsedQuery()
    join_next = False
    for minus, quoted, bare in _TOKEN.findall(clean_query(text).translate(_QUOTES)):
        if bare and bare.lower() == "or":
            join_next = bool(parsed.groups)
            continue
        negative = bool(minus) or (bare.startswith("-") and len(bare) > 1)
        term = _term(quoted if quoted or minus else bare.lstrip("-"))
        if term is None:
            continue
        if negative:
            parsed.excluded.append(term)
        elif join_next:
            parsed.groups[-1].append(term)
        else:
            parsed.groups.append([term])
        join_next = False
    parsed.groups = parsed.groups[:MAX_GROUPS]
    return parsed


def _config():
    return settings.SEARCH_CONFIG


def _exact(term: Term) -> SearchQuery:
    kind = "phrase" if term.is_phrase else "plain"
    return SearchQuery(term.text, search_type=kind, config=_config())


def _prefix(term: Term) -> SearchQuery | None:
    """`wagner:*`: the word as the start of longer words (Dutch compounds).

    The word is folded but not stemmed: the stemmer cuts "paarse" to "par", and "par:*"
    would match "partij". The 'simple' configuration keeps the folded word as it is.
    """
    word = fold(term.words[0])
    if term.is_phrase or len(word) < MIN_PREFIX_LENGTH:
        return None
    # Only letters and digits reach the raw tsquery, so no input can break its syntax.
    return SearchQuery(f"{word}:*", search_type="raw", config="simple")


def _any(queries):
    queries = [q for q in queries if q is not None]
    return functools.reduce(operator.or_, queries) if queries else None


class AliasIndex:
    """Which actor names a query word stands for: every spelling of the same actor."""

    def __init__(self, actors):
        self.by_name: dict[str, set[str]] = {}
        for actor in actors:
            # match_names includes a person's surname alone: "Poetins regering".
            names = set(actor.match_names)
            for key in {fold(name) for name in names}:
                self.by_name.setdefault(key, set()).update(names)

    @classmethod
    def load(cls):
        from archive.models import Actor

        return cls(Actor.objects.only("name", "aliases", "kind"))

    def expand(self, term: Term) -> list[Term]:
        names = self.by_name.get(fold(term.text), set())
        expanded = {t for t in map(_term, sorted(names)) if t}
        return [term, *sorted(expanded - {term}, key=lambda t: t.text)]


@dataclass
class CompiledQuery:
    """SearchQuery objects for a parsed query, after alias expansion."""

    groups: list[tuple[SearchQuery, SearchQuery]]  # (exact, exact-or-prefix) per group
    excluded: SearchQuery | None
    headline: SearchQuery | None

    @classmethod
    def build(cls, parsed: ParsedQuery, aliases: AliasIndex):
        groups = []
        for group in parsed.groups:
            terms = [t for term in group for t in aliases.expand(term)]
            exact = _any(_exact(t) for t in terms)
            groups.append((exact, _any([exact, *(_prefix(t) for t in terms)])))
        excluded = _any(_exact(t) for t in parsed.excluded)
        headline = _any(loose for _, loose in groups)
        return cls(groups, excluded, headline)


def search_articles(queryset, text: str):
    """Pieces matching a reader's query, best first; unranked when there are no words."""
    parsed = parse_query(text)
    if not parsed:
        return queryset.none()
    return order_by_relevance(apply_query(queryset, CompiledQuery.build(parsed, AliasIndex.load())))


def apply_query(queryset, compiled: CompiledQuery):
    if compiled.excluded is not None:
        queryset = queryset.exclude(search_vector=compiled.excluded)
    if not compiled.groups:
        return queryset
    queryset = queryset.filter(search_vector=compiled.headline)
    # Ten points per group matched at all, one more when matched exactly: all words
    # beat most words, exact words beat compounds, ts_rank breaks the ties.
    matched = [
        Case(When(search_vector=loose, then=Value(10)), default=Value(0))
        for _, loose in compiled.groups
    ]
    exact = [
        Case(When(search_vector=exact, then=Value(1)), default=Value(0))
        for exact, _ in compiled.groups
    ]
    coverage = functools.reduce(operator.add, matched + exact)
    return queryset.annotate(
        coverage=coverage,
        rank=SearchRank(F("search_vector"), compiled.headline, normalization=Value(1)),
        match_count=Value(len(compiled.groups), output_field=IntegerField()),
    )


def order_by_relevance(queryset):
    return queryset.order_by("-coverage", "-rank", "-published_on", "-id")


def overlapping(queryset, start: datetime.date | None, end: datetime.date | None):
    """Pieces whose publication period overlaps [start, end].

    A piece known only to the month (stored on the 1st) is in range when any day of
    that month is; likewise for a year.
    """
    if end:
        queryset = queryset.filter(published_on__lte=end)
    if start:
        queryset = queryset.filter(
            Q(date_precision="day", published_on__gte=start)
            | Q(date_precision="month", published_on__gte=start.replace(day=1))
            | Q(date_precision="year", published_on__gte=start.replace(month=1, day=1))
        )
    return queryset


def highlighted_snippets(queryset, ids, compiled: CompiledQuery | None) -> dict[int, str]:
    """id -> snippet HTML with the matched words in <mark>, for one page of results.

    ts_headline does not escape: it marks with sentinels, the text is escaped, and only
    then do the sentinels become <mark>, so article text is never rendered as markup.
    """
    if compiled is None or compiled.headline is None or not ids:
        return {}
    rows = (
        queryset.model.objects.filter(pk__in=ids)
        .annotate(
            snippet=SearchHeadline(
                "body",
                compiled.headline,
                config=_config(),
                start_sel=_START,
                stop_sel=_STOP,
                # One passage around the best match: readable context even in a
                # short piece, where fragment mode shrinks to the matched word alone.
                max_words=40,
                min_words=20,
            )
        )
        .values_list("pk", "snippet")
    )
    return {pk: mark(snippet) for pk, snippet in rows}


def mark(snippet: str) -> str:
    escaped = html.escape(snippet.replace("## ", ""), quote=False)
    return escaped.replace(_START, "<mark>").replace(_STOP, "</mark>")


def suggest_spelling(parsed: ParsedQuery, threshold: float = 0.4) -> str | None:
    """ "Bedoelde u: Prigozjin?": each word swapped for the closest word in an actor's
    names (pg_trgm similarity, accents ignored), when one is close enough and different."""
    words = parsed.words[:MAX_GROUPS]
    if not words:
        return None
    with connection.cursor() as cursor:
        # The closest actor for each word, by any word of any of its names; suggested
        # in the archive's own (Dutch) spelling.
        cursor.execute(
            """
            SELECT w.word, best.name, best.kind
            FROM unnest(%s::text[]) AS w(word)
            CROSS JOIN LATERAL (
                SELECT a.name, a.kind
                FROM archive_actor a,
                     unnest(array_prepend(a.name, a.aliases)) AS n(full_name),
                     regexp_split_to_table(n.full_name, '\\s+') AS part
                WHERE similarity(lower(unaccent(w.word)), lower(unaccent(part))) >= %s
                ORDER BY similarity(lower(unaccent(w.word)), lower(unaccent(part))) DESC, a.name
                LIMIT 1
            ) AS best
            """,
            [words, threshold],
        )
        closest = {
            word: name.split()[-1] if kind == "person" else name
            for word, name, kind in cursor.fetchall()
        }
    suggestion = " ".join(closest.get(word, word) for word in words)
    return suggestion if fold(suggestion) != fold(" ".join(words)) else None


@dataclass
class Filters:
    """What a reader narrowed by; every field is optional and they combine."""

    q: str = ""
    actors: list = field(default_factory=list)
    event: object = None
    source: object = None
    author: object = None
    genre: str = ""
    start: datetime.date | None = None
    end: datetime.date | None = None
    sort: str = ""


class Browse:
    """One browse-or-search request: results, their snippets, facets and a suggestion."""

    FACET_SIZE = 12

    def __init__(self, filters: Filters, queryset=None):
        from archive.models import Article

        self.filters = filters
        self.parsed = parse_query(filters.q)
        qs = narrowed(queryset if queryset is not None else Article.objects.all(), filters)
        self.compiled = CompiledQuery.build(self.parsed, AliasIndex.load()) if self.parsed else None
        self.matching = apply_query(qs, self.compiled) if self.compiled else qs
        self.sort = filters.sort or (
            "relevance" if self.compiled and self.compiled.groups else "newest"
        )

    @property
    def results(self):
        ordered = {
            "newest": lambda qs: qs.order_by("-published_on", "-id"),
            "oldest": lambda qs: qs.order_by("published_on", "id"),
        }.get(self.sort, order_by_relevance if self.compiled and self.compiled.groups else None)
        qs = self.matching.for_listing()
        return ordered(qs) if ordered else qs.order_by("-published_on", "-id")

    def snippets(self, articles) -> dict[int, str]:
        return highlighted_snippets(self.matching, [a.pk for a in articles], self.compiled)

    def suggestion(self) -> str | None:
        return suggest_spelling(self.parsed)

    def facets(self) -> dict[str, list[tuple[str, str, int]]]:
        """(value, label, count) per facet, for the current query and filters."""
        from archive.models import Article, ArticleActor, ArticleEvent

        ids = self.matching.order_by().values("pk")
        n = self.FACET_SIZE

        def counted(qs, value, label, count):
            rows = qs.values(value, label).annotate(n=Count(count)).order_by("-n", label)[:n]
            return [(str(r[value]), str(r[label]), r["n"]) for r in rows]

        authors = Article.authors.through.objects.filter(article__in=ids)
        years = (
            Article.objects.filter(pk__in=ids)
            .annotate(year=ExtractYear("published_on"))
            .values("year")
            .annotate(n=Count("pk"))
            .order_by("-year")
        )
        return {
            "actor": counted(
                ArticleActor.objects.filter(article__in=ids),
                "actor__slug",
                "actor__name",
                "article",
            ),
            "event": counted(
                ArticleEvent.objects.filter(article__in=ids),
                "event__slug",
                "event__name",
                "article",
            ),
            "source": counted(
                Article.objects.filter(pk__in=ids, source__isnull=False),
                "source__slug",
                "source__name",
                "pk",
            ),
            "author": counted(authors, "author__slug", "author__name", "article"),
            "genre": counted(Article.objects.filter(pk__in=ids), "genre", "genre", "pk"),
            "year": [(str(r["year"]), str(r["year"]), r["n"]) for r in years],
        }


def narrowed(queryset, filters: Filters):
    from archive.models import ArticleActor, ArticleEvent

    for actor in filters.actors:
        queryset = queryset.filter(
            pk__in=ArticleActor.objects.filter(actor=actor).values("article")
        )
    if filters.event:
        queryset = queryset.filter(
            pk__in=ArticleEvent.objects.filter(event=filters.event).values("article")
        )
    if filters.source:
        queryset = queryset.filter(source=filters.source)
    if filters.author:
        queryset = queryset.filter(authors=filters.author)
    if filters.genre:
        queryset = queryset.filter(genre=filters.genre)
    return overlapping(queryset, filters.start, filters.end)
