"""Machine-readable twins of the reader's pages: JSON for a search and for one piece, and
a CSV export of a result list. Same parameters and the same search as the browse view;
no framework beyond JsonResponse."""

import csv
from collections import defaultdict

from django.db.models import Prefetch
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.html import escape
from django.utils.text import Truncator

from archive import suggest
from archive.forms import BrowseForm
from archive.models import Actor, Article, ArticleActor, ArticleEvent, DatePrecision, Genre
from archive.search import MAX_QUERY_LENGTH, Browse, clean_query
from archive.templatetags.kroniek import precise_date
from archive.views import api_error

EXPORT_LIMIT = 5000
# Seconds a browser or proxy may keep an answer of /api/suggesties/ (archive/site_urls.py):
# the same letters are typed again and again, and a new actor may wait that long.
SUGGEST_MAX_AGE = 300
# How a list in plain text (a CSV cell, a feed category) marks a link an editor has not
# confirmed yet: in words, so it survives any spreadsheet or feed reader.
SUGGESTED_MARK = " (voorgesteld)"
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def with_subjects(queryset):
    """Source, authors, actors and events of every piece in a fixed number of queries."""
    return queryset.select_related("source").prefetch_related(
        "authors",
        Prefetch("actor_links", ArticleActor.objects.select_related("actor")),
        Prefetch("event_links", ArticleEvent.objects.select_related("event")),
    )


def link_name(name: str, confirmed: bool) -> str:
    """'Wagner', or 'Wagner (voorgesteld)' when the link is only suggested."""
    return name if confirmed else f"{name}{SUGGESTED_MARK}"


def _search(request):
    form = BrowseForm(request.GET or None)
    return form, Browse(form.filters())


def _problems(form, request, page) -> list[str]:
    problems = list(form.problems)
    if form.was_cut:
        problems.append(f"Zoekopdracht: ingekort tot {MAX_QUERY_LENGTH} tekens.")
    asked = request.GET.get("pagina")
    if asked is not None and asked != str(page.number):
        asked = f"‘{asked[:20]}’"
        problems.append(f"Pagina: {asked} bestaat niet; pagina {page.number} getoond.")
    return problems


def _named(subject) -> dict | None:
    return {"name": subject.name, "slug": subject.slug} if subject else None


def article_data(article, request) -> dict:
    """What a result list shows of a piece; the actor and event links must be prefetched."""
    return {
        "id": article.pk,
        "slug": article.slug,
        "title": article.title,
        "url": request.build_absolute_uri(article.get_absolute_url()),
        "published_on": article.published_on.isoformat(),
        "date_precision": article.date_precision,
        "date_display": precise_date(article),
        "genre": article.genre,
        "source": article.source
        and {
            **_named(article.source),
            "url": request.build_absolute_uri(article.source.get_absolute_url()),
        },
        "authors": [_named(author) for author in article.authors.all()],
        "actors": [
            {**_named(link.actor), "confirmed": link.confirmed, "mentions": link.mentions}
            for link in article.actor_links.all()
        ],
        "events": [
            {**_named(link.event), "confirmed": link.confirmed}
            for link in article.event_links.all()
        ],
    }


def _entity(entity, request) -> dict | None:
    """The actor or event the query names, as the page's panel shows it."""
    if entity is None:
        return None
    kind = "actor" if isinstance(entity, Actor) else "event"
    data = {
        **_named(entity),
        "type": kind,
        "url": request.build_absolute_uri(entity.get_absolute_url()),
        "piece_count": entity.piece_count,
    }
    if kind == "actor":
        data["kind"] = entity.kind
    else:
        data["start_date"] = entity.start_date.isoformat()
        data["end_date"] = entity.end_date and entity.end_date.isoformat()
    return data


