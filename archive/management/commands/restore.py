import contextlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from archive.management import pgtools
from archive.management.commands.backup import BACKUP_DIR, count_pieces
from archive.search import catalogue

RELATIONS = ("TABLE", "VIEW", "MATERIALIZED VIEW", "FOREIGN TABLE")
ROUTINES = ("FUNCTION", "PROCEDURE", "AGGREGATE")

# Tables, views and functions in the backup's schemas that are not part of an extension
# (unaccent's and pg_trgm's own functions are dropped and made again with the extension).
EXISTING = """
SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                      WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
       n.nspname, c.relname, format('%%I.%%I', n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND NOT c.relispartition
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
       n.nspname, p.proname,
       format('%%I.%%I(%%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid))
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = ANY(%(schemas)s)
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                      AND d.objid = p.oid AND d.deptype = 'e')
"""


class Command(BaseCommand):
    help = (
        "Replace the whole database Django is connected to with a backup made by "
        "`manage.py backup` (make restore BACKUP=path). Asks first unless --yes. "
        "Everything runs in one transaction: the backup's tables, functions and "
        "extensions are dropped and made again, tables the backup does not have are "
        "dropped, and a failure anywhere (a damaged file, a full disk) rolls all of it "
        "back, leaving the archive as it was. Prints the number of pieces restored."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", nargs="?", type=Path, help="the .dump file to restore")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="Django database alias (default)"
        )
        parser.add_argument(
            "--bindir",
            help="folder of the pg_restore and psql to use (default: matching the server)",
        )

    def handle(self, *args, **options):
        path = options["backup"]
        if path is None:
            raise CommandError(self.which_file())
        if not path.is_file():
            raise CommandError(f"no backup file at {path}")
        alias = options["database"]
        connection = connections[alias]
        if connection.in_atomic_block:
            # Locks this transaction holds would make the restore wait for it forever.
            raise CommandError("a restore cannot run inside a transaction")

        target = pgtools.target(alias)
        available = pgtools.installed(options["bindir"])
        archive = pgtools.read_archive(path, pgtools.newest(available))
        if archive.server_major > target.server_major:
            raise CommandError(
                f"{path} was made from PostgreSQL {archive.server_version}; "
                f"{target.describe()} is older. PostgreSQL does not restore into an "
                "older major version: restore into a server of at least that version."
            )
        tools = pgtools.pick(target.server_major, available, at_least=archive.dump_major)
        if options["verbosity"] >= 2:
            self.stdout.write(f"Using {tools}.")

        extra = extra_objects(connection, archive)
        if not options["yes"]:
            self.confirm(path, archive, target, extra)

        # Nothing of ours may hold a lock the restore waits for.
        connection.close()
        failure = run_restore(tools, target, path, drop_statements(extra))
        if failure:
            raise CommandError(
                f"Restore of {path} failed; the archive was left as it was (the restore "
                f"ran in one transaction, which was rolled back).\n{failure}"
                + version_hint(tools, target, archive)
            )
        # Pages and searches cached from the archive before it was replaced are stale.
        catalogue.changed()

        with target.connect(autocommit=True) as conn:
            pieces = count_pieces(conn)
        self.stdout.write(
            f"Restored {path} into {target.describe()}: "
            f"{pieces if pieces is not None else 'no'} pieces."
        )
        if extra:
            self.stdout.write(f"Dropped, not in the backup: {', '.join(e[3] for e in extra)}.")
        executor = MigrationExecutor(connection)
        if pieces is not None and executor.migration_plan(executor.loader.graph.leaf_nodes()):
            self.stdout.write("The backup is older than this code: run `manage.py migrate`.")

    def which_file(self) -> str:
        message = "name the backup to restore: make restore BACKUP=path (manage.py restore PATH)"
        found = sorted(BACKUP_DIR.glob("kroniek-*.dump"), reverse=True)[:5]
        if found:
            message += "\nnewest in backups/: " + ", ".join(p.name for p in found)
        return message

    def confirm(self, path, archive, target, extra) -> None:
        if sys.stdin is None or not sys.stdin.isatty():
            raise CommandError(
                "a restore replaces the whole archive: confirm with --yes "
                "(make restore BACKUP=... YES=1)"
            )
        with target.connect(autocommit=True) as conn:
            now = count_pieces(conn)
        self.stdout.write(
            f"This replaces everything in {target.describe()} "
            f"({now if now is not None else 'no'} pieces now) with {path}, made "
            f"{archive.created} from database {archive.dbname} "
            f"(PostgreSQL {archive.server_version})."
        )
        if extra:
            self.stdout.write(
                "Not in the backup, so dropped: " + ", ".join(e[3] for e in extra) + "."
            )
        if input("Type 'yes' to continue: ").strip().lower() != "yes":
            raise CommandError("restore cancelled; nothing was changed")


