"""Small builders for test data beyond the seed articles."""

import datetime
import itertools

from archive.models import Article

_counter = itertools.count(1)


def make_article(body: str, title: str | None = None, **fields) -> Article:
    n = next(_counter)
    fields.setdefault("genre", "nieuws")
    fields.setdefault("published_on", datetime.date(2024, 1, 1))
    return Article.objects.create(title=title or f"Testbericht {n}", body=body, **fields)
