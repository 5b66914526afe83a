"""manage.py import_articles on good, duplicate, near-duplicate, broken and mixed input."""

import datetime
import gzip
import json
import shutil
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from archive import ingest
from archive.models import Article, ArticleActor, ArticleEvent, Author, Source
from tests.seeds import SEED_SLUGS, fixture_articles, seed_path, seed_text

pytestmark = pytest.mark.django_db

NEW_TEXT = (
    "Jevgeni Prigozjin heeft volgens Russische media een nieuw hoofdkwartier in Belarus "
    "betrokken. Wagnersoldaten zouden daar een kamp bouwen, op een oude legerbasis.\n\n"
    "Loekasjenko bevestigde dat de huurlingen welkom zijn, zolang zij zich aan de regels "
    "houden. Westerse inlichtingendiensten volgen de bouw met argusogen.\n\n"
    "Poetins woordvoerder wilde niet reageren op de berichten over het kamp."
)


def run(*args, **options) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_articles", *map(str, args), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def archive_state():
    """Everything an import may change, to prove a run changed nothing."""
    return (
        sorted(Article.objects.values_list("pk", "title", "content_hash")),
        sorted(ArticleActor.objects.values_list("article", "actor", "mentions", "confirmed")),
        sorted(ArticleEvent.objects.values_list("article", "event", "confirmed")),
        Author.objects.count(),
        Source.objects.count(),
    )


def test_imports_a_raw_text_file_with_suggestions(tmp_path):
    (tmp_path / "stuk.txt").write_text(NEW_TEXT, encoding="utf-8")
    out, _ = run(tmp_path / "stuk.txt", date="2023-07-10", genre="nieuws")
    assert "1 toegevoegd, 0 overgeslagen als dubbel, 0 mislukt" in out
    article = Article.objects.get(body=NEW_TEXT)
    assert article.title.startswith("Jevgeni Prigozjin heeft volgens Russische media")
    assert (article.published_on, article.date_precision) == (datetime.date(2023, 7, 10), "day")
    suggested = {link.actor.slug: link for link in article.actor_links.select_related("actor")}
    assert {"jevgeni-prigozjin", "wagner", "alexandr-loekasjenko", "vladimir-poetin"} <= set(
        suggested
    )
    assert not any(link.confirmed for link in suggested.values())


def test_seed_files_are_recognised_as_the_pieces_the_fixtures_hold():
    seed_path("000_e5e2b52ac800a774.txt")
    before = archive_state()
    out, _ = run(seed_path("000_e5e2b52ac800a774.txt").parent)
    assert "0 toegevoegd, 4 overgeslagen als dubbel, 0 mislukt" in out
    for slug in SEED_SLUGS.values():
        assert Article.objects.get(slug=slug).title in out
    assert archive_state() == before


def test_importing_the_seeds_gives_the_fixtures_clean_pieces(tmp_path):
    fixtures = fixture_articles()
    Article.objects.filter(slug__in=SEED_SLUGS.values()).delete()
    for name in SEED_SLUGS:
        shutil.copy(seed_path(name), tmp_path / name)
    # Three seeds carry no date; the run supplies one for them.
    out, _ = run(tmp_path, date="2023-06")
    assert "4 toegevoegd, 0 overgeslagen als dubbel, 0 mislukt" in out
    for slug in SEED_SLUGS.values():
        imported = Article.objects.get(body=fixtures[slug]["body"])
        assert imported.lead
    column = Article.objects.get(body=fixtures[SEED_SLUGS["000_e5e2b52ac800a774.txt"]]["body"])
    assert [a.name for a in column.authors.all()] == ["Derk Sauer"]
    assert column.source.name == "Het Parool"
    assert column.genre == "column"
    analysis = Article.objects.get(body=fixtures[SEED_SLUGS["002_19155bdbfa8b189d.txt"]]["body"])
    assert (analysis.published_on, analysis.date_precision) == (datetime.date(2022, 2, 1), "month")
    mutiny = column.event_links.get(event__slug="wagner-muiterij")
    assert not mutiny.confirmed


def test_running_the_same_import_again_changes_nothing(tmp_path):
    (tmp_path / "stuk.txt").write_text(NEW_TEXT, encoding="utf-8")
    run(tmp_path, date="2023-07-10")
    state = archive_state()
    out, _ = run(tmp_path, date="2023-07-10")
    assert "0 toegevoegd, 1 overgeslagen als dubbel, 0 mislukt" in out
    assert "dezelfde tekst als ‘Jevgeni Prigozjin heeft" in out
    assert archive_state() == state


