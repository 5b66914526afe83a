"""The reader's pages and the editors' admin work in Chromium under the real
Content-Security-Policy header, with no violation reported (the page fixtures in
conftest.py fail a test on any violation, console error or uncaught exception)."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from archive.models import Actor, Article, Event

USERNAME, PASSWORD = "hoofdredacteur", "Kroniek-geheim-2024"


def assert_policy(response):
    header = response.headers.get("content-security-policy", "")
    directives = {
        d.strip().partition(" ")[0]: d.strip().partition(" ")[2] for d in header.split(";")
    }
    assert directives.get("script-src") == "'self'", (response.url, header)
    assert directives.get("style-src") == "'self'", (response.url, header)


@pytest.fixture
def admin_page(site, page, django_user_model):
    django_user_model.objects.create_superuser(USERNAME, "hr@example.org", PASSWORD)
    response = page.goto(site + "/admin/login/")
    assert_policy(response)
    page.get_by_label("Gebruikersnaam").fill(USERNAME)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url(site + "/admin/")
    return page


def test_the_watch_catches_inline_code_the_policy_blocks(site, page, page_problems):
    """The page fixtures' watch can fail: a page of this site's origin, served with the
    site's policy, that has an inline script and an inline style."""
    policy = page.goto(site + "/").headers["content-security-policy"]
    page.route(
        site + "/proef-inline/",
        lambda route: route.fulfill(
            status=200,
            headers={"Content-Type": "text/html", "Content-Security-Policy": policy},
            body='<!doctype html><p style="color: red">x</p><script>window.ran = 1</script>',
        ),
    )
    page.goto(site + "/proef-inline/")
    assert page.evaluate("window.ran") is None
    page_problems.settle()
    directives = " ".join(page_problems.violations)
    assert "script-src" in directives and "style-src" in directives, page_problems.found()
    # Seen and checked: not a failure of this test.
    page_problems.violations.clear()
    page_problems.console.clear()


READER_PAGES = {
    "/": "Nieuwste stukken",
    "/zoeken/?q=Poetin": "Zoekresultaten voor ‘Poetin’",
    "/zoeken/?q=Wagner&actor=jevgeni-prigozjin&sort=newest": "Zoekresultaten voor ‘Wagner’",
    "/artikel/opmars-van-prigozjin-laat-zien-hoe-kwetsbaar-poetins-rusland-is/": None,
    "/actor/vladimir-poetin/": "Vladimir Poetin",
    "/gebeurtenis/wagner-muiterij/": "Muiterij van Wagner",
    "/bron/het-parool/": "Het Parool",
    "/auteur/derk-sauer/": "Derk Sauer",
    "/genre/column/": "column",
    "/actoren/": "Actoren",
    "/gebeurtenissen/": "Gebeurtenissen",
}


def test_reader_pages_show_under_the_policy(site, page):
    for path, heading in READER_PAGES.items():
        response = page.goto(site + path)
        assert response.status == 200, path
        assert_policy(response)
        h1 = page.get_by_role("heading", level=1)
        expect(h1).to_be_visible()
        if heading:
            expect(h1).to_contain_text(heading)
    # The chart is inline SVG coloured by presentation attributes, which the policy
    # allows: its bars are drawn, in the site's accent colour.
    page.goto(site + "/actor/vladimir-poetin/")
    bar = page.locator("svg.chart rect").first
    expect(bar).to_be_visible()
    assert (
        page.evaluate("() => getComputedStyle(document.querySelector('svg.chart rect')).fill")
        == "rgb(138, 28, 18)"
    )
    # And the site's stylesheet applies: the header's rule under the brand.
    border = page.evaluate(
        "() => getComputedStyle(document.querySelector('header.site')).borderBottomStyle"
    )
    assert border == "solid"


def test_error_pages_show_under_the_policy(site, page, page_problems):
    page_problems.allow("status of 404")
    response = page.goto(site + "/artikel/bestaat-niet/")
    assert response.status == 404
    assert_policy(response)
    expect(page.get_by_role("heading", level=1)).to_have_text("Pagina niet gevonden")
    page.get_by_role("link", name="Naar de voorpagina").click()
    page.wait_for_url(site + "/")


def test_admin_lists_filters_and_search_work_under_the_policy(site, admin_page):
    page = admin_page
    response = page.goto(site + "/admin/archive/article/")
    assert_policy(response)
    expect(page.locator("#result_list tbody tr")).to_have_count(Article.objects.count())
    # A filter in the sidebar (filters.js keeps the open ones open).
    page.locator("#changelist-filter").get_by_role("link", name="column", exact=True).click()
    page.wait_for_url(re.compile(r"genre__exact=column"))
    expect(page.locator("#result_list tbody tr")).to_have_count(
        Article.objects.filter(genre="column").count()
    )
    # Selecting a row shows the actions bar's counter (actions.js).
    page.locator("#result_list tbody tr").first.get_by_role("checkbox").check()
    expect(page.locator(".action-counter")).to_contain_text("1 van")
    # The search box.
    page.goto(site + "/admin/archive/article/?q=Prigozjin")
    expect(page.locator("#result_list tbody tr").first).to_be_visible()
    # Other lists.
    for path in ("/admin/archive/actor/", "/admin/archive/event/", "/admin/admin/logentry/"):
        assert_policy(page.goto(site + path))
        expect(page.locator("#changelist")).to_be_visible()


