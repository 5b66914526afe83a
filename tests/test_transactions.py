"""A save cut off by a lost database connection leaves nothing half-written.

The connection is killed for real: a second connection terminates the saving one's
backend at the moment the piece's row is written and its links are not (the first
INSERT into the link table), as a crash, a failover or an operator would. Afterwards a
new connection looks: neither the piece nor any of its links may be there. These need
real commits (transactional_db)."""

import contextlib
import io

import psycopg
import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from archive.models import Actor, Article, ArticleActor, ArticleEvent
from tests.test_admin import OWN_TEXT, add_inline_row, form_data, new_piece_data

pytestmark = pytest.mark.django_db(transaction=True)

LINKS = 'INSERT INTO "archive_articleactor"'
ARTICLE = 'INSERT INTO "archive_article"'


@pytest.fixture(autouse=True)
def seeds():
    call_command("loaddata", "seed_articles", verbosity=0)


@pytest.fixture(autouse=True)
def _no_dead_connection_left():
    yield
    if connection.connection is not None and not connection.is_usable():
        connection.close()


def request_ended():
    """What the WSGI server's end of a request does to the connection (the test client
    leaves it out): one that failed and no longer works is closed."""
    connection.close_if_unusable_or_obsolete()


@contextlib.contextmanager
def killed_at(fragment: str, times: int = 1):
    """Terminates the default connection's backend, from a second connection, when it is
    about to send a statement containing `fragment` (the first `times` such moments).
    Yields the statements sent before each kill, so a test can show where it struck."""
    sent, kills = [], []

    def wrapper(execute, sql, params, many, context):
        if fragment in sql and len(kills) < times:
            pid = context["connection"].connection.info.backend_pid
            with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", [pid])
            kills.append(list(sent))
        sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield kills
    assert len(kills) == times, f"the statement with {fragment!r} was never sent"


def test_an_editors_save_cut_off_before_its_links_leaves_no_piece(staff_client):
    navo = Actor.objects.get(slug="navo")
    data = new_piece_data(staff_client, "Half geschreven", OWN_TEXT)
    # A link made by hand in the form, besides the ones the archive will suggest.
    add_inline_row(data, "actor_links", actor=str(navo.pk), confirmed="on")
    links_before = ArticleActor.objects.count()
    entries_before = LogEntry.objects.count()

    with killed_at(LINKS) as kills:
        response = staff_client.post(reverse("admin:archive_article_add"), data)

    # Struck after the piece's row was written, before any of its links.
    assert any(sql.startswith(ARTICLE) for sql in kills[0])
    # The editor is told the archive is away, not shown a crash.
    assert response.status_code == 503
    assert "Het archief is even niet bereikbaar" in response.content.decode()
    # A new connection finds nothing of it: not the piece, its links, nor its history.
    assert not Article.objects.filter(title="Half geschreven").exists()
    assert ArticleActor.objects.count() == links_before
    assert LogEntry.objects.count() == entries_before
    # The counts the link triggers keep went back with the links.
    navo.refresh_from_db()
    assert navo.piece_count == ArticleActor.objects.filter(actor=navo).count()

    # The same form, sent again once the database is there, saves all of it.
    response = staff_client.post(reverse("admin:archive_article_add"), data)
    assert response.status_code == 302
    article = Article.objects.get(title="Half geschreven")
    assert article.actor_links.filter(actor=navo, confirmed=True).exists()
    assert article.actor_links.filter(actor__slug="jevgeni-prigozjin").exists()


