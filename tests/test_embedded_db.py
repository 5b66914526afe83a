"""The embedded PostgreSQL runs with settings sized for the machine."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from archive.embedded_db import tuning
from archive.embedded_db.tuning import GB, MB, settings_for

embedded = pytest.mark.skipif(
    connection.settings_dict["ENGINE"] != "archive.embedded_db",
    reason="DATABASE_URL names a server of its own, tuned by its owner",
)


def show(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


def this_machine():
    return settings_for(tuning.machine_memory(), tuning.machine_cores())


@embedded
@pytest.mark.django_db
def test_embedded_server_runs_with_the_machines_settings():
    wanted = this_machine()
    assert show("jit") == "off"
    assert show("work_mem") == wanted["work_mem"]
    assert show("random_page_cost") == "1.1"
    assert show("effective_cache_size") == wanted["effective_cache_size"]
    assert show("max_parallel_workers_per_gather") == wanted["max_parallel_workers_per_gather"]


@embedded
@pytest.mark.django_db
def test_tuning_again_changes_nothing():
    import psycopg

    from archive.embedded_db.base import start_server

    server = start_server(connection.settings_dict["DATA_DIR"])
    tuning.apply(server)
    with psycopg.connect(server.get_uri("postgres")) as conn:
        left = tuning.differing(conn, tuning.wanted(conn))
    # Those needing a restart wait while another process shares the server.
    assert set(left.values()) <= {"postmaster"}


def test_two_cores_and_24_gb():
    values = settings_for(24 * GB, 2)
    assert values["shared_buffers"] == "4GB"  # a quarter, capped
    assert values["effective_cache_size"] == "12GB"
    assert values["work_mem"] == "64MB"
    assert values["maintenance_work_mem"] == "1GB"
    assert values["jit"] == "off"
    assert values["max_parallel_workers_per_gather"] == "1"


def test_a_small_machine_gets_small_settings():
    values = settings_for(2 * GB, 1)
    assert values["shared_buffers"] == "512MB"
    assert values["work_mem"] == "16MB"
    assert values["maintenance_work_mem"] == "128MB"
    assert values["max_parallel_workers_per_gather"] == "0"


def test_settings_are_whole_megabytes():
    values = settings_for(3 * GB + 12345, 3)
    for name in ("shared_buffers", "effective_cache_size", "work_mem", "maintenance_work_mem"):
        number = int(values[name].removesuffix("MB").removesuffix("GB"))
        assert number > 0
    assert values["effective_cache_size"] == f"{(3 * GB + 12345) // 2 // MB}MB"


def test_memory_can_be_set_for_a_machine_shared_by_several_servers(monkeypatch):
    monkeypatch.setenv("KRONIEK_PG_MEMORY", "6GB")
    assert tuning.machine_memory() == 6 * GB
    monkeypatch.setenv("KRONIEK_PG_MEMORY", "512mb")
    assert tuning.machine_memory() == 512 * MB


def test_unclear_memory_is_refused(monkeypatch):
    monkeypatch.setenv("KRONIEK_PG_MEMORY", "lots")
    with pytest.raises(ImproperlyConfigured, match="KRONIEK_PG_MEMORY"):
        tuning.machine_memory()


THREADS_AT_ONCE = """
import threading
import django
django.setup()
from django.db import connections

errors = []

def first_query():
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:
        errors.append(repr(error))
    finally:
        connections.close_all()

threads = [threading.Thread(target=first_query) for _ in range(6)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(errors)
"""


@pytest.mark.skipif(
    connection.vendor != "postgresql"
    or not hasattr(connection, "settings_dict")
    or "DATA_DIR" not in connection.settings_dict,
    reason="only the embedded server starts on first use",
)
def test_threads_of_a_new_worker_all_wait_for_the_server(tmp_path):
    """A gthread worker's threads reach their first query together; none may see a
    server that another thread is still starting."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "archive.settings",
        "KRONIEK_PGDATA": str(tmp_path / "pgdata"),
        "KRONIEK_PG_MEMORY": "1GB",
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", THREADS_AT_ONCE],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
