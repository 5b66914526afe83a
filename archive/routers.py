"""Readers read from PostgreSQL read replicas; writes and editors use the primary.

With DATABASE_REPLICA_URLS set, settings define the aliases `replica_1`, `replica_2`, …
(streaming replicas of `default`, the primary), put `ReplicaRouter` in DATABASE_ROUTERS
and `ReplicaMiddleware` in MIDDLEWARE. A reader's request (GET or HEAD outside the
admin) reads from one replica, chosen at random per request so that all its queries
see the same moment. Everything else reads and writes the primary:

- the admin, and every POST, PUT, PATCH or DELETE;
- a signed-in staff user's requests: an editor sees the archive as it is;
- a client for REPLICA_PIN_SECONDS after it sent a write (a signed cookie), so the
  page an editor opens next shows their change, signed in or not;
- a request while the replica has not replayed the archive's last change (below);
- management commands, imports and migrations: no request, so no replica.

The cache (archive/search/catalogue.py) keys what it holds by the archive's generation,
which a save moves on when it writes and again when it commits, on the primary. A
page read from a replica that has not replayed the change yet would be cached under the
new generation and shown to everyone until the next change. So after a change the
primary's WAL position is kept in the cache beside the generation (the replicas'
"floor"), and the generation moves on once more: a reader's request uses its replica
only once that replica has replayed up to the floor (asked once per process and floor),
and a replica-served request that saw the generation move while it ran moves it on
again, abandoning what it cached.

Without replicas none of this is installed: the middleware removes itself and the
router is not listed.
"""

import atexit
import contextlib
import contextvars
import logging
import random

import dj_database_url
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

REPLICA_PREFIX = "replica_"
PIN_COOKIE = "kroniek_primary"
PIN_SALT = "archive.routers.pin"
FLOOR_KEY = "kroniek:replica-floor"
READER_METHODS = {"GET", "HEAD"}

# The alias this request reads from; None (the primary) outside reader requests, so
# management commands and anything outside a request never reach a replica.
_reading_from: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "kroniek_reading_from", default=None
)
# Per process: the floor each replica is known to have replayed, so a replica is asked
# once per change, not once per request.
_replayed: dict[str, str] = {}
# Whether this process serves requests (the middleware is loaded): its writes are settled
# per request, never at exit, where a worker renewed every thousand requests would
# otherwise empty the cache each time.
_serving = False
_exit_hook = False


def replica_database(
    url: str, statement_timeout: int, connect_timeout: int | None = None, conn_max_age: int = 60
) -> dict:
    """Settings for the replica at `url`. Replicas serve reader requests only, so every
    statement on them has the readers' time limit (milliseconds; 0: none). Under test
    they mirror the test database."""
    replica = dj_database_url.parse(url, conn_max_age=conn_max_age)
    options = replica.setdefault("OPTIONS", {})
    if connect_timeout is not None:
        options.setdefault("connect_timeout", connect_timeout)
    if statement_timeout > 0:
        options["options"] = " ".join(
            filter(None, [options.get("options", ""), f"-c statement_timeout={statement_timeout}"])
        )
    replica["CONN_HEALTH_CHECKS"] = True
    replica["TEST"] = {"MIRROR": DEFAULT_DB_ALIAS}
    return replica


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith(REPLICA_PREFIX)]


def reading_from() -> str | None:
    """The replica this request reads from, or None for the primary."""
    return _reading_from.get()


def reading_connection():
    """The connection for this request's reads in raw SQL (the ORM asks the router
    itself): its replica, or the primary."""
    return connections[_reading_from.get() or DEFAULT_DB_ALIAS]


class ReplicaRouter:
    """Reads go where the request's middleware pointed them; writes and migrations to
    the primary."""

    def db_for_read(self, model, **hints):
        return _reading_from.get()

    def db_for_write(self, model, **hints):
        if not _serving:
            _settle_at_exit()
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Replicas hold the same rows as the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