def browse_api(request):
    """/api/zoeken/: the browse view's results, facets and problems as JSON."""
    form, search = _search(request)
    page = search.page(request.GET.get("pagina"), with_subjects(Article.objects.all()))
    snippets = search.snippets(page.object_list)
    found_via = search.found_via(page.object_list)
    scores = search.pool.scores or {}
    results = []
    for article in page.object_list:
        snippet = snippets.get(article.pk) or escape(Truncator(article.lead).words(40))
        results.append(
            {
                **article_data(article, request),
                "snippet": snippet,
                "score": scores.get(article.pk),
                # Found only through its links to the actors or events the query names.
                "found_via": found_via.get(article.pk, []),
            }
        )
    return JsonResponse(
        {
            "query": search.filters.q,
            "sort": search.sort,
            "count": search.count,
            # False: more pieces match than the list holds, and count is a lower bound.
            "count_exact": search.complete,
            "page": page.number,
            "num_pages": page.paginator.num_pages,
            "problems": _problems(form, request, page),
            "entity": _entity(search.entity, request),
            "results": results,
            "facets": {
                name: [{"value": v, "label": label, "count": n} for v, label, n in rows]
                for name, rows in search.facets().items()
            },
        }
    )


def article_api(request, slug):
    """/api/artikel/<slug>/: one piece with all its metadata and its text as blocks."""
    article = with_subjects(Article.objects.all()).filter(slug=slug).first()
    if article is None:
        return api_error(404, "Dit stuk bestaat niet.")
    return JsonResponse(
        {
            **article_data(article, request),
            "lead": article.lead,
            "original_url": article.url or None,
            "blocks": [{"type": kind, "text": text} for kind, text in article.blocks()],
            "created_at": article.created_at.isoformat(),
            "updated_at": article.updated_at.isoformat(),
        }
    )


def suggest_api(request):
    """/api/suggesties/?q=: what the search box offers while a reader types
    (archive/suggest.py); an empty list below two letters or for input no one types."""
    text = request.GET.get("q", "")
    return JsonResponse(
        {
            "query": clean_query(text)[: suggest.MAX_CHARS],
            "suggestions": [suggest.as_json(s) for s in suggest.suggest(text)],
        }
    )


def safe_cell(value) -> str:
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def export_csv(request):
    """/zoeken/export.csv: the result list (at most EXPORT_LIMIT rows) for a spreadsheet.

    Plain rows, not model instances: a thousand pieces with their authors and actors
    as objects cost most of a second of Python; as tuples, a tenth of that.
    """
    _, search = _search(request)
    rows = list(
        search.results.values_list(
            "pk", "slug", "title", "published_on", "date_precision", "genre", "source__name"
        )[:EXPORT_LIMIT]
    )
    ids = [row[0] for row in rows]
    authors, actors = defaultdict(list), defaultdict(list)
    through = Article.authors.through.objects.filter(article_id__in=ids)
    for pk, name in through.order_by("author__name").values_list("article_id", "author__name"):
        authors[pk].append(name)
    links = ArticleActor.objects.filter(article_id__in=ids).order_by("-mentions", "actor__name")
    for pk, name, confirmed in links.values_list("article_id", "actor__name", "confirmed"):
        actors[pk].append(link_name(name, confirmed))

    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="kroniek-zoekresultaten.csv"'
    # The byte order mark tells Excel the file is UTF-8 (Путин, ë, curly quotes).
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(["titel", "datum", "precisie", "genre", "bron", "auteurs", "actoren", "url"])
    precision, genres = dict(DatePrecision.choices), dict(Genre.choices)
    # One reverse() for all rows: the slug is the only part that differs.
    url = request.build_absolute_uri(reverse("archive:article", kwargs={"slug": "-"}))
    for pk, slug, title, published_on, date_precision, genre, source in rows:
        row = [
            title,
            published_on.isoformat(),
            precision[date_precision],
            genres.get(genre, genre),
            source or "",
            "; ".join(authors[pk]),
            "; ".join(actors[pk]),
            url.replace("/-/", f"/{slug}/"),
        ]
        writer.writerow([safe_cell(cell) for cell in row])
    return response
