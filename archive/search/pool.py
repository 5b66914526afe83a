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
from django.db.models import DateField, ExpressionWrapper, F

from archive.routers import reading_connection
from archive.search.entities import Links
from archive.search.queries import MAX_GROUPS_FOR_ALL_BUT_ONE, CompiledQuery, TsQuery


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


# A word in at least this share of the pieces is found newest first by walking the
# date index (a match every few rows); a rarer one would make that walk read a vector
# from TOAST for row after row (a word in one piece of a million: all of them), so its
# matches are gathered through the full-text index and sorted instead.
DENSE = 0.1


def by_date(
    queryset, oldest: bool = False, size: int | None = None, share: float | None = None
) -> Pool:
    """Newest (or oldest) first, the first `size` pieces. `share`: when the pieces are
    a search's matches, the share of the archive the words are expected in."""
    size = size or pool_size()
    order = OLDEST if oldest else NEWEST
    if share is not None and share < DENSE:
        # Sorting on an expression the date index does not hold keeps the planner from
        # walking it.
        day = ExpressionWrapper(F("published_on") + 0, output_field=DateField())
        key = day.asc() if oldest else day.desc()
        order = (key, "id" if oldest else "-id")
    ids = _ids(queryset, size + 1, order)
    return Pool(ids[:size], complete=len(ids) <= size)


