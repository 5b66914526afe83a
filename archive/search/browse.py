"""One browse-or-search request, from filters to a page of results, top to bottom:

filters narrow the archive (SQL only, nothing fetched) → the query is compiled →
the pool is drawn (pool.py: at most SEARCH_POOL_SIZE ids, ranked or by date) → one page
of pieces is fetched by id → snippets for that page → facets over the pool.

The pool and the facets of a request are cached (catalogue.py) until the archive
changes, so a repeated search costs a cache read and one page of rows.
"""

import datetime
import hashlib
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from archive.search import catalogue, entities
from archive.search.facets import facet_counts
from archive.search.parsing import parse_query
from archive.search.pool import Pool, by_date, by_relevance
from archive.search.queries import CompiledQuery, TsQuery
from archive.search.snippets import highlighted_snippets
from archive.search.spelling import suggest_spelling


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

    def key(self) -> str:
        """The request as a short cache key: the same filters give the same key."""
        parts = [
            self.q,
            ",".join(sorted(str(a.pk) for a in self.actors)),
            *(str(s.pk) if s else "" for s in (self.event, self.source, self.author)),
            self.genre,
            str(self.start or ""),
            str(self.end or ""),
            self.sort,
        ]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]

    @property
    def narrows(self) -> bool:
        return bool(
            self.actors
            or self.event
            or self.source
            or self.author
            or self.genre
            or self.start
            or self.end
        )


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


# Above this many pieces, a subject's filter is asked piece by piece (see linked_to).
MANY_LINKS = 5000


def linked_to(queryset, table: str, column: str, subject):
    """Pieces linked to an actor or event, the plan chosen by how many there are (the
    counter columns know): a few thousand are gathered once (a hashed IN); for a
    popular subject, 200,000 links hashed would cost more than the whole page, so each
    candidate piece is looked up in the link index instead, and a capped query stops
    after its first thousand hits. OFFSET 0 keeps PostgreSQL from turning the lookup
    back into a join of all the links."""
    if subject.piece_count <= MANY_LINKS:
        model = {"archive_articleactor": "ArticleActor", "archive_articleevent": "ArticleEvent"}
        from django.apps import apps

        links = apps.get_model("archive", model[table]).objects.filter(**{column: subject.pk})
        return queryset.filter(pk__in=links.values("article_id"))
    lookup = RawSQL(
        f"EXISTS (SELECT 1 FROM {table} link WHERE link.article_id = archive_article.id "
        f"AND link.{column} = %s OFFSET 0)",
        [subject.pk],
        output_field=BooleanField(),
    )
    return queryset.filter(lookup)


def narrowed(queryset, filters: Filters):
    for actor in filters.actors:
        queryset = linked_to(queryset, "archive_articleactor", "actor_id", actor)
    if filters.event:
        queryset = linked_to(queryset, "archive_articleevent", "event_id", filters.event)
    if filters.source:
        queryset = queryset.filter(source=filters.source)
    if filters.author:
        queryset = queryset.filter(authors=filters.author)
    if filters.genre:
        queryset = queryset.filter(genre=filters.genre)
    return overlapping(queryset, filters.start, filters.end)


def in_order(queryset, ids: list[int]) -> list:
    """The pieces with these ids, in the order of `ids`."""
    found = {article.pk: article for article in queryset.filter(pk__in=ids)}
    return [found[pk] for pk in ids if pk in found]


