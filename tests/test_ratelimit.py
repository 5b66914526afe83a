"""Per-client limits on search, the API, feeds and the CSV export (archive/ratelimit.py),
with the limits switched on and a clock the tests move."""

import logging
import socket
import threading
import uuid

import pytest
import redis
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.db.backends.postgresql.base import DatabaseWrapper
from django.test import RequestFactory
from django.urls import reverse

from archive import ratelimit
from archive.env import env_rate

pytestmark = pytest.mark.django_db

# A minute's window opens at START; the tests begin ten seconds into it.
START = 1_800_000_000
REDIS_URL = "redis://127.0.0.1:6379/0"
SEARCH = reverse("archive:browse")


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(START + 10)
    monkeypatch.setattr(ratelimit, "clock", clock)
    return clock


@pytest.fixture(autouse=True)
def limits(settings, clock):
    """Three requests a minute for each group, counted in PostgreSQL."""
    settings.RATE_LIMITS_ENABLED = True
    settings.RATE_LIMIT_SEARCH = (3, 60)
    settings.RATE_LIMIT_API = (3, 60)
    settings.RATE_LIMIT_FEED = (3, 60)
    settings.RATE_LIMIT_EXPORT = (2, 60)
    settings.RATE_LIMIT_REDIS_URL = ""
    settings.TRUSTED_PROXIES = 0


def statuses(client, url, times, **extra):
    return [client.get(url, **extra).status_code for _ in range(times)]


def redis_or_skip():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Over the limit


def test_a_search_past_the_limit_gets_the_dutch_page_with_retry_after(client):
    # The same search each time: the second and third come from the page cache, and
    # still count.
    assert statuses(client, SEARCH + "?q=Poetin", 3) == [200, 200, 200]
    response = client.get(SEARCH + "?q=Poetin")
    assert response.status_code == 429
    assert response["Retry-After"] == "50"
    page = response.content.decode()
    assert "Even rustig aan" in page
    assert "over 50 seconden" in page


def test_distinct_searches_count_together(client):
    assert statuses(client, SEARCH + "?q=Poetin", 1) == [200]
    assert statuses(client, SEARCH + "?q=Wagner", 1) == [200]
    assert statuses(client, SEARCH + "?actor=vladimir-poetin", 1) == [200]
    assert client.get(SEARCH + "?q=NAVO").status_code == 429


def test_browsing_the_newest_pieces_is_not_limited(client):
    assert statuses(client, SEARCH, 6) == [200] * 6


def test_pages_outside_the_groups_are_not_limited(client):
    assert statuses(client, reverse("archive:home"), 6) == [200] * 6
    assert statuses(client, reverse("archive:actors"), 6) == [200] * 6


def test_the_api_past_its_limit_answers_json(client):
    url = reverse("archive:api_browse")
    assert statuses(client, url + "?q=Poetin", 3) == [200, 200, 200]
    response = client.get(url + "?q=Wagner")
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "50"
    body = response.json()
    assert body["status"] == 429
    assert body["retry_after"] == 50
    assert "Probeer het over 50 seconden opnieuw" in body["error"]


def test_api_routes_share_one_limit(client):
    article = reverse(
        "archive:api_article", args=["de-bijna-coup-kent-aan-russische-kant-alleen-verliezers"]
    )
    assert statuses(client, reverse("archive:api_browse"), 2) == [200, 200]
    assert client.get(article).status_code == 200
    assert client.get(article).status_code == 429


def test_feeds_share_one_limit(client):
    feeds = [
        reverse("archive:browse_feed"),
        reverse("archive:actor_feed", args=["vladimir-poetin"]),
        reverse("archive:browse_feed") + "?q=Wagner",
    ]
    assert [client.get(url).status_code for url in feeds] == [200, 200, 200]
    response = client.get(reverse("archive:event_feed", args=["wagner-muiterij"]))
    assert response.status_code == 429
    assert "Even rustig aan" in response.content.decode()


