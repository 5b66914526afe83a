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
