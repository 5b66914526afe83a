"""Reader pages. Views stay thin: fetch, paginate, render."""

from django.conf import settings
from django.db.models import Prefetch
from django.http import Http404, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.utils.functional import SimpleLazyObject
from django.views import csrf as csrf_views
from django.views import defaults as error_views

from archive.charts import coverage_chart
from archive.forms import BrowseForm
from archive.models import (
    Actor,
    Article,
    ArticleActor,
    ArticleEvent,
    Author,
    Event,
    Genre,
    Source,
)
from archive.pagination import page_of
from archive.querysets import AFTER, BEFORE, DURING, key_terms
from archive.search import Browse, catalogue
from archive.search.browse import in_order
from archive.search.catalogue import archive_total

PHASES = {
    BEFORE: "Voor de gebeurtenis",
    DURING: "Tijdens de gebeurtenis",
    AFTER: "Na de gebeurtenis",
}


def _page(request, queryset, count: int | None = None):
    return page_of(queryset, request.GET.get("pagina"), count)


def home(request):
    page = _page(request, Article.objects.for_listing(), archive_total())
    return render(
        request,
        "archive/home.html",
        {
            "page": page,
            "events": Event.objects.with_piece_counts().current(),
            "actors": Actor.objects.most_covered(),
        },
    )


def article_detail(request, slug):
    article = get_object_or_404(
        Article.objects.select_related("source")
        .prefetch_related(
            "authors",
            Prefetch("actor_links", ArticleActor.objects.select_related("actor")),
            Prefetch("event_links", ArticleEvent.objects.select_related("event")),
        )
        .annotate(key_terms=key_terms()),
        slug=slug,
    )
    related = Article.objects.related_to(article)
    # From the prefetched links: says whether the page explains the 'voorgesteld' label.
    links = [*article.actor_links.all(), *article.event_links.all()]
    has_suggestions = any(not link.confirmed for link in links)
    return render(
        request,
        "archive/article.html",
        {"article": article, "related": related, "has_suggestions": has_suggestions},
    )


def _subject_page(
    request, subject, articles, kind, chart_subject, extra=None, listing=None, count=None
):
    """A subject with its pieces, newest first, and their coverage over time.

    `listing`: the pieces as the list shows them, when it needs more than `articles`
    (an annotation there would end up in the chart's GROUP BY). `count`: how many
    pieces there are, when a counter already knows. The chart's counts are cached until
    the archive changes: they cover every piece of the subject.
    """
    page = _page(request, (listing if listing is not None else articles).for_listing(), count)
    coverage = catalogue.cached(f"coverage:{kind}:{subject_key(subject)}", articles.coverage)
    context = {
        "subject": subject,
        "kind": kind,
        "page": page,
        "chart": coverage_chart(coverage, chart_subject),
        **(extra or {}),
    }
    template = "archive/actor.html" if kind == "actor" else "archive/subject.html"
    return render(request, template, context)


def subject_key(subject) -> str:
    return str(getattr(subject, "pk", subject))


def actor_detail(request, slug):
    actor = get_object_or_404(
        Actor.objects.select_related("author").with_suggested_counts(), slug=slug
    )
    articles = Article.objects.about_actor(actor)
    return _subject_page(
        request,
        actor,
        articles,
        "actor",
        f"Stukken over {actor}",
        {
            "together": catalogue.cached(
                f"together:{actor.pk}", lambda: list(Actor.objects.appearing_with(actor))
            ),
            "events": Event.objects.for_actor(actor).with_piece_counts(),
            "sample_size": settings.SEARCH_POOL_SIZE,
        },
        listing=articles.with_suggestions(actors=[actor]),
        count=actor.piece_count,
    )


def event_detail(request, slug):
    event = get_object_or_404(
        Event.objects.prefetch_related("actors").with_suggested_counts(), slug=slug
    )
    articles = Article.objects.about_event(event)
    timeline = articles.along_timeline(event)

    def ordered():
        # The timeline's order needs every piece of the event sorted (a big event has
        # tens of thousands): done once per change of the archive, for the first pages.
        ids = timeline.values_list("pk", flat=True)[: settings.SEARCH_POOL_SIZE]
        return list(ids), articles.timeline_counts(event)

    ids, counts = catalogue.cached(f"timeline:{event.pk}", ordered)
    page = page_of(ids, request.GET.get("pagina"), event.piece_count)
    listing = timeline.with_suggestions(event=event).for_listing()
    page.object_list = in_order(listing, list(page.object_list))
    return render(
        request,
        "archive/event.html",
        {
            "subject": event,
            "kind": "event",
            "page": page,
            "phases": [(PHASES[phase], counts[phase]) for phase in (BEFORE, DURING, AFTER)],
            "phase_names": PHASES,
        },
    )


