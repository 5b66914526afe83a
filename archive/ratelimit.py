"""Per-client limits on the reader routes that cost the most: search, the JSON API, feeds
and the CSV export.

Every distinct query string is work for the database that no cache saves, so a client
sending thousands of them a minute slows the archive for everyone. Each client (its
address, see `client_address`) may make so many requests to a group of routes in a fixed
window (`RATE_LIMIT_SEARCH` and the like, "count/seconds"); past that it is answered 429
with `Retry-After`, the seconds until its window opens again. Every request to a limited
route counts, cached or not: the middleware counts before the view, and so before the
page cache (archive/pagecache.py) is asked.

The counters must be shared by all gunicorn workers and bumped atomically. That rules out
django-ratelimit: it counts in a Django cache and needs atomic increments, which the
database cache does not give (Django's documentation says so) and neither does the file
cache used without Redis, while the archive must run on PostgreSQL alone. So the counters
live in Redis (INCR and EXPIRE in one MULTI) when REDIS_URL is set, else in one UNLOGGED
PostgreSQL table (migration 0007) bumped by a single INSERT ... ON CONFLICT DO UPDATE ...
RETURNING. A store that does not answer lets requests through and is logged once: the
limiter is never the reason a page fails.
"""

import ipaddress
import logging
import math
import threading
import time
from functools import lru_cache

from django.conf import settings
from django.db import connections
from django.shortcuts import render

from archive import views

log = logging.getLogger(__name__)

# The limit each route of the "archive" namespace (archive/site_urls.py) counts against;
# the setting is RATE_LIMIT_<GROUP>. Pages not named here are not limited.
GROUPS = {
    "browse": "search",
    "browse_feed": "feed",
    "actor_feed": "feed",
    "event_feed": "feed",
    "source_feed": "feed",
    "author_feed": "feed",
    "browse_export": "export",
    "api_browse": "api",
    "api_article": "api",
    # Asked at every pause in typing: a limit of its own, generous, that leaves the
    # API's alone.
    "api_suggest": "suggest",
}
# After a store fails, how long each process lets requests through before asking it
# again, so an unreachable store costs a timeout now and then, not on every request.
RETRY_STORE_AFTER = 10

# Seconds since the epoch; the tests set their own clock to move between windows.
clock = time.time


def client_address(request) -> str | None:
    """The client's address: REMOTE_ADDR, or with TRUSTED_PROXIES = N in front of us, the
    Nth address from the right of X-Forwarded-For (each proxy appends the address it saw,
    so the ones left of that were written by the client and prove nothing). An IPv6
    client is its /64, which one household or server holds whole. Also axes' idea of the
    client (AXES_CLIENT_IP_CALLABLE), so a lockout and a limit see the same address."""
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXIES
    if proxies > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(forwarded) >= proxies and forwarded[-proxies]:
            address = forwarded[-proxies]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(ip)


def route_group(request) -> str | None:
    match = request.resolver_match
    if match is None or match.namespace != "archive":
        return None
    group = GROUPS.get(match.url_name)
    if group == "search" and not request.GET:
        return None  # the newest pieces: one page, the same for everyone, cached
    return group


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view, args, kwargs):
        if not settings.RATE_LIMITS_ENABLED:
            return None
        group = route_group(request)
        if group is None:
            return None
        count, seconds = getattr(settings, f"RATE_LIMIT_{group.upper()}")
        now = clock()
        window_ends = (int(now) // seconds + 1) * seconds
        key = f"{group}:{client_address(request) or 'unknown'}"
        hits = store().count(key, window_ends, now)
        if hits is None or hits <= count:
            return None
        return too_many(request, group, max(1, math.ceil(window_ends - now)))


def too_many(request, group: str, retry_after: int):
    if group in ("api", "suggest"):
        message = (
            f"Te veel verzoeken in korte tijd. Probeer het over {retry_after} seconden opnieuw."
        )
        return views.api_error(429, message, retry_after)
    response = render(request, "429.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


class Store:
    """What both stores share: counting that fails open, logged when it starts and stops
    failing (once per process, not once per request)."""

    def __init__(self):
        self.down_until = None

    def count(self, key: str, window_ends: int, now: float) -> int | None:
        """This client's requests in its window so far, this one included; None when the
        store cannot say."""
        if self.down_until is not None and time.monotonic() < self.down_until:
            return None
        try:
            hits = self.hit(key, window_ends, now)
        except Exception as error:  # whatever the store's trouble, the reader gets the page
            if self.down_until is None:
                log.warning("Rate limits not applied: %s does not answer (%s)", self, error)
            self.down_until = time.monotonic() + RETRY_STORE_AFTER
            return None
        if self.down_until is not None:
            log.warning("Rate limits applied again: %s answers", self)
            self.down_until = None
        return hits

    def hit(self, key: str, window_ends: int, now: float) -> int:
        raise NotImplementedError


class PostgresStore(Store):
    """One row per client and group: the end of its current window and its hits in it.

    `connection` is for the tests (a server that is not there); by default each thread
    uses its own connection to the default database."""

    SQL = """
        INSERT INTO archive_ratelimit AS r (key, window_ends, hits) VALUES (%s, %s, 1)
        ON CONFLICT (key) DO UPDATE SET
            hits = CASE WHEN r.window_ends >= EXCLUDED.window_ends THEN r.hits + 1 ELSE 1 END,
            window_ends = GREATEST(r.window_ends, EXCLUDED.window_ends)
        RETURNING hits
    """
    # Rows of clients that went away are deleted by every so many hits in a process.
    CLEAN_EVERY = 1000

    def __init__(self, connection=None):
        super().__init__()
        self.connection = connection
        self.hits = 0
        self.lock = threading.Lock()

    def __str__(self):
        return "the rate-limit table in PostgreSQL"

    def hit(self, key, window_ends, now):
        connection = self.connection or connections["default"]
        with connection.cursor() as cursor:
            cursor.execute(self.SQL, [key, window_ends])
            hits = cursor.fetchone()[0]
            with self.lock:
                self.hits += 1
                clean = self.hits % self.CLEAN_EVERY == 0
            if clean:
                cursor.execute("DELETE FROM archive_ratelimit WHERE window_ends <= %s", [now])
        return hits


class RedisStore(Store):
    """A key per client, group and window, expiring when the window ends."""

    def __init__(self, url: str, prefix: str):
        import redis

        super().__init__()
        self.client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        self.prefix = prefix

    def __str__(self):
        return "Redis"

    def hit(self, key, window_ends, now):
        name = f"{self.prefix}{key}:{window_ends}"
        with self.client.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            # Relative to Redis' own clock, so clocks that differ a little do no harm.
            pipe.expire(name, math.ceil(window_ends - now) + 1)
            hits, _ = pipe.execute()
        return hits


def store() -> Store:
    return _store(settings.RATE_LIMIT_REDIS_URL, settings.RATE_LIMIT_KEY_PREFIX)


@lru_cache
def _store(redis_url: str, prefix: str) -> Store:
    return RedisStore(redis_url, prefix) if redis_url else PostgresStore()
