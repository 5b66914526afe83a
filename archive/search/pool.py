"""The pool: the pieces one result list is drawn from, never more than POOL_SIZE.

A page's cost must not grow with the number of matching pieces, and a common word is
in a fifth of a million-piece archive. So the match is asked once, capped: when it
holds at most POOL_SIZE pieces, the pool is all of them, ranked exactly, and the count
and facets are exact. When it holds more, the pool is the strongest candidates, chosen
through the indexes without visiting every match:

- tier by tier (all groups, all groups but one, any group), so pieces with all the
  reader's words come first and one misremembered word never empties the list;
- each tier asked one alternative at a time (each group alone, each group left out):
  one that fits in the pool enters whole, so a rare word's pieces are never lost
  beside a common one; one that does not enters with its pieces naming the words in
  headline or intro (head_vector: small, never TOASTed), then its pieces in the order
  the index gives them, up to the pool's size.

Then the candidates are ranked exactly: ten points per group matched, one more when it
matched exactly (not as part of a compound), ts_rank over the whole text breaks ties.
The pool says whether it is complete, and the page says "meer dan" when it is not.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from archive.search.queries import CompiledQuery, TsQuery


@dataclass
class Pool:
    ids: list[int]  # in result order
    complete: bool  # True: every matching piece is here, so counts are exact
    scores: dict[int, float] | None = None  # relevance, when ranked

    @property
    def count(self) -> int:
        return len(self.ids)


def pool_size() -> int:
    return settings.SEARCH_POOL_SIZE


def _ids(queryset, limit: int, order=None) -> list[int]:
    ordered = queryset.order_by(*order) if order else queryset.order_by()
    return list(ordered.values_list("pk", flat=True)[:limit])


NEWEST = ("-published_on", "-id")
OLDEST = ("published_on", "id")


def by_date(queryset, oldest: bool = False, size: int | None = None) -> Pool:
    """Newest (or oldest) first: the first `size` pieces straight off the date index."""
    size = size or pool_size()
    ids = _ids(queryset, size + 1, OLDEST if oldest else NEWEST)
    return Pool(ids[:size], complete=len(ids) <= size)


def by_relevance(queryset, compiled: CompiledQuery, size: int | None = None) -> Pool:
    size = size or pool_size()
    matching = queryset.filter(search_vector=TsQuery(compiled.any))
    # The common case in one statement: at most `size` matches, all ranked.
    found, ids, scores = rank(_sql(matching, size + 1), compiled, size)
    if found <= size:
        return Pool(ids, complete=True, scores=scores)
    chosen: dict[int, None] = {}
    for tier in compiled.tiers():
        overflowing = []
        for alternative in tier:
            in_it = queryset.filter(search_vector=TsQuery(alternative))
            ids = _ids(in_it, size + 1)
            if len(ids) <= size:
                chosen.update(dict.fromkeys(ids))
            else:
                overflowing.append((in_it, alternative, ids))
        for in_it, alternative, ids in overflowing:
            if len(chosen) >= size:
                break
            # Its pieces naming the words in headline or intro first, then as the index
            # yields them. Unordered on purpose: "the newest matches" walks the date
            # index reading a vector from TOAST per piece passed, five per match for a
            # word in a fifth of the pieces, a hundred for a word in one percent.
            head = in_it.filter(head_vector=TsQuery(alternative))
            room = size - len(chosen)
            chosen.update(dict.fromkeys(_ids(head, max(room // 2, 1))))
            fill = [pk for pk in ids if pk not in chosen][: max(0, size - len(chosen))]
            chosen.update(dict.fromkeys(fill))
        if len(chosen) >= size:
            break
    candidates = list(chosen)[: size * 2]
    _, ids, scores = rank(("SELECT unnest(%s::bigint[]) AS id", [candidates]), compiled)
    return Pool(ids[:size], complete=False, scores=scores)


def _sql(queryset, limit: int) -> tuple[str, tuple]:
    """The ids of `queryset`, unordered, at most `limit`, as SQL to embed."""
    return queryset.order_by().values("pk")[:limit].query.sql_with_params()


def rank(candidates, compiled: CompiledQuery, cap: int | None = None):
    """(number of candidates, their ids best first, each one's score).

    `candidates` is SQL giving ids (and its params). With `cap`, nothing is ranked when
    there are more than `cap` of them: only the number comes back. Each vector is read
    from TOAST once (the CTE holds it unpacked), not once per group.
    """
    candidates_sql, candidates_params = candidates
    scores, params = [], []
    for group in compiled.groups:
        scores.append("(v @@ %s::tsquery)::int * 10")
        params.append(group.loose)
        if group.exact:  # empty when the words are stop words, matched as prefixes only
            scores.append("(v @@ %s::tsquery)::int")
            params.append(group.exact)
    sql = f"""
        WITH m AS MATERIALIZED ({candidates_sql}),
        found AS (SELECT count(*) AS n FROM m),
        c AS MATERIALIZED (
            SELECT id, published_on, search_vector || ''::tsvector AS v
            FROM archive_article
            WHERE id IN (SELECT * FROM m) AND (SELECT n FROM found) <= %s
        ),
        scored AS (
            SELECT id, published_on, {" + ".join(scores)} AS coverage,
                   ts_rank(v, %s::tsquery, 1) AS rank
            FROM c
        )
        SELECT found.n, scored.id, scored.coverage + scored.rank
        FROM found LEFT JOIN scored ON true
        ORDER BY scored.coverage DESC, scored.rank DESC, scored.published_on DESC,
                 scored.id DESC
    """
    limit = cap if cap is not None else 2**62
    with connection.cursor() as cursor:
        cursor.execute(sql, [*candidates_params, limit, *params, compiled.any])
        rows = cursor.fetchall()
    ranked = [(pk, float(score)) for _, pk, score in rows if pk is not None]
    return rows[0][0], [pk for pk, _ in ranked], dict(ranked)
