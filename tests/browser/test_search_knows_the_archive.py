"""Search that knows the archive, in the browser: a reader who names an event finds the
pieces about it and its panel; a place's adjective counts for the place; a word inside
a compound is found; an editor who adds a derived form to an actor makes its pieces
findable by the actor's name."""

import datetime
import re

from playwright.sync_api import expect

from archive.models import Actor, Article
from tests.browser.test_editor_flow import PASSWORD, USERNAME, editor  # noqa: F401
from tests.factories import make_article, run_tasks
from tests.seeds import SEED_SLUGS

RESULT_LINKS = "ol.pieces li.piece h3 a"
COUP = SEED_SLUGS["000_e5e2b52ac800a774.txt"]
OPMARS = SEED_SLUGS["001_d795838efdc0c2e1.txt"]


def search_from_home(page, site, query):
    page.goto(site + "/")
    page.get_by_label("Zoek in het archief").fill(query)
    page.get_by_label("Zoek in het archief").press("Enter")
    page.wait_for_url(re.compile(r"/zoeken/\?q="))


def result_titles(page) -> list[str]:
    return page.locator(RESULT_LINKS).all_inner_texts()


def test_a_reader_names_an_event_and_narrows_to_its_pieces(site, page):
    search_from_home(page, site, "muiterij")
    titles = {Article.objects.get(slug=s).title for s in (COUP, OPMARS)}
    assert set(result_titles(page)) == titles

    # Neither piece says "muiterij": each says why it is in the list.
    for piece in page.locator("ol.pieces li.piece").all():
        expect(piece.locator(".via")).to_contain_text("Muiterij van Wagner")

    panel = page.get_by_role("complementary", name="Muiterij van Wagner")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("gebeurtenis")
    expect(panel).to_contain_text("23 juni 2023")
    expect(panel).to_contain_text("2 stukken")
    panel.get_by_role("link", name="Alleen stukken over Muiterij van Wagner").click()
    page.wait_for_url(re.compile(r"/zoeken/\?event=wagner-muiterij$"))
    expect(page.get_by_role("list", name="Actieve filters")).to_contain_text("Muiterij van Wagner")
    assert set(result_titles(page)) == titles

    page.go_back()
    page.get_by_role("complementary", name="Muiterij van Wagner").get_by_role(
        "link", name="Naar de pagina over Muiterij van Wagner"
    ).click()
    page.wait_for_url(re.compile(r"/gebeurtenis/wagner-muiterij/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Muiterij van Wagner")


def test_a_place_and_a_compound_part_find_what_the_text_says_otherwise(site, page):
    adjective = make_article(
        "De Oekraïense regering stuurde haar minister naar de top.",
        title="Alleen het bijvoeglijk naamwoord",
        published_on=datetime.date(2019, 3, 1),
    )
    exact = make_article("Het akkoord is getekend.", title="Het woord zelf")
    compound = make_article(
        "Het klimaatakkoord is getekend.", title="Het woord in een samenstelling"
    )

    search_from_home(page, site, "Oekraine")
    expect(page.locator(RESULT_LINKS).filter(has_text=adjective.title)).to_have_count(1)

    search_from_home(page, site, "akkoord")
    titles = result_titles(page)
    assert exact.title in titles and compound.title in titles
    # The word itself before the compound that holds it.
    assert titles.index(exact.title) < titles.index(compound.title)


def test_an_editor_adds_a_derived_form_and_a_reader_finds_by_the_name(
    site,
    page,
    new_page,
    editor,  # noqa: F811
):
    # The fixture ships the demonym; this archive's editor has not added it yet.
    moscow = Actor.objects.get(name="Moskou")
    moscow.derived_forms = [f for f in moscow.derived_forms if not f.startswith("Moskovi")]
    moscow.save()
    piece = make_article(
        "Duizenden Moskovieten kwamen naar het plein.",
        title="De stad liep uit",
        published_on=datetime.date(2020, 5, 1),
    )
    reader = new_page(1280, 900)
    search_from_home(reader, site, "Moskou")
    expect(reader.locator(RESULT_LINKS).filter(has_text=piece.title)).to_have_count(0)

    page.goto(site + "/admin/")
    page.get_by_label("Gebruikersnaam").fill(USERNAME)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url(site + "/admin/")
    page.goto(site + "/admin/archive/actor/?q=Moskou")
    page.get_by_role("link", name="Moskou", exact=True).click()
    field = page.get_by_label("Afgeleide vormen:")
    current = field.input_value()
    assert "Moskovieten" not in current
    field.fill(", ".join(f for f in [current, "Moskovieten"] if f))
    page.get_by_role("button", name="Opslaan", exact=True).click()
    expect(page.locator("ul.messagelist")).to_contain_text("gewijzigd")
    expect(page.locator("ul.messagelist")).to_contain_text("op de achtergrond na")

    search_from_home(reader, site, "Moskou")
    expect(reader.locator(RESULT_LINKS).filter(has_text=piece.title)).to_have_count(1)
    # Tagging sees it too, once the task worker has re-checked the pieces: the piece
    # now counts for Moskou.
    run_tasks()
    assert piece.actor_links.filter(actor__name="Moskou").exists()
