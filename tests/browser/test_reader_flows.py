"""A reader searches, narrows, reads and follows links: with the mouse and keyboard only."""

import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect

RESULT_LINKS = "ol.pieces li.piece h3 a"


def result_count(page) -> int:
    return int(re.match(r"\d+", page.locator("#resultaten-kop").inner_text()).group())


def test_search_narrow_open_piece_and_follow_event(site, page):
    page.goto(site + "/")
    page.get_by_label("Zoek in het archief").fill("Putin")
    page.get_by_role("button", name="Zoeken").click()
    page.wait_for_url(re.compile(r"/zoeken/\?q=Putin"))
    expect(page.locator(RESULT_LINKS).first).to_be_visible()
    before = result_count(page)
    assert before == page.locator(RESULT_LINKS).count() >= 2

    facets = page.get_by_role("complementary", name="Verfijnen")
    facets.get_by_role("link", name="Jevgeni Prigozjin", exact=True).click()
    page.wait_for_url(re.compile(r"actor="))
    assert parse_qs(urlparse(page.url).query)["actor"] == ["jevgeni-prigozjin"]
    after = result_count(page)
    assert 0 < after < before, (before, after)
    assert page.locator(RESULT_LINKS).count() == after

    first = page.locator(RESULT_LINKS).first
    title = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(r"/artikel/[\w-]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)

    about = page.get_by_role("complementary", name="Over dit stuk")
    events = about.locator("h2:text-is('Gebeurtenissen') + ul.tags")
    expect(events.get_by_role("link", name="Muiterij van Wagner")).to_be_visible()
    events.get_by_role("link", name="Muiterij van Wagner").click()
    page.wait_for_url(re.compile(r"/gebeurtenis/wagner-muiterij/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Muiterij van Wagner")


def focused(page) -> dict:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            return {tag: el.tagName.toLowerCase(), id: el.id, text: el.innerText || '',
                    href: el.getAttribute('href') || '', inResults: !!el.closest('ol.pieces')};
        }"""
    )


def tab_until(page, wanted, limit=40) -> dict:
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if wanted(now):
            return now
    raise AssertionError(f"no wanted element after {limit} Tabs; focus on {focused(page)}")


def test_keyboard_only_search_and_open_a_result(site, page):
    page.goto(site + "/")
    page.keyboard.press("Tab")
    first = focused(page)
    assert first["text"].strip() == "Naar de inhoud" and first["href"] == "#inhoud", first
    expect(page.get_by_role("link", name="Naar de inhoud")).to_be_in_viewport()

    tab_until(page, lambda el: el["id"] == "zoekveld")
    page.keyboard.type("Poetin")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/zoeken/\?q=Poetin"))
    expect(page.locator(RESULT_LINKS).first).to_be_visible()

    link = tab_until(page, lambda el: el["inResults"] and el["tag"] == "a")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/artikel/[\w-]+/$"))
    assert urlparse(page.url).path == link["href"]
    expect(page.get_by_role("heading", level=1)).to_have_text(link["text"].strip())
