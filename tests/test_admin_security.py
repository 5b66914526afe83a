"""Guessing admin passwords (django-axes) and the admin's own path (ADMIN_URL)."""

import importlib
import logging
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db.models import F
from django.http import HttpRequest
from django.test import Client, override_settings
from django.urls import clear_url_caches, reverse

import archive.urls
from archive.env import env_url_prefix

pytestmark = pytest.mark.django_db

PASSWORD = "geheim-123"


@pytest.fixture(autouse=True)
def _quick_hashing(settings):
    # Hundreds of logins: the production hasher's deliberate slowness is not under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create_superuser("redacteur", "r@example.org", PASSWORD)


def log_in(username, password, address, client=None):
    client = client or Client()
    response = client.post(
        reverse("admin:login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )
    response.logged_in = SESSION_KEY in client.session
    return response


def age_failures(minutes):
    """As if the failures so far had happened so many minutes ago."""
    from axes.models import AccessAttempt

    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=minutes))


def lock_address(address, settings):
    """Wrong passwords for made-up accounts until the address is locked out."""
    codes = [log_in(f"gok-{n}", "fout", address).status_code for n in range(40)]
    limit = settings.AXES_FAILURE_LIMIT
    assert codes[: limit - 1] == [200] * (limit - 1)  # the login form, saying it was wrong
    assert set(codes[limit - 1 :]) == {429}


# Locked out


def test_forty_wrong_passwords_from_one_address_lock_that_address(editor, settings):
    lock_address("192.0.2.10", settings)
    refused = log_in("redacteur", PASSWORD, "192.0.2.10")
    assert refused.status_code == 429
    assert not refused.logged_in
    # The account itself is not locked: from elsewhere the editor gets in.
    assert log_in("redacteur", PASSWORD, "192.0.2.11").logged_in


def test_the_lockout_page_is_dutch_and_says_when_to_try_again(editor, settings):
    lock_address("192.0.2.10", settings)
    response = log_in("redacteur", PASSWORD, "192.0.2.10")
    page = " ".join(response.content.decode().split())
    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    assert "<h1>Even rustig aan</h1>" in page
    assert "te vaak achter elkaar verkeerd ingelogd" in page
    assert "Probeer het over ongeveer 15 minuten opnieuw" in page
    assert '<html lang="nl">' in page


def test_the_lockout_lasts_the_cool_off(editor, settings):
    lock_address("192.0.2.10", settings)
    age_failures(14)
    refused = log_in("redacteur", PASSWORD, "192.0.2.10")
    assert refused.status_code == 429
    assert not refused.logged_in
    age_failures(2)
    assert log_in("redacteur", PASSWORD, "192.0.2.10").logged_in


def test_many_addresses_against_one_account_lock_the_account(editor, django_user_model):
    codes = [log_in("redacteur", "fout", f"198.51.100.{n}").status_code for n in range(40)]
    assert 429 in codes
    refused = log_in("redacteur", PASSWORD, "203.0.113.1")
    assert refused.status_code == 429
    assert not refused.logged_in
    # Only that account: another one logs in from those same addresses.
    django_user_model.objects.create_superuser("tweede", "t@example.org", "ander-wachtwoord-9")
    assert log_in("tweede", "ander-wachtwoord-9", "198.51.100.1").logged_in


def test_a_successful_login_starts_the_count_again(editor, settings):
    almost = settings.AXES_FAILURE_LIMIT - 1
    for _ in range(almost):
        assert log_in("redacteur", "fout", "192.0.2.20").status_code == 200
    assert log_in("redacteur", PASSWORD, "192.0.2.20").logged_in
    for _ in range(almost):
        assert log_in("redacteur", "fout", "192.0.2.20").status_code == 200
    assert log_in("redacteur", PASSWORD, "192.0.2.20").logged_in


def test_axes_reset_unlocks(editor, settings, capsys):
    lock_address("192.0.2.10", settings)
    call_command("axes_reset")
    assert "attempts removed" in capsys.readouterr().out
    assert log_in("redacteur", PASSWORD, "192.0.2.10").logged_in


def test_failures_and_lockouts_are_logged_with_the_address(editor, settings, caplog):
    with caplog.at_level(logging.WARNING):
        lock_address("192.0.2.30", settings)
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("axes")]
    assert any("login failure" in m and "192.0.2.30" in m for m in messages)
    assert any("Locking out" in m and "192.0.2.30" in m for m in messages)
    # Whatever LOG_LEVEL the root logger has, these reach the console.
    assert logging.getLogger("axes").getEffectiveLevel() == logging.WARNING


def test_tests_log_in_as_axes_documents(client, editor):
    # force_login needs nothing; login() passes a request for axes' backend.
    assert client.login(request=HttpRequest(), username="redacteur", password=PASSWORD)
    assert client.get(reverse("admin:index")).status_code == 200


# The admin's path


@pytest.fixture
def admin_at():
    """The URLconf rebuilt with another ADMIN_URL, and rebuilt again afterwards."""

    def rebuild():
        importlib.reload(archive.urls)
        clear_url_caches()

    with override_settings(ADMIN_URL="beheer-k7/"):
        rebuild()
        yield "/beheer-k7/"
    rebuild()


def test_the_admin_answers_at_admin_url_only(admin_at, client, editor):
    assert reverse("admin:index") == admin_at
    response = client.get(admin_at)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{admin_at}login/")
    assert client.get(f"{admin_at}login/").status_code == 200
    assert client.get("/admin/").status_code == 404
    assert client.get("/admin/login/").status_code == 404
    assert log_in("redacteur", PASSWORD, "192.0.2.40", client).logged_in
    assert client.get(f"{admin_at}archive/article/").status_code == 200


def test_robots_txt_does_not_give_the_admin_away(admin_at, client):
    robots = client.get("/robots.txt").content.decode()
    assert "beheer-k7" not in robots
    assert "admin" not in robots


@pytest.mark.parametrize(
    "raw", ["/beheer/", "beheer", "/", "beheer//", "/admin", "beheer/<int:x>/", "be heer/"]
)
def test_admin_url_must_be_a_path_ending_in_a_slash(monkeypatch, raw):
    monkeypatch.setenv("ADMIN_URL", raw)
    with pytest.raises(ImproperlyConfigured, match="ADMIN_URL"):
        env_url_prefix("ADMIN_URL", "admin/")


def test_admin_url_left_empty_is_the_default(monkeypatch):
    monkeypatch.setenv("ADMIN_URL", "")
    assert env_url_prefix("ADMIN_URL", "admin/") == "admin/"
    monkeypatch.setenv("ADMIN_URL", " beheer-k7/ ")
    assert env_url_prefix("ADMIN_URL", "admin/") == "beheer-k7/"