class ReplicaMiddleware:
    """Chooses, per request, where its reads go (see the module's docstring)."""

    def __init__(self, get_response, replicas: list[str] | None = None):
        global _serving
        self.replicas = replica_aliases() if replicas is None else replicas
        if not self.replicas:
            raise MiddlewareNotUsed
        self.get_response = get_response
        _serving = True

    def __call__(self, request):
        generation, floor = self._generation_and_floor()
        alias = self.choose(request, floor)
        read = _Noted()
        reading = _reading_from.set(alias)
        try:
            with contextlib.ExitStack() as stack:
                if alias is not None:
                    stack.enter_context(connections[alias].execute_wrapper(read))
                response = self.get_response(request)
        finally:
            _reading_from.reset(reading)
        # A page from the cache read no replica, and a reader's page read from the
        # primary is current: only a write, or replica reads, need the second look.
        wrote = request.method not in READER_METHODS
        if (wrote or read.any) and _generation() != generation:
            # Changed while this request ran: what it cached may predate the change.
            settle()
        if wrote and response.status_code < 400:
            pin(response)
        return response

    def choose(self, request, floor: str | None) -> str | None:
        """The replica for this request's reads, or None for the primary."""
        if not is_reader_request(request) or is_pinned(request):
            return None
        # Evaluated here, while reads still go to the primary: the session and user of
        # an editor who has just signed in may not have reached the replicas yet.
        user = getattr(request, "user", None)
        if user is not None and user.is_staff:
            return None
        alias = random.choice(self.replicas)
        return alias if has_replayed(alias, floor) else None

    def _generation_and_floor(self) -> tuple[object, str | None]:
        from archive.search.catalogue import GENERATION_KEY, generation

        # One round trip; the generation first, so a floor written before it is seen.
        held = cache.get_many([GENERATION_KEY, FLOOR_KEY])
        current = held.get(GENERATION_KEY)
        return (generation() if current is None else current), held.get(FLOOR_KEY)


class _Noted:
    """An execute wrapper that notes whether the connection was used."""

    any = False

    def __call__(self, execute, sql, params, many, context):
        self.any = True
        return execute(sql, params, many, context)


def is_reader_request(request) -> bool:
    admin = "/" + getattr(settings, "ADMIN_URL", "admin/").strip("/") + "/"
    return request.method in READER_METHODS and not request.path_info.startswith(admin)


def is_pinned(request) -> bool:
    value = request.get_signed_cookie(PIN_COOKIE, None, salt=PIN_SALT, max_age=pin_seconds())
    return value is not None


def pin(response) -> None:
    """This client reads from the primary for the next pin_seconds()."""
    response.set_signed_cookie(
        PIN_COOKIE,
        "1",
        salt=PIN_SALT,
        max_age=pin_seconds(),
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def pin_seconds() -> int:
    return getattr(settings, "REPLICA_PIN_SECONDS", 15)


def has_replayed(alias: str, floor: str | None) -> bool:
    """Whether the replica has replayed the WAL up to `floor` (the primary's position
    after the archive's last change)."""
    if floor is None or _replayed.get(alias) == floor:
        return True
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(
                "SELECT NOT pg_is_in_recovery() OR pg_last_wal_replay_lsn() >= %s::pg_lsn",
                [floor],
            )
            (done,) = cursor.fetchone()
    except DatabaseError:
        # A replica that cannot answer serves nobody; the primary can.
        logger.warning("Replica %s did not answer; reading from the primary", alias)
        return False
    if done:
        _replayed[alias] = floor
    return bool(done)


def settle() -> None:
    """After a change has committed: keep the primary's WAL position as the replicas'
    floor, then move the generation on, so what was cached from a replica in between
    is never read and readers use a replica only once it has replayed the change."""
    from archive.search import catalogue

    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            (floor,) = cursor.fetchone()
    except DatabaseError:
        # The primary is away, so nothing new can reach the replicas either.
        logger.warning("Could not read the primary's WAL position; the floor stays")
    else:
        cache.set(FLOOR_KEY, floor, timeout=None)
    catalogue.changed()


def _generation():
    from archive.search.catalogue import generation

    return generation()


def _settle_at_exit() -> None:
    """A management command that writes (an import) settles when it ends, after its last
    commit: its changes moved the generation before they committed."""
    global _exit_hook
    if _exit_hook or not replica_aliases():
        return
    _exit_hook = True
    atexit.register(_settle_quietly)


def _settle_quietly() -> None:
    try:
        settle()
    except Exception:
        logger.exception("Could not record the replicas' floor at exit")