def test_an_editors_change_cut_off_keeps_the_piece_as_it_was(staff_client):
    article = Article.objects.get(slug="de-bijna-coup-kent-aan-russische-kant-alleen-verliezers")
    title, links = article.title, set(article.actor_links.values_list("actor", "confirmed"))
    change_url = reverse("admin:archive_article_change", args=[article.pk])
    data = form_data(staff_client.get(change_url))
    data.update(title="Nieuwe kop", body=article.body + "\n\nPoetin en de NAVO.", _save="Opslaan")

    with killed_at(LINKS) as kills:
        response = staff_client.post(change_url, data)

    assert any(sql.startswith('UPDATE "archive_article"') for sql in kills[0])
    assert response.status_code == 503
    article.refresh_from_db()
    assert article.title == title
    assert set(article.actor_links.values_list("actor", "confirmed")) == links


def test_confirming_all_suggestions_cut_off_confirms_none(staff_client):
    article = Article.objects.get(slug="de-bijna-coup-kent-aan-russische-kant-alleen-verliezers")
    article.actor_links.update(confirmed=False)
    article.event_links.update(confirmed=False)
    assert article.event_links.exists()

    with killed_at('UPDATE "archive_articleevent"'):
        response = staff_client.post(
            reverse("admin:archive_article_changelist"),
            {"action": "confirm_suggestions", "_selected_action": [article.pk]},
        )
    request_ended()

    assert response.status_code == 503
    # All or nothing: the actors' links were confirmed first, and are not now.
    assert not article.actor_links.filter(confirmed=True).exists()
    assert not ArticleEvent.objects.filter(article=article, confirmed=True).exists()


def write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return str(path)


WAGNER = (
    "Prigozjin trok met zijn Wagnersoldaten op naar Moskou en stopte pas bij Loekasjenko. "
) * 5
NAVO = "De NAVO sprak in Vilnius over de oorlog in Oekraïne en over de steun van de leden. " * 5


# The imports below run on this process's one connection (--workers 1): killed_at sees
# only its statements.


def test_an_import_cut_off_mid_piece_stores_none_of_it_says_so_and_goes_on(tmp_path):
    first = write(tmp_path, "1_wagner.txt", WAGNER)
    second = write(tmp_path, "2_navo.txt", NAVO)
    out = io.StringIO()

    with killed_at(LINKS) as kills:
        call_command(
            "import_articles", first, second, "--date", "2023-06", "--workers", "1", stdout=out
        )

    assert any(sql.startswith(ARTICLE) for sql in kills[0])
    summary = out.getvalue()
    assert summary.startswith("1 toegevoegd, 0 overgeslagen als dubbel, 1 mislukt")
    failed = summary.split("Mislukt:\n", 1)[1]
    assert "1_wagner.txt: " in failed
    assert "verbinding met de database verbroken" in failed
    assert not Article.objects.filter(body__startswith="Prigozjin trok").exists()
    # The run reconnected and stored the next piece whole, suggestions and all.
    navo = Article.objects.get(body__startswith="De NAVO sprak")
    assert navo.actor_links.filter(actor__slug="navo").exists()

    # Running it again adds what failed, and only that.
    out = io.StringIO()
    call_command(
        "import_articles", first, second, "--date", "2023-06", "--workers", "1", stdout=out
    )
    assert out.getvalue().startswith("1 toegevoegd, 1 overgeslagen als dubbel, 0 mislukt")
    assert Article.objects.get(body__startswith="Prigozjin trok").actor_links.exists()


def test_an_import_cut_off_between_pieces_goes_on_with_the_next(tmp_path):
    """Struck outside a piece's transaction (its duplicate check): the piece fails, and
    the run must not go on with the dead connection."""
    first = write(tmp_path, "1_wagner.txt", WAGNER)
    second = write(tmp_path, "2_navo.txt", NAVO)
    out = io.StringIO()

    with killed_at("content_hash"):
        call_command(
            "import_articles", first, second, "--date", "2023-06", "--workers", "1", stdout=out
        )

    assert out.getvalue().startswith("1 toegevoegd, 0 overgeslagen als dubbel, 1 mislukt")
    assert Article.objects.filter(body__startswith="De NAVO sprak").exists()
    assert not Article.objects.filter(body__startswith="Prigozjin trok").exists()
