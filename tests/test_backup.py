"""manage.py backup and restore: a round trip on the embedded database (or whatever the
tests are connected to) and on the PostgreSQL server at 127.0.0.1:5432, failed restores
that leave the archive as it was, and the choice of client programs.

The commands run pg_dump and psql in processes of their own, which see only committed
rows: these tests commit (transactional_db), and put the seed articles back afterwards.
"""

import datetime
import hashlib
import os
import re
import stat
import subprocess
from collections import defaultdict
from contextlib import contextmanager
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.db.utils import load_backend
from django.urls import reverse

from archive.management import pgtools
from archive.management.commands import backup as backup_command
from archive.models import Actor, Article, ArticleActor, ArticleEvent, Event
from tests.factories import make_article

SERVER = {"HOST": "127.0.0.1", "PORT": "5432", "USER": "postgres"}
# The server trusts local connections, so any password is accepted: enough to see
# where the commands put it.
SERVER_PASSWORD = "geheim-wachtwoord-7319"
# A word no seed piece has, in one generated piece that is deleted after the backup.
RARE_WORD = "Vlinderbrugoverleg"
LATE_WORD = "Nakomertjesberaad"


def run(command, *args, **options) -> str:
    out = StringIO()
    call_command(command, *map(str, args), stdout=out, **options)
    return out.getvalue()


# -- the database under test -----------------------------------------------------------


def server_answers() -> bool:
    try:
        psycopg.connect(
            host=SERVER["HOST"],
            port=SERVER["PORT"],
            user=SERVER["USER"],
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.OperationalError:
        return False
    return True


def _admin(sql: str) -> None:
    with psycopg.connect(
        host=SERVER["HOST"],
        port=SERVER["PORT"],
        user=SERVER["USER"],
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(sql)


@contextmanager
def connected_to(settings_dict):
    """Django's default connection pointed at another database for a while: the code
    under test then uses it as it would in production."""
    original = connections["default"]
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(dict(settings_dict))
    connections["default"] = wrapper
    try:
        yield wrapper
    finally:
        wrapper.close()
        connections["default"] = original


@pytest.fixture(scope="module")
def server_database(django_db_blocker):
    """A database of its own on the PostgreSQL server at 127.0.0.1:5432, migrated once
    for this module and dropped at its end."""
    if not server_answers():
        pytest.skip(f"no PostgreSQL server answers on {SERVER['HOST']}:{SERVER['PORT']}")
    name = f"kroniek_backup_test_{os.getpid()}"
    _admin(f'DROP DATABASE IF EXISTS "{name}"')
    _admin(f'CREATE DATABASE "{name}"')
    settings_dict = connections.configure_settings(
        {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": name,
                "PASSWORD": SERVER_PASSWORD,
                **SERVER,
            }
        }
    )["default"]
    try:
        with django_db_blocker.unblock(), connected_to(settings_dict):
            call_command("migrate", verbosity=0)
        yield settings_dict
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["connected", "server"])
def target(request, transactional_db):
    """The database the commands work on: the tests' own (the embedded server unless
    DATABASE_URL says otherwise), or one on the PostgreSQL server."""
    if request.param == "server":
        with connected_to(request.getfixturevalue("server_database")):
            yield request.param
            # The database outlives the test: empty it for the next one.
            call_command("flush", interactive=False, verbosity=0)
    else:
        yield request.param


@pytest.fixture
def archive(target):
    """The seed articles plus generated pieces, some linked to actors and events."""
    call_command("loaddata", "seed_articles", verbosity=0)
    actors = list(Actor.objects.order_by("pk")[:4])
    events = list(Event.objects.order_by("pk")[:2])
    assert actors and events, "the seed fixtures bring actors and events"
    stamp = datetime.datetime.now().timestamp()
    for n in range(24):
        body = (
            f"Generated piece {n} ({stamp}). De onderhandelingen in Brussel liepen uit, "
            f"zei een woordvoerder van het ministerie.\n\nAlinea twee van stuk {n}."
        )
        if n == 5:
            body += f"\n\nHet {RARE_WORD} ging tot diep in de nacht door."
        piece = make_article(
            body,
            lead=f"Intro {n}",
            published_on=datetime.date(2020, 1, 1) + datetime.timedelta(days=37 * n),
        )
        for k, actor in enumerate(actors[: n % 4 + 1]):
            ArticleActor.objects.create(
                article=piece, actor=actor, mentions=k + n % 3 + 1, confirmed=(n + k) % 2 == 0
            )
        if n % 3 == 0:
            ArticleEvent.objects.create(article=piece, event=events[n % 2], confirmed=n % 2 == 0)
    return target


