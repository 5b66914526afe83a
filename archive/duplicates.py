"""Is a text already in the archive? The same text exactly, or nearly the same.

Exact: the database's own content hash (case and whitespace do not count), asked of the
new text with the same SQL expression, so Python and PostgreSQL cannot disagree on it.

Near: a re-scrape with other debris, a corrected typo, a paragraph added. Each piece
keeps a few fingerprints (NearCopyKey): a MinHash of its word trigrams (one
permutation, BINS bins), cut into BANDS bands of ROWS bins, each band hashed to one
key. Two texts whose trigram sets overlap by a share s share at least one key with
probability 1 - (1 - s^ROWS)^BANDS: 99.7% at the NEAR_DUPLICATE share of 0.8, under
one in a million for two distinct pieces (whose trigrams overlap by a few percent).
The pieces that share a key are then compared on their texts. So a look-up is one
index scan whatever the archive's size, and a batch of a thousand new pieces is one
query, where probing the full-text index cost milliseconds a piece.

The fingerprints are written whenever a piece is saved through the ORM (a post_save
signal, fixtures included) and by the bulk paths that COPY pieces (import, generated
corpora) themselves.
"""

import hashlib
import re
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy
from django.db import connection
from django.db.models import TextField
from django.db.models.expressions import RawSQL

from archive.models import Article, NearCopyKey, content_hash_of

# Word-trigram Jaccard similarity from which a text counts as the same piece. Measured on
# the DPG corpus: distinct pieces stay far below it (see the import tests and README).
NEAR_DUPLICATE = 0.8
BANDS = 8
ROWS = 3
BINS = BANDS * ROWS
# Knuth's multiplicative hash spreads the values over the bins; a trigram's hash is its
# words' hashes weighted by two odd constants, so word order counts.
_MIX = 0x9E3779B1
_P1, _P2 = 0x01000193, 0x85EBCA6B
_LOW32 = 0xFFFFFFFF
_EMPTY = 1 << 32  # above any 32-bit value: a bin no trigram fell into

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


def fingerprints(text: str) -> list[int]:
    """The text's near-copy keys (signed 64-bit, as PostgreSQL's bigint): one per band
    of its MinHash, none for a text of fewer than three words. Each word is hashed once
    and a trigram's hash combined from its words' (numpy, a few microseconds)."""
    tokens = words(text)
    if len(tokens) < 3:
        return []
    hashed = numpy.fromiter(
        (zlib.crc32(t.encode()) for t in tokens), dtype=numpy.uint64, count=len(tokens)
    )
    # uint64 arithmetic wraps; only the low 32 bits are kept.
    trigrams = (hashed[:-2] * _P1 + hashed[1:-1] * _P2 + hashed[2:]) * _MIX & _LOW32
    lowest = numpy.full(BINS, _EMPTY, dtype=numpy.uint64)
    numpy.minimum.at(lowest, trigrams % BINS, trigrams)
    keys = set()
    for band in range(BANDS):
        rows = lowest[band * ROWS : (band + 1) * ROWS].tolist()
        if min(rows) == _EMPTY:
            continue  # a short text leaves bins empty: a band of nothing says nothing
        digest = hashlib.blake2b(f"{band}:{rows}".encode(), digest_size=8).digest()
        keys.add(int.from_bytes(digest, "big", signed=True))
    return sorted(keys)


def save_fingerprints(article_id: int, body: str) -> None:
    """Replace a piece's fingerprints after its text was saved."""
    NearCopyKey.objects.filter(article_id=article_id).delete()
    NearCopyKey.objects.bulk_create(
        [NearCopyKey(article_id=article_id, key=key) for key in fingerprints(body)]
    )


def article_saved(sender, instance, created, update_fields=None, **kwargs):
    """post_save: a new or changed text gets its fingerprints (again)."""
    if update_fields is not None and "body" not in update_fields:
        return
    save_fingerprints(instance.pk, instance.body)


def copy_fingerprints(cursor, pieces: Iterable[tuple[int, str]]) -> None:
    """COPY the fingerprints of new pieces, (id, body) each, on a raw cursor."""
    copy_keys(cursor, ((article_id, fingerprints(body)) for article_id, body in pieces))


def copy_keys(cursor, pieces: Iterable[tuple[int, list[int]]]) -> None:
    """COPY fingerprints computed already, (id, keys) each."""
    table = NearCopyKey._meta.db_table
    with cursor.copy(f"COPY {table} (key, article_id) FROM STDIN") as copy:
        for article_id, keys in pieces:
            for key in keys:
                copy.write_row((key, article_id))


