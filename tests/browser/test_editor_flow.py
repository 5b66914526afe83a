"""An editor pastes a raw seed text, checks what the cleaner removed, saves the piece,
confirms two of the archive's suggestions and rejects one, and a reader then finds the
piece through search: in the browser, as the people doing it would."""

import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from archive.apps import EDITOR_GROUP
from archive.models import Article
from tests.browser.conftest import SCREENSHOTS
from tests.seeds import SEED_SLUGS, seed_text

COLUMN = "000_e5e2b52ac800a774.txt"
# Not the fixture's headline for this seed, so finding it proves the editor's kop was
# stored and indexed, not the proposal.
HEADLINE = "Bijna-coup laat alleen verliezers achter"
USERNAME, PASSWORD = "redacteur", "Kroniek-geheim-2023"
CONFIRM_ACTOR, CONFIRM_EVENT = "Jevgeni Prigozjin", "Muiterij van Wagner"
# Named once in passing ("grote bedrijven als Gazprom"): a link an editor turns down.
REJECT_ACTOR = "Gazprom"
RESULT_LINKS = "ol.pieces li.piece h3 a"
CHANGE_URL = re.compile(r"/admin/archive/article/(\d+)/change/$")


@pytest.fixture
def editor(django_user_model):
    """Staff in the editor group, not a superuser: the group's permissions are the ones
    under test, as in daily use."""
    user = django_user_model.objects.create_user(USERNAME, password=PASSWORD, is_staff=True)
    # Made by archive.apps' post_migrate handler, which runs again after the flush that
    # ends each live-server test; if it is missing, that is the failure to see.
    user.groups.add(Group.objects.get(name=EDITOR_GROUP))
    return user


@pytest.fixture
def raw_column(site):
    """The seed as copied from the news site, with the fixture's piece made of it deleted
    so the paste is a new piece, not a refused duplicate. Committed (site is a
    transactional live-server test), so the server sees it; the flush at teardown and the
    package conftest's reload of the seeds bring the fixture piece back for later tests."""
    text = seed_text(COLUMN)
    Article.objects.filter(slug=SEED_SLUGS[COLUMN]).delete()
    return text


def watch_errors(page) -> list[str]:
    """Uncaught exceptions and console errors on this page from now on."""
    errors = []

    def on_console(msg):
        # Chromium asks every site for /favicon.ico; Kroniek has none, and that 404 says
        # nothing about the page under test.
        if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico"):
            errors.append(f"console: {msg.text} ({msg.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    return errors


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}-desktop.png"
    target.unlink(missing_ok=True)
    page.screenshot(path=target, full_page=True)
    assert target.stat().st_size > 0, target


