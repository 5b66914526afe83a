"""The same pieces in Tantivy, a search library in Rust, as a yardstick: index built
from the database in this run, the same queries timed in this process (top 20 by BM25
and the total count, as the search page shows)."""

import datetime
import shutil
import time
from pathlib import Path

import psycopg

from archive.management.benchmarking.workload import Plan, Stats

TEXT_FIELDS = ["title", "lead", "body"]
# Kroniek weighs title over lead over body (A, B, C); roughly the same here.
BOOSTS = {"title": 2.0, "lead": 1.5}
ANALYZER = "nl_stem"


def available() -> bool:
    try:
        import tantivy  # noqa: F401
    except ImportError:
        return False
    return True


def _analyzer():
    from tantivy import Filter, TextAnalyzerBuilder, Tokenizer

    # Like the archive's dutch_unaccent: words, lower case, no diacritics, Dutch snowball.
    return (
        TextAnalyzerBuilder(Tokenizer.simple())
        .filter(Filter.remove_long(40))
        .filter(Filter.lowercase())
        .filter(Filter.ascii_fold())
        .filter(Filter.stemmer("dutch"))
        .build()
    )


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC)


class TantivyIndex:
    def __init__(self, directory: Path, pieces: int | None = None):
        import tantivy

        builder = tantivy.SchemaBuilder()
        for name in TEXT_FIELDS:
            builder.add_text_field(name, tokenizer_name=ANALYZER)
        builder.add_integer_field("pk", stored=True, indexed=True, fast=True)
        builder.add_integer_field("actor", indexed=True)
        builder.add_date_field("published_on", indexed=True, fast=True)
        self.schema = builder.build()
        self.directory = directory
        # An index built earlier over the same pieces is reused (a million take a
        # quarter of an hour to index): the marker holds their number and build time.
        self.marker = directory / "kroniek-built"
        self.reused = self.marker.exists() and self.marker.read_text().split()[0] == str(pieces)
        if not self.reused:
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir(parents=True)
        self.index = tantivy.Index(self.schema, path=str(directory), reuse=self.reused)
        self.index.register_tokenizer(ANALYZER, _analyzer())
        self.build_seconds = float(self.marker.read_text().split()[1]) if self.reused else 0.0
        self.pieces = pieces if self.reused else 0

    def build(self, uri: str, log) -> None:
        """Every piece, read with a server-side cursor, written by two indexing threads."""
        import tantivy

        if self.reused:
            log("    Tantivy: reusing the index built earlier over the same pieces")
            return
        started = time.perf_counter()
        writer = self.index.writer(heap_size=1_000_000_000, num_threads=2)
        n = 0
        with psycopg.connect(uri) as conn, conn.cursor(name="bench_tantivy") as cursor:
            cursor.itersize = 2000
            cursor.execute(
                "SELECT a.id, a.title, a.lead, a.body, a.published_on, "
                "ARRAY(SELECT l.actor_id FROM archive_articleactor l WHERE l.article_id = a.id) "
                "FROM archive_article a"
            )
            for pk, title, lead, body, day, actors in cursor:
                document = tantivy.Document()
                document.add_integer("pk", pk)
                document.add_text("title", title)
                document.add_text("lead", lead)
                document.add_text("body", body)
                document.add_date("published_on", _midnight(day))
                for actor in actors:
                    document.add_integer("actor", actor)
                writer.add_document(document)
                n += 1
                if n % 100_000 == 0:
                    log(f"    Tantivy: {n:,} pieces indexed")
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.build_seconds = time.perf_counter() - started
        self.pieces = n
        self.marker.write_text(f"{n} {self.build_seconds:.1f}")

    @property
    def size(self) -> int:
        return sum(f.stat().st_size for f in self.directory.rglob("*") if f.is_file())

    def query(self, probe):
        import tantivy
        from tantivy import Occur, Query

        text = self.index.parse_query(
            probe.tantivy, TEXT_FIELDS, field_boosts=BOOSTS, conjunction_by_default=False
        )
        musts = [text]
        if probe.actor_pk is not None:
            musts.append(Query.term_query(self.schema, "actor", probe.actor_pk))
        if probe.dates:
            first, last = probe.dates
            musts.append(
                Query.range_query(
                    self.schema,
                    "published_on",
                    tantivy.FieldType.Date,
                    _midnight(first),
                    _midnight(last),
                )
            )
        if len(musts) == 1:
            return text
        return Query.boolean_query([(Occur.Must, q) for q in musts])

    def time_probes(self, work: Plan, runs: int) -> dict[str, Stats]:
        """Each class as often as over HTTP: parse, top 20 with the count, their pks."""
        searcher = self.index.searcher()
        out = {}
        for key, probes in work.probes.items():
            stats = Stats()
            for probe in probes:  # warm: the first touch of a term reads its postings
                self._one(searcher, probe)
            for i in range(runs):
                started = time.perf_counter()
                try:
                    self._one(searcher, probes[i % len(probes)])
                    status = 200
                except ValueError:
                    status = 0
                stats.add(status, time.perf_counter() - started)
            out[key] = stats
        return out

    def _one(self, searcher, probe) -> list[int]:
        result = searcher.search(self.query(probe), 20, count=True, offset=probe.offset)
        return [searcher.doc(address)["pk"][0] for _, address in result.hits]

    def close(self) -> None:
        """Let go of the index; keep it on disk when complete (the marker says so), for
        the next run over the same pieces."""
        self.index = None
        if not self.marker.exists():
            shutil.rmtree(self.directory, ignore_errors=True)
