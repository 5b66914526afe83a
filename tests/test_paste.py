"""Adding a piece in admin from pasted raw text: see what was removed, correct, save,
confirm the suggestions."""

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.urls import reverse

from archive.models import Actor, Article, Author, Source
from tests.seeds import SEED_SLUGS, seed_text

pytestmark = pytest.mark.django_db

PASTE = reverse("admin:archive_article_paste")
COLUMN = "000_e5e2b52ac800a774.txt"


@pytest.fixture
def raw_column():
    text = seed_text(COLUMN)
    # The fixtures hold this seed already; as a new piece it must not be there.
    Article.objects.filter(slug=SEED_SLUGS[COLUMN]).delete()
    return text


def review(client, raw):
    response = client.post(PASTE, {"raw": raw, "_clean": "1"})
    assert response.status_code == 200
    assert response.templates[0].name == "admin/archive/article/paste_review.html"
    return response


def save_data(response, **changes):
    """What the editor submits on the review page: the proposal, with changes."""
    form, extras = response.context["form"], response.context["extras"]
    data = {}
    for bound in [*form, *extras]:
        value = bound.value()
        if value in (None, False):
            continue
        if isinstance(value, list):
            data[bound.html_name] = [str(v) for v in value]
        else:
            data[bound.html_name] = str(value)
    data.update(changes)
    data["_save"] = "1"
    return {k: v for k, v in data.items() if v is not None}


def test_paste_page_opens_from_the_piece_list(staff_client):
    listing = staff_client.get(reverse("admin:archive_article_changelist"))
    assert PASTE in listing.content.decode()
    assert staff_client.get(PASTE).status_code == 200


def test_review_shows_what_the_cleaner_removed_and_proposes_the_rest(staff_client, raw_column):
    response = review(staff_client, raw_column)
    html = response.content.decode()
    assert "Verwijderd bij het opschonen (1)" in html
    assert "Over de auteur:" in html
    assert "<del>Derk Sauer is uitgever van The Moscow Times" in html
    assert "Derk Sauer als auteur toevoegen" in html
    initial = response.context["form"].initial
    assert initial["title"].startswith("De mist is na het krankzinnige etmaal")
    assert initial["genre"] == "column"
    assert initial["source"] == Source.objects.get(name="Het Parool").pk
    assert "Derk Sauer is uitgever" not in initial["body"]


def test_review_of_a_text_with_several_kinds_of_debris(staff_client):
    html = review(staff_client, seed_text("003_f9184eccdf6dd040.txt")).content.decode()
    assert "Verwijderd bij het opschonen (3)" in html
    assert "Plaatshouder voor ingesloten inhoud:" in html
    assert html.count("Fotobijschrift:") == 2
    assert "Herkend als tussenkop:" in html and "Lugubere verwijzing" in html


def test_save_stores_the_piece_with_suggestions_and_opens_it(staff_client, raw_column):
    response = review(staff_client, raw_column)
    saved = staff_client.post(
        PASTE,
        save_data(
            response,
            title="De bijna-coup kent alleen verliezers",
            published_on="2023-06-01",
            date_precision="month",
        ),
    )
    article = Article.objects.get(title="De bijna-coup kent alleen verliezers")
    assert saved.status_code == 302
    assert saved["Location"] == reverse("admin:archive_article_change", args=[article.pk])
    assert article.body == response.context["form"].initial["body"]
    assert [a.name for a in article.authors.all()] == ["Derk Sauer"]
    assert article.source.name == "Het Parool"
    prigozjin = article.actor_links.get(actor__slug="jevgeni-prigozjin")
    assert prigozjin.mentions > 5 and not prigozjin.confirmed
    assert article.event_links.filter(event__slug="wagner-muiterij", confirmed=False).exists()
    entry = LogEntry.objects.get(object_id=str(article.pk), action_flag=ADDITION)
    assert entry.user == staff_client.user

    # Confirm Prigozjin on the change page the editor lands on: through the test client
    # as the admin's own form, with its inline management data.
    change = staff_client.get(saved["Location"])
    assert "voorgesteld" in change.content.decode()


def test_new_author_from_a_bio_is_created_with_the_bio(staff_client):
    raw = (
        "Poetin zat in Moskou en zweeg. Het Kremlin liet niets van zich horen.\n\n"
        "Prigozjin trok verder op met Wagner.\n\n"
        "Anna Jansen is correspondent in Moskou voor deze krant."
    )
    response = review(staff_client, raw)
    staff_client.post(
        PASTE, save_data(response, genre="analyse", published_on="2023-06-24", date_precision="day")
    )
    author = Author.objects.get(name="Anna Jansen")
    assert author.bio == "Anna Jansen is correspondent in Moskou voor deze krant."
    assert author.articles.get().genre == "analyse"