# -- what the archive holds --------------------------------------------------------------


def pieces() -> dict[int, tuple[str, str]]:
    """Every piece: id -> (slug, a hash over its text, dates and links)."""
    links = defaultdict(list)
    for row in ArticleActor.objects.values_list(
        "article_id", "actor__slug", "mentions", "confirmed"
    ):
        links[row[0]].append(("actor", *row[1:]))
    for row in ArticleEvent.objects.values_list("article_id", "event__slug", "confirmed"):
        links[row[0]].append(("event", *row[1:]))
    state = {}
    for row in Article.objects.values_list(
        "pk",
        "slug",
        "title",
        "lead",
        "body",
        "published_on",
        "date_precision",
        "created_at",
        "updated_at",
    ):
        content = repr((row[2:], sorted(links[row[0]])))
        state[row[0]] = (row[1], hashlib.sha256(content.encode()).hexdigest())
    return state


def counters() -> dict[str, tuple[int, int]]:
    """The piece counts the triggers keep on actors and events."""
    return {
        **{
            f"actor:{s}": (n, m)
            for s, n, m in Actor.objects.values_list("slug", "piece_count", "suggested_count")
        },
        **{
            f"event:{s}": (n, m)
            for s, n, m in Event.objects.values_list("slug", "piece_count", "suggested_count")
        },
    }


def recounted() -> dict[str, tuple[int, int]]:
    """The same counts, counted from the links themselves."""
    counts = defaultdict(lambda: [0, 0])
    for slug, confirmed in ArticleActor.objects.values_list("actor__slug", "confirmed"):
        counts[f"actor:{slug}"][0] += 1
        counts[f"actor:{slug}"][1] += not confirmed
    for slug, confirmed in ArticleEvent.objects.values_list("event__slug", "confirmed"):
        counts[f"event:{slug}"][0] += 1
        counts[f"event:{slug}"][1] += not confirmed
    return {key: tuple(counts[key]) if key in counts else (0, 0) for key in counters()}


def search_finds(client, word: str, slug: str) -> bool:
    page = client.get(reverse("archive:browse"), {"q": word})
    assert page.status_code == 200
    return reverse("archive:article", kwargs={"slug": slug}).encode() in page.content


def change_everything():
    """What an unlucky day does to an archive: deletions (a seed piece among them), an
    edit, a new piece, a dropped and a confirmed link."""
    rare = Article.objects.get(body__contains=RARE_WORD)
    doomed = [
        rare.pk,
        *Article.objects.exclude(pk=rare.pk).order_by("pk")[:2].values_list("pk", flat=True),
    ]
    Article.objects.filter(pk__in=doomed).delete()
    edited = Article.objects.exclude(pk__in=doomed).order_by("-pk").first()
    edited.title, edited.body = "Herschreven kop", edited.body + "\n\nEen toegevoegde alinea."
    edited.save()
    make_article(f"Een stuk van na de backup over het {LATE_WORD}.", title="Nakomer")
    link = ArticleActor.objects.filter(confirmed=False).order_by("pk").first()
    link.confirmed = True
    link.save()
    ArticleActor.objects.order_by("-pk").first().delete()
    return rare


# -- round trip ----------------------------------------------------------------------------


