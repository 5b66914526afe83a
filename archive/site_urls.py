"""The reader's pages, under the "archive" namespace."""

from django.urls import path

from archive import views

app_name = "archive"

urlpatterns = [
    path("", views.home, name="home"),
    path("zoeken/", views.browse, name="browse"),
    path("artikel/<slug:slug>/", views.article_detail, name="article"),
    path("actor/<slug:slug>/", views.actor_detail, name="actor"),
    path("gebeurtenis/<slug:slug>/", views.event_detail, name="event"),
    path("bron/<slug:slug>/", views.source_detail, name="source"),
    path("auteur/<slug:slug>/", views.author_detail, name="author"),
]