def test_admin_piece_form_widgets_work_under_the_policy(site, admin_page):
    page = admin_page
    response = page.goto(site + "/admin/archive/article/add/")
    assert_policy(response)
    # The slug is filled in from the headline as it is typed (prepopulate.js).
    page.get_by_label("Kop:", exact=True).press_sequentially("Een proef onder het beleid")
    expect(page.locator("#id_slug")).to_have_value("een-proef-onder-het-beleid")
    # The date shortcut "Vandaag" (DateTimeShortcuts.js) fills in today's date.
    page.locator(".field-published_on").get_by_role("link", name="Vandaag").click()
    today = datetime.date.today().strftime("%d-%m-%Y")
    expect(page.get_by_label("Datum:", exact=True)).to_have_value(today)
    # The calendar opens.
    page.locator(".field-published_on .date-icon").click()
    expect(page.locator(".calendarbox").first).to_be_visible()
    page.keyboard.press("Escape")
    # The source's autocomplete (select2 via autocomplete.js) opens, searches, picks.
    page.locator(".field-source .select2-selection").click()
    page.locator(".select2-dropdown .select2-search__field").fill("Paro")
    option = page.locator(".select2-results__option", has_text="Het Parool")
    expect(option).to_be_visible()
    option.click()
    expect(page.locator(".field-source .select2-selection__rendered")).to_have_attribute(
        "title", "Het Parool"
    )
    # An inline row for an actor link is added (inlines.js), with its own autocomplete.
    page.locator("#actor_links-group").get_by_role("button", name=re.compile("toevoegen")).click()
    row = page.locator("#actor_links-group tr.dynamic-actor_links")
    expect(row).to_have_count(1)
    row.locator(".select2-selection").click()
    page.locator(".select2-dropdown .select2-search__field").fill("Poetin")
    page.locator(".select2-results__option", has_text="Vladimir Poetin").click()
    expect(row.locator(".select2-selection__rendered")).to_have_attribute(
        "title", "Vladimir Poetin"
    )
    # The collapsed fieldsets open.
    page.get_by_text("Afgewezen voorstellen", exact=True).click()
    expect(page.locator(".field-rejected_actors")).to_be_visible()

    article = Article.objects.order_by("pk").first()
    assert_policy(page.goto(site + f"/admin/archive/article/{article.pk}/change/"))
    expect(page.locator("#actor_links-group .select2-selection__rendered").first).to_be_visible()


def test_admin_actor_and_event_forms_work_under_the_policy(site, admin_page):
    page = admin_page
    actor = Actor.objects.get(slug="vladimir-poetin")
    assert_policy(page.goto(site + f"/admin/archive/actor/{actor.pk}/change/"))
    expect(page.get_by_label("Naam:", exact=True)).to_have_value(actor.name)
    assert_policy(page.goto(site + "/admin/archive/actor/add/"))
    page.get_by_label("Naam:", exact=True).press_sequentially("Nieuwe Actor")
    expect(page.locator("#id_slug")).to_have_value("nieuwe-actor")

    event = Event.objects.get(slug="wagner-muiterij")
    assert_policy(page.goto(site + f"/admin/archive/event/{event.pk}/change/"))
    # A multiple choice: the autocomplete's search field is in the field itself.
    page.locator(".field-actors .select2-search__field").fill("Prigo")
    expect(page.locator(".select2-results__option").first).to_be_visible()
    page.keyboard.press("Escape")
    page.locator(".field-start_date").get_by_role("link", name="Vandaag").click()
    today = datetime.date.today().strftime("%d-%m-%Y")
    expect(page.locator("#id_start_date")).to_have_value(today)


def test_admin_paste_review_works_under_the_policy(site, admin_page):
    page = admin_page
    assert_policy(page.goto(site + "/admin/archive/article/plakken/"))
    page.get_by_label("Ruwe tekst").fill(
        "Poetin en de muiterij\n\nDe muiterij van Wagner liet zien hoe kwetsbaar het "
        "Kremlin is, schrijft onze correspondent.\n\nFoto Beeld ANP / EPA\n\n"
        "Prigozjin trok op naar Moskou en keerde toen om."
    )
    page.get_by_role("button", name="Opschonen en bekijken").click()
    removed = page.get_by_role("region", name=re.compile("Verwijderd bij het opschonen"))
    expect(removed).to_be_visible()
    # The review page's own styles come from admin.css now: removed text is bold-labelled.
    weight = page.evaluate(
        "() => getComputedStyle(document.querySelector('.removed-kind')).fontWeight"
    )
    assert weight == "700"
    page.locator(".field-published_on").get_by_role("link", name="Vandaag").click()
    today = datetime.date.today().strftime("%d-%m-%Y")
    expect(page.get_by_label("Datum:", exact=True)).to_have_value(today)
    page.locator(".field-source .select2-selection").click()
    expect(page.locator(".select2-dropdown .select2-search__field")).to_be_visible()
    page.keyboard.press("Escape")
    page.get_by_label("Genre:").select_option("commentaar")
    page.get_by_role("button", name="Opslaan en voorstellen bekijken").click()
    page.wait_for_url(re.compile(r"/admin/archive/article/\d+/change/$"))
    expect(page.locator("ul.messagelist")).to_contain_text("is opgeslagen")
