"""QuerySets and managers: the filters every page shares."""

from django.db import models


class SlugManager(models.Manager):
    """Lets fixtures refer to rows by slug, so loading them twice updates, never duplicates."""

    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class LinkManager(models.Manager):
    """Natural keys for the links of pieces to actors and events: (article slug, other slug)."""

    def get_by_natural_key(self, article_slug, other_slug):
        other = next(
            f.name
            for f in self.model._meta.concrete_fields
            if f.is_relation and f.name != "article"
        )
        return self.get(article__slug=article_slug, **{f"{other}__slug": other_slug})


class ArticleQuerySet(models.QuerySet):
    def for_listing(self):
        """What a list of pieces shows: source and authors, without a query per row."""
        return self.select_related("source").prefetch_related("authors")

    def search(self, query: str):
        from archive.search import search_articles

        return search_articles(self, query)


class ArticleManager(models.Manager.from_queryset(ArticleQuerySet), SlugManager):
    pass