class Browse:
    """One browse-or-search request: results, their snippets, facets and a suggestion."""

    def __init__(self, filters: Filters, queryset=None, size: int | None = None):
        """`size`: the most pieces wanted (a feed's 30), when fewer than a full pool."""
        from archive.models import Article

        self.filters = filters
        self.size = size
        self.parsed = parse_query(filters.q)
        self.base = queryset if queryset is not None else Article.objects.all()
        self.compiled = CompiledQuery.build(self.parsed) if self.parsed else None
        self.sort = filters.sort or ("relevance" if self.has_words else "newest")

    @property
    def has_words(self) -> bool:
        return bool(self.compiled and self.compiled.has_words)

    @property
    def pool_size(self) -> int:
        return self.size or settings.SEARCH_POOL_SIZE

    @cached_property
    def pool(self) -> Pool:
        # Only the default queryset's pools are shared: a caller's own queryset (the
        # admin's) may hold other rows.
        if self.base.query.where:
            return self._draw()
        key = f"pool:{self.pool_size}:{self.filters.key()}"
        return catalogue.cached(key, self._draw, per_request=True)

    @cached_property
    def scope(self):
        """The pieces the filters and exclusions leave, before the words."""
        queryset = narrowed(self.base, self.filters)
        if self.compiled and self.compiled.excluded:
            queryset = queryset.exclude(search_vector=TsQuery(self.compiled.excluded))
        return queryset

    @cached_property
    def links(self) -> entities.Links | None:
        """Pieces linked to the actors and events the query names (entities.py)."""
        if not self.has_words:
            return None
        if self.base.query.where:
            return entities.linked(self.compiled, self.parsed, self.scope, self.pool_size)
        # Cached beside the pool: a page served from the cache still says which of its
        # pieces came by their links. (An empty Links, since None reads as "not cached".)
        key = f"links:{self.pool_size}:{self.filters.key()}"
        found = catalogue.cached(
            key,
            lambda: (
                entities.linked(self.compiled, self.parsed, self.scope, self.pool_size)
                or entities.Links(groups=[])
            ),
            per_request=True,
        )
        return found or None

    def _draw(self) -> Pool:
        if self.parsed.groups and not self.has_words:
            return Pool([], complete=True)  # only stop words: nothing to look for
        queryset = self.scope
        if self.has_words:
            if self.sort == "relevance":
                return by_relevance(
                    queryset,
                    self.compiled,
                    self.pool_size,
                    narrowed=bool(
                        self.filters.narrows or self.base.query.where or self.compiled.excluded
                    ),
                    links=self.links,
                )
            matching = Q(search_vector=TsQuery(self.compiled.any))
            if self.links:
                matching |= Q(pk__in=self.links.ids)
            queryset = queryset.filter(matching)
            share = self.compiled.expected_any / max(self.compiled.pieces, 1)
            return by_date(queryset, self.sort == "oldest", self.pool_size, share)
        return by_date(queryset, oldest=self.sort == "oldest", size=self.pool_size)

    @property
    def count(self) -> int:
        return self.pool.count

    @property
    def complete(self) -> bool:
        return self.pool.complete

    @property
    def archive_total(self) -> int | None:
        """Browsing the whole archive: how many pieces it holds (cached; one index-only
        count per change of the archive). None when narrowed or searching."""
        if self.parsed or self.filters.narrows or self.base.query.where:
            return None
        return catalogue.archive_total()

    def page(self, number, queryset=None):
        """A Django Page of pieces (fetched from `queryset`, default: for listing)."""
        from archive.models import Article

        page = Paginator(self.pool.ids, settings.ARTICLES_PER_PAGE).get_page(number)
        if queryset is None:
            queryset = Article.objects.for_listing().with_suggestions(
                actors=self.filters.actors, event=self.filters.event
            )
        page.object_list = in_order(queryset, list(page.object_list))
        return page

    @property
    def results(self):
        """The pool's pieces as a queryset in result order (feeds, exports)."""
        from django.contrib.postgres.fields import ArrayField
        from django.db.models import BigIntegerField, F, Func, Value

        ids = self.pool.ids
        position = Func(
            Value(ids, output_field=ArrayField(BigIntegerField())),
            F("pk"),
            function="array_position",
        )
        return self.base.filter(pk__in=ids).for_listing().order_by(position)

    def snippets(self, articles) -> dict[int, str]:
        return highlighted_snippets([a.pk for a in articles], self.compiled)

    def found_via(self, articles) -> dict[int, list[str]]:
        """id -> the actors and events a piece was found through, for the pieces of
        `articles` that only their links brought in (their text has none of the words):
        the page says why they are there."""
        if not self.links:
            return {}
        from archive.models import Article

        ids = [a.pk for a in articles if a.pk in self.links.names]
        if not ids:
            return {}
        by_text = set(
            Article.objects.filter(pk__in=ids, search_vector=TsQuery(self.compiled.any))
            .order_by()
            .values_list("pk", flat=True)
        )
        return {pk: self.links.names[pk] for pk in ids if pk not in by_text}

    @cached_property
    def entity(self):
        """The actor or event the query as a whole names, for the panel above the
        results; None when it names none (or several), or is already the filter."""
        if not self.has_words:
            return None
        named = entities.EntityIndex.load().whole(self.parsed)
        if named is None:
            return None
        from archive.models import Actor, Event

        if named.kind == entities.ACTOR:
            if any(a.pk == named.pk for a in self.filters.actors):
                return None
            return Actor.objects.filter(pk=named.pk).first()
        if self.filters.event and self.filters.event.pk == named.pk:
            return None
        return Event.objects.filter(pk=named.pk).first()

    def suggestion(self) -> str | None:
        return suggest_spelling(self.parsed)

    @property
    def facet_sample(self) -> int:
        return settings.SEARCH_FACET_SAMPLE

    def facets(self) -> dict[str, list[tuple[str, str, int]]]:
        """(value, label, count) per facet: exact over a complete pool, otherwise over
        the first SEARCH_FACET_SAMPLE pieces of the pool (the page says so)."""
        ids = self.pool.ids if self.complete else self.pool.ids[: self.facet_sample]
        if self.base.query.where:
            return facet_counts(ids)
        return catalogue.cached(
            f"facets:{self.filters.key()}", lambda: facet_counts(ids), per_request=True
        )