def source_detail(request, slug):
    source = get_object_or_404(Source, slug=slug)
    articles = Article.objects.filter(source=source)
    return _subject_page(request, source, articles, "bron", f"Stukken in {source}")


def author_detail(request, slug):
    author = get_object_or_404(Author.objects.select_related("actor"), slug=slug)
    articles = Article.objects.filter(authors=author)
    return _subject_page(request, author, articles, "auteur", f"Stukken van {author}")


def genre_detail(request, genre):
    if genre not in Genre.values:
        raise Http404("Onbekend genre")
    label = Genre(genre).label
    articles = Article.objects.filter(genre=genre)
    return _subject_page(
        request, label, articles, "genre", f"Stukken in het genre {label}", {"genre": genre}
    )


def actor_index(request):
    def kinds():
        groups = {kind: [] for kind in Actor.Kind}
        for actor in Actor.objects.with_piece_counts().order_by("name"):
            groups.setdefault(actor.kind, []).append(actor)
        labels = dict(Actor.Kind.choices)
        return [(labels.get(kind, kind), members) for kind, members in groups.items() if members]

    # Thousands of actors: the list is rendered once per change of the archive (the
    # template caches it under the generation) and only then are they fetched.
    return render(
        request,
        "archive/actor_index.html",
        {"kinds": SimpleLazyObject(kinds), "generation": catalogue.generation()},
    )


def event_index(request):
    events = Event.objects.with_piece_counts().order_by("-start_date", "name")
    return render(request, "archive/event_index.html", {"events": events})


def browse(request):
    """Browse and search in one: without q the newest pieces, with q the best matches."""
    form = BrowseForm(request.GET or None)
    search = Browse(form.filters())
    # Narrowed to actors or an event, a piece linked to one of them only by suggestion
    # is marked as such (Browse.page fetches the page that way).
    page = search.page(request.GET.get("pagina"))
    return render(
        request,
        "archive/browse.html",
        {
            "form": form,
            "search": search,
            "page": page,
            "snippets": search.snippets(page.object_list),
            "found_via": search.found_via(page.object_list),
            "entity": search.entity,
            "facets": search.facets(),
            "suggestion": search.suggestion() if not page.object_list else None,
        },
    )


# Error pages. Django's own handlers render templates/<status>.html; under /api/ a
# machine gets JSON instead: {"error": "<Dutch sentence>", "status": <int>}.

API_PREFIX = "/api/"
API_ERRORS = {
    400: "Dit verzoek begrijpen we niet.",
    403: "Geen toegang.",
    404: "Dit adres bestaat niet.",
    500: "Er ging iets mis aan onze kant; probeer het later opnieuw.",
}


def is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def api_error(status: int, message: str | None = None, retry_after: int | None = None):
    """The API's answer to a failed request; with retry_after also the Retry-After header."""
    data = {"error": message or API_ERRORS[status], "status": status}
    if retry_after is not None:
        data["retry_after"] = retry_after
    response = JsonResponse(data, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def bad_request(request, exception):
    if is_api(request):
        return api_error(400)
    # What was refused may be the query string itself (more than
    # DATA_UPLOAD_MAX_NUMBER_FIELDS fields): the page's search box must not parse it again.
    request.GET = QueryDict()
    return error_views.bad_request(request, exception)


def permission_denied(request, exception):
    if is_api(request):
        return api_error(403)
    return error_views.permission_denied(request, exception)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: the API takes no forms, but a client that POSTs to it reads JSON."""
    if is_api(request):
        return api_error(403)
    return csrf_views.csrf_failure(request, reason)


def page_not_found(request, exception):
    if is_api(request):
        return api_error(404)
    return error_views.page_not_found(request, exception)


def server_error(request):
    if is_api(request):
        return api_error(500)
    return error_views.server_error(request)