def test_the_export_has_its_own_lower_limit(client):
    url = reverse("archive:browse_export")
    assert statuses(client, url + "?q=Poetin", 3) == [200, 200, 429]
    # Search is a group of its own, untouched by the exports.
    assert client.get(SEARCH + "?q=Poetin").status_code == 200


def test_another_address_is_not_affected(client):
    assert statuses(client, SEARCH + "?q=Poetin", 4, REMOTE_ADDR="192.0.2.1")[-1] == 429
    assert client.get(SEARCH + "?q=Poetin", REMOTE_ADDR="192.0.2.2").status_code == 200


def test_the_window_opens_again(client, clock):
    assert statuses(client, SEARCH + "?q=Poetin", 4)[-1] == 429
    clock.now = START + 40
    response = client.get(SEARCH + "?q=Poetin")
    assert response.status_code == 429
    assert response["Retry-After"] == "20"
    clock.now = START + 60
    assert statuses(client, SEARCH + "?q=Poetin", 4) == [200, 200, 200, 429]
    assert client.get(SEARCH + "?q=Poetin")["Retry-After"] == "60"


def test_limits_off_lets_everything_through(client, settings):
    settings.RATE_LIMITS_ENABLED = False
    assert statuses(client, SEARCH + "?q=Poetin", 6) == [200] * 6


# Who the client is


