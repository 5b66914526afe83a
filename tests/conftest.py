import os

import pytest
from django.core.management import call_command


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """A test database per run, so two runs on one server (two terminals, or CI's two
    passes) never drop each other's database."""
    from django.conf import settings

    test = settings.DATABASES["default"].setdefault("TEST", {})
    test["NAME"] = f"test_{settings.DATABASES['default']['NAME']}_{os.getpid()}"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test database starts with the four seed articles, loaded once."""
    with django_db_blocker.unblock():
        call_command("loaddata", "seed_articles", verbosity=0)


@pytest.fixture(scope="module", autouse=True)
def _seeds_back_afterwards(django_db_blocker):
    """Tests that commit (transactional_db) empty the database at teardown; later tests
    expect the seed articles. Put back only after a module that had such a test: without
    one no test database may have been set up, and the seeds would go to the real one."""
    emptied = []
    yield emptied
    if emptied:
        with django_db_blocker.unblock():
            call_command("loaddata", "seed_articles", verbosity=0)


@pytest.fixture(autouse=True)
def _note_emptied(request, _seeds_back_afterwards):
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" in request.fixturenames or (marker and marker.kwargs.get("transaction")):
        _seeds_back_afterwards.append(request.node.name)


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The manifest storage needs `collectstatic` first; pages under test only need URLs.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def staff_client(client, django_user_model):
    """A client logged in as a superuser, who is `client.user`."""
    user = django_user_model.objects.create_superuser("redacteur", "r@example.org", "geheim-123")
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture(autouse=True)
def _fresh_cache(settings, tmp_path):
    """Each test its own empty cache: what one test cached over rows that were rolled
    back must not reach the next."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    """Tests fire many requests from one address; tests/test_ratelimit.py turns the
    limits back on."""
    settings.RATE_LIMITS_ENABLED = False
