"""Facet counts (actor, event, source, author, genre, year) over a pool of pieces.

Counted over the pool's ids, so the cost is bounded by the pool's size however many
pieces match. When the pool holds every match the counts are exact; otherwise they are
counts within the pool, and the page says so.
"""

from archive.routers import reading_connection

FACET_SIZE = 12

# One statement for all six facets: the pool's own rows are read once for source,
# genre and year (grouping sets), each link table once; every branch keeps its largest
# values. Years are kept whole (newest first), never cut.
_SQL = """
WITH pool AS MATERIALIZED (SELECT DISTINCT unnest(%(ids)s::bigint[]) AS id),
pieces AS MATERIALIZED (
    SELECT p.source_id, p.genre, CAST(extract(year FROM p.published_on) AS int) AS y
    FROM archive_article p JOIN pool USING (id)
),
own AS (
    SELECT source_id, genre, y, count(*) AS n FROM pieces
    GROUP BY GROUPING SETS ((source_id), (genre), (y))
)
(SELECT 'actor', a.slug, a.name, count(*) AS n
   FROM pool JOIN archive_articleactor l ON l.article_id = pool.id
   JOIN archive_actor a ON a.id = l.actor_id
  GROUP BY a.slug, a.name ORDER BY n DESC, a.name LIMIT %(size)s)
UNION ALL
(SELECT 'event', e.slug, e.name, count(*) AS n
   FROM pool JOIN archive_articleevent l ON l.article_id = pool.id
   JOIN archive_event e ON e.id = l.event_id
  GROUP BY e.slug, e.name ORDER BY n DESC, e.name LIMIT %(size)s)
UNION ALL
(SELECT 'author', au.slug, au.name, count(*) AS n
   FROM pool JOIN archive_article_authors l ON l.article_id = pool.id
   JOIN archive_author au ON au.id = l.author_id
  GROUP BY au.slug, au.name ORDER BY n DESC, au.name LIMIT %(size)s)
UNION ALL
(SELECT 'source', s.slug, s.name, own.n
   FROM own JOIN archive_source s ON s.id = own.source_id
  ORDER BY own.n DESC, s.name LIMIT %(size)s)
UNION ALL
(SELECT 'genre', genre, genre, n FROM own WHERE genre IS NOT NULL
  ORDER BY n DESC, genre LIMIT %(size)s)
UNION ALL
(SELECT 'year', y::text, y::text, n FROM own WHERE y IS NOT NULL ORDER BY y DESC)
"""

FACETS = ("actor", "event", "source", "author", "genre", "year")


def facet_counts(ids: list[int]) -> dict[str, list[tuple[str, str, int]]]:
    """(value, label, count) per facet, largest first (years newest first)."""
    facets = {name: [] for name in FACETS}
    if not ids:
        return facets
    with reading_connection().cursor() as cursor:
        cursor.execute(_SQL, {"ids": ids, "size": FACET_SIZE})
        for facet, value, label, n in cursor.fetchall():
            facets[facet].append((str(value), str(label), n))
    return facets