def by_relevance(
    queryset,
    compiled: CompiledQuery,
    size: int | None = None,
    narrowed: bool = True,
    links: Links | None = None,
) -> Pool:
    """`narrowed`: whether filters beyond the words apply; the statistics' estimates
    know only the words, so they are trusted only when none do. `links`: pieces linked
    to what the query names (entities.py), matching their group as its words do."""
    size = size or pool_size()

    known_large: set[str] = set()  # alternatives already counted past `size`

    def large(alternative: str, expected: float) -> bool:
        surely = not narrowed and expected > SURELY_MORE * size
        return surely or alternative in known_large

    matching = queryset.filter(search_vector=TsQuery(compiled.any))
    if not large(compiled.any, compiled.expected_any):
        # The common case in one statement: at most `size` matches, all ranked.
        found, ids, scores = rank(_sql(matching, size + 1), compiled, size, links)
        if found <= size:
            return Pool(ids, complete=True, scores=scores)
        known_large.add(compiled.any)  # a one-word query need not count it again
    chosen: dict[int, tuple[int, bool]] = {}  # id -> (tier, ranked on its whole text)

    def add(ids, level, whole):
        for pk in ids:
            chosen.setdefault(pk, (level, whole))

    for level, tier in enumerate(compiled.tiers()):
        overflowing = []
        for alternative, expected in tier:
            in_it = queryset.filter(search_vector=TsQuery(alternative))
            if large(alternative, expected):
                overflowing.append((in_it, alternative, []))
                continue
            ids = _ids(in_it, size + 1)
            if len(ids) > size:
                overflowing.append((in_it, alternative, ids))
            else:
                add(ids, level, whole=True)
        for in_it, alternative, ids in overflowing:
            room = size - len(chosen)
            if room <= 0:
                break
            # Its pieces naming the words in headline or intro first, then as the index
            # or the table yields them. Unordered on purpose: "the newest matches" walks
            # the date index reading a vector from TOAST per piece passed, five per
            # match for a word in a fifth of the pieces, a hundred for one in a hundred.
            # Headline and intro are part of the whole text, so a head match is a
            # match: not asking the whole text too keeps its vector out of TOAST.
            head = queryset.filter(head_vector=TsQuery(alternative))
            heads = _ids(head, max(room // 2, 1))
            add(heads, level, whole=False)
            room = size - len(chosen)
            if room > 0:
                # Not the head matches again: the fill would stop short of the room.
                add(ids or _ids(in_it.exclude(pk__in=heads), room), level, whole=False)
        if len(chosen) >= size:
            break
    for pk in links.ids if links else ():
        # Its tier is known only once its text is read: rank_candidates works it out.
        chosen.setdefault(pk, (LINKED, True))
    ids, scores = rank_candidates(chosen, compiled, links)
    return Pool(ids[:size], complete=False, scores=scores)


# A capped count is skipped when the statistics expect this many times the pool: a
# word in a fifth of a million pieces would cost thousands of vectors read to count to
# a thousand. The margin absorbs the estimate's error (words are taken as independent).
SURELY_MORE = 20


def _sql(queryset, limit: int) -> tuple[str, tuple]:
    """The ids of `queryset`, unordered, at most `limit`, as SQL to embed.

    The match is planned apart from the limit (a MATERIALIZED CTE is planned for all its
    rows, and still read only as far as the limit asks): with the limit in view, the
    planner reads the table row by row whenever it guesses the words to be common
    enough to find `limit` of them soon, and a guess too high (a name with a dozen
    spellings and forms, each added to the share) then reads every piece's vector.
    Words it knows to be common do not come here (`large`)."""
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    fenced = f"WITH matching AS MATERIALIZED ({sql}) SELECT * FROM matching LIMIT {int(limit)}"
    return fenced, params


def _matches(compiled: CompiledQuery, vector: str, links: Links | None):
    """Per group: SQL for "the piece matches the group" and for "... exactly" (not as
    part of a compound; None when the words are stop words, matched as prefixes only),
    with their params. A piece linked to what the group names matches it, exactly when
    an editor confirmed the link."""
    out = []
    for i, group in enumerate(compiled.groups):
        loose, loose_params = f"({vector} @@ %s::tsquery)", [group.loose]
        exact, exact_params = (
            (f"({vector} @@ %s::tsquery)", [group.exact]) if group.exact else (None, [])
        )
        if links and links.groups[i]:
            loose, loose_params = (
                f"({loose} OR id = ANY(%s::bigint[]))",
                [*loose_params, links.any_of(i)],
            )
            if confirmed := links.confirmed_of(i):
                exact = f"({exact or 'false'} OR id = ANY(%s::bigint[]))"
                exact_params = [*exact_params, confirmed]
        out.append((loose, loose_params, exact, exact_params))
    return out


def _coverage(compiled: CompiledQuery, vector: str, links: Links | None = None):
    """SQL for ten points per group the piece matches, one more per group matched
    exactly, and its params."""
    scores, params = [], []
    for loose, loose_params, exact, exact_params in _matches(compiled, vector, links):
        scores.append(f"{loose}::int * 10")
        params += loose_params
        if exact:
            scores.append(f"{exact}::int")
            params += exact_params
    return " + ".join(scores), params


def _tier_of(compiled: CompiledQuery, vector: str, links: Links | None):
    """SQL for the tier (as CompiledQuery.tiers numbers them) a piece found by its links
    belongs to, from how many groups it matches, and its params."""
    matched, params = [], []
    for loose, loose_params, _, _ in _matches(compiled, vector, links):
        matched.append(f"{loose}::int")
        params += loose_params
    n = len(compiled.groups)
    last = len(compiled.tiers()) - 1
    but_one = 1 if 3 <= n <= MAX_GROUPS_FOR_ALL_BUT_ONE else last
    sql = (
        f"CASE ({' + '.join(matched)}) WHEN {n} THEN 0 WHEN {n - 1} THEN {but_one} ELSE {last} END"
    )
    return sql, params


def rank(candidates, compiled: CompiledQuery, cap: int | None = None, links=None):
    """(number of candidates, their ids best first, each one's score).

    `candidates` is SQL giving ids (and its params); the linked pieces join them. With
    `cap`, nothing is ranked when there are more than `cap` of them: only the number
    comes back. Each vector is read from TOAST once (the CTE holds it unpacked), not
    once per group.
    """
    candidates_sql, candidates_params = candidates
    if links:
        candidates_sql = f"({candidates_sql}) UNION SELECT unnest(%s::bigint[])"
        candidates_params = (*candidates_params, links.ids)
    coverage, params = _coverage(compiled, "v", links)
    sql = f"""
        WITH m AS MATERIALIZED ({candidates_sql}),
        found AS (SELECT count(*) AS n FROM m),
        c AS MATERIALIZED (
            SELECT id, published_on, search_vector || ''::tsvector AS v
            FROM archive_article
            WHERE id IN (SELECT * FROM m) AND (SELECT n FROM found) <= %s
        ),
        scored AS (
            SELECT id, published_on, {coverage} AS coverage,
                   ts_rank(v, %s::tsquery, 1) AS rank
            FROM c
        )
        SELECT found.n, scored.id, scored.coverage + scored.rank
        FROM found LEFT JOIN scored ON true
        ORDER BY scored.coverage DESC, scored.rank DESC, scored.published_on DESC,
                 scored.id DESC
    """
    limit = cap if cap is not None else 2**62
    with reading_connection().cursor() as cursor:
        cursor.execute(sql, [*candidates_params, limit, *params, compiled.any])
        rows = cursor.fetchall()
    ranked = [(pk, float(score)) for _, pk, score in rows if pk is not None]
    return rows[0][0], [pk for pk, _ in ranked], dict(ranked)


# The tier of a candidate found only by its links: worked out from its text.
LINKED = -1


def rank_candidates(chosen: dict[int, tuple[int, bool]], compiled: CompiledQuery, links=None):
    """(ids best first, scores) for candidates found tier by tier: stricter tiers first;
    within a tier, candidates from an alternative that fitted whole are scored on their
    whole text (as `rank` does), the others on headline and intro only, which is read
    from the row itself, never from TOAST."""
    if not chosen:
        return [], {}
    ids = list(chosen)
    levels = [chosen[pk][0] for pk in ids]
    whole = [chosen[pk][1] for pk in ids]
    coverage, params = _coverage(compiled, "v", links)
    tier_of, tier_params = _tier_of(compiled, "v", links)
    tiers = len(compiled.tiers())
    sql = f"""
        WITH cand AS (
            SELECT * FROM unnest(%s::bigint[], %s::int[], %s::bool[]) AS c(id, level, whole)
        ),
        c AS MATERIALIZED (
            SELECT a.id, a.published_on, cand.level,
                   CASE WHEN cand.whole THEN a.search_vector || ''::tsvector END AS v,
                   a.head_vector
            FROM cand JOIN archive_article a USING (id)
        ),
        placed AS (
            SELECT id, published_on, v, head_vector,
                   CASE WHEN level = {LINKED} THEN {tier_of} ELSE level END AS level
            FROM c
        ),
        scored AS (
            SELECT id, published_on, level,
                   CASE WHEN v IS NULL THEN 0 ELSE {coverage} END AS coverage,
                   CASE WHEN v IS NULL THEN ts_rank(head_vector, %s::tsquery, 1)
                        ELSE ts_rank(v, %s::tsquery, 1) END AS rank
            FROM placed
        )
        SELECT id, (%s - level) * 100 + coverage + rank FROM scored
        ORDER BY level, coverage DESC, rank DESC, published_on DESC, id DESC
    """
    with reading_connection().cursor() as cursor:
        cursor.execute(
            sql,
            [ids, levels, whole, *tier_params, *params, compiled.any, compiled.any, tiers],
        )
        rows = cursor.fetchall()
    return [pk for pk, _ in rows], {pk: float(score) for pk, score in rows}
