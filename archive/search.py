"""Full-text search over articles: every query names the Dutch configuration."""

import unicodedata

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import F

MAX_QUERY_LENGTH = 500


def clean_query(text: str) -> str:
    """Drop control characters (NUL included: PostgreSQL text cannot hold it), squeeze
    whitespace and cut over-long input, so any string a reader types can be searched."""
    kept = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text or "")
    return " ".join(kept.split())[:MAX_QUERY_LENGTH]


def dutch_query(text: str) -> SearchQuery:
    return SearchQuery(text, search_type="websearch", config=settings.SEARCH_CONFIG)


def search_articles(queryset, text: str):
    """Pieces matching the reader's query, best first (then newest)."""
    text = clean_query(text)
    if not text:
        return queryset.none()
    query = dutch_query(text)
    return (
        queryset.filter(search_vector=query)
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank", "-published_on", "-id")
    )
