"""What a reader sees when the database fails them, and the time a reader's query may take.

The database away (refused, closed, shut down, full of connections): a 503 page, "Het
archief is even niet bereikbaar", with `Retry-After`, or the API's JSON error. Nothing
of it is cached (archive/pagecache.py keeps 200s alone) and each one is logged as a
single warning line, not a traceback per request. The service needs no restart when the
database is back: Django drops a connection that failed (CONN_HEALTH_CHECKS at a
request's first query, `errors_occurred` at its end) and the next query connects anew.

A reader's request (anything outside the admin) runs its statements under
READER_STATEMENT_TIMEOUT, so one costly search cannot hold a connection and a core for
minutes; a statement stopped by it answers "Deze zoekopdracht duurde te lang". Editors,
management commands and imports never get it: their writes are not cut off halfway.

`DatabaseFailureMiddleware.process_exception` answers what a view raises (the page cache
wrapper is part of the view); `server_error`, the site's handler500, answers what a
middleware raised (a session read, a user loaded for the request) the same way.
"""

import logging
import sys

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers

from archive import views
from archive.search import MAX_QUERY_LENGTH

log = logging.getLogger(__name__)

# Seconds a client is asked to wait: a restarting or failing-over database is usually
# back within them, and a reader retrying sooner only adds to the load.
RETRY_AFTER = 5

UNAVAILABLE = "unavailable"
TIMEOUT = "timeout"
BUSY = "busy"

# SQLSTATEs that mean the server is not there for us: the connection was refused or cut
# (class 08), the server shut down or is starting (57P01-57P03), or it has no connection
# left to give (53300). psycopg raises connection failures of its own without a SQLSTATE.
AWAY_STATES = {"57P01", "57P02", "57P03", "53300"}
# query_canceled: in a reader's request, the statement timeout (an operator's
# pg_cancel_backend looks the same, and narrowing the search is no worse an answer).
CANCELED_STATE = "57014"

API_MESSAGES = {
    UNAVAILABLE: "Het archief is even niet bereikbaar. Probeer het over een paar seconden opnieuw.",
    TIMEOUT: (
        "Deze zoekopdracht duurde te lang en is gestopt. Maak haar kleiner: een periode, "
        "een bron, een actor of meer woorden."
    ),
    BUSY: "Het is nu erg druk in het archief. Probeer het over een paar seconden opnieuw.",
}


def kind_of(error: BaseException) -> str | None:
    """UNAVAILABLE or TIMEOUT when `error` is the database failing us, else None (a bug,
    which stays a 500)."""
    if not isinstance(error, OperationalError | InterfaceError):
        return None
    cause = error.__cause__ or error
    state = getattr(cause, "sqlstate", None)
    if state == CANCELED_STATE:
        return TIMEOUT
    if isinstance(error, InterfaceError):
        # psycopg 3 reports a lost connection as OperationalError; an InterfaceError says
        # so only when its message is about the connection ("connection already closed").
        return UNAVAILABLE if "connection" in str(cause).lower() else None
    if state is None or state.startswith("08") or state in AWAY_STATES:
        return UNAVAILABLE
    return None


def first_line(error: BaseException) -> str:
    cause = error.__cause__ or error
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0] if text else ''}"


def failure_response(request, error: BaseException) -> HttpResponse | None:
    """The 503 for a database failure, or None when `error` is not one."""
    kind = kind_of(error)
    if kind is None:
        return None
    log.warning(
        "%s %s answered 503 (%s): %s",
        request.method,
        request.get_full_path(),
        "statement timeout" if kind == TIMEOUT else "database unavailable",
        first_line(error),
    )
    return unavailable(request, kind, RETRY_AFTER if kind == UNAVAILABLE else None)


def unavailable(request, kind: str, retry_after: int | None) -> HttpResponse:
    """The 503 page of `kind` (UNAVAILABLE, TIMEOUT or BUSY), or its JSON under /api/."""
    if views.is_api(request):
        response = views.api_error(503, API_MESSAGES[kind], retry_after)
    else:
        context = {"reason": kind, "retry_after": retry_after}
        if kind == TIMEOUT:
            context["query"] = request.GET.get("q", "")[:MAX_QUERY_LENGTH]
        # Without the request, as Django renders its 500 page: nothing on it may need
        # the database, which is what just failed.
        response = HttpResponse(render_to_string("503.html", context), status=503)
        if retry_after is not None:
            response["Retry-After"] = str(retry_after)
    # Neither a browser nor a proxy may keep the failure in place of the page.
    add_never_cache_headers(response)
    # Logged above in one line; Django would add its own line for every 5xx.
    response._has_been_logged = True
    return response


def server_error(request):
    """handler500: a database failure raised outside a view (by a middleware) still
    answers the 503; anything else is the site's 500."""
    response = failure_response(request, sys.exc_info()[1])
    return response if response is not None else views.server_error(request)


def is_reader_request(request) -> bool:
    return not request.path_info.startswith("/" + settings.ADMIN_URL)


class ReaderTimeout:
    """An execute wrapper that sets statement_timeout on the connection before the first
    statement a request sends over it, and `reset()` puts it back afterwards.

    Session-level SET and RESET rather than SET LOCAL in a transaction around the view:
    a reader's request needs no transaction, and a request that sends no statement (a
    page from the cache) costs nothing. RESET runs whatever the request did, so the
    timeout never reaches the next request on the same persistent connection (an
    editor's save); when it cannot run, the connection is closed instead. Run on the
    driver's cursor: these are not the page's queries, and query counts stay the page's.
    """

    def __init__(self, connection, milliseconds: int):
        self.connection = connection
        self.milliseconds = int(milliseconds)
        self.set_on = None  # the driver connection it was set on

    def __call__(self, execute, sql, params, many, context):
        driver = self.connection.connection
        if driver is not None and driver is not self.set_on:
            self._run(driver, f"SET statement_timeout = {self.milliseconds}")
            self.set_on = driver
        return execute(sql, params, many, context)

    def reset(self):
        driver = self.connection.connection
        if self.set_on is None or driver is not self.set_on:
            return  # never set, or set on a connection that is gone
        try:
            self._run(driver, "RESET statement_timeout")
        except DatabaseError:
            if not self.connection.in_atomic_block:
                self.connection.close()

    def _run(self, driver, statement: str):
        with self.connection.wrap_database_errors, driver.cursor() as cursor:
            cursor.execute(statement)


class OverloadMiddleware:
    """A reader's request that waited behind more than WEB_MAX_WAITING others in its
    worker (gunicorn.conf.py marks it) is answered a 503 at once, without the database;
    an editor's is served. Logged at INFO: gunicorn's access log counts them anyway."""

    HEADER = "HTTP_X_KRONIEK_WAITING"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        waiting = request.META.get(self.HEADER)
        if waiting is None or not is_reader_request(request):
            return self.get_response(request)
        log.info("%s %s answered 503 (%s waiting)", request.method, request.path, waiting[:8])
        return unavailable(request, BUSY, RETRY_AFTER)


class DatabaseFailureMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        milliseconds = settings.READER_STATEMENT_TIMEOUT
        if milliseconds <= 0 or not is_reader_request(request):
            return self.get_response(request)
        connection = connections[DEFAULT_DB_ALIAS]
        timeout = ReaderTimeout(connection, milliseconds)
        try:
            with connection.execute_wrapper(timeout):
                return self.get_response(request)
        finally:
            timeout.reset()

    def process_exception(self, request, exception):
        return failure_response(request, exception)