def log_in_and_open_paste_page(page, site):
    """Steps 1-2: log in, open the paste page from the piece list."""
    page.goto(site + "/admin/")
    page.wait_for_url(re.compile(r"/admin/login/"))
    page.get_by_label("Gebruikersnaam").fill(USERNAME)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url(site + "/admin/")

    page.get_by_role("link", name="Stukken", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/archive/article/$"))
    page.get_by_role("link", name="Uit geplakte tekst").click()
    page.wait_for_url(re.compile(r"/admin/archive/article/plakken/$"))


def paste_and_clean(page, raw):
    """Step 3: paste the raw text and have it cleaned."""
    page.get_by_label("Ruwe tekst").fill(raw)
    page.get_by_role("button", name="Opschonen en bekijken").click()
    # Same URL after the POST: wait for what only the review page has.
    expect(page.get_by_role("button", name="Opslaan en voorstellen bekijken")).to_be_visible()


def inline_row(page, group, name):
    """One stored row of a tabular inline (actors or events), by the linked name: the
    autocomplete shows it as its selection, with the name as its title."""
    row = page.locator(f"#{group}-group tr.has_original").filter(
        has=page.locator(f".select2-selection__rendered[title='{name}']")
    )
    expect(row).to_have_count(1)
    return row


def links(article, confirmed):
    """Names of the piece's linked actors and events with this confirmed state."""
    actors = article.actor_links.filter(confirmed=confirmed).values_list("actor__name", flat=True)
    events = article.event_links.filter(confirmed=confirmed).values_list("event__name", flat=True)
    return set(actors) | set(events)


def test_editor_pastes_confirms_and_a_reader_finds_the_piece(
    site, page, new_page, editor, raw_column
):
    errors = watch_errors(page)
    log_in_and_open_paste_page(page, site)
    assert not errors, "JavaScript errors before pasting:\n" + "\n".join(errors)
    paste_and_clean(page, raw_column)

    # 4. Review: the one thing the cleaner took out is shown, struck through.
    removed = page.get_by_role("region", name="Verwijderd bij het opschonen (1)")
    expect(removed).to_be_visible()
    expect(removed.get_by_role("listitem")).to_have_count(1)
    struck = removed.get_by_role("deletion")
    expect(struck).to_have_count(1)
    expect(struck).to_contain_text("Derk Sauer is uitgever van The Moscow Times")
    expect(removed).to_contain_text("Over de auteur:")
    # The proposal the editor keeps: genre, source and author as the cleaner found them.
    expect(page.get_by_label("Genre:")).to_have_value("column")
    expect(page.locator(".field-source .select2-selection__rendered")).to_have_attribute(
        "title", "Het Parool"
    )
    expect(page.locator(".field-authors .select2-selection__choice")).to_have_text(
        re.compile("Derk Sauer")
    )
    screenshot(page, "editor-plakken-bekijken")

    page.get_by_label("Kop:", exact=True).fill(HEADLINE)
    # Dutch admin: the date widget shows and accepts dd-mm-yyyy (nl DATE_INPUT_FORMATS).
    page.get_by_label("Datum:", exact=True).fill("01-06-2023")
    page.get_by_label("Datum bekend tot op:").select_option(label="maand")
    page.get_by_role("button", name="Opslaan en voorstellen bekijken").click()

    # 5. The new piece's change page, its suggestions waiting for judgement.
    page.wait_for_url(CHANGE_URL)
    assert not errors, "JavaScript errors on the paste pages:\n" + "\n".join(errors)
    article = Article.objects.get(pk=CHANGE_URL.search(page.url).group(1))
    assert article.title == HEADLINE
    assert str(article.published_on) == "2023-06-01" and article.date_precision == "month"
    assert article.source.name == "Het Parool"
    assert [a.name for a in article.authors.all()] == ["Derk Sauer"]
    suggested = links(article, confirmed=False)
    assert {CONFIRM_ACTOR, CONFIRM_EVENT, REJECT_ACTOR, "Vladimir Poetin"} <= suggested
    assert not links(article, confirmed=True)
    expect(page.locator("ul.messagelist")).to_contain_text(f"‘{HEADLINE}’ is opgeslagen")
    expect(page.get_by_label("Datum:", exact=True)).to_have_value("01-06-2023")
    for group, name in [
        ("actor_links", CONFIRM_ACTOR),
        ("event_links", CONFIRM_EVENT),
        ("actor_links", REJECT_ACTOR),
    ]:
        expect(inline_row(page, group, name).locator("td.field-status")).to_have_text("voorgesteld")
    screenshot(page, "editor-stuk-wijzigen")

    # Tabular inline rows have no per-row labels: the checkbox is found by its column.
    inline_row(page, "actor_links", CONFIRM_ACTOR).locator("td.field-confirmed").get_by_role(
        "checkbox"
    ).check()
    inline_row(page, "event_links", CONFIRM_EVENT).locator("td.field-confirmed").get_by_role(
        "checkbox"
    ).check()
    inline_row(page, "actor_links", REJECT_ACTOR).locator("td.delete").get_by_role(
        "checkbox"
    ).check()
    page.get_by_role("button", name="Opslaan", exact=True).click()
    # Nothing new was suggested by this save, so the admin goes back to the list.
    page.wait_for_url(re.compile(r"/admin/archive/article/(\?.*)?$"))
    expect(page.locator("ul.messagelist")).to_contain_text("gewijzigd")

    assert links(article, confirmed=True) == {CONFIRM_ACTOR, CONFIRM_EVENT}
    assert links(article, confirmed=False) == suggested - {
        CONFIRM_ACTOR,
        CONFIRM_EVENT,
        REJECT_ACTOR,
    }
    # Deleting the suggestion rejected it: re-checks will not suggest it again.
    assert list(article.rejected_actors.values_list("name", flat=True)) == [REJECT_ACTOR]
    assert not errors, "JavaScript errors in the editor's pages:\n" + "\n".join(errors)

    # 6. A reader, not logged in, searches for it from the home page.
    reader = new_page(1280, 900)
    reader_errors = watch_errors(reader)
    reader.goto(site + "/")
    reader.get_by_label("Zoek in het archief").fill("bijna-coup verliezers")
    reader.get_by_role("button", name="Zoeken").click()
    reader.wait_for_url(re.compile(r"/zoeken/\?q=bijna-coup"))
    result = reader.locator(RESULT_LINKS).filter(has_text=HEADLINE)
    expect(result).to_have_count(1)
    result.click()
    reader.wait_for_url(re.compile(rf"/artikel/{article.slug}/$"))
    expect(reader.get_by_role("heading", level=1)).to_have_text(HEADLINE)

    about = reader.get_by_role("complementary", name="Over dit stuk")
    actors = about.locator("h2:text-is('Actoren') + ul.tags > li")
    events = about.locator("h2:text-is('Gebeurtenissen') + ul.tags > li")
    confirmed = actors.filter(has=reader.get_by_role("link", name=CONFIRM_ACTOR, exact=True))
    expect(confirmed).to_have_count(1)
    expect(confirmed).not_to_contain_text("voorgesteld")
    still_suggested = actors.filter(
        has=reader.get_by_role("link", name="Vladimir Poetin", exact=True)
    )
    expect(still_suggested).to_contain_text("voorgesteld")
    event = events.filter(has=reader.get_by_role("link", name=CONFIRM_EVENT, exact=True))
    expect(event).to_have_count(1)
    expect(event).not_to_contain_text("voorgesteld")
    expect(about.get_by_role("link", name=REJECT_ACTOR, exact=True)).to_have_count(0)
    assert not reader_errors, "JavaScript errors in the reader's pages:\n" + "\n".join(
        reader_errors
    )


# The review page is the admin's own kind of form: its date shortcuts and the + and
# pencil links next to source and authors work as on the change page.
def test_review_page_widgets_work_as_on_the_change_page(site, page, editor, raw_column):
    errors = watch_errors(page)
    log_in_and_open_paste_page(page, site)
    paste_and_clean(page, raw_column)
    # The calendar shortcuts DateTimeShortcuts.js adds next to the date, as on the
    # piece's change page.
    expect(page.locator(".field-published_on").get_by_role("link", name="Vandaag")).to_be_visible(
        timeout=2_000
    )
    assert not errors, "\n".join(errors)
    # The + next to the authors opens the add form in a popup; without
    # RelatedObjectLookups.js it replaces the review page, and the unsaved draft is lost.
    with page.context.expect_page(timeout=2_000) as popup:
        page.locator(".field-authors").get_by_role("link", name=re.compile("toevoegen")).click()
    expect(popup.value).to_have_url(re.compile(r"/admin/archive/author/add/.*_popup=1"))
    expect(page).to_have_url(re.compile(r"/admin/archive/article/plakken/$"))
