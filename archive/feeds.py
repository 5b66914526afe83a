"""Atom feeds: any browse or search URL, and the pieces of one actor, event, source or
author. Newest first, so a feed reader sees new pieces as they are added."""

import dataclasses
import datetime

from django.contrib.syndication.views import Feed
from django.db.models import Prefetch
from django.http import QueryDict
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from archive.api import link_name
from archive.forms import BrowseForm
from archive.models import Actor, ArticleActor, Author, Event, Source
from archive.search import Browse, Filters

FEED_SIZE = 30


def feed_items(filters: Filters):
    """The newest pieces for these filters, with what an entry shows, in a fixed number
    of queries."""
    browse = Browse(dataclasses.replace(filters, sort="newest"), size=FEED_SIZE)
    # In a feed for actors or an event, pieces linked to them only by suggestion say so.
    results = browse.results.with_suggestions(actors=filters.actors, event=filters.event)
    links = Prefetch("actor_links", ArticleActor.objects.select_related("actor"))
    return results.prefetch_related(links)[:FEED_SIZE]


def describe(filters: Filters) -> str:
    """The filters in words: 'Poetin, Wagner · genre column · vanaf 1 juni 2023'."""
    parts = [", ".join(str(actor) for actor in filters.actors)]
    parts += [
        str(subject) for subject in (filters.event, filters.source, filters.author) if subject
    ]
    if filters.genre:
        parts.append(f"genre {filters.genre}")
    if filters.start:
        parts.append(f"vanaf {filters.start:%d-%m-%Y}")
    if filters.end:
        parts.append(f"tot en met {filters.end:%d-%m-%Y}")
    return " · ".join(part for part in parts if part)


class ArticleFeed(Feed):
    """What every feed's entries show; subclasses say which pieces."""

    feed_type = Atom1Feed

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        # Atom's summary is HTML; the lead is plain text, so it is escaped once here.
        lead = escape(item.lead)
        # In a feed for an actor or event, a piece linked to it only by suggestion says so
        # first: a feed reader shows the summary, not the article page's labels.
        suggested = getattr(item, "suggested_links", None)
        if not suggested:
            return lead
        note = escape(
            f"Koppeling met {', '.join(suggested)} voorgesteld, "
            "nog niet bevestigd door de redactie."
        )
        return f"<p><em>{note}</em></p>" + (f"<p>{lead}</p>" if lead else "")

    def item_pubdate(self, item):
        return timezone.make_aware(datetime.datetime.combine(item.published_on, datetime.time()))

    def item_updateddate(self, item):
        return item.updated_at

    def item_author_name(self, item):
        return ", ".join(author.name for author in item.authors.all()) or None

    def item_categories(self, item):
        return [
            item.get_genre_display(),
            *(link_name(link.actor.name, link.confirmed) for link in item.actor_links.all()),
        ]


@dataclasses.dataclass
class BrowseRequest:
    filters: Filters
    params: QueryDict


class BrowseFeed(ArticleFeed):
    """/zoeken/feed/?<the browse parameters>: invalid filters are left out, never an error."""

    def get_object(self, request):
        form = BrowseForm(request.GET or None)
        params = request.GET.copy()
        for key in ("pagina", "sort"):
            params.pop(key, None)
        return BrowseRequest(form.filters(), params)

    def title(self, obj):
        q = obj.filters.q
        what = f"zoekresultaten voor ‘{q}’" if q else "nieuwste stukken"
        narrowed = describe(obj.filters)
        return f"Kroniek: {what}" + (f" ({narrowed})" if narrowed else "")

    def subtitle(self, obj):
        return "De nieuwste stukken in Kroniek die bij deze zoekopdracht horen."

    def link(self, obj):
        query = obj.params.urlencode()
        return reverse("archive:browse") + (f"?{query}" if query else "")

    def feed_url(self, obj):
        query = obj.params.urlencode()
        return reverse("archive:browse_feed") + (f"?{query}" if query else "")

    def items(self, obj):
        return feed_items(obj.filters)


class SubjectFeed(ArticleFeed):
    """The pieces of one actor, event, source or author; an unknown slug is a 404."""

    model = None
    filter_name = ""
    url_name = ""

    def get_object(self, request, slug):
        return get_object_or_404(self.model, slug=slug)

    def title(self, obj):
        return f"Kroniek: {obj}"

    def subtitle(self, obj):
        return f"De nieuwste stukken in Kroniek over {obj}."

    def link(self, obj):
        return obj.get_absolute_url()

    def feed_url(self, obj):
        return reverse(self.url_name, kwargs={"slug": obj.slug})

    def items(self, obj):
        value = [obj] if self.filter_name == "actors" else obj
        return feed_items(Filters(**{self.filter_name: value}))


class ActorFeed(SubjectFeed):
    model, filter_name, url_name = Actor, "actors", "archive:actor_feed"


class EventFeed(SubjectFeed):
    model, filter_name, url_name = Event, "event", "archive:event_feed"


class SourceFeed(SubjectFeed):
    model, filter_name, url_name = Source, "source", "archive:source_feed"


class AuthorFeed(SubjectFeed):
    model, filter_name, url_name = Author, "author", "archive:author_feed"
