"""Django admin for editors: every model, searchable and filterable."""

from django.contrib import admin
from django.db import models
from django.db.models import Count

from archive.models import Actor, Article, ArticleActor, ArticleEvent, Author, Event, Source

admin.site.site_header = "Kroniek redactie"
admin.site.site_title = "Kroniek"
admin.site.index_title = "Archief beheren"

# An address pasted without a scheme is taken as https (Django 6's default).
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}


class ArticleActorInline(admin.TabularInline):
    model = ArticleActor
    extra = 0
    autocomplete_fields = ["actor"]


class ArticleEventInline(admin.TabularInline):
    model = ArticleEvent
    extra = 0
    autocomplete_fields = ["event"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "published_on", "date_precision", "genre", "source"]
    list_filter = ["genre", "date_precision", "source", ("published_on", admin.DateFieldListFilter)]
    list_select_related = ["source"]
    date_hierarchy = "published_on"
    search_fields = ["title"]
    autocomplete_fields = ["source", "authors"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["content_hash", "created_at", "updated_at"]
    inlines = [ArticleActorInline, ArticleEventInline]
    view_on_site = True
    formfield_overrides = HTTPS_URLS
    fieldsets = [
        (None, {"fields": ["title", "slug", "lead", "body"]}),
        (
            "Herkomst",
            {"fields": ["genre", "published_on", "date_precision", "source", "authors", "url"]},
        ),
        (
            "Beheer",
            {"fields": ["content_hash", "created_at", "updated_at"], "classes": ["collapse"]},
        ),
    ]

    def get_search_results(self, request, queryset, search_term):
        # The same Dutch full-text search readers use, rather than LIKE over the body.
        if not search_term.strip():
            return queryset, False
        return queryset.search(search_term), False


@admin.register(Actor)
class ActorAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "alias_list", "piece_count"]
    list_filter = ["kind"]
    search_fields = ["name", "slug", "aliases"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(piece_count=Count("articles"))

    @admin.display(description="andere namen")
    def alias_list(self, actor):
        return ", ".join(actor.aliases)

    @admin.display(description="stukken", ordering="piece_count")
    def piece_count(self, actor):
        return actor.piece_count


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["name", "start_date", "end_date"]
    search_fields = ["name", "description"]
    date_hierarchy = "start_date"
    autocomplete_fields = ["actors"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "url"]
    formfield_overrides = HTTPS_URLS
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "actor"]
    search_fields = ["name"]
    autocomplete_fields = ["actor"]
    prepopulated_fields = {"slug": ["name"]}
