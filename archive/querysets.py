"""QuerySets and managers: the filters every page shares."""

import datetime
import re

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, TruncMonth

# A related piece shares an event: that is a stronger tie than one more shared actor
# (Poetin and Rusland are in nearly every piece), so an event counts double.
EVENT_WEIGHT = 2
RELATED_TERMS = 32
# Related pieces are scored among, per actor and event of the piece (at most
# RELATED_SUBJECTS of each), its RELATED_CANDIDATES pieces added last.
RELATED_SUBJECTS = 8
RELATED_CANDIDATES = 100
_LEXEME = re.compile(r"^[^\W_]+$")

# Where a piece stands on an event's timeline; ordered, so the SQL can sort by it.
BEFORE, DURING, AFTER = 0, 1, 2


class SlugManager(models.Manager):
    """Lets fixtures refer to rows by slug, so loading them twice updates, never duplicates."""

    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class LinkManager(models.Manager):
    """Natural keys for the links of pieces to actors and events: (article slug, other slug)."""

    def get_by_natural_key(self, article_slug, other_slug):
        other = next(
            f.name
            for f in self.model._meta.concrete_fields
            if f.is_relation and f.name != "article"
        )
        return self.get(article__slug=article_slug, **{f"{other}__slug": other_slug})


def _count(queryset, by="article"):
    """A correlated COUNT(*) of `queryset` (already filtered on OuterRef(...) through the
    field `by`), 0 when none."""
    counted = queryset.order_by().values(by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def count_of(model, by, **conditions):
    """A correlated COUNT of the `model` rows whose field `by` is the outer row (and that
    meet `conditions`), 0 when none. A subquery rather than Count() over joins: two link
    tables joined at once would multiply each other's rows, and it rides along with the
    query that fetches the outer rows."""
    return _count(model.objects.filter(**{by: OuterRef("pk")}, **conditions), by=by)


def timeline_bounds(start: datetime.date, end: datetime.date | None):
    """(before, after) conditions on a piece's publication period, for an event that runs
    from start to end (no end: still going on).

    Before: the last day the piece can be from is before the start, so a piece known only
    to the month of the start counts as during. After: its first day is past the end.
    The same rule as Event.phase_of, in SQL.
    """
    before = (
        Q(date_precision="day", published_on__lt=start)
        | Q(date_precision="month", published_on__lt=start.replace(day=1))
        | Q(date_precision="year", published_on__lt=start.replace(month=1, day=1))
    )
    after = Q(published_on__gt=end) if end else Q(pk__in=[])
    return before, after


class ArticleQuerySet(models.QuerySet):
    def for_listing(self):
        """What a list of pieces shows: source and authors, without a query per row."""
        return self.select_related("source").prefetch_related("authors")

    def with_suggestions(self, actors=(), event=None):
        """Annotate `suggested_links`: the names, among these actors and this event, whose
        link to the piece is only suggested (not yet confirmed by an editor).

        A list of pieces shown for a subject marks those pieces, so a reader can tell the
        archive's guesses from the editors' links. Subqueries, so no query per row; with
        no actors and no event there is nothing to mark and nothing is annotated.
        """
        from archive.models import ArticleActor, ArticleEvent

        parts = []
        if actors:
            links = ArticleActor.objects.filter(
                article=OuterRef("pk"), actor__in=actors, confirmed=False
            )
            parts.append(ArraySubquery(links.order_by("actor__name").values("actor__name")))
        if event is not None:
            links = ArticleEvent.objects.filter(
                article=OuterRef("pk"), event=event, confirmed=False
            )
            parts.append(ArraySubquery(links.order_by().values("event__name")))
        if not parts:
            return self
        names = parts[0]
        if len(parts) == 2:
            names = Func(*parts, function="array_cat", output_field=ArrayField(CharField()))
        return self.annotate(suggested_links=names)

    def search(self, query: str):
        from archive.search import search_articles

        return search_articles(self, query)

    def about_actor(self, actor):
        from archive.models import ArticleActor

        return self.filter(pk__in=ArticleActor.objects.filter(actor=actor).values("article"))

    def about_event(self, event):
        from archive.models import ArticleEvent

        return self.filter(pk__in=ArticleEvent.objects.filter(event=event).values("article"))

    def coverage(self):
        """(month, date precision, pieces) rows, one query, for a coverage chart."""
        return list(
            self.order_by()
            .annotate(month=TruncMonth("published_on"))
            .values_list("month", "date_precision")
            .annotate(n=Count("pk"))
            .order_by("month")
        )

    def along_timeline(self, event):
        """Oldest first, each piece with its `phase` (BEFORE, DURING, AFTER) for the event."""
        before, after = timeline_bounds(event.start_date, event.end_date)
        return self.annotate(
            phase=Case(
                When(before, then=Value(BEFORE)),
                When(after, then=Value(AFTER)),
                default=Value(DURING),
                output_field=IntegerField(),
            )
        ).order_by("phase", "published_on", "id")

    def timeline_counts(self, event) -> dict[int, int]:
        """Pieces per phase of the event, in one query."""
        before, after = timeline_bounds(event.start_date, event.end_date)
        counts = self.order_by().aggregate(
            before=Count("pk", filter=before),
            after=Count("pk", filter=after),
            total=Count("pk"),
        )
        during = counts["total"] - counts["before"] - counts["after"]
        return {BEFORE: counts["before"], DURING: during, AFTER: counts["after"]}

    def related_to(self, article, limit: int = 5):
        """Up to `limit` other pieces, most shared actors and events first (confirmed or
        not), then by similar text.

        Text similarity is ts_rank against the piece's own title and lead: the lexemes of
        its stored vector with weight A or B, OR-ed together, matched against other
        pieces' headlines and intros (head_vector: small, so ranking it is cheap).

        Bounded however popular its actors are: the candidates are, per actor and per
        event, the RELATED_CANDIDATES pieces added last (straight off the link index),
        and as many headline matches; only those are scored.
        """
        from django.contrib.postgres.search import SearchRank

        from archive.models import ArticleActor, ArticleEvent

        actor_ids = [link.actor_id for link in article.actor_links.all()]
        event_ids = [link.event_id for link in article.event_links.all()]
        text = _text_query(getattr(article, "key_terms", None) or [])
        parts, params = [], []
        for table, column, ids in (
            ("archive_articleactor", "actor_id", actor_ids),
            ("archive_articleevent", "event_id", event_ids),
        ):
            for pk in ids[:RELATED_SUBJECTS]:
                parts.append(
                    f"(SELECT article_id FROM {table} WHERE {column} = %s "
                    "ORDER BY article_id DESC LIMIT %s)"
                )
                params += [pk, RELATED_CANDIDATES]
        if text is not None:
            parts.append(
                "(SELECT id FROM archive_article WHERE head_vector @@ %s::tsquery LIMIT %s)"
            )
            params += [text.text, RELATED_CANDIDATES]
            similarity = SearchRank(F("head_vector"), text, normalization=Value(1))
        else:
            similarity = Value(0.0)
        if not parts:
            return self.none()
        candidates = RawSQL(" UNION ".join(parts), params)
        shared_actors = (
            _count(ArticleActor.objects.filter(article=OuterRef("pk"), actor__in=actor_ids))
            if actor_ids
            else Value(0)
        )
        shared_events = (
            _count(ArticleEvent.objects.filter(article=OuterRef("pk"), event__in=event_ids))
            if event_ids
            else Value(0)
        )
        return (
            self.filter(pk__in=candidates)
            .exclude(pk=article.pk)
            .annotate(
                shared_actors=shared_actors,
                shared_events=shared_events,
                shared=F("shared_actors") + EVENT_WEIGHT * F("shared_events"),
                similarity=similarity,
            )
            .select_related("source")
            .order_by("-shared", "-similarity", "-published_on", "-id")[:limit]
        )


def _text_query(lexemes):
    """An OR query of already-stemmed lexemes, as tsquery text: they come out of the
    dutch_unaccent vector and must not be stemmed twice."""
    from archive.search.queries import TsQuery

    words = [w for w in lexemes if _LEXEME.match(w)][:RELATED_TERMS]
    if not words:
        return None
    return TsQuery(" | ".join(f"'{w}'" for w in words))


def key_terms():
    """Expression: the lexemes of a piece's title and lead (weights A and B)."""
    weights = Func(Value("{a,b}"), template='%(expressions)s::"char"[]')
    filtered = Func(F("search_vector"), weights, function="ts_filter")
    return Func(filtered, function="tsvector_to_array", output_field=ArrayField(TextField()))


class ArticleManager(models.Manager.from_queryset(ArticleQuerySet), SlugManager):
    def get_queryset(self):
        # The search vectors serve SQL only. Fetched with every piece, each would be read
        # from TOAST and sent as text (kilobytes a piece): a list of a thousand pieces
        # carried megabytes nobody reads.
        return super().get_queryset().defer("search_vector", "head_vector")


def newest_about(actor):
    """Subquery: the ids of the SEARCH_POOL_SIZE pieces about the actor added last,
    straight off the link index (actor, article): ordering a popular actor's 200,000
    pieces by date would join them all."""
    from archive.models import ArticleActor

    links = ArticleActor.objects.filter(actor=actor).order_by("-article_id")
    return links.values("article_id")[: settings.SEARCH_POOL_SIZE]


class ActorQuerySet(models.QuerySet):
    # The counts come from columns kept by triggers (migration 0004): counting a
    # popular actor's links on every page would cost a scan of 200,000 rows.
    def with_piece_counts(self):
        return self.annotate(pieces=F("piece_count"))

    def with_suggested_counts(self):
        """Annotate `suggested_pieces`: pieces whose link to the actor is only suggested."""
        return self.annotate(suggested_pieces=F("suggested_count"))

    def most_covered(self, limit: int = 10):
        return self.with_piece_counts().filter(pieces__gt=0).order_by("-pieces", "name")[:limit]

    def appearing_with(self, actor, limit: int = 10):
        """Actors in the same pieces as `actor`, with `together`: how many pieces they
        share, among the SEARCH_POOL_SIZE pieces about the actor added last (a popular
        actor's 200,000 pieces would cost seconds to join). Filtering before annotating makes
        the count the shared pieces only."""
        pieces = newest_about(actor)
        return (
            self.filter(article_links__article__in=pieces)
            .exclude(pk=actor.pk)
            .annotate(together=Count("article_links"))
            .order_by("-together", "name")[:limit]
        )


class ActorManager(models.Manager.from_queryset(ActorQuerySet), SlugManager):
    pass


class EventQuerySet(models.QuerySet):
    def with_piece_counts(self):
        return self.annotate(pieces=F("piece_count"))

    def with_suggested_counts(self):
        """Annotate `suggested_pieces`: pieces whose link to the event is only suggested."""
        return self.annotate(suggested_pieces=F("suggested_count"))

    def for_actor(self, actor):
        """Events the actor is involved in, and events that the SEARCH_POOL_SIZE pieces
        about it added last are about; latest first."""
        from archive.models import ArticleEvent

        pieces = newest_about(actor)
        return self.filter(
            Q(pk__in=self.model.actors.through.objects.filter(actor=actor).values("event"))
            | Q(pk__in=ArticleEvent.objects.filter(article__in=pieces).values("event"))
        ).order_by("-start_date", "name")

    def current(self, limit: int = 5):
        """The most recent events: latest start first."""
        return self.order_by("-start_date", "name")[:limit]


class EventManager(models.Manager.from_queryset(EventQuerySet), SlugManager):
    pass
