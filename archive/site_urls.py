"""The reader's pages, under the "archive" namespace."""

from django.contrib.sitemaps import views as sitemap_views
from django.urls import path
from django.views.decorators.cache import cache_control

from archive import api, feeds, sitemaps, views
from archive.pagecache import cached_page

app_name = "archive"

urlpatterns = [
    path("", cached_page(views.home), name="home"),
    path("zoeken/", cached_page(views.browse), name="browse"),
    path("artikel/<slug:slug>/", cached_page(views.article_detail), name="article"),
    path("actor/<slug:slug>/", cached_page(views.actor_detail), name="actor"),
    path("gebeurtenis/<slug:slug>/", cached_page(views.event_detail), name="event"),
    path("bron/<slug:slug>/", cached_page(views.source_detail), name="source"),
    path("auteur/<slug:slug>/", cached_page(views.author_detail), name="author"),
    path("genre/<str:genre>/", cached_page(views.genre_detail), name="genre"),
    path("actoren/", cached_page(views.actor_index), name="actors"),
    path("gebeurtenissen/", cached_page(views.event_index), name="events"),
    # Feeds, JSON, CSV and what crawlers read (archive/feeds.py, api.py, sitemaps.py).
    path("zoeken/feed/", cached_page(feeds.BrowseFeed()), name="browse_feed"),
    path("zoeken/export.csv", cached_page(api.export_csv), name="browse_export"),
    path("actor/<slug:slug>/feed/", cached_page(feeds.ActorFeed()), name="actor_feed"),
    path("gebeurtenis/<slug:slug>/feed/", cached_page(feeds.EventFeed()), name="event_feed"),
    path("bron/<slug:slug>/feed/", cached_page(feeds.SourceFeed()), name="source_feed"),
    path("auteur/<slug:slug>/feed/", cached_page(feeds.AuthorFeed()), name="author_feed"),
    path("api/zoeken/", cached_page(api.browse_api), name="api_browse"),
    path("api/artikel/<slug:slug>/", cached_page(api.article_api), name="api_article"),
    # Asked at every pause in typing, so browsers and proxies may keep answers a while.
    # Cache-Control is added around the page cache: its copies keep no such header.
    path(
        "api/suggesties/",
        cache_control(public=True, max_age=api.SUGGEST_MAX_AGE)(cached_page(api.suggest_api)),
        name="api_suggest",
    ),
    path(
        "sitemap.xml",
        sitemap_views.index,
        {"sitemaps": sitemaps.SITEMAPS, "sitemap_url_name": "archive:sitemap_section"},
        name="sitemap",
    ),
    path("sitemap-<section>.xml", sitemaps.section, name="sitemap_section"),
    path("robots.txt", sitemaps.robots_txt, name="robots"),
]
