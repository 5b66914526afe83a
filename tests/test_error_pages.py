"""Every error answers a Dutch page in the site's look (JSON under /api/), with the right
status code, and the pages shown when things are broken need neither the request nor
the database."""

import json
import re

import pytest
from django.contrib.auth.models import Permission
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

HEADINGS = {
    400: "Dit verzoek begrijpen we niet",
    403: "Geen toegang",
    404: "Pagina niet gevonden",
    429: "Even rustig aan",
    500: "Er ging iets mis",
    503: "Het archief is even niet bereikbaar",
}
TIMEOUT_HEADING = "Deze zoekopdracht duurde te lang"


def heading(html: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert found, html[:500]
    return found.group(1).strip()


def assert_error_page(response, status):
    assert response.status_code == status
    html = response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert heading(html) == HEADINGS[status]
    # The site's own look and a way on: the header with its search box, a link home.
    assert 'class="site"' in html and 'id="zoekveld"' in html
    assert 'href="/">Naar de voorpagina</a>' in html
    assert "Content-Security-Policy" in response
    return html


def explode(*args, **kwargs):
    raise RuntimeError("kapot")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/artikel/dit-stuk-bestaat-niet/",
        "/actor/niemand/",
        "/gebeurtenis/nooit-gebeurd/",
        "/bron/geen-krant/",
        "/auteur/niemand/",
        "/genre/roddel/",
        "/actor/niemand/feed/",
        "/dit/adres/bestaat/niet/",
    ],
)
def test_unknown_pages_answer_the_dutch_404(client, path):
    html = assert_error_page(client.get(path), 404)
    assert "Op dit adres staat niets" in html


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/bestaat-niet/", "/api/zoeken/extra/"])
def test_unknown_api_addresses_answer_json(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"error": "Dit adres bestaat niet.", "status": 404}


@pytest.mark.django_db
def test_a_disallowed_host_answers_the_dutch_400(client):
    html = assert_error_page(client.get("/", HTTP_HOST="kwaadaardig.example"), 400)
    assert "kunnen we niet verwerken" in html
    # The error page itself must not ask for the host it was refused for.
    assert "kwaadaardig.example" not in html


@pytest.mark.django_db
def test_too_many_parameters_answer_400_not_500(client):
    query = "&".join(f"actor=a{n}" for n in range(1500))
    assert_error_page(client.get("/zoeken/?" + query), 400)


@pytest.mark.django_db
def test_a_form_without_its_csrf_token_answers_the_dutch_403():
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("admin:login"), {"username": "iemand", "password": "geheim"})
    html = assert_error_page(response, 403)
    assert "laad de pagina opnieuw" in html
    assert "CSRF verification failed" not in html


@pytest.mark.django_db
def test_a_post_to_the_api_without_a_csrf_token_answers_json():
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("archive:api_browse"), {"q": "Poetin"})
    assert response.status_code == 403
    assert response.json() == {"error": "Geen toegang.", "status": 403}


@pytest.mark.django_db
def test_an_editor_without_the_right_answers_the_dutch_403(client, django_user_model):
    user = django_user_model.objects.create_user("lezer", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_article"))
    client.force_login(user)
    # The paste page needs the right to add pieces.
    html = assert_error_page(client.get(reverse("admin:archive_article_paste")), 403)
    assert "geen toestemming" in html


@pytest.mark.django_db
def test_a_view_that_fails_answers_the_dutch_500(client, monkeypatch):
    monkeypatch.setattr("archive.views.archive_total", explode)
    client.raise_request_exception = False
    html = assert_error_page(client.get("/"), 500)
    assert "kapot" not in html  # nothing of the error itself reaches the reader


@pytest.mark.django_db
def test_a_failing_api_answers_json_500(client, monkeypatch):
    monkeypatch.setattr("archive.api.Browse", explode)
    client.raise_request_exception = False
    response = client.get("/api/zoeken/", {"q": "Poetin"})
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    assert data["status"] == 500 and data["error"].startswith("Er ging iets mis")


# No django_db mark: pytest-django refuses every database access in these tests, as a
# database that is away would.


def test_the_500_page_is_served_without_the_database(client, monkeypatch):
    monkeypatch.setattr("archive.views.archive_total", explode)
    client.raise_request_exception = False
    assert_error_page(client.get("/"), 500)


@pytest.mark.parametrize("template", ["500.html", "503.html", "400.html", "429.html"])
def test_pages_for_broken_moments_render_from_an_empty_context(template):
    status = int(template[:3])
    assert heading(render_to_string(template)) == HEADINGS[status]


@pytest.mark.django_db
@pytest.mark.parametrize("template", ["500.html", "503.html"])
def test_pages_for_broken_moments_query_nothing(template, django_assert_num_queries):
    with django_assert_num_queries(0):
        html = render_to_string(template, {"reason": "unavailable", "retry_after": 30})
    assert heading(html) == HEADINGS[int(template[:3])]


@pytest.mark.parametrize(
    "retry_after, said",
    [(30, "over 30 seconden"), (1, "over 1 seconde"), (600, "over ongeveer 10 minuten")],
)
def test_429_says_when_to_try_again(retry_after, said):
    html = render_to_string("429.html", {"retry_after": retry_after})
    assert heading(html) == "Even rustig aan"
    assert f"Probeer het {said}" in " ".join(html.split())


def test_429_without_retry_after_still_says_when():
    assert "Probeer het over een minuut opnieuw" in " ".join(render_to_string("429.html").split())


def test_503_for_a_database_that_is_away():
    html = render_to_string("503.html", {"reason": "unavailable", "retry_after": 15})
    assert heading(html) == "Het archief is even niet bereikbaar"
    assert "over 15 seconden opnieuw" in " ".join(html.split())


def test_503_for_a_search_that_took_too_long_suggests_narrowing_it():
    query = '"Wagner" <script>alert(1)</script>'
    html = render_to_string("503.html", {"reason": "timeout", "query": query, "retry_after": 5})
    assert heading(html) == TIMEOUT_HEADING
    text = " ".join(html.split())
    assert "kies een periode, een bron" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html