def version_hint(tools: pgtools.Tools, target: pgtools.Target, archive: pgtools.Archive) -> str:
    server = target.server_major
    if tools.major == server:
        return ""
    made_by = f"pg_dump {archive.dump_major}"
    return (
        f"\n(pg_restore {tools.major} on PostgreSQL {server}, for a backup made by "
        f"{made_by}: newer versions may write what PostgreSQL {server} does not know. A "
        f"backup made and restored with the server's own client programs "
        f"(postgresql-client-{server}) avoids that.)"
    )


def extra_objects(connection, archive: pgtools.Archive) -> list[tuple[str, str, str, str]]:
    """Tables, views and functions the database has and the backup does not (kind,
    schema, name, qualified name): made by a migration newer than the backup, they
    would outlive the restore and trip that migration when it runs again."""
    relations = archive.names(*RELATIONS)
    routines = archive.names(*ROUTINES)
    with connection.cursor() as cursor:
        cursor.execute(EXISTING, {"schemas": sorted(archive.schemas())})
        rows = cursor.fetchall()
    return sorted(
        (kind, schema, name, qualified)
        for kind, schema, name, qualified in rows
        if (schema, name) not in (relations if kind in RELATIONS else routines)
    )


def drop_statements(extra) -> bytes:
    lines = ["SET client_min_messages = warning;"]
    lines += [f"DROP {kind} IF EXISTS {qualified} CASCADE;" for kind, _, _, qualified in extra]
    return ("\n".join(lines) + "\n").encode()


def run_restore(tools: pgtools.Tools, target: pgtools.Target, path: Path, prologue: bytes):
    """Restore path through psql, in one transaction; None, or what went wrong.

    pg_restore writes the restore as one script wrapped in BEGIN ... COMMIT (its
    --single-transaction) with a DROP ... IF EXISTS before every object it makes (the
    --clean --if-exists); psql runs it and stops at the first error (ON_ERROR_STOP), so
    the COMMIT is never reached. A damaged file makes pg_restore stop before it writes
    the COMMIT: psql then ends with the transaction open, which PostgreSQL rolls back.
    Going through psql rather than `pg_restore --dbname` lets the drops of what the
    backup lacks run inside that same transaction, and lets a newer pg_restore's
    opening be fitted to an older server.
    """
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        reader = subprocess.Popen(
            [
                tools["pg_restore"],
                "--single-transaction",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--file=-",
                str(path),
            ],
            stdout=subprocess.PIPE,
            stderr=restore_errors,
        )
        writer = subprocess.Popen(
            [
                tools["psql"],
                "--no-psqlrc",
                "--quiet",
                "--no-password",
                "--set=ON_ERROR_STOP=1",
                f"--dbname={target.conninfo()}",
                "--file=-",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_errors,
            env=target.env(),
        )
        # pg_restore 17 and later open every script with `SET transaction_timeout = 0`,
        # a setting older servers lack and which would switch off what they do not have.
        skip = (b"SET transaction_timeout",) if target.server_major < 17 <= tools.major else ()
        try:
            feed(reader.stdout, writer.stdin, prologue, skip)
        except BrokenPipeError:
            pass  # psql stopped at an error; its message says which
        finally:
            for stream in (writer.stdin, reader.stdout):
                with contextlib.suppress(BrokenPipeError):
                    stream.close()
        restored, ran = reader.wait(), writer.wait()
        if restored == 0 and ran == 0:
            return None
        messages = []
        for stream in (restore_errors, psql_errors):
            stream.seek(0)
            messages += stream.read().decode(errors="replace").strip().splitlines()
        return "\n".join(messages[-15:]) or f"pg_restore exited {restored}, psql exited {ran}"


def feed(script, psql, prologue: bytes, skip: tuple[bytes, ...] = ()) -> None:
    """Copy the script to psql, the prologue right after the script's opening (its
    BEGIN and the SET lines after it), leaving out the opening's lines that start with
    one of `skip`."""
    begun = False
    for line in script:
        text = line.strip()
        if begun and text and not text.startswith((b"SET ", b"SELECT pg_catalog.set_config")):
            psql.write(prologue)
            psql.write(line)
            break
        begun = begun or text == b"BEGIN;"
        if not line.startswith(skip):
            psql.write(line)
    else:
        return  # pg_restore failed before its first statement
    shutil.copyfileobj(script, psql, 1 << 20)