def test_forwarded_for_is_ignored_without_trusted_proxies(client):
    # A client writing a new X-Forwarded-For each time is still one client.
    codes = [
        client.get(SEARCH + "?q=Poetin", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(4)
    ]
    assert codes == [200, 200, 200, 429]


def test_behind_one_proxy_the_address_it_saw_is_the_client(client, settings):
    settings.TRUSTED_PROXIES = 1
    proxy = {"REMOTE_ADDR": "10.0.0.5"}
    # What the client wrote left of the proxy's address changes nothing.
    codes = [
        client.get(
            SEARCH + "?q=Poetin", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 198.51.100.7", **proxy
        ).status_code
        for n in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    other = client.get(SEARCH + "?q=Poetin", HTTP_X_FORWARDED_FOR="198.51.100.8", **proxy)
    assert other.status_code == 200


def address(settings, proxies, remote, forwarded=None):
    settings.TRUSTED_PROXIES = proxies
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return ratelimit.client_address(RequestFactory().get("/", REMOTE_ADDR=remote, **extra))


def test_client_address_counts_trusted_proxies_from_the_right(settings):
    chain = "203.0.113.9, 198.51.100.7, 10.0.0.1"
    assert address(settings, 0, "10.0.0.2", chain) == "10.0.0.2"
    assert address(settings, 1, "10.0.0.2", chain) == "10.0.0.1"
    assert address(settings, 2, "10.0.0.2", chain) == "198.51.100.7"
    # A header shorter than the proxies promised, or junk: the connection's own address.
    assert address(settings, 2, "10.0.0.2", "203.0.113.9") == "10.0.0.2"
    assert address(settings, 1, "10.0.0.2", "<script>") is None
    assert address(settings, 1, "10.0.0.2") == "10.0.0.2"


def test_an_ipv6_client_is_its_whole_slash_64(settings):
    one = address(settings, 0, "2001:db8:1:2::1")
    assert one == address(settings, 0, "2001:db8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::"
    assert address(settings, 0, "2001:db8:1:3::1") != one
    assert address(settings, 0, "::ffff:192.0.2.1") == "192.0.2.1"


# The stores


def hit_from_threads(make_store, key, threads=2, each=25):
    """Hits from several threads, each with its own store and connection, at once."""
    seen, errors = [], []
    barrier = threading.Barrier(threads)

    def work():
        store = make_store()
        try:
            barrier.wait()
            for _ in range(each):
                seen.append(store.hit(key, START + 60, START + 10))
        except Exception as error:  # reported below, not lost in the thread
            errors.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors
    return seen


def in_a_thread(function):
    """Run on a connection of its own, outside this test's transaction."""
    result = []

    def work():
        try:
            result.append(function(connections["default"]))
        finally:
            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return result[0]


def test_postgres_counts_from_two_connections_land_in_one_counter():
    key = f"test:{uuid.uuid4()}"
    try:
        seen = hit_from_threads(ratelimit.PostgresStore, key)
        # Every hit saw a count of its own: none was lost or counted twice.
        assert sorted(seen) == list(range(1, 51))
    finally:
        in_a_thread(
            lambda c: c.cursor().execute("DELETE FROM archive_ratelimit WHERE key = %s", [key])
        )


def test_postgres_forgets_windows_that_ended():
    store = ratelimit.PostgresStore()
    store.CLEAN_EVERY = 3
    store.hit("search:192.0.2.1", START + 60, START + 10)
    store.hit("search:192.0.2.2", START + 120, START + 70)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM archive_ratelimit")
        assert cursor.fetchone()[0] == 2
    store.hit("search:192.0.2.2", START + 120, START + 70)
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM archive_ratelimit")
        assert cursor.fetchall() == [("search:192.0.2.2",)]


def test_redis_counts_from_two_connections_land_in_one_counter():
    redis_or_skip()
    prefix = f"test-{uuid.uuid4()}:"
    try:
        seen = hit_from_threads(lambda: ratelimit.RedisStore(REDIS_URL, prefix), "search:x")
        assert sorted(seen) == list(range(1, 51))
        # The key goes when its window has ended (50 seconds from the clock's now).
        ttl = redis.Redis.from_url(REDIS_URL).ttl(f"{prefix}search:x:{START + 60}")
        assert 0 < ttl <= 51
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for name in client.scan_iter(f"{prefix}*"):
            client.delete(name)


def test_redis_limits_requests_when_redis_url_is_set(client, settings):
    redis_or_skip()
    settings.RATE_LIMIT_REDIS_URL = REDIS_URL
    settings.RATE_LIMIT_KEY_PREFIX = prefix = f"test-{uuid.uuid4()}:"
    try:
        assert statuses(client, SEARCH + "?q=Poetin", 4) == [200, 200, 200, 429]
        assert redis.Redis.from_url(REDIS_URL).get(f"{prefix}search:127.0.0.1:{START + 60}") == b"4"
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for name in client.scan_iter(f"{prefix}*"):
            client.delete(name)


def test_redis_away_lets_requests_through_and_says_so_once(client, settings, caplog):
    settings.RATE_LIMIT_REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    settings.RATE_LIMIT_KEY_PREFIX = f"test-{uuid.uuid4()}:"
    with caplog.at_level(logging.WARNING, logger="archive.ratelimit"):
        assert statuses(client, SEARCH + "?q=Poetin", 5) == [200] * 5
    warnings = [r for r in caplog.records if r.name == "archive.ratelimit"]
    assert len(warnings) == 1
    assert "Redis" in warnings[0].getMessage()


def test_database_away_lets_requests_through_and_says_so_once(client, monkeypatch, caplog):
    away = DatabaseWrapper(
        {**connection.settings_dict, "HOST": "127.0.0.1", "PORT": closed_port()}, alias="away"
    )
    store = ratelimit.PostgresStore(connection=away)
    monkeypatch.setattr(ratelimit, "store", lambda: store)
    with caplog.at_level(logging.WARNING, logger="archive.ratelimit"):
        assert statuses(client, SEARCH + "?q=Poetin", 5) == [200] * 5
    warnings = [r for r in caplog.records if r.name == "archive.ratelimit"]
    assert len(warnings) == 1
    assert "PostgreSQL" in warnings[0].getMessage()


# Settings


@pytest.mark.parametrize("raw", ["60", "0/60", "60/0", "zestig/60", "-1/60", "60/minuut"])
def test_a_rate_that_is_not_count_per_seconds_fails_loudly(monkeypatch, raw):
    monkeypatch.setenv("RATE_LIMIT_SEARCH", raw)
    with pytest.raises(ImproperlyConfigured, match="RATE_LIMIT_SEARCH"):
        env_rate("RATE_LIMIT_SEARCH", "60/60")


def test_a_rate_reads_count_and_seconds(monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_SEARCH", "100/3600")
    assert env_rate("RATE_LIMIT_SEARCH", "60/60") == (100, 3600)
