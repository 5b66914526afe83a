"""docker-compose.yml is valid and only calls what the project has."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def load():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_database_with_health_check_and_web_waiting_for_it():
    services = load()["services"]
    assert {"db", "web"} <= services.keys()
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["web"]["depends_on"]["db"]["condition"] == "service_healthy"


def test_web_runs_migrations_then_gunicorn_on_the_project_wsgi():
    command = load()["services"]["web"]["command"]
    command = " ".join(command) if isinstance(command, list) else command
    assert command.index("manage.py migrate") < command.index("gunicorn archive.wsgi")
    assert (ROOT / "manage.py").exists()
    assert (ROOT / "archive" / "wsgi.py").exists()


def test_web_builds_from_a_dockerfile_that_exists():
    web = load()["services"]["web"]
    context = ROOT / web["build"]["context"] if isinstance(web["build"], dict) else ROOT
    assert (context / "Dockerfile").exists()
    env = web["environment"]
    assert "DATABASE_URL" in env and "SECRET_KEY" in env
