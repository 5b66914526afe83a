"""Settings are safe by default and read the environment strictly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from archive.env import env_bool

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, **env):
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    environment.update(env, DJANGO_SETTINGS_MODULE="archive.settings")
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True
    )


def test_wsgi_refuses_to_serve_without_a_secret_key():
    result = run_python("import archive.wsgi")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_wsgi_serves_with_a_secret_key():
    result = run_python("import archive.wsgi", SECRET_KEY="k" * 60)
    assert result.returncode == 0, result.stderr


def test_debug_is_off_unless_asked_for():
    code = "from django.conf import settings; print(settings.DEBUG)"
    assert run_python(code).stdout.strip() == "False"
    assert run_python(code, DEBUG="1").stdout.strip() == "True"


def test_deploy_check_is_clean_for_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**os.environ, "SECRET_KEY": "x7#" * 20 + "production-key", "HTTPS": "1"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("value", ["maybe", "2", "ja"])
def test_env_bool_rejects_unclear_values(monkeypatch, value):
    monkeypatch.setenv("SOME_FLAG", value)
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG"):
        env_bool("SOME_FLAG")


def _redis_answers() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


def test_without_redis_the_cache_is_files_shared_by_the_workers():
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    assert run_python(code).stdout.strip().endswith("FileBasedCache")


@pytest.mark.skipif(not _redis_answers(), reason="no Redis on 127.0.0.1:6379")
def test_with_redis_url_an_edit_in_one_process_is_seen_by_another():
    """Two processes stand for two gunicorn workers: one bumps the archive's
    generation, the other must see the new one, so neither serves a stale search."""
    url = "redis://127.0.0.1:6379/15"
    reader = (
        "from django import setup; setup()\n"
        "from django.conf import settings\n"
        "from archive.search import catalogue\n"
        "print(settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1])\n"
        "print(catalogue.generation())\n"
    )
    writer = (
        "from django import setup; setup()\n"
        "from archive.search import catalogue\n"
        "catalogue.changed()"
    )
    before = run_python(reader, REDIS_URL=url, CACHE_PREFIX="kroniek-test").stdout.split()
    assert before[0] == "RedisCache"
    assert run_python(writer, REDIS_URL=url, CACHE_PREFIX="kroniek-test").returncode == 0
    after = run_python(reader, REDIS_URL=url, CACHE_PREFIX="kroniek-test").stdout.split()
    assert after[1] != before[1]


def test_a_server_connection_is_kept_as_long_as_asked():
    code = "from django.conf import settings; print(settings.DATABASES['default']['CONN_MAX_AGE'])"
    url = "postgresql://kroniek@db.example:5432/kroniek"
    assert run_python(code, DATABASE_URL=url).stdout.strip() == "60"
    kept = run_python(code, DATABASE_URL=url, DATABASE_CONN_MAX_AGE="0")
    assert kept.stdout.strip() == "0", kept.stderr
