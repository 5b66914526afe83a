"""Highlighted passages for one page of results."""

import html
import re

from django.conf import settings
from django.contrib.postgres.search import SearchHeadline

from archive.search.queries import CompiledQuery, TsQuery

_START, _STOP = "\ue000", "\ue001"  # private-use sentinels: rare in real text
# A marked word: a start, text without sentinels, a stop. A sentinel a text holds itself
# pairs with nothing and is dropped, so it can never open or close a tag on its own.
_MARKED = re.compile(f"{_START}([^{_START}{_STOP}]*){_STOP}")


def highlighted_snippets(ids, compiled: CompiledQuery | None) -> dict[int, str]:
    """id -> snippet HTML with the matched words in <mark>, for one page of results.

    ts_headline does not escape: it marks with sentinels, the text is escaped, and only
    then do the sentinels become <mark>, so article text is never rendered as markup.
    """
    from archive.models import Article

    if compiled is None or not compiled.has_words or not ids:
        return {}
    rows = (
        Article.objects.filter(pk__in=ids)
        .annotate(
            snippet=SearchHeadline(
                "body",
                TsQuery(compiled.any),
                config=settings.SEARCH_CONFIG,
                start_sel=_START,
                stop_sel=_STOP,
                # One passage around the best match: readable context even in a
                # short piece, where fragment mode shrinks to the matched word alone.
                max_words=40,
                min_words=20,
            )
        )
        .values_list("pk", "snippet")
    )
    return {pk: mark(snippet) for pk, snippet in rows}


def mark(snippet: str) -> str:
    escaped = html.escape(snippet.replace("## ", ""), quote=False)
    marked = _MARKED.sub(r"<mark>\1</mark>", escaped)
    return marked.replace(_START, "").replace(_STOP, "")
