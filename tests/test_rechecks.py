"""Re-checks in the background: queued by the editor's save, run by the task worker,
shown in admin, the same links as a re-check made on the spot, twice the same."""

import datetime

import pytest
from django.db import transaction
from django.urls import reverse

from archive import rechecks, tagging
from archive.models import Actor, ArticleActor, ArticleEvent, Event, Recheck
from tests.factories import make_article, run_tasks
from tests.test_admin import form_data, messages_of

pytestmark = pytest.mark.django_db


def links_of(actor):
    return set(
        ArticleActor.objects.filter(actor=actor).values_list("article_id", "mentions", "confirmed")
    )


@pytest.fixture
def pieces():
    return [
        make_article(f"De Kroniekwachter sprak {n} keer. Later zweeg de Kroniekwachter weer.")
        for n in range(3)
    ] + [make_article("Kroniekwachterskorps op pad; niemand anders.")]


def test_a_background_recheck_lands_the_links_a_recheck_on_the_spot_makes(staff_client, pieces):
    actor = Actor.objects.create(name="Karel Wachter", slug="karel-wachter", kind="organisation")
    actor.aliases = ["Kroniekwachter"]
    actor.save()
    # On the spot, as admin used to do it: the links it makes, then undone.
    with transaction.atomic():
        assert tagging.recheck_actor(actor, names=["Kroniekwachter"]) == 4
        on_the_spot = links_of(actor)
        transaction.set_rollback(True)
    actor.aliases = []
    actor.save()
    assert links_of(actor) == set()

    url = reverse("admin:archive_actor_change", args=[actor.pk])
    data = form_data(staff_client.get(url))
    data.update(aliases="Kroniekwachter", _save="Opslaan")
    assert staff_client.post(url, data).status_code == 302
    assert links_of(actor) == set()  # the save did not wait for it
    recheck = Recheck.objects.get(actor=actor)
    assert (recheck.status, recheck.names) == ("queued", ["Kroniekwachter"])
    run_tasks()
    assert links_of(actor) == on_the_spot
    recheck.refresh_from_db()
    assert (recheck.status, recheck.pieces, recheck.checked, recheck.changed) == ("done", 4, 4, 4)
    assert recheck.progress == "4 van 4 stukken bekeken; 4 koppelingen"


def test_running_a_recheck_twice_changes_nothing_the_second_time(pieces):
    actor = Actor.objects.create(
        name="Wachtdienst", slug="wachtdienst", kind="organisation", aliases=["Kroniekwachter"]
    )
    first = rechecks.queue("nieuwe naam", actor=actor)
    second = rechecks.queue("nieuwe naam", actor=actor)
    run_tasks()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.changed, second.changed) == (4, 0)
    assert len(links_of(actor)) == 4


def test_admin_shows_how_far_a_recheck_is(staff_client):
    actor = Actor.objects.get(slug="wagner")
    Recheck.objects.create(
        actor=actor,
        reason="nieuwe naam “Wagnerieten”",
        status="running",
        pieces=10269,
        checked=3200,
    )
    page = staff_client.get(reverse("admin:archive_actor_change", args=[actor.pk]))
    assert "nieuwe naam “Wagnerieten”: 3.200 van 10.269 stukken bekeken" in page.content.decode()
    listing = staff_client.get(reverse("admin:archive_recheck_changelist"))
    assert "3.200 van 10.269 stukken bekeken" in listing.content.decode()


def test_changing_an_actors_kind_rechecks_its_pieces(staff_client):
    piece = make_article("Volgens Jansen is het zo. Dat zei Kees Jansen later nog eens.")
    actor = Actor.objects.create(name="Kees Jansen", slug="kees-jansen", kind="organisation")
    url = reverse("admin:archive_actor_change", args=[actor.pk])
    data = form_data(staff_client.get(url))
    data.update(kind="person", _save="Opslaan")
    response = staff_client.post(url, data)
    assert "De soort is veranderd: het archief loopt de stukken op de achtergrond na" in (
        " ".join(messages_of(response))
    )
    run_tasks()
    # A person is found by the surname alone as well.
    assert ArticleActor.objects.get(actor=actor, article=piece).mentions == 2


def test_new_signal_words_recheck_an_events_pieces(staff_client):
    event = Event.objects.create(
        name="Kroniekstaking",
        slug="kroniekstaking",
        start_date=datetime.date(2024, 3, 1),
        end_date=datetime.date(2024, 3, 5),
        signal_words=["staking"],
    )
    event.actors.add(Actor.objects.get(slug="wagner"))
    piece = make_article(
        "Wagner over de havenblokkade en de staking.",
        published_on=datetime.date(2024, 3, 2),
    )
    tagging.apply_suggestions(piece)
    assert not ArticleEvent.objects.filter(event=event).exists()  # one signal word: too little

    url = reverse("admin:archive_event_change", args=[event.pk])
    data = form_data(staff_client.get(url))
    data.update(signal_words="staking,havenblokkade", _save="Opslaan")
    response = staff_client.post(url, data)
    assert response.status_code == 302
    assert "Signaalwoorden gewijzigd: het archief loopt de stukken" in " ".join(
        messages_of(response)
    )
    assert not ArticleEvent.objects.filter(event=event).exists()
    run_tasks()
    link = ArticleEvent.objects.get(event=event, article=piece)
    assert not link.confirmed
    assert link.evidence == ("datum past; actoren: Wagner; signaalwoorden: staking, havenblokkade")

    # The word taken away again: the suggestion it made is withdrawn.
    data = form_data(staff_client.get(url))
    data.update(signal_words="staking", _save="Opslaan")
    staff_client.post(url, data)
    run_tasks()
    assert not ArticleEvent.objects.filter(event=event, article=piece).exists()


def test_a_confirmed_event_link_stays_whatever_the_signal_words(staff_client):
    event = Event.objects.get(slug="wagner-muiterij")
    confirmed = set(
        ArticleEvent.objects.filter(event=event, confirmed=True).values_list("article", flat=True)
    )
    assert confirmed
    event.signal_words = ["iets-heel-anders"]
    event.save()
    assert tagging.recheck_event(event) >= 0
    assert confirmed <= set(
        ArticleEvent.objects.filter(event=event).values_list("article", flat=True)
    )