def fingerprint_pieces(cursor, after: int = 0, chunk: int = 2000, only=None) -> int:
    """(Re)write the fingerprints of stored pieces, `chunk` bodies at a time, on a raw
    cursor: all pieces with an id above `after`, or those in `only`. Returns how many."""
    done = 0
    ids = sorted(only) if only is not None else None
    while True:
        if ids is None:
            cursor.execute(
                "SELECT id, body FROM archive_article WHERE id > %s ORDER BY id LIMIT %s",
                [after, chunk],
            )
        else:
            cursor.execute(
                "SELECT id, body FROM archive_article WHERE id = ANY(%s) ORDER BY id",
                [ids[done : done + chunk]],
            )
        rows = cursor.fetchall()
        if not rows:
            return done
        table = NearCopyKey._meta.db_table
        cursor.execute(f"DELETE FROM {table} WHERE article_id = ANY(%s)", [[pk for pk, _ in rows]])
        copy_fingerprints(cursor, rows)
        done += len(rows)
        after = rows[-1][0]


def find_duplicate(body: str, exclude_pk: int | None = None) -> Duplicate | None:
    """The piece `body` duplicates, exactly or nearly; None when it is new."""
    return find_duplicates([body], exclude_pk=exclude_pk)[0]


@dataclass(frozen=True)
class Earlier:
    """A text that repeats an earlier one of the same batch: its index there."""

    index: int
    similarity: float
    exact: bool


def find_duplicates(bodies: Sequence[str], exclude_pk: int | None = None, keys=None) -> list:
    """For each text, the piece it duplicates (Duplicate), or the earlier text of the
    same batch it duplicates (Earlier), or None when it is new. Three queries however
    many texts: their hashes, the archive's exact copies, and the pieces sharing a key.
    `keys`, when given, are the texts' fingerprints, computed already.
    """
    if not bodies:
        return []
    hashes = _hashes(bodies)
    pieces = Article.objects.exclude(pk=exclude_pk) if exclude_pk else Article.objects.all()
    exact = {
        a.content_hash: a
        for a in pieces.filter(content_hash__in=set(hashes)).only("pk", "title", "slug")
    }
    if keys is None:
        keys = [fingerprints(body) for body in bodies]
    sharing = defaultdict(set)
    wanted = {k for i, ks in enumerate(keys) if hashes[i] not in exact for k in ks}
    links = NearCopyKey.objects.filter(key__in=wanted)
    if exclude_pk:
        links = links.exclude(article_id=exclude_pk)
    for key, article_id in links.values_list("key", "article_id"):
        sharing[key].add(article_id)
    needed = {pk for ids in sharing.values() for pk in ids}
    shown = Article.objects.filter(pk__in=needed).only("title", "slug", "body")
    texts = {a.pk: a for a in shown} if needed else {}

    found: list = []
    first_of_hash: dict[str, int] = {}
    by_key: dict[int, list[int]] = defaultdict(list)  # key -> earlier texts of this batch
    for i, body in enumerate(bodies):
        if hashes[i] in exact:
            found.append(Duplicate(exact[hashes[i]], 1.0, exact=True))
        elif hashes[i] in first_of_hash:
            found.append(Earlier(first_of_hash[hashes[i]], 1.0, exact=True))
        else:
            found.append(_nearest(body, keys[i], sharing, texts, by_key, bodies))
        first_of_hash.setdefault(hashes[i], i)
        for key in keys[i]:
            by_key[key].append(i)
    return found


def _nearest(body, keys, candidates, texts, by_key, bodies):
    """The archive's piece, or the earlier text of the batch, nearest to `body` at or
    above NEAR_DUPLICATE; None when there is none."""
    stored = {pk for key in keys for pk in candidates.get(key, ())}
    scored = [(similarity(body, texts[pk].body), texts[pk]) for pk in sorted(stored)]
    best = max(scored, key=lambda pair: pair[0], default=None)
    if best and best[0] >= NEAR_DUPLICATE:
        return Duplicate(best[1], best[0], exact=False)
    earlier = sorted({j for key in keys for j in by_key.get(key, ())})
    for j in earlier:
        share = similarity(body, bodies[j])
        if share >= NEAR_DUPLICATE:
            return Earlier(j, share, exact=False)
    return None


def _hashes(bodies: Sequence[str]) -> list[str]:
    """content_hash of each text, by the very expression of the stored column."""
    query = Article.objects.all().query
    compiler = query.get_compiler(connection=connection)
    expression = content_hash_of(RawSQL("u.t", [], output_field=TextField()))
    sql, params = compiler.compile(expression.resolve_expression(query))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {sql} FROM unnest(%s::text[]) WITH ORDINALITY AS u(t, i) ORDER BY u.i",
            [*params, list(bodies)],
        )
        return [row[0] for row in cursor.fetchall()]
