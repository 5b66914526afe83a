"""Model rules the database itself enforces, and what models derive."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from archive.models import Article
from tests.factories import make_article

pytestmark = pytest.mark.django_db


def test_rejects_month_precision_date_not_on_first_day():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_article("Tekst.", published_on=datetime.date(2023, 6, 25), date_precision="month")


def test_rejects_identical_text_twice_even_with_other_case_and_spacing():
    make_article("Een zin over de Wagnercolonne.\n\nEn nog een.")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_article("  een zin over de  wagnercolonne.\nen nog een. ")


def test_content_hash_is_filled_by_the_database():
    article = make_article("Unieke tekst voor de hash.")
    article.refresh_from_db()
    assert len(article.content_hash) == 32


def test_period_covers_the_whole_month_or_year():
    month = Article(published_on=datetime.date(2024, 2, 1), date_precision="month")
    year = Article(published_on=datetime.date(2022, 1, 1), date_precision="year")
    day = Article(published_on=datetime.date(2023, 6, 26), date_precision="day")
    assert month.period == (datetime.date(2024, 2, 1), datetime.date(2024, 2, 29))
    assert year.period == (datetime.date(2022, 1, 1), datetime.date(2022, 12, 31))
    assert day.period == (datetime.date(2023, 6, 26),) * 2


def test_blocks_tell_subheadings_from_paragraphs():
    article = Article(body="Eerste alinea.\n\n## Een tussenkop\n\nTweede\nalinea.")
    assert article.blocks() == [
        ("p", "Eerste alinea."),
        ("h2", "Een tussenkop"),
        ("p", "Tweede alinea."),
    ]


def test_slug_is_made_unique_from_title():
    first = make_article("Tekst een.", title="Zelfde kop")
    second = make_article("Tekst twee.", title="Zelfde kop")
    assert first.slug == "zelfde-kop"
    assert second.slug == "zelfde-kop-2"
