"""Django admin opens for staff on every model."""

import pytest
from django.contrib import admin
from django.urls import reverse

from archive.models import Article

pytestmark = pytest.mark.django_db

ARCHIVE_MODELS = [model for model in admin.site._registry if model._meta.app_label == "archive"]


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("redacteur", "r@example.org", "geheim-123")
    client.force_login(user)
    return client


def test_every_archive_model_is_in_admin():
    names = {model.__name__ for model in ARCHIVE_MODELS}
    assert {"Article", "Actor", "Event", "Source", "Author"} <= names


@pytest.mark.parametrize("model", ARCHIVE_MODELS, ids=lambda m: m.__name__)
def test_admin_list_and_add_pages_open(staff_client, model, django_assert_max_num_queries):
    prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    with django_assert_max_num_queries(15):
        listing = staff_client.get(reverse(f"{prefix}_changelist"))
    assert listing.status_code == 200
    assert staff_client.get(reverse(f"{prefix}_add")).status_code == 200
    obj = model.objects.first()
    change = staff_client.get(reverse(f"{prefix}_change", args=[obj.pk]))
    assert change.status_code == 200


def test_admin_article_search_uses_dutch_stemming(staff_client):
    url = reverse("admin:archive_article_changelist")
    response = staff_client.get(url, {"q": "Poetins"})
    found = {a.pk for a in response.context["cl"].result_list}
    assert found == set(Article.objects.search("Poetin").values_list("pk", flat=True))
    assert len(found) >= 3


def test_admin_is_closed_to_anonymous_readers(client):
    response = client.get(reverse("admin:archive_article_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
