import datetime
import os
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from archive.management import pgtools
from archive.models import Article

BACKUP_DIR = Path(settings.BASE_DIR) / "backups"


def default_name() -> str:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"kroniek-{stamp}.dump"


class Command(BaseCommand):
    help = (
        "Back up the whole database Django is connected to (pieces, actors, events, "
        "editors' accounts and history) with pg_dump, in its custom format, without "
        "owners or privileges, so it restores into any database. Writes "
        "backups/kroniek-<UTC time>.dump unless --file says otherwise, then prints the "
        "file, its size and the number of pieces in it. The count and the dump come "
        "from one snapshot of the database."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--file",
            type=Path,
            help="where to write the backup; a folder gets the dated name inside it "
            "(default: backups/ in the project). An existing file is never overwritten.",
        )
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="Django database alias (default)"
        )
        parser.add_argument(
            "--bindir",
            help="folder of the pg_dump to use (default: the one matching the server)",
        )

    def handle(self, *args, **options):
        alias = options["database"]
        if connections[alias].in_atomic_block:
            # pg_dump has a connection of its own: it would not see what this
            # transaction has written.
            raise CommandError("a backup cannot be made inside a transaction")
        path = self.destination(options["file"])
        target = pgtools.target(alias)
        tools = pgtools.pick(target.server_major, pgtools.installed(options["bindir"]))
        if options["verbosity"] >= 2:
            self.stdout.write(f"Using {tools}.")

        partial = path.with_name(path.name + ".partial")
        try:
            pieces = self.dump(target, tools, partial)
            # pg_restore reads back what pg_dump wrote: a file it cannot list is no backup.
            pgtools.read_archive(partial, tools)
            partial.rename(path)
        finally:
            partial.unlink(missing_ok=True)

        held = f"{pieces} pieces" if pieces is not None else "no archive tables (not migrated)"
        self.stdout.write(
            f"{path}: {pgtools.human_size(path.stat().st_size)}, {held} "
            f"({target.describe()}; pg_dump {tools.version})"
        )

    def destination(self, given: Path | None) -> Path:
        if given is None:
            path = BACKUP_DIR / default_name()
        elif given.is_dir():
            path = given / default_name()
        else:
            path = given
        if path.exists():
            raise CommandError(f"{path} exists already: choose another name or remove it")
        if not path.parent.is_dir():
            if path.parent.resolve() != BACKUP_DIR.resolve():
                raise CommandError(f"no folder {path.parent} to write {path.name} into")
            # Backups hold editors' password hashes: the folder is for its owner alone.
            path.parent.mkdir(mode=0o700, parents=True)
        return path

    def dump(self, target: pgtools.Target, tools: pgtools.Tools, path: Path) -> int | None:
        """Dump the database into path; return the number of pieces in the dump.

        A transaction of our own exports its snapshot to pg_dump, so the count printed
        is of the very rows in the file, however busy the archive is meanwhile.
        """
        # Created before pg_dump writes into it, so it is never readable by others.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        with target.connect(autocommit=True) as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
            pieces = count_pieces(conn)
            result = subprocess.run(
                [
                    tools["pg_dump"],
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    "--no-password",
                    f"--snapshot={snapshot}",
                    f"--file={path}",
                    f"--dbname={target.conninfo()}",
                ],
                env=target.env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            conn.execute("ROLLBACK")
        if result.returncode != 0:
            raise CommandError(f"pg_dump failed, no backup written:\n{result.stderr.strip()}")
        return pieces


def count_pieces(conn) -> int | None:
    """Pieces in the archive as this psycopg connection sees it; None without the table
    (a database never migrated)."""
    table = Article._meta.db_table
    if conn.execute("SELECT to_regclass(%s)", [table]).fetchone()[0] is None:
        return None
    return conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
