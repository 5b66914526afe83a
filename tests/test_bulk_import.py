"""import_articles at scale: batches, duplicates inside a batch, interrupted runs that
go on where they stopped, --failures, the progress bar; and the pieces of the batch path
are the pieces the one-at-a-time path makes."""

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from archive import bulk, ingest, tagging
from archive.duplicates import Earlier, find_duplicates, fingerprints
from archive.management.commands.import_articles import Progress
from archive.models import Actor, Article, ArticleActor, ArticleEvent, ImportedBatch, NearCopyKey
from tests.seeds import seed_text

pytestmark = pytest.mark.django_db

WORDS = [
    "gemeente",
    "provincie",
    "haven",
    "spoorlijn",
    "dijk",
    "polder",
    "brug",
    "subsidie",
    "woningbouw",
    "wethouder",
    "raadslid",
    "begroting",
    "kermis",
    "schoolplein",
    "bibliotheek",
    "zwembad",
    "fietspad",
    "markt",
    "stadhuis",
    "waterschap",
    "boerderij",
    "molen",
    "kerk",
    "veerpont",
    "sluis",
]


def piece_text(n: int) -> str:
    """A distinct text for piece n: its own word order, so no two share trigrams."""
    words = [WORDS[(n * 7 + i * (n % 5 + 1)) % len(WORDS)] for i in range(60)]
    return f"Stuk nummer {n} over Prigozjin en Wagner. " + " ".join(words) + f" Einde {n}."


def jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def run(*args, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_articles", *map(str, args), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_duplicates_within_one_batch_are_refused(tmp_path):
    text = piece_text(1)
    near = text.replace("Einde 1.", "Einde 1, met een zin erbij.")
    path = jsonl(
        tmp_path / "partij.jsonl",
        [
            {"body": text, "date": "2024-01-02"},
            {"body": text.upper(), "date": "2024-01-02"},  # case does not count
            {"body": near, "date": "2024-01-02"},
            {"body": piece_text(2), "date": "2024-01-02"},
        ],
    )
    before = Article.objects.count()
    out, _ = run(path)
    assert "2 toegevoegd, 2 overgeslagen als dubbel, 0 mislukt" in out
    first = Article.objects.get(body=text)
    assert f"partij.jsonl:2: dezelfde tekst als ‘{first.title}’ (id {first.pk})" in out
    assert f"partij.jsonl:3: bijna dezelfde tekst als ‘{first.title}’ (id {first.pk}," in out
    assert Article.objects.count() == before + 2


def test_find_duplicates_names_the_earlier_text_of_the_batch():
    text = piece_text(3)
    found = find_duplicates([text, piece_text(4), text + " Nog een slotzin erbij."])
    assert found[0] is None and found[1] is None
    assert isinstance(found[2], Earlier)
    assert found[2].index == 0 and not found[2].exact and found[2].similarity >= 0.8


def test_a_corrected_typo_keeps_most_fingerprints_and_another_piece_shares_none():
    text = seed_text("000_e5e2b52ac800a774.txt")
    typo = text.replace("Prigozjin", "Prigozjn", 1)
    assert len(set(fingerprints(text)) & set(fingerprints(typo))) >= 4
    assert not set(fingerprints(text)) & set(fingerprints(seed_text("001_d795838efdc0c2e1.txt")))


def test_batches_make_the_same_pieces_as_one_at_a_time(tmp_path):
    """The fast path and ingest.store agree: links, mentions, evidence, authors, source."""
    text = (
        "Prigozjin trok met zijn Wagnersoldaten op naar Moskou. De muiterij begon in Rostov. "
        "Poetin sprak van verraad; Prigozjin noemde het een mars voor gerechtigheid. De "
        "Russische kant zweeg. Loekasjenko bemiddelde en de opstand was voorbij."
    )
    draft = ingest.Draft(
        origin="een",
        body=text,
        title="Een stuk",
        authors=["Nieuwe Auteur"],
        source="Nieuwe Bron",
        published_on=datetime.date(2023, 6, 25),
    )
    vocabulary = tagging.Vocabulary.load()
    [batched] = bulk.store_batch([draft], ingest.Defaults(), vocabulary, bulk.Names())
    assert batched.status == "added"
    links = set(
        ArticleActor.objects.filter(article=batched.article).values_list(
            "actor__slug", "mentions", "confirmed"
        )
    )
    events = set(
        ArticleEvent.objects.filter(article=batched.article).values_list("event__slug", "evidence")
    )
    stored = Article.objects.get(pk=batched.article.pk)
    assert stored.source.name == "Nieuwe Bron"
    assert [a.name for a in stored.authors.all()] == ["Nieuwe Auteur"]
    assert NearCopyKey.objects.filter(article=stored).count() == len(fingerprints(text))
    # The same piece the one-at-a-time way, after the batch's is gone.
    stored.delete()
    single = ingest.store(draft, ingest.Defaults(), vocabulary)
    assert single.status == "added"
    assert links == set(
        ArticleActor.objects.filter(article=single.article).values_list(
            "actor__slug", "mentions", "confirmed"
        )
    )
    assert events == set(
        ArticleEvent.objects.filter(article=single.article).values_list("event__slug", "evidence")
    )
    assert {"jevgeni-prigozjin", "wagner", "vladimir-poetin"} <= {slug for slug, _, _ in links}
    assert {slug for slug, _ in events} == {"wagner-muiterij"}


def test_the_text_of_a_stored_vector_is_the_text_tagging_reads():
    ids = list(Article.objects.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, setweight(ts_filter(search_vector, '{a,b,c}'), 'd')::text "
            "FROM archive_article "
            "WHERE id = ANY(%s)",
            [ids],
        )
        printed = dict(cursor.fetchall())
    read = tagging._texts(ids)
    for pk in ids:
        parsed = tagging.text_of_tsvector(printed[pk]).positions
        assert {k: set(v) for k, v in parsed.items()} == {
            k: set(v) for k, v in read[pk].positions.items()
        }


def test_narrowing_the_vocabulary_changes_no_suggestion():
    vocabulary = tagging.Vocabulary.load()
    texts = tagging._texts(list(Article.objects.values_list("pk", flat=True)))
    for text in texts.values():
        narrowed = vocabulary.narrowed(text)
        assert len(narrowed.actors) < len(vocabulary.actors)
        everything = tagging._suggest_actors(text, vocabulary.actors)
        assert tagging._suggest_actors(text, narrowed.actors) == everything


def test_failures_file_holds_the_failed_records_ready_to_import_again(tmp_path):
    path = jsonl(
        tmp_path / "export.jsonl",
        [
            {"body": piece_text(10), "date": "2024-02-03", "title": "Goed"},
            {"body": piece_text(11), "date": "vorige week", "title": "Datum kapot"},
            {"title": "Zonder tekst"},
        ],
    )
    with path.open("a", encoding="utf-8") as handle:
        handle.write("{niet af\n")
    failures = tmp_path / "mislukt.jsonl"
    out, _ = run(path, failures=failures)
    assert "1 toegevoegd, 0 overgeslagen als dubbel, 3 mislukt" in out
    rows = [json.loads(line) for line in failures.read_text("utf-8").splitlines()]
    assert [r["origin"] for r in rows] == ["export.jsonl:2", "export.jsonl:3", "export.jsonl:4"]
    assert rows[0]["title"] == "Datum kapot" and "niet te lezen" in rows[0]["error"]
    assert rows[1]["error"] == "geen tekst (veld body of text)"
    assert rows[2]["line"] == "{niet af" and "geen geldige JSON" in rows[2]["error"]
    # Fixed, the failed records go in (the added fields are ignored).
    rows[0]["date"] = "2024-02-04"
    out, _ = run(jsonl(tmp_path / "hersteld.jsonl", rows[:1]))
    assert "1 toegevoegd, 0 overgeslagen als dubbel, 0 mislukt" in out
    assert Article.objects.filter(title="Datum kapot").exists()


def test_an_unreadable_failures_file_is_refused_before_anything_is_read(tmp_path):
    path = jsonl(tmp_path / "a.jsonl", [{"body": piece_text(12), "date": "2024"}])
    with pytest.raises(CommandError, match="--failures"):
        run(path, failures=tmp_path / "geen-map" / "f.jsonl")
    assert not Article.objects.filter(body=piece_text(12)).exists()


class FakeStream(io.StringIO):
    def __init__(self, tty):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty

    def write(self, text, ending="\n"):
        super().write(text + ending)


def test_progress_is_a_bar_on_a_terminal_and_plain_lines_elsewhere():
    from collections import Counter

    tally = Counter(added=400, duplicate=10, failed=2)
    terminal, log = FakeStream(tty=True), FakeStream(tty=False)
    for stream in (terminal, log):
        progress = Progress(stream, 1000)
        progress.started -= 10  # ten seconds in
        progress.shown -= 10
        progress.update(412, tally)
        progress.finish()
    bar = terminal.getvalue()
    assert bar.startswith("\r") and "█" in bar and "░" in bar
    assert "412/1000 (41%), 41 per seconde, nog 14 s: 400 toegevoegd, 10 dubbel" in bar
    line = log.getvalue()
    assert "\r" not in line and "█" not in line
    assert line.startswith("412/1000 (41%), 41 per seconde, nog 14 s")


@pytest.fixture
def committed_seeds(transactional_db):
    """The seeds, in a test whose transactions commit (a test before it emptied them)."""
    call_command("loaddata", "seed_articles", verbosity=0)


def test_an_interrupted_import_goes_on_where_it_stopped(tmp_path, monkeypatch, committed_seeds):
    """Ctrl-C in the middle of the third batch: two batches stay, whole; nothing of the
    third. The same command again skips them and adds the rest, nothing twice."""
    rows = [{"body": piece_text(n), "date": "2023-06-24"} for n in range(100, 130)]
    rows[5]["date"] = "geen datum"  # fails, and is tried again next time
    path = jsonl(tmp_path / "groot.jsonl", rows)
    before = Article.objects.count()
    calls = []
    journal = bulk.write_journal

    def interrupted(entry, outcomes):
        calls.append(entry)
        if len(calls) == 3:  # after the third batch's pieces and links, before commit
            raise KeyboardInterrupt
        journal(entry, outcomes)

    monkeypatch.setattr(bulk, "write_journal", interrupted)
    with pytest.raises(CommandError, match="onderbroken"):
        run(path, batch=10, workers=1)
    assert Article.objects.count() == before + 19  # two batches of ten, one piece failed
    stored = Article.objects.filter(body__in=[r["body"] for r in rows])
    assert set(stored.values_list("body", flat=True)) == {r["body"] for r in rows[:20]} - {
        rows[5]["body"]
    }
    for article in stored:  # every piece whole: fingerprints, suggestions
        assert NearCopyKey.objects.filter(article=article).exists()
        assert article.actor_links.filter(actor__slug="wagner").exists()
    assert list(ImportedBatch.objects.values_list("first_line", "last_line", "failed_lines")) == [
        (1, 10, [6]),
        (11, 20, []),
    ]

    monkeypatch.setattr(bulk, "write_journal", journal)
    out, _ = run(path, batch=10, workers=1)
    assert "10 toegevoegd, 0 overgeslagen als dubbel, 1 mislukt, 19 al geïmporteerd" in out
    assert "groot.jsonl:6: datum 'geen datum' niet te lezen" in out
    assert Article.objects.count() == before + 29
    texts = Article.objects.values_list("content_hash", flat=True)
    assert len(texts) == len(set(texts))


def test_worker_processes_import_a_file_with_the_same_outcome(tmp_path, committed_seeds):
    rows = [{"body": piece_text(n), "date": "2023-06-24"} for n in range(200, 240)]
    rows.append(dict(rows[3]))  # an exact copy, in another batch
    path = jsonl(tmp_path / "werk.jsonl", rows)
    before = Article.objects.count()
    out, _ = run(path, batch=8, workers=2)
    assert "40 toegevoegd, 1 overgeslagen als dubbel, 0 mislukt" in out
    assert Article.objects.count() == before + 40
    assert ImportedBatch.objects.count() == 6
    wagner = Actor.objects.get(slug="wagner")
    assert (
        ArticleActor.objects.filter(actor=wagner, article__body__startswith="Stuk nummer 2").count()
        == 40
    )
    # Again: everything is known.
    out, _ = run(path, batch=8, workers=2)
    assert "0 toegevoegd, 0 overgeslagen als dubbel, 0 mislukt, 41 al geïmporteerd" in out
