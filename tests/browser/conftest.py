"""Browser tests: Playwright (sync API) driving Debian's Chromium against live_server.

Chromium cannot be downloaded by `playwright install` here; `make test` installs
Debian's package when it runs as root. Without a browser (or without axe-core from
`npm ci`) these tests skip with the reason, except under CI, where a skip is a failure:
CI must run them.
"""

import os
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("KRONIEK_CHROMIUM", "/usr/bin/chromium"))
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def unavailable(reason: str):
    """Skip on a laptop; fail under CI, where the browser tests have to run."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set: browser tests may not be skipped)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="package")
def browser():
    if not CHROMIUM.exists():
        unavailable(
            f"no Chromium at {CHROMIUM}: run `make test` as root to install Debian's "
            "chromium, or `apt-get install chromium`, or set KRONIEK_CHROMIUM"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed: pip install -e '.[dev]'")
    # Playwright's sync API runs an asyncio loop in this thread while it is started, so
    # Django takes ORM calls here (loading seeds, the flush after each test) for async
    # code. Allowed only while the browser runs: package scope, ended after these tests.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module", autouse=True)
def _seeds_back_afterwards(django_db_blocker):
    """live_server tests flush the database at teardown; put the seeds back for later tests."""
    yield
    with django_db_blocker.unblock():
        call_command("loaddata", "seed_articles", verbosity=0)


@pytest.fixture
def site(live_server, transactional_db):
    """The live server's base URL, with the seed articles in its (committed) database."""
    call_command("loaddata", "seed_articles", verbosity=0)
    return live_server.url


def _new_page(browser, width, height):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="nl-NL")
    context.set_default_timeout(10_000)
    return context, context.new_page()


@pytest.fixture
def page(browser):
    context, page = _new_page(browser, 1280, 900)
    yield page
    context.close()


@pytest.fixture
def new_page(browser):
    """Factory for pages at a given viewport size; all closed after the test."""
    contexts = []

    def make(width, height):
        context, page = _new_page(browser, width, height)
        contexts.append(context)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def axe_source():
    if not AXE_JS.exists():
        unavailable(f"axe-core is missing ({AXE_JS}): run `npm ci` (make test does)")
    return AXE_JS.read_text(encoding="utf-8")
