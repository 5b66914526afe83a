"""The reader's pages, under the "archive" namespace."""

from django.contrib.sitemaps import views as sitemap_views
from django.urls import path

from archive import api, feeds, sitemaps, views

app_name = "archive"

urlpatterns = [
    path("", views.home, name="home"),
    path("zoeken/", views.browse, name="browse"),
    path("artikel/<slug:slug>/", views.article_detail, name="article"),
    path("actor/<slug:slug>/", views.actor_detail, name="actor"),
    path("gebeurtenis/<slug:slug>/", views.event_detail, name="event"),
    path("bron/<slug:slug>/", views.source_detail, name="source"),
    path("auteur/<slug:slug>/", views.author_detail, name="author"),
    path("genre/<str:genre>/", views.genre_detail, name="genre"),
    path("actoren/", views.actor_index, name="actors"),
    path("gebeurtenissen/", views.event_index, name="events"),
    # Feeds, JSON, CSV and what crawlers read (archive/feeds.py, api.py, sitemaps.py).
    path("zoeken/feed/", feeds.BrowseFeed(), name="browse_feed"),
    path("zoeken/export.csv", api.export_csv, name="browse_export"),
    path("actor/<slug:slug>/feed/", feeds.ActorFeed(), name="actor_feed"),
    path("gebeurtenis/<slug:slug>/feed/", feeds.EventFeed(), name="event_feed"),
    path("bron/<slug:slug>/feed/", feeds.SourceFeed(), name="source_feed"),
    path("auteur/<slug:slug>/feed/", feeds.AuthorFeed(), name="author_feed"),
    path("api/zoeken/", api.browse_api, name="api_browse"),
    path("api/artikel/<slug:slug>/", api.article_api, name="api_article"),
    path(
        "sitemap.xml",
        sitemap_views.index,
        {"sitemaps": sitemaps.SITEMAPS, "sitemap_url_name": "archive:sitemap_section"},
        name="sitemap",
    ),
    path("sitemap-<section>.xml", sitemaps.section, name="sitemap_section"),
    path("robots.txt", sitemaps.robots_txt, name="robots"),
]
