"""Reader pages. Views stay thin: fetch, paginate, render."""

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render

from archive.forms import BrowseForm
from archive.models import Actor, Article, ArticleActor, ArticleEvent, Author, Event, Source
from archive.search import Browse


def _page(request, queryset):
    # get_page turns junk, negative and past-the-end numbers into a real page.
    return Paginator(queryset, settings.ARTICLES_PER_PAGE).get_page(request.GET.get("pagina"))


def home(request):
    page = _page(request, Article.objects.for_listing())
    return render(request, "archive/home.html", {"page": page})


def article_detail(request, slug):
    article = get_object_or_404(
        Article.objects.select_related("source").prefetch_related(
            "authors",
            Prefetch("actor_links", ArticleActor.objects.select_related("actor")),
            Prefetch("event_links", ArticleEvent.objects.select_related("event")),
        ),
        slug=slug,
    )
    return render(request, "archive/article.html", {"article": article})


def _subject_page(request, subject, articles, kind):
    page = _page(request, articles.for_listing())
    return render(request, "archive/subject.html", {"subject": subject, "kind": kind, "page": page})


def actor_detail(request, slug):
    actor = get_object_or_404(Actor, slug=slug)
    return _subject_page(request, actor, Article.objects.filter(actors=actor), "actor")


def event_detail(request, slug):
    event = get_object_or_404(Event.objects.prefetch_related("actors"), slug=slug)
    return _subject_page(request, event, Article.objects.filter(events=event), "event")


def source_detail(request, slug):
    source = get_object_or_404(Source, slug=slug)
    return _subject_page(request, source, Article.objects.filter(source=source), "source")


def author_detail(request, slug):
    author = get_object_or_404(Author, slug=slug)
    return _subject_page(request, author, Article.objects.filter(authors=author), "author")


def browse(request):
    """Browse and search in one: without q the newest pieces, with q the best matches."""
    form = BrowseForm(request.GET or None)
    search = Browse(form.filters())
    page = _page(request, search.results)
    return render(
        request,
        "archive/browse.html",
        {
            "form": form,
            "search": search,
            "page": page,
            "snippets": search.snippets(page.object_list),
            "facets": search.facets(),
            "suggestion": search.suggestion() if not page.object_list else None,
        },
    )
