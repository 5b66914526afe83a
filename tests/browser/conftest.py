"""Browser tests: Playwright (sync API) driving Debian's Chromium against live_server.

Chromium cannot be downloaded by `playwright install` here; `make test` installs
Debian's package when it runs as root. Without a browser (or without axe-core from
`npm ci`) these tests skip with the reason, except under CI, where a skip is a failure:
CI must run them.

Every page a test opens reports its Content-Security-Policy violations, console errors
and uncaught exceptions (PageProblems); any of them fails the test.
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


@pytest.fixture
def site(live_server, transactional_db):
    """The live server's base URL, with the seed articles in its (committed) database
    (tests/conftest.py puts them back for later modules)."""
    call_command("loaddata", "seed_articles", verbosity=0)
    return live_server.url


# Reported to Python by every page of a test: the page's Content-Security-Policy
# violations, as the browser fires them (console messages say the same, less exactly).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.kroniekCspViolation({
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    source: event.sourceFile,
    line: event.lineNumber,
    sample: event.sample,
  });
});
"""


class PageProblems:
    """What went wrong in a test's pages: CSP violations, console errors and uncaught
    exceptions. Any of them fails the test when its pages close."""

    def __init__(self):
        self.violations: list[str] = []
        self.console: list[str] = []
        self.uncaught: list[str] = []
        # Chromium asks every site for /favicon.ico; Kroniek has none, and that 404
        # says nothing about the page under test.
        self.allowed = ["/favicon.ico"]
        self.pages = []

    def allow(self, text: str):
        """A console error expected by the test (one that names `text`), e.g. the 404
        of a page that is meant not to exist."""
        self.allowed.append(text)

    def watch(self, context):
        def on_violation(source, report):
            self.violations.append(
                f"{report['directive']} blocked {report['blocked'] or 'inline code'} on "
                f"{source['page'].url} ({report['source']}:{report['line']}) "
                f"{report['sample'] or ''}".strip()
            )

        context.expose_binding("kroniekCspViolation", on_violation)
        context.add_init_script(REPORT_VIOLATIONS)
        context.on("page", self._watch_page)

    def _watch_page(self, page):
        self.pages.append(page)

        def on_console(message):
            where = message.location.get("url", "")
            if message.type == "error" and not any(
                text in where or text in message.text for text in self.allowed
            ):
                self.console.append(f"{message.text} ({where})")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.uncaught.append(f"{error} ({page.url})"))

    def settle(self):
        """Let events the pages fired but Python has not heard of yet arrive."""
        for page in self.pages:
            if not page.is_closed():
                page.evaluate("() => new Promise((done) => setTimeout(done, 50))")

    def found(self) -> list[str]:
        return (
            [f"CSP violation: {v}" for v in self.violations]
            + [f"console error: {c}" for c in self.console]
            + [f"uncaught: {u}" for u in self.uncaught]
        )


@pytest.fixture
def page_problems():
    """This test's PageProblems; the test fails if its pages had any."""
    problems = PageProblems()
    yield problems
    if problems.found():
        pytest.fail("Problems in the browser:\n" + "\n".join(problems.found()), pytrace=False)


def _new_page(browser, problems, width, height):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="nl-NL")
    context.set_default_timeout(10_000)
    problems.watch(context)
    return context, context.new_page()


def _close(problems, contexts):
    try:
        problems.settle()
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(browser, page_problems):
    context, page = _new_page(browser, page_problems, 1280, 900)
    yield page
    _close(page_problems, [context])


@pytest.fixture
def new_page(browser, page_problems):
    """Factory for pages at a given viewport size; all closed after the test."""
    contexts = []

    def make(width, height):
        context, page = _new_page(browser, page_problems, width, height)
        contexts.append(context)
        return page

    yield make
    _close(page_problems, contexts)


@pytest.fixture(scope="session")
def axe_source():
    if not AXE_JS.exists():
        unavailable(f"axe-core is missing ({AXE_JS}): run `npm ci` (make test does)")
    return AXE_JS.read_text(encoding="utf-8")