def test_a_rescrape_with_other_debris_and_headline_is_a_near_duplicate(tmp_path):
    original = seed_text("001_d795838efdc0c2e1.txt")
    paragraphs = original.split("\n\n")
    rescrape = "\n\n".join(
        [
            "Opmars Prigozjin toont zwakte Kremlin",  # a headline line the seed lacks
            *paragraphs[1:4],
            "Lees ook: Wat wil Prigozjin nu?",
            "Deel dit artikel via WhatsApp",  # debris the cleaner does not know
            *paragraphs[4:],
        ]
    ).replace("Napoleon en Hitler", "Zowel Napoleon als Hitler")
    (tmp_path / "opnieuw.txt").write_text(rescrape, encoding="utf-8")
    before = archive_state()
    out, _ = run(tmp_path / "opnieuw.txt", date="2023-06-26")
    assert "0 toegevoegd, 1 overgeslagen als dubbel" in out
    fixture = Article.objects.get(slug=SEED_SLUGS["001_d795838efdc0c2e1.txt"])
    assert f"bijna dezelfde tekst als ‘{fixture.title}’ (id {fixture.pk}," in out
    assert archive_state() == before


def test_a_different_piece_on_the_same_subject_is_not_a_duplicate(tmp_path):
    (tmp_path / "ander.txt").write_text(
        seed_text("001_d795838efdc0c2e1.txt").split("\n\n")[2] + "\n\n" + NEW_TEXT,
        encoding="utf-8",
    )
    out, _ = run(tmp_path, date="2023-07-01")
    assert "1 toegevoegd" in out


def test_html_page_is_extracted_with_its_metadata(tmp_path):
    (tmp_path / "pagina.html").write_text(
        """<!doctype html><html lang="nl"><head>
        <title>Wagner bouwt kamp in Belarus | Het Parool</title>
        <meta property="og:title" content="Wagner bouwt kamp in Belarus">
        <meta property="og:site_name" content="Het Parool">
        <meta name="author" content="Derk Sauer">
        <meta property="article:published_time" content="2023-07-10T08:00:00+02:00">
        </head><body><nav><a href="/">Home</a> <a href="/nieuws">Nieuws</a></nav>
        <article><h1>Wagner bouwt kamp in Belarus</h1>"""
        + "".join(f"<p>{p}</p>" for p in NEW_TEXT.split("\n\n"))
        + """<figure><img src="kamp.jpg" alt=""><figcaption>Het kamp. Beeld ANP</figcaption>
        </figure></article><footer>Cookies en privacy</footer></body></html>""",
        encoding="utf-8",
    )
    out, _ = run(tmp_path)
    assert "1 toegevoegd" in out
    article = Article.objects.get(title="Wagner bouwt kamp in Belarus")
    assert article.body == NEW_TEXT
    assert article.published_on == datetime.date(2023, 7, 10)
    assert article.source.name == "Het Parool"
    assert [a.name for a in article.authors.all()] == ["Derk Sauer"]


def test_json_lines_with_metadata(tmp_path):
    rows = [
        {
            "title": "Kamp in Belarus",
            "lead": "Wagner richt zich in.",
            "body": NEW_TEXT,
            "date": "2023-07",
            "genre": "analyse",
            "source": "De Nieuwe Krant",
            "authors": ["Anna Jansen", "Piet de Boer"],
            "url": "https://example.org/kamp",
        }
    ]
    path = tmp_path / "stukken.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    out, _ = run(path)
    assert "1 toegevoegd" in out
    article = Article.objects.get(title="Kamp in Belarus")
    assert (article.published_on, article.date_precision) == (datetime.date(2023, 7, 1), "month")
    assert (article.genre, article.source.name, article.url) == (
        "analyse",
        "De Nieuwe Krant",
        "https://example.org/kamp",
    )
    assert sorted(a.name for a in article.authors.all()) == ["Anna Jansen", "Piet de Boer"]


