"""The cleaner: each kind of debris in the seeds goes, real text stays."""

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.cleaning import clean, first_sentences, normalise, parse_partial_date
from tests.seeds import SEED_SLUGS, fixture_articles, seed_text


def kinds(cleaned) -> list[str]:
    return [item.kind for item in cleaned.removed]


def test_removes_image_caption_with_credit():
    cleaned = clean(seed_text("001_d795838efdc0c2e1.txt"))
    assert kinds(cleaned) == ["caption"]
    assert cleaned.removed[0].text.endswith("Beeld ANP / EPA")
    assert "Beeld ANP" not in cleaned.body
    assert cleaned.body.startswith("De beelden dit weekend waren")


def test_removes_cookie_placeholder_and_full_screen_captions():
    cleaned = clean(seed_text("003_f9184eccdf6dd040.txt"))
    assert kinds(cleaned) == ["placeholder", "caption", "caption"]
    assert cleaned.removed[0].text.startswith("Onze excuses Helaas kunnen wij")
    assert [r.text.split()[-1] for r in cleaned.removed[1:]] == ["AFP", "REUTERS"]
    for debris in ("Onze excuses", "social media-cookies", "Volledig scherm", "©"):
        assert debris not in cleaned.body


def test_recognises_subheadings():
    cleaned = clean(seed_text("003_f9184eccdf6dd040.txt"))
    assert cleaned.subheadings == [
        "‘Vastgebonden aan handen en voeten’",
        "‘Niet nog eens’",
        "Lugubere verwijzing",
        "‘100 procent verantwoordelijk als je faalt’",
    ]


def test_takes_leading_metadata_line_as_date():
    cleaned = clean(seed_text("002_19155bdbfa8b189d.txt"))
    assert kinds(cleaned) == ["metadata"]
    assert cleaned.removed[0].text == "date 2022-02"
    assert (cleaned.published_on, cleaned.date_precision) == (datetime.date(2022, 2, 1), "month")
    assert cleaned.body.startswith("Drie maanden nadat Poetin")


def test_recognises_author_bio_at_the_end():
    cleaned = clean(seed_text("000_e5e2b52ac800a774.txt"))
    assert kinds(cleaned) == ["bio"]
    assert cleaned.bio_author == "Derk Sauer"
    assert cleaned.bio.startswith("Derk Sauer is uitgever van The Moscow Times")
    assert cleaned.is_column
    assert "Vedomosti" not in cleaned.body


@pytest.mark.parametrize("name", sorted(SEED_SLUGS))
def test_cleaned_seed_is_the_fixture_body(name):
    expected = fixture_articles()[SEED_SLUGS[name]]["body"]
    assert clean(seed_text(name)).body == expected


@pytest.mark.parametrize("slug", sorted(SEED_SLUGS.values()))
def test_clean_text_loses_nothing(slug):
    body = fixture_articles()[slug]["body"]
    cleaned = clean(body)
    assert cleaned.removed == []
    assert cleaned.body == body


def test_sentences_that_look_a_little_like_debris_stay():
    text = (
        "Beeld je in dat Poetin morgen aftreedt: wat dan?\n\n"
        "De foto in de krant had als bijschrift alleen een naam. Beeld en tekst vulden "
        "elkaar aan, © of niet.\n\n"
        "Onze excuses aan de lezers van vorige week: de cijfers klopten niet.\n\n"
        "De correspondent schreef het op. Hij is columnist.\n\n"
        "Vladimir Poetin is sinds 2000 president van Rusland, op vier jaar als premier na."
    )
    cleaned = clean(text)
    assert cleaned.body == text
    assert cleaned.removed == []


def test_proposes_headline_and_lead_from_the_opening():
    cleaned = clean(seed_text("000_e5e2b52ac800a774.txt"))
    assert cleaned.headline == (
        "De mist is na het krankzinnige etmaal achter ons nog lang niet opgetrokken."
    )
    assert not cleaned.headline_found
    assert cleaned.lead.startswith(cleaned.headline)
    assert len(cleaned.lead) <= 300


def test_a_pasted_headline_line_becomes_the_headline():
    cleaned = clean(
        "Poetin verliest gezicht na muiterij\n\n"
        "Het was een krankzinnig etmaal. Niemand zag het aankomen.\n\n"
        "Prigozjin keerde om bij Moskou."
    )
    assert cleaned.headline == "Poetin verliest gezicht na muiterij"
    assert cleaned.headline_found
    assert [r.kind for r in cleaned.removed] == ["headline"]
    assert cleaned.body.startswith("Het was een krankzinnig etmaal.")


def test_text_pasted_with_single_newlines_keeps_its_paragraphs():
    cleaned = clean("Eerste alinea over Poetin.\nTweede alinea over Wagner.\nDerde alinea.")
    assert cleaned.paragraphs == [
        "Eerste alinea over Poetin.",
        "Tweede alinea over Wagner.",
        "Derde alinea.",
    ]


def test_control_characters_and_invisible_marks_are_dropped():
    cleaned = clean("Poe\x00tin\u00ad sprak\u200b.\r\n\r\nDe\x07 rest\ufeff.")
    assert cleaned.body == "Poetin sprak.\n\nDe rest."


def test_partial_dates():
    assert parse_partial_date("2023") == (datetime.date(2023, 1, 1), "year")
    assert parse_partial_date("2023-06") == (datetime.date(2023, 6, 1), "month")
    assert parse_partial_date("2023-06-25") == (datetime.date(2023, 6, 25), "day")
    with pytest.raises(ValueError):
        parse_partial_date("2023-13")


def test_first_sentences_cut_a_long_sentence_at_a_word():
    text = "Een " + "heel " * 60 + "lange zin."
    short = first_sentences(text, 50)
    assert short.endswith("…")
    assert len(short) <= 51
    assert text.startswith(short.removesuffix("…"))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3000))
def test_any_text_cleans_without_error_and_invents_nothing(raw):
    cleaned = clean(raw)
    words_in = set(normalise(raw).split())
    for word in cleaned.body.split():
        if word != "##":
            assert any(word in original for original in words_in)
    assert "\x00" not in cleaned.body


def test_long_runs_of_capitals_after_a_credit_word_do_not_hang():
    # The caption pattern must not backtrack over a long word (it is possessive).
    cleaned = clean("Beeld " + "A" * 20_000 + "!\n\nTekst.")
    assert cleaned.body.endswith("Tekst.")
