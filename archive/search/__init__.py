"""Full-text search over articles. All search logic lives in this package, one module
per stage, read top to bottom in browse.py:

- parsing.py: a reader's query as groups (a word, an "exact phrase", or alternatives
  joined by `or`) and exclusions (`-word`);
- queries.py: the groups as PostgreSQL tsqueries, with every spelling of an actor
  (`Putin` finds `Poetin`) and compounds (`Wagner` finds `Wagnersoldaten`);
- pool.py: the bounded set of pieces a result list is drawn from, ranked: all words
  before most words, exact words before compounds, ts_rank for ties;
- facets.py, snippets.py, spelling.py: what the page shows beside the list;
- catalogue.py: what is cached until an editor changes the archive.

Every query names the Dutch configuration, so results never depend on the server's
default_text_search_config.
"""

from archive.search.browse import Browse, Filters, narrowed, overlapping
from archive.search.parsing import MAX_QUERY_LENGTH, clean_query, fold, parse_query

__all__ = [
    "MAX_QUERY_LENGTH",
    "Browse",
    "Filters",
    "clean_query",
    "fold",
    "narrowed",
    "overlapping",
    "parse_query",
    "search_articles",
]


def search_articles(queryset, text: str):
    """Pieces of `queryset` matching a reader's query, best first (at most
    SEARCH_POOL_SIZE of them); none when the query has no words."""
    if not parse_query(text):
        return queryset.none()
    return Browse(Filters(q=text), queryset=queryset).results
