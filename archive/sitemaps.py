"""What crawlers read: the sitemap sections (served through a sitemap index, so a million
pieces split into pages of at most 50,000 URLs) and robots.txt."""

import hashlib
import math
from functools import cached_property
from types import SimpleNamespace

from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db.models import Max
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from archive.models import Actor, Article, Author, Event, Source
from archive.search import catalogue


class IdRanges:
    """A sitemap's pages as ranges of ids, not offsets: page n holds the ids in
    ((n - 1) * limit, n * limit], so page 200 costs one short index range scan, like
    page 1, and a page keeps its URLs as the archive grows."""

    def __init__(self, items, limit: int):
        self.items, self.limit = items, limit

    @cached_property
    def num_pages(self) -> int:
        top = catalogue.cached("sitemap:max-id", lambda: self.items.aggregate(m=Max("id"))["m"])
        return max(1, math.ceil((top or 0) / self.limit))

    def page(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError) as error:
            raise PageNotAnInteger("Geen paginanummer") from error
        if not 1 <= number <= self.num_pages:
            raise EmptyPage("Die pagina bestaat niet")
        low = (number - 1) * self.limit
        return SimpleNamespace(object_list=self.items.filter(id__gt=low, id__lte=low + self.limit))


class PagesSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.8

    def items(self):
        return ["archive:home", "archive:browse"]

    def location(self, item):
        return reverse(item)


class ArticleSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.6
    # Far below the 50,000 the protocol allows: a page is made on request, and a
    # thousand URLs render in well under a second (then it is cached).
    limit = 1000

    def items(self):
        # Only what a URL and lastmod need; ordered so pages of the index stay stable.
        return Article.objects.only("slug", "updated_at").order_by("id")

    def lastmod(self, article):
        return article.updated_at

    @property
    def paginator(self):
        return IdRanges(self.items(), self.limit)

    def get_latest_lastmod(self):
        # Django's default takes the max over every item, fetching a million rows; the
        # index on updated_at answers it at once.
        return Article.objects.aggregate(m=Max("updated_at"))["m"]


class SubjectSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.5
    model = None

    def items(self):
        return self.model.objects.only("slug").order_by("id")


class ActorSitemap(SubjectSitemap):
    model = Actor


class EventSitemap(SubjectSitemap):
    model = Event


class SourceSitemap(SubjectSitemap):
    model = Source


class AuthorSitemap(SubjectSitemap):
    model = Author


SITEMAPS = {
    "paginas": PagesSitemap,
    "stukken": ArticleSitemap,
    "actoren": ActorSitemap,
    "gebeurtenissen": EventSitemap,
    "bronnen": SourceSitemap,
    "auteurs": AuthorSitemap,
}


@require_safe
def section(request, section):
    """One sitemap section page, rendered once per change of the archive: crawlers
    walk all of them, and a page's URLs change only when an editor changes a piece."""
    page = request.GET.get("p", "1")[:12]
    # Hashed: a section or page a crawler makes up may hold spaces and control characters,
    # which are no cache key.
    asked = f"{request.scheme}:{request.get_host()}:{section}:{page}"
    key = "sitemap:" + hashlib.sha256(asked.encode()).hexdigest()

    def render():
        response = sitemap_views.sitemap(request, sitemaps=SITEMAPS, section=section)
        response.render()
        return response.content, response.get("Last-Modified")

    content, last_modified = catalogue.cached(key, render)
    response = HttpResponse(content, content_type="application/xml")
    if last_modified:
        response["Last-Modified"] = last_modified
    return response


@require_safe
def robots_txt(request):
    lines = [
        "User-agent: *",
        # Machine formats and endless filter combinations; the sitemap lists every page.
        # Not the admin: its path (ADMIN_URL) is kept out of sight, no page links to it,
        # and its pages tell robots themselves not to index them.
        "Disallow: /api/",
        "Disallow: /zoeken/export.csv",
        "Disallow: /zoeken/feed/",
        "",
        f"Sitemap: {request.build_absolute_uri(reverse('archive:sitemap'))}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