def test_broken_input_is_reported_by_name_and_reason_and_stores_nothing(tmp_path):
    (tmp_path / "binair.txt").write_bytes(b"\xff\xfe\x00\x81 kapot")
    (tmp_path / "leeg.html").write_text("<html><body><nav>menu</nav></body></html>")
    (tmp_path / "regels.jsonl").write_text(
        '{"title": "kapot", "body": \n'
        + json.dumps({"body": "Alleen tekst, zonder datum, over Poetin.", "title": "x"})
        + "\n"
        + json.dumps({"body": "Tekst.", "date": "gisteren"})
        + "\n"
        + json.dumps({"body": "Tekst over iets.", "date": "2023-01-02", "genre": "roddel"})
        + "\n"
        + json.dumps(["geen", "object"])
        + "\n",
        encoding="utf-8",
    )
    before = archive_state()
    out, _ = run(tmp_path, tmp_path / "bestaat-niet.txt")
    assert "0 toegevoegd, 0 overgeslagen als dubbel, 8 mislukt" in out
    assert "binair.txt: geen UTF-8-tekst" in out
    assert "leeg.html: geen hoofdtekst gevonden" in out
    assert "regels.jsonl:1: geen geldige JSON" in out
    assert "regels.jsonl:2: geen publicatiedatum" in out
    assert "regels.jsonl:3: datum 'gisteren' niet te lezen" in out
    assert "regels.jsonl:4: genre:" in out
    assert "regels.jsonl:5: regel is geen JSON-object" in out
    assert "bestaat-niet.txt: bestand bestaat niet" in out
    assert archive_state() == before


def test_mixed_input_imports_the_good_and_reports_the_rest(tmp_path):
    (tmp_path / "goed.txt").write_text(NEW_TEXT, encoding="utf-8")
    shutil.copy(seed_path("000_e5e2b52ac800a774.txt"), tmp_path / "dubbel.txt")
    (tmp_path / "kapot.txt").write_bytes(b"\xc3\x28 ongeldig")
    with gzip.open(tmp_path / "meer.jsonl.gz", "wt", encoding="utf-8") as lines:
        lines.write(json.dumps({"body": NEW_TEXT.replace("Belarus", "Wit-Rusland")}) + "\n")
        lines.write("niet eens json\n")
    (tmp_path / "notities.md").write_text("wordt niet gelezen: onbekende soort")
    out, _ = run(tmp_path, date="2023-07-10")
    assert "1 toegevoegd, 2 overgeslagen als dubbel, 2 mislukt (5 stukken" in out
    assert "meer.jsonl.gz:1: bijna dezelfde tekst als ‘Jevgeni Prigozjin heeft" in out
    assert "meer.jsonl.gz:2: geen geldige JSON" in out
    assert "kapot.txt: geen UTF-8-tekst" in out
    assert "notities.md" not in out


def test_a_piece_that_fails_while_storing_leaves_nothing_behind(tmp_path, monkeypatch):
    def broken(text, actor_patterns):
        raise RuntimeError("schijf vol")

    # Suggestions are made in the piece's transaction, in a batch and one at a time alike.
    monkeypatch.setattr("archive.tagging._suggest_actors", broken)
    (tmp_path / "stuk.txt").write_text(NEW_TEXT, encoding="utf-8")
    (tmp_path / "stuk.jsonl").write_text(json.dumps({"body": "x"}) + "\n", encoding="utf-8")
    before = archive_state()
    out, _ = run(tmp_path, date="2023-07-10", source="Nieuwe Bron")
    assert "stuk.txt: onverwachte fout: RuntimeError('schijf vol')" in out
    assert archive_state() == before
    assert not Source.objects.filter(name="Nieuwe Bron").exists()


def test_long_runs_show_progress(tmp_path):
    path = tmp_path / "veel.jsonl"
    path.write_text(
        "".join(
            json.dumps({"body": f"Stuk {i}: {NEW_TEXT}" * (1 + i % 3), "date": "2023"}) + "\n"
            for i in range(30)
        ),
        encoding="utf-8",
    )
    _, err = run(path)
    assert "30/30 (100%)" in err


def test_dry_run_stores_nothing(tmp_path):
    (tmp_path / "stuk.txt").write_text(NEW_TEXT, encoding="utf-8")
    before = archive_state()
    out, _ = run(tmp_path, date="2023-07-10", dry_run=True)
    assert out.startswith("Proefimport, niets opgeslagen. 1 toegevoegd")
    assert archive_state() == before


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(CommandError, match="geen datum"):
        run(tmp_path, date="morgen")
    with pytest.raises(CommandError, match="geen bestanden"):
        run(tmp_path)


def test_store_keeps_a_month_date_on_the_first_of_the_month():
    draft = ingest.Draft(origin="test", body=NEW_TEXT, published_on=datetime.date(2023, 7, 18))
    draft.date_precision = "month"
    outcome = ingest.store(draft)
    assert outcome.status == "added"
    assert outcome.article.published_on == datetime.date(2023, 7, 1)
