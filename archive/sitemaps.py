"""What crawlers read: the sitemap sections (served through a sitemap index, so a million
pieces split into pages of at most 50,000 URLs) and robots.txt."""

from django.contrib.sitemaps import Sitemap
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from archive.models import Actor, Article, Author, Event, Source


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

    def items(self):
        # Only what a URL and lastmod need; ordered so pages of the index stay stable.
        return Article.objects.only("slug", "updated_at").order_by("id")

    def lastmod(self, article):
        return article.updated_at


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


@require_GET
def robots_txt(request):
    lines = [
        "User-agent: *",
        # Machine formats and endless filter combinations; the sitemap lists every page.
        "Disallow: /admin/",
        "Disallow: /api/",
        "Disallow: /zoeken/export.csv",
        "Disallow: /zoeken/feed/",
        "",
        f"Sitemap: {request.build_absolute_uri(reverse('archive:sitemap'))}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