def test_the_bio_author_can_be_declined(staff_client):
    raw = (
        "Poetin zat in Moskou en zweeg. Het Kremlin liet niets van zich horen.\n\n"
        "Bert de Wit is columnist bij een andere krant."
    )
    response = review(staff_client, raw)
    data = save_data(response, genre="column", published_on="2023-06-24", date_precision="day")
    del data["add_bio_author"]
    staff_client.post(PASTE, data)
    assert not Author.objects.filter(name="Bert de Wit").exists()
    assert Article.objects.filter(body__startswith="Poetin zat in Moskou").exists()


def test_pasting_a_piece_again_is_refused_and_names_the_piece(staff_client):
    raw = seed_text(COLUMN)
    response = review(staff_client, raw)
    existing = Article.objects.get(slug=SEED_SLUGS[COLUMN])
    assert f"staat al in het archief: <a href='/admin/archive/article/{existing.pk}/change/'>" in (
        response.content.decode()
    )
    count = Article.objects.count()
    again = staff_client.post(
        PASTE, save_data(response, published_on="2023-06-01", date_precision="month")
    )
    assert again.status_code == 200
    assert "staat al in het archief" in str(again.context["form"].errors["body"])
    assert Article.objects.count() == count


def test_a_near_copy_needs_the_editor_to_say_it_is_another_piece(staff_client):
    raw = seed_text(COLUMN).replace("De mist is na", "De nevel is na") + "\n\nEen nagekomen zin."
    response = review(staff_client, raw)
    data = save_data(response, genre="column", published_on="2023-06-01", date_precision="month")
    refused = staff_client.post(PASTE, data)
    assert "lijkt sterk op" in str(refused.context["form"].errors["body"])
    assert "Toch opslaan als apart stuk" in refused.content.decode()
    count = Article.objects.count()
    kept = staff_client.post(PASTE, {**data, "keep_near_duplicate": "on"})
    assert kept.status_code == 302, kept.context["form"].errors
    assert Article.objects.count() == count + 1


def test_a_text_that_is_all_debris_is_refused(staff_client):
    response = staff_client.post(
        PASTE, {"raw": "Volledig scherm Poetin in Moskou. © AFP", "_clean": "1"}
    )
    assert "Na het opschonen blijft er geen tekst over." in response.content.decode()


def test_readers_and_staff_without_add_permission_cannot_paste(client, django_user_model):
    assert client.get(PASTE).status_code == 302  # to the login page
    staff = django_user_model.objects.create_user("lezer", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get(PASTE).status_code == 403


def test_prigozjin_is_not_suggested_for_a_text_without_him(staff_client):
    raw = "Poetin zat in Moskou en zweeg.\n\nHet Kremlin liet niets van zich horen."
    response = review(staff_client, raw)
    staff_client.post(
        PASTE, save_data(response, genre="nieuws", published_on="2023-06-24", date_precision="day")
    )
    article = Article.objects.get(body__startswith="Poetin zat in Moskou en zweeg.")
    slugs = set(article.actor_links.values_list("actor__slug", flat=True))
    assert "vladimir-poetin" in slugs
    assert "jevgeni-prigozjin" not in slugs
    assert Actor.objects.filter(slug="jevgeni-prigozjin").exists()


def test_a_near_copy_kept_on_purpose_can_still_be_edited(staff_client):
    original = Article.objects.get(slug=SEED_SLUGS[COLUMN])
    copy = Article.objects.create(
        title="Bewuste bijna-kopie",
        body=original.body.replace("De mist is na", "De nevel is na"),
        genre="column",
        published_on=original.published_on,
        date_precision=original.date_precision,
    )
    url = reverse("admin:archive_article_change", args=[copy.pk])
    form = staff_client.get(url).context["adminform"].form
    data = {
        name: form[name].value() if form[name].value() is not None else ""
        for name in ("title", "slug", "lead", "body", "genre", "published_on", "date_precision")
    }
    data["published_on"] = copy.published_on.strftime("%d-%m-%Y")
    data["title"] = "Bewuste bijna-kopie, nieuwe kop"
    for prefix in ("actor_links", "event_links"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    copy.refresh_from_db()
    assert copy.title == "Bewuste bijna-kopie, nieuwe kop"
    # Making it an exact copy of another piece is still refused.
    refused = staff_client.post(url, {**data, "body": original.body})
    assert "staat al in het archief" in str(refused.context["adminform"].form.errors["body"])
