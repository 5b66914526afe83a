"""What searches and pages share and what changes only when editors change the archive:
kept in Django's cache (shared by every worker) until the archive's generation moves on.

Every save or delete of a piece, actor, event, source or author, and the end of an
import, starts a new generation (archive/apps.py connects the signals; bulk writers
call `changed()` themselves). Cached values are keyed by generation, so a change makes
them all stale at once, in every process, without deleting keys one by one.
"""

import contextvars
import time

from django.core.cache import cache
from django.db import transaction

GENERATION_KEY = "kroniek:generation"
# Stale generations are never read again; they expire by themselves.
TIMEOUT = 60 * 60

_memo: dict[str, tuple[int, object]] = {}

# Set for a request that asked for a fresh answer (Cache-Control: no-cache): its page
# and its per-request values are computed anew (and stored), never read.
# archive/pagecache.py sets it.
fresh = contextvars.ContextVar("fresh", default=False)


def generation() -> int:
    current = cache.get(GENERATION_KEY)
    if current is None:
        current = time.time_ns()
        # add, not set: when two workers start at once, the first one's number holds.
        if not cache.add(GENERATION_KEY, current, timeout=None):
            current = cache.get(GENERATION_KEY, current)
    return current


def changed(using=None, **_signal_kwargs) -> None:
    """The archive changed: every cached value from before is stale.

    Moved on at once (the writer's own next reads must not come from the cache) and
    again when the transaction commits: a reader who cached the old rows in between,
    under the new generation, would otherwise keep them until the next change."""
    _move_on()
    # Outside a transaction the change is committed already (and there may be no
    # connection at all: a command that only says the archive changed).
    if transaction.get_connection(using).in_atomic_block:
        transaction.on_commit(_move_on, using=using)


def _move_on() -> None:
    cache.set(GENERATION_KEY, time.time_ns(), timeout=None)


def cached(key: str, compute, timeout: int = TIMEOUT, per_request: bool = False):
    """compute(), or its value from the cache for the current generation.

    `per_request`: the value answers one request (a search's pool, its facets), and a
    request asking for a fresh answer computes it anew. Other values (an actor's chart,
    the archive's size) change only with the archive and are always read when cached."""
    full_key = f"kroniek:{generation()}:{key}"
    value = None if per_request and fresh.get() else cache.get(full_key)
    if value is None:
        value = compute()
        cache.set(full_key, value, timeout)
    return value


def peek(key: str):
    """The value cached under `key` for the current generation, or None."""
    if fresh.get():
        return None
    return cache.get(f"kroniek:{generation()}:{key}")


def keep(key: str, value, timeout: int = TIMEOUT) -> None:
    cache.set(f"kroniek:{generation()}:{key}", value, timeout)


def remember(name: str, build):
    """build(), kept in this process until the generation moves on: for values too big
    to fetch from a shared cache on every request (the alias index)."""
    current = generation()
    held = _memo.get(name)
    if held is None or held[0] != current:
        held = (current, build())
        _memo[name] = held
    return held[1]


def archive_total() -> int:
    """How many pieces the archive holds: one index-only count per change."""
    from archive.models import Article

    return cached("archive-total", Article.objects.count)
