"""Loading the shared DPG news corpus (real Dutch articles) for benchmarks and tests.

The corpus is other publishers' text: it is read from ../shared/corpus/ at run time and
never kept in the repository. Callers decide the transaction; these helpers only insert.
"""

import datetime
import gzip
import json
import random
import time
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.db import connection

DPG_FILE = "dpg-news-2019.jsonl.gz"


def default_corpus_dir() -> Path:
    return Path(settings.BASE_DIR).parent / "shared" / "corpus"


def read_dpg(corpus_dir: Path) -> list[dict]:
    """The corpus rows that have text (40 of 1,438 have none)."""
    with gzip.open(Path(corpus_dir) / DPG_FILE, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    return [row for row in rows if (row.get("text") or "").strip()]


def _same_text(text: str) -> str:
    # What the content_hash constraint compares: case and whitespace do not count.
    return " ".join(text.lower().split())


def import_dpg(corpus_dir: Path) -> dict[int, int]:
    """Insert the corpus as news pieces; corpus id -> article pk.

    A text that repeats an earlier one (the corpus holds ~30 such reprints) maps to the
    piece already imported, as the archive's duplicate check would.
    """
    from archive.duplicates import fingerprint_pieces
    from archive.models import Article

    rows = read_dpg(corpus_dir)
    first_of: dict[str, int] = {}
    kept, alias = [], {}
    for row in rows:
        key = _same_text(row["text"])
        if key in first_of:
            alias[row["id"]] = first_of[key]
            continue
        first_of[key] = row["id"]
        title = (row.get("title") or "").strip() or " ".join(row["text"].split()[:10])
        kept.append(
            Article(
                title=title[:300],
                slug=f"dpg-{row['id']}",
                body=row["text"],
                genre="nieuws",
                published_on=datetime.date.fromisoformat(row["published_at"][:10]),
                date_precision="day",
            )
        )
    # ignore_conflicts: a text equal to one already in the archive is skipped, not fatal.
    Article.objects.bulk_create(kept, batch_size=500, ignore_conflicts=True)
    pks = dict(Article.objects.filter(slug__startswith="dpg-").values_list("slug", "pk").iterator())
    by_id = {int(slug.removeprefix("dpg-")): pk for slug, pk in pks.items()}
    by_id.update({dup: by_id[first] for dup, first in alias.items() if first in by_id})
    # bulk_create sends no post_save: the near-copy fingerprints are written here.
    with connection.cursor() as cursor:
        fingerprint_pieces(cursor.cursor, only=set(pks.values()))
    return by_id


def add_synthetic(corpus_dir: Path, count: int, words_per_piece: int = 350, seed: int = 1):
    """Add `count` generated pieces whose words follow the corpus's word frequencies.

    Bodies are assembled inside PostgreSQL from a frequency-weighted word sample, so a
    hundred thousand pieces take seconds of Python and the server does the rest.
    Returns the seconds spent.
    """
    started = time.perf_counter()
    counts = Counter(
        word for row in read_dpg(corpus_dir) for word in row["text"].split() if word.isalpha()
    )
    rng = random.Random(seed)
    vocabulary, weights = zip(*counts.most_common(), strict=True)
    # 200,000 draws: titles slice 8 words from the first 190,008 of them.
    sample = rng.choices(vocabulary, weights=weights, k=200_000)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO archive_article
                (title, slug, lead, body, genre, published_on, date_precision, url,
                 created_at, updated_at)
            SELECT
                array_to_string(w[1 + (n * 7919) %% 190000 : 8 + (n * 7919) %% 190000], ' '),
                'synthetisch-' || n, '', body, 'nieuws',
                DATE '2019-01-01' + (n %% 1500), 'day', '', now(), now()
            FROM (SELECT %s::text[] AS w) AS words,
                 generate_series(1, %s) AS n,
                 LATERAL (
                     SELECT string_agg(word, ' ') AS body
                     FROM (
                         -- "n > 0" ties the draw to each row, so every body differs.
                         SELECT w[1 + floor(random() * cardinality(w))::int] AS word
                         FROM generate_series(1, %s) AS k WHERE n > 0
                     ) AS drawn
                 ) AS text
            """,
            [list(sample), count, words_per_piece],
        )
    return time.perf_counter() - started
