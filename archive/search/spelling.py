"""“Bedoelde u: Prigozjin?” for a search that found nothing."""

from archive.routers import reading_connection
from archive.search.parsing import MAX_GROUPS, ParsedQuery, fold


def suggest_spelling(parsed: ParsedQuery, threshold: float = 0.4) -> str | None:
    """Each word swapped for the closest word in an actor's names (pg_trgm similarity,
    accents ignored), when one is close enough and different."""
    words = parsed.words[:MAX_GROUPS]
    if not words:
        return None
    with reading_connection().cursor() as cursor:
        # The closest actor for each word, by any word of any of its names; suggested
        # in the archive's own (Dutch) spelling.
        cursor.execute(
            """
            SELECT w.word, best.name, best.kind
            FROM unnest(%s::text[]) AS w(word)
            CROSS JOIN LATERAL (
                SELECT a.name, a.kind
                FROM archive_actor a,
                     unnest(array_prepend(a.name, a.aliases)) AS n(full_name),
                     regexp_split_to_table(n.full_name, '\\s+') AS part
                WHERE similarity(lower(unaccent(w.word)), lower(unaccent(part))) >= %s
                ORDER BY similarity(lower(unaccent(w.word)), lower(unaccent(part))) DESC, a.name
                LIMIT 1
            ) AS best
            """,
            [words, threshold],
        )
        closest = {
            word: name.split()[-1] if kind == "person" else name
            for word, name, kind in cursor.fetchall()
        }
    suggestion = " ".join(closest.get(word, word) for word in words)
    return suggestion if fold(suggestion) != fold(" ".join(words)) else None