def test_round_trip_restores_every_piece_link_count_and_search(
    target, archive, tmp_path, client, monkeypatch
):
    launched = []
    real_popen = subprocess.Popen

    def recording_popen(args, *rest, **kwargs):
        launched.append((list(map(str, args)), (kwargs.get("env") or {}).get("PGPASSWORD")))
        return real_popen(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", recording_popen)

    before, counts_before = pieces(), counters()
    assert counts_before == recounted()
    assert len(before) == 28
    file = tmp_path / "archief.dump"

    out = run("backup", file=file)

    assert file.is_file()
    assert f"{file}: " in out
    assert re.search(r"\d+(\.\d)? (bytes|kB|MB)", out)
    assert f", {len(before)} pieces" in out

    rare = change_everything()
    assert pieces() != before
    assert counters() != counts_before
    assert not search_finds(client, RARE_WORD, rare.slug)  # and cached so

    out = run("restore", file, yes=True)

    assert f"{len(before)} pieces" in out
    assert pieces() == before
    assert counters() == counts_before
    assert recounted() == counts_before
    assert search_finds(client, RARE_WORD, rare.slug)
    assert not Article.objects.filter(title="Nakomer").exists()
    # The id sequence came back too: a new piece gets a fresh id.
    assert make_article("Een stuk na het terugzetten.").pk > max(before)

    # Client programs of the server's own major version (reading a file's header
    # aside: the newest pg_restore reads every file), the password never on a command
    # line.
    programs = [
        args
        for args, _ in launched
        if Path(args[0]).name in pgtools.PROGRAMS and not {"--version", "--list"} & set(args)
    ]
    assert {Path(args[0]).name for args in programs} >= {"pg_dump", "pg_restore", "psql"}
    server_major = connection.pg_version // 10000
    for args in programs:
        assert pgtools.tools_in(Path(args[0]).parent).major == server_major
        assert not any(SERVER_PASSWORD in arg for arg in args)
    if target == "server":
        assert all(
            password == SERVER_PASSWORD
            for args, password in launched
            if Path(args[0]).name in ("pg_dump", "psql")
        )
    listing = subprocess.run(
        [str(Path(programs[0][0]).parent / "pg_restore"), "--list", str(file)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"Dumped by pg_dump version: {server_major}." in listing


@pytest.fixture
def _no_later_objects():
    yield
    # Should the restore have kept them, the flush after the test could not run.
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS archive_later")
        cursor.execute("DROP FUNCTION IF EXISTS archive_later_score(int)")


def test_a_backup_by_a_newer_pg_dump_restores_into_an_older_server(archive, tmp_path):
    """The web container of docker-compose.yml has only the embedded package's client
    programs, newer than the compose file's PostgreSQL."""
    newer = pgtools.tools_in(pgtools.embedded_bindir())
    if connection.pg_version // 10000 >= newer.major:
        pytest.skip(f"the server is not older than the embedded client programs ({newer})")
    file = tmp_path / "archief.dump"
    out = run("backup", file=file, bindir=newer.bindir)
    assert f"pg_dump {newer.version}" in out
    before = pieces()
    change_everything()

    run("restore", file, yes=True)

    assert pieces() == before
    assert recounted() == counters()


def test_restore_drops_tables_and_functions_the_backup_does_not_have(
    archive, tmp_path, _no_later_objects
):
    file = tmp_path / "archief.dump"
    run("backup", file=file)
    before = pieces()
    with connection.cursor() as cursor:
        # As a later migration would: a table pointing at pieces, and a function.
        cursor.execute(
            "CREATE TABLE archive_later (id int PRIMARY KEY, "
            "article_id bigint REFERENCES archive_article (id))"
        )
        cursor.execute(f"INSERT INTO archive_later SELECT 1, {min(before)}")
        cursor.execute(
            "CREATE FUNCTION archive_later_score(int) RETURNS int LANGUAGE sql AS 'SELECT $1 * 2'"
        )

    out = run("restore", file, yes=True)

    assert "archive_later" in out
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_regclass('archive_later'), to_regprocedure('archive_later_score(int)')"
        )
        assert cursor.fetchone() == (None, None)
    assert pieces() == before


# -- failures leave the archive as it was -------------------------------------------------


@pytest.fixture
def backed_up_then_changed(archive, tmp_path):
    """A backup, and an archive that has moved on since: the state a failed restore
    must leave alone."""
    file = tmp_path / "archief.dump"
    run("backup", file=file)
    change_everything()
    return file, pieces(), counters()


def test_truncated_backup_fails_clearly_and_changes_nothing(backed_up_then_changed, tmp_path):
    file, now, counts_now = backed_up_then_changed
    damaged = tmp_path / "afgebroken.dump"
    data = file.read_bytes()
    # The last few kilobytes cut off: its table of contents (at the start, and large:
    # it holds the decompounding function with its lexicon) is whole, so the restore
    # starts (drops, creates, loads) and breaks off partway through the data.
    damaged.write_bytes(data[: len(data) - 4096])
    newest = pgtools.newest(pgtools.installed())
    assert pgtools.read_archive(damaged, newest).names("TABLE")

    with pytest.raises(CommandError) as failure:
        run("restore", damaged, yes=True)

    message = str(failure.value)
    assert f"Restore of {damaged} failed; the archive was left as it was" in message
    assert "pg_restore" in message
    assert pieces() == now
    assert counters() == counts_now == recounted()


def test_a_file_that_is_no_backup_is_refused_before_anything_runs(backed_up_then_changed, tmp_path):
    _, now, _ = backed_up_then_changed
    junk = tmp_path / "geen-backup.dump"
    junk.write_bytes(b"PGDMP? nee, een boodschappenlijstje\n" * 50)

    with pytest.raises(CommandError, match="is not a backup pg_restore can read"):
        run("restore", junk, yes=True)
    assert pieces() == now


def test_restore_asks_first_and_refuses_without_an_answer(backed_up_then_changed, monkeypatch):
    file, now, _ = backed_up_then_changed

    # No terminal to ask (cron, CI): refused, pointing at --yes.
    with pytest.raises(CommandError, match="--yes"):
        run("restore", file)
    assert pieces() == now

    class Terminal(StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdin", Terminal("nee\n"))
    with pytest.raises(CommandError, match="cancelled; nothing was changed"):
        run("restore", file)
    assert pieces() == now


def test_restore_needs_a_file():
    with pytest.raises(CommandError, match="name the backup to restore"):
        run("restore")
    with pytest.raises(CommandError, match="no backup file at"):
        run("restore", "backups/bestaat-niet.dump", yes=True)


# -- where backups go ---------------------------------------------------------------------


def test_backup_goes_to_a_dated_private_file_and_never_overwrites(
    transactional_db, tmp_path, monkeypatch
):
    call_command("loaddata", "seed_articles", verbosity=0)
    folder = tmp_path / "backups"
    monkeypatch.setattr(backup_command, "BACKUP_DIR", folder)

    out = run("backup")

    (file,) = folder.iterdir()
    assert re.fullmatch(r"kroniek-\d{8}T\d{6}Z\.dump", file.name)
    assert out.startswith(f"{file}: ")
    assert f", {Article.objects.count()} pieces" in out
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    with pytest.raises(CommandError, match="exists already"):
        run("backup", file=file)
    assert not list(folder.glob("*.partial"))


# -- which client programs ------------------------------------------------------------------


def test_client_programs_match_the_server_or_are_the_nearest_newer():
    tools = {major: pgtools.Tools(Path(f"/pg{major}"), f"{major}.1") for major in (15, 18)}

    assert pgtools.pick(15, tools).major == 15
    assert pgtools.pick(18, tools).major == 18
    assert pgtools.pick(16, tools).major == 18  # pg_dump 15 cannot dump a 16 server
    # A backup written by pg_dump 18 needs a pg_restore that reads it.
    assert pgtools.pick(15, tools, at_least=18).major == 18
    with pytest.raises(CommandError, match="PostgreSQL 19 or newer client programs"):
        pgtools.pick(19, tools)


@pytest.mark.django_db
def test_the_embedded_server_gets_the_embedded_packages_client_programs():
    if connection.settings_dict["ENGINE"] != "archive.embedded_db":
        pytest.skip("the tests run on a server of their own (DATABASE_URL)")
    embedded = pgtools.tools_in(pgtools.embedded_bindir())
    assert embedded is not None  # found, and runnable by this user

    chosen = pgtools.pick(pgtools.target().server_major, pgtools.installed())

    assert chosen.major == embedded.major == connection.pg_version // 10000
