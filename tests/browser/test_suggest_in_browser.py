"""Suggestions under the search box (static/js/suggest.js) in a real browser: the ARIA
combobox a screen reader is told about, the keys and the mouse, and the plain form
without JavaScript."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_pages_in_browser import BLOCKING, describe

BOX = "#zoekveld"
LIST = "#zoekveld-suggesties"


def type_into_box(page, text):
    page.locator(BOX).click()
    page.keyboard.type(text, delay=30)


def options(page):
    return page.locator(f"{LIST} [role=option]")


def suggestions_for(page, site, text):
    page.goto(site + "/")
    type_into_box(page, text)
    expect(page.locator(LIST)).to_be_visible()
    return page.locator(BOX)


def test_the_box_is_a_combobox_with_a_listbox(site, page):
    box = suggestions_for(page, site, "prig")
    expect(box).to_have_attribute("role", "combobox")
    expect(box).to_have_attribute("aria-autocomplete", "list")
    expect(box).to_have_attribute("aria-controls", "zoekveld-suggesties")
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(box).not_to_have_attribute("aria-activedescendant", re.compile(".*"))
    listbox = page.get_by_role("listbox", name="Suggesties")
    expect(listbox).to_be_visible()
    first = listbox.get_by_role("option").first
    expect(first).to_contain_text("Jevgeni Prigozjin")
    expect(first).to_contain_text("Actor")
    expect(first).to_have_attribute("aria-selected", "false")
    # Headlines follow, labelled as pieces.
    expect(listbox.get_by_role("option").filter(has_text="Stuk").first).to_contain_text("Prigozjin")
    count = options(page).count()
    expect(page.locator("form.searchbox [role=status]")).to_have_text(f"{count} suggesties")


def test_arrow_down_and_enter_open_the_actor(site, page):
    box = suggestions_for(page, site, "prig")
    page.keyboard.press("ArrowDown")
    first = options(page).first
    expect(first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    expect(box).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/actor/jevgeni-prigozjin/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jevgeni Prigozjin")


def test_arrow_keys_move_through_the_options_and_wrap(site, page):
    box = suggestions_for(page, site, "prig")
    count = options(page).count()
    assert count >= 2
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    second = options(page).nth(1)
    expect(box).to_have_attribute("aria-activedescendant", second.get_attribute("id"))
    expect(options(page).first).to_have_attribute("aria-selected", "false")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    last = options(page).nth(count - 1)
    expect(box).to_have_attribute("aria-activedescendant", last.get_attribute("id"))


def test_an_event_is_found_and_opened(site, page):
    suggestions_for(page, site, "muit")
    event = options(page).filter(has_text="Muiterij van Wagner")
    expect(event).to_contain_text("Gebeurtenis")
    expect(options(page).first).to_have_text(re.compile("Muiterij van Wagner"))
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/gebeurtenis/wagner-muiterij/$"))


def test_enter_without_a_chosen_option_searches(site, page):
    suggestions_for(page, site, "prig")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/zoeken/\?q=prig$"))
    expect(page.locator("ol.pieces li.piece").first).to_be_visible()


def test_clicking_an_option_opens_it(site, page):
    suggestions_for(page, site, "muit")
    options(page).filter(has_text="Muiterij van Wagner").click()
    page.wait_for_url(re.compile(r"/gebeurtenis/wagner-muiterij/$"))


def test_escape_closes_and_a_second_escape_empties_the_box(site, page):
    box = suggestions_for(page, site, "prig")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Escape")
    expect(page.locator(LIST)).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).not_to_have_attribute("aria-activedescendant", re.compile(".*"))
    expect(box).to_have_value("prig")
    # Closed, the list opens again with the arrow key, where it was left.
    page.keyboard.press("ArrowDown")
    expect(page.locator(LIST)).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    expect(box).to_have_value("")
    expect(page.locator(LIST)).to_be_hidden()


def test_typing_on_replaces_the_suggestions(site, page):
    suggestions_for(page, site, "poe")
    expect(options(page).first).to_contain_text("Vladimir Poetin")
    page.keyboard.press("Backspace")
    page.keyboard.type("utin", delay=30)  # Poutine, an alias
    expect(options(page).first).to_contain_text("Vladimir Poetin")
    page.keyboard.press("Control+A")
    page.keyboard.type("oekra", delay=30)
    expect(options(page).first).to_contain_text("Oekraïne")
    expect(options(page).filter(has_text="Vladimir Poetin")).to_have_count(0)


def test_one_letter_asks_nothing(site, page):
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/api/suggesties/" in r.url else None)
    page.goto(site + "/")
    type_into_box(page, "p")
    # Long past the pause after typing: still nothing asked, nothing shown.
    page.wait_for_timeout(600)
    assert asked == []
    expect(page.locator(LIST)).to_be_hidden()
    expect(page.locator(BOX)).to_have_attribute("aria-expanded", "false")
    page.keyboard.type("r")
    expect(page.locator(LIST)).to_be_visible()
    assert len(asked) == 1


def test_no_suggestions_is_said_and_no_list_shown(site, page):
    page.goto(site + "/")
    type_into_box(page, "xqzw")
    expect(page.locator("form.searchbox [role=status]")).to_have_text("Geen suggesties")
    expect(page.locator(LIST)).to_be_hidden()
    expect(page.locator(BOX)).to_have_attribute("aria-expanded", "false")


def test_no_serious_accessibility_violations_with_the_list_open(site, page, axe_source):
    suggestions_for(page, site, "prig")
    page.keyboard.press("ArrowDown")
    page.evaluate(axe_source)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    blocking = [v for v in result["violations"] if v["impact"] in BLOCKING]
    assert not blocking, f"axe-core with suggestions open:\n{describe(blocking)}"


def test_the_list_fits_a_phone(site, new_page):
    page = new_page(390, 844)
    suggestions_for(page, site, "prig")
    page.keyboard.press("ArrowDown")
    box = page.locator(LIST).bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "suggesties-telefoon.png")


@pytest.fixture
def page_without_javascript(browser):
    context = browser.new_context(java_script_enabled=False, locale="nl-NL")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_without_javascript_the_form_searches_as_before(site, page_without_javascript):
    page = page_without_javascript
    page.goto(site + "/")
    box = page.locator(BOX)
    # No combobox is promised when nothing would keep the promise.
    for name in ("role", "aria-expanded", "aria-controls", "autocomplete"):
        assert box.get_attribute(name) is None, name
    assert page.locator(LIST).count() == 0
    box.fill("prig")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/zoeken/\?q=prig$"))
    expect(page.locator("ol.pieces li.piece").first).to_be_visible()
