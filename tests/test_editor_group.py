"""The editor group: made by migrate, enough for daily work on the archive and nothing
on users; what editors do is on record."""

import pytest
from django.apps import apps
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from archive.apps import EDITOR_GROUP, editor_permissions, ensure_editor_group
from archive.models import Actor, Article, Event
from tests.test_admin import OWN_TEXT, form_data, new_piece_data

pytestmark = pytest.mark.django_db


def held(group):
    return set(group.permissions.values_list("content_type__app_label", "codename"))


@pytest.fixture
def editor(django_user_model):
    user = django_user_model.objects.create_user("eva", "eva@example.org", "geheim-123")
    user.is_staff = True
    user.save()
    user.groups.add(Group.objects.get(name=EDITOR_GROUP))
    return user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def test_migrate_made_the_editor_group_with_its_permissions():
    # The test database was made by migrate, from nothing: the group's permissions
    # existed by the time the handler ran, although auth's own handler runs after it.
    group = Group.objects.get(name=EDITOR_GROUP)
    assert held(group) == set(editor_permissions())


def test_editors_may_reject_links_but_not_delete_pieces_or_touch_users():
    codenames = {codename for _, codename in held(Group.objects.get(name=EDITOR_GROUP))}
    assert {"delete_articleactor", "delete_articleevent", "view_logentry"} <= codenames
    assert "delete_article" not in codenames
    assert not {c for c in codenames if c.endswith(("_user", "_group", "_permission"))}


def test_making_the_group_again_changes_nothing_and_keeps_additions():
    group = Group.objects.get(name=EDITOR_GROUP)
    extra = Permission.objects.get(codename="delete_source")
    group.permissions.add(extra)
    missing = Permission.objects.get(codename="change_actor")
    group.permissions.remove(missing)
    for _ in range(2):
        ensure_editor_group(apps.get_app_config("archive"), verbosity=0)
    assert Group.objects.filter(name=EDITOR_GROUP).count() == 1
    assert held(group) == set(editor_permissions()) | {("archive", "delete_source")}


def test_editor_can_add_a_piece(editor_client, editor):
    add_url = reverse("admin:archive_article_add")
    assert editor_client.get(add_url).status_code == 200
    data = new_piece_data(editor_client, "Wagner trekt op", OWN_TEXT)
    response = editor_client.post(add_url, data)
    assert response.status_code == 302
    article = Article.objects.get(title="Wagner trekt op")
    assert article.actor_links.filter(confirmed=False).exists()
    assert LogEntry.objects.filter(
        user=editor, object_id=str(article.pk), action_flag=ADDITION
    ).exists()


def test_editor_can_change_actors_and_events(editor_client, editor):
    for obj, field, value in [
        (Actor.objects.get(slug="wagner"), "description", "Particulier leger."),
        (Event.objects.first(), "description", "Bijgewerkt door de redactie."),
    ]:
        url = reverse(f"admin:archive_{obj._meta.model_name}_change", args=[obj.pk])
        data = form_data(editor_client.get(url))
        data.update({field: value, "_save": "Opslaan"})
        assert editor_client.post(url, data).status_code == 302
        obj.refresh_from_db()
        assert getattr(obj, field) == value
        assert LogEntry.objects.filter(
            user=editor, object_id=str(obj.pk), action_flag=CHANGE
        ).exists()


def test_editor_cannot_manage_users_or_delete_pieces(editor_client):
    assert editor_client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert editor_client.get(reverse("admin:auth_group_changelist")).status_code == 403
    article = Article.objects.first()
    delete = reverse("admin:archive_article_delete", args=[article.pk])
    assert editor_client.get(delete).status_code == 403


def test_editor_sees_the_history(editor_client, editor):
    actor = Actor.objects.get(slug="wagner")
    url = reverse("admin:archive_actor_change", args=[actor.pk])
    data = form_data(editor_client.get(url))
    data.update(description="Huurlingen.", _save="Opslaan")
    editor_client.post(url, data)
    listing = editor_client.get(reverse("admin:admin_logentry_changelist"))
    assert listing.status_code == 200
    assert {e.user for e in listing.context["cl"].result_list} == {editor}
    history = editor_client.get(reverse("admin:archive_actor_history", args=[actor.pk]))
    assert history.status_code == 200
    assert "eva" in history.content.decode()
