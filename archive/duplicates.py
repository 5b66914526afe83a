"""Is a text already in the archive? The same text exactly, or nearly the same.

Exact: the database's own content hash (case and whitespace do not count), asked of the
new text with the same SQL expression, so Python and PostgreSQL cannot disagree on it.

Near: a re-scrape with other debris, a corrected typo, a paragraph added. Candidates come
from the full-text index (a few probes of distinctive words, each probe all-words-must-
match), then the texts are compared on word trigrams. Probes keep this cheap at a
million pieces: no pairwise comparison with the whole archive, no extra index.
"""

import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.search import SearchQuery
from django.db.models import Case, Q, TextField, Value, When

from archive.models import Article, content_hash_of

# Word-trigram Jaccard similarity from which a text counts as the same piece. Measured on
# the DPG corpus: distinct pieces stay far below it (see the import tests and README).
NEAR_DUPLICATE = 0.8
PROBES = 3
PROBE_WORDS = 4
CANDIDATES = 10

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Duplicate:
    article: Article
    similarity: float  # 1.0 when the text is exactly the same
    exact: bool

    def describe(self) -> str:
        if self.exact:
            return f"dezelfde tekst als ‘{self.article.title}’ (id {self.article.pk})"
        return (
            f"bijna dezelfde tekst als ‘{self.article.title}’ (id {self.article.pk}, "
            f"{self.similarity:.0%} gelijk)"
        )


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def shingles(text: str) -> set[tuple[str, ...]]:
    tokens = words(text)
    return {tuple(tokens[i : i + 3]) for i in range(max(len(tokens) - 2, 1))}


def similarity(a: str, b: str) -> float:
    first, second = shingles(a), shingles(b)
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)


def probes(text: str) -> list[str]:
    """A few groups of long words from the start, middle and end of the text: a piece
    that is nearly the same contains all words of at least one group."""
    tokens = [w for w in words(text) if len(w) >= 6 and not w.isdigit()]
    if not tokens:
        return []
    size = max(len(tokens) // PROBES, 1)
    groups = []
    for start in range(0, len(tokens), size):
        distinct = list(dict.fromkeys(tokens[start : start + size]))[:PROBE_WORDS]
        if distinct:
            groups.append(" ".join(distinct))
    return groups[:PROBES]


def find_duplicate(body: str, exclude_pk: int | None = None) -> Duplicate | None:
    """The piece `body` duplicates, exactly or nearly; None when it is new."""
    pieces = Article.objects.exclude(pk=exclude_pk) if exclude_pk else Article.objects.all()
    exact = (
        pieces.filter(content_hash=content_hash_of(Value(body, output_field=TextField())))
        .only("pk", "title", "slug")
        .first()
    )
    if exact:
        return Duplicate(exact, 1.0, exact=True)

    groups = probes(body)
    if not groups:
        return None
    queries = [
        SearchQuery(group, config=settings.SEARCH_CONFIG, search_type="plain") for group in groups
    ]
    matches = Q()
    for query in queries:
        matches |= Q(search_vector=query)
    # A near copy matches every probe; a piece that shares a few words matches one.
    hits = sum((Case(When(search_vector=query, then=1), default=0) for query in queries), Value(0))
    candidates = (
        pieces.filter(matches)
        .annotate(hits=hits)
        .order_by("-hits", "-pk")
        .only("pk", "title", "slug", "body")[:CANDIDATES]
    )
    scored = [(similarity(body, c.body), c) for c in candidates]
    best = max(scored, key=lambda pair: pair[0], default=None)
    if best and best[0] >= NEAR_DUPLICATE:
        return Duplicate(best[1], best[0], exact=False)
    return None
