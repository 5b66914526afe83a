"""Reader pages. Views stay thin: fetch, paginate, render."""

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render

from archive.models import Actor, Article, ArticleActor, ArticleEvent, Author, Event, Source


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
