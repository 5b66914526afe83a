"""Facet counts (actor, event, source, author, genre, year) over a pool of pieces.

Counted over the pool's ids, so the cost is bounded by the pool's size however many
pieces match. When the pool holds every match the counts are exact; otherwise they are
counts within the pool, and the page says so.
"""

from django.db import connection

FACET_SIZE = 12

# One statement for all six facets: each branch groups the pool's links or rows and
# keeps its largest values. Years are kept whole (newest first), never cut.
_SQL = """
WITH pool AS (SELECT unnest(%(ids)s::bigint[]) AS id)
(SELECT 'actor', a.slug, a.name, count(*) AS n
   FROM archive_articleactor l JOIN archive_actor a ON a.id = l.actor_id
  WHERE l.article_id IN (SELECT id FROM pool)
  GROUP BY a.slug, a.name ORDER BY n DESC, a.name LIMIT %(size)s)
UNION ALL
(SELECT 'event', e.slug, e.name, count(*) AS n
   FROM archive_articleevent l JOIN archive_event e ON e.id = l.event_id
  WHERE l.article_id IN (SELECT id FROM pool)
  GROUP BY e.slug, e.name ORDER BY n DESC, e.name LIMIT %(size)s)
UNION ALL
(SELECT 'source', s.slug, s.name, count(*) AS n
   FROM archive_article p JOIN archive_source s ON s.id = p.source_id
  WHERE p.id IN (SELECT id FROM pool)
  GROUP BY s.slug, s.name ORDER BY n DESC, s.name LIMIT %(size)s)
UNION ALL
(SELECT 'author', au.slug, au.name, count(*) AS n
   FROM archive_article_authors l JOIN archive_author au ON au.id = l.author_id
  WHERE l.article_id IN (SELECT id FROM pool)
  GROUP BY au.slug, au.name ORDER BY n DESC, au.name LIMIT %(size)s)
UNION ALL
(SELECT 'genre', p.genre, p.genre, count(*) AS n
   FROM archive_article p WHERE p.id IN (SELECT id FROM pool)
  GROUP BY p.genre ORDER BY n DESC, p.genre LIMIT %(size)s)
UNION ALL
(SELECT 'year', y::text, y::text, count(*) AS n
   FROM archive_article p, CAST(extract(year FROM p.published_on) AS int) AS y
  WHERE p.id IN (SELECT id FROM pool)
  GROUP BY y ORDER BY y DESC)
"""

FACETS = ("actor", "event", "source", "author", "genre", "year")


def facet_counts(ids: list[int]) -> dict[str, list[tuple[str, str, int]]]:
    """(value, label, count) per facet, largest first (years newest first)."""
    facets = {name: [] for name in FACETS}
    if not ids:
        return facets
    with connection.cursor() as cursor:
        cursor.execute(_SQL, {"ids": ids, "size": FACET_SIZE})
        for facet, value, label, n in cursor.fetchall():
            facets[facet].append((str(value), str(label), n))
    return facets
