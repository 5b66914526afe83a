"""Many new pieces at once: a batch of drafts checked and stored in one transaction.

What ingest.store does for one piece, done for a few hundred with a handful of
statements: the duplicate checks as three queries for the whole batch (duplicates.
find_duplicates, which also refuses a piece that repeats an earlier one of the same
batch), one INSERT that returns each piece's id and the lexemes its search vector got,
the suggestions computed from those in Python (tagging.suggest_for_new), and the links,
authors and fingerprints as one statement each. At a million pieces a piece's cost is
what PostgreSQL spends on its search vector; per-piece round trips and probes are gone.

A batch is all or nothing, together with its entry in the import journal
(ImportedBatch), so an interrupted run leaves no half-written piece and knows which
lines it finished. When the batch's statements fail on something one piece brought
(two workers storing the same text at the same moment, a value the database refuses),
the batch is stored again piece by piece through ingest.store, and the piece that
failed says why.
"""

from collections import Counter
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from archive import failures, tagging
from archive.duplicates import Duplicate, Earlier, copy_keys, find_duplicates, fingerprints
from archive.ingest import (
    Defaults,
    Draft,
    Outcome,
    author_for,
    source_for,
    source_named_in,
    store,
    unsaved_article,
)
from archive.models import (
    Article,
    ArticleActor,
    ArticleEvent,
    ImportedBatch,
    Source,
    slug_base,
)


@dataclass
class Journal:
    """Where a batch's lines come from, written in the batch's own transaction."""

    file_key: str
    first_line: int
    last_line: int
    # Lines that failed before storing (unreadable, no JSON): tried again next time too.
    failed: list[int] = field(default_factory=list)


class Names:
    """Sources and authors by name for one process's run: each looked up (or made) once,
    then served from here."""

    def __init__(self):
        self.sources: dict[str, int] = {}
        self.authors: dict[str, tuple[int, bool]] = {}  # lower name -> (id, has a bio)
        self._source_names: list[str] | None = None

    def source_named_in(self, text: str) -> str:
        if not text:
            return ""
        if self._source_names is None:
            self._source_names = list(Source.objects.values_list("name", flat=True))
        return source_named_in(text, self._source_names)

    def source(self, name: str) -> int:
        key = name.lower()
        if key not in self.sources:
            self.sources[key] = source_for(name).pk
        return self.sources[key]

    def author(self, name: str, bio: str) -> int:
        key = name.lower()
        known = self.authors.get(key)
        if known is None or (bio and not known[1]):
            author = author_for(name, bio)
            known = (author.pk, bool(author.bio))
            self.authors[key] = known
        return known[0]

    def forget(self):
        """After a rolled-back batch: what it made is gone."""
        self.sources.clear()
        self.authors.clear()
        self._source_names = None


def _slugs(titles: list[str]) -> list[str]:
    """A free slug for each title, two queries for the batch (unique_slug asks once per
    candidate): the bare slugs taken, then the numbered ones of those that clash."""
    bases = [slug_base(t) for t in titles]
    taken = set(Article.objects.filter(slug__in=set(bases)).values_list("slug", flat=True))
    repeated = {b for b, n in Counter(bases).items() if n > 1}
    clashing = sorted({b for b in bases if b in taken} | repeated)
    if clashing:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT slug FROM archive_article WHERE slug LIKE ANY(%s)",
                [[b.replace("_", r"\_").replace("%", r"\%") + "-%" for b in clashing]],
            )
            taken |= {row[0] for row in cursor.fetchall()}
    slugs = []
    for base in bases:
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        slugs.append(slug)
    return slugs


_INSERT = """INSERT INTO "archive_article"
        (title, slug, lead, body, genre, published_on, date_precision, source_id, url,
         created_at, updated_at)
    SELECT t, s, l, b, g, p, d, src, u, %(now)s, %(now)s
    FROM unnest(%(t)s::text[], %(s)s::text[], %(l)s::text[], %(b)s::text[], %(g)s::text[],
                %(p)s::date[], %(d)s::text[], %(src)s::bigint[], %(u)s::text[])
         WITH ORDINALITY AS x(t, s, l, b, g, p, d, src, u, i)
    ORDER BY i
    RETURNING slug, id, setweight(ts_filter(search_vector, '{a,b,c}'), 'd')::text
"""


def store_batch(
    drafts: list[Draft],
    defaults: Defaults,
    vocabulary: tagging.Vocabulary,
    names: Names,
    journal: Journal | None = None,
) -> list[Outcome]:
    """Store the drafts that are new, in one transaction with the journal entry; an
    Outcome for each draft, in order."""
    try:
        with transaction.atomic():
            return _store_batch(drafts, defaults, vocabulary, names, journal)
    except Exception as error:
        if failures.kind_of(error) == failures.UNAVAILABLE:
            raise  # nothing stored; the caller says so for every piece of the batch
        names.forget()
    # One piece made the batch fail: store them one at a time, each all or nothing, so
    # the others go in and the one that failed says why.
    outcomes = []
    with transaction.atomic():
        for draft in drafts:
            try:
                with transaction.atomic():
                    outcomes.append(store(draft, defaults, vocabulary))
            except Exception as error:
                if failures.kind_of(error) == failures.UNAVAILABLE:
                    raise
                reason = f"onverwachte fout: {error!r}"
                outcomes.append(Outcome(draft.origin, "failed", reason=reason))
        write_journal(journal, outcomes)
    return outcomes


def _store_batch(drafts, defaults, vocabulary, names, journal) -> list[Outcome]:
    outcomes: list[Outcome | None] = [None] * len(drafts)
    # Duplicates first, as for one piece: a copy is a copy, dated or not.
    keys = [fingerprints(draft.body) for draft in drafts]
    found = find_duplicates([draft.body for draft in drafts], keys=keys)
    earlier: dict[int, Earlier] = {}  # a draft that repeats an earlier one of the batch
    articles: dict[int, Article] = {}
    for i, (draft, duplicate) in enumerate(zip(drafts, found, strict=True)):
        if isinstance(duplicate, Duplicate):
            outcomes[i] = Outcome(draft.origin, "duplicate", duplicate.article, duplicate)
            continue
        if isinstance(duplicate, Earlier) and outcomes[duplicate.index] is None:
            earlier[i] = duplicate
            continue
        made = unsaved_article(draft, defaults)
        if isinstance(made, str):
            outcomes[i] = Outcome(draft.origin, "failed", reason=made)
        else:
            articles[i] = made
    new = sorted(articles)

    for i in new:
        draft, article = drafts[i], articles[i]
        # A columnist's bio may name the paper ("columnist bij Het Parool").
        source = draft.source or names.source_named_in(draft.author_bio) or defaults.source
        article.source_id = names.source(source) if source else None
    for i, slug in zip(new, _slugs([articles[i].title for i in new]), strict=True):
        articles[i].slug = slug

    now = timezone.now()
    rows = [articles[i] for i in new]
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT,
            {
                "now": now,
                "t": [a.title for a in rows],
                "s": [a.slug for a in rows],
                "l": [a.lead for a in rows],
                "b": [a.body for a in rows],
                "g": [a.genre for a in rows],
                "p": [a.published_on for a in rows],
                "d": [a.date_precision for a in rows],
                "src": [a.source_id for a in rows],
                "u": [a.url for a in rows],
            },
        )
        # By slug, which is unique: RETURNING promises no order.
        returned = {slug: (pk, vector) for slug, pk, vector in cursor.fetchall()}
        stored = [returned[a.slug] for a in rows]
        copy_keys(cursor.cursor, [(pk, keys[i]) for (pk, _), i in zip(stored, new, strict=True)])

    authors, actor_links, event_links = [], [], []
    for i, (pk, vector) in zip(new, stored, strict=True):
        article, draft = articles[i], drafts[i]
        article.pk, article.created_at, article.updated_at = pk, now, now
        for n, name in enumerate(dict.fromkeys(draft.authors)):
            author = names.author(name, draft.author_bio if n == 0 else "")
            authors.append(Article.authors.through(article_id=pk, author_id=author))
        actors, events = tagging.suggest_for_new(
            article, tagging.text_of_tsvector(vector), vocabulary
        )
        actor_links += [
            ArticleActor(article_id=pk, actor_id=s.actor.pk, mentions=s.mentions) for s in actors
        ]
        event_links += [
            ArticleEvent(article_id=pk, event_id=s.event.pk, evidence=s.evidence) for s in events
        ]
        outcomes[i] = Outcome(draft.origin, "added", article)
    Article.authors.through.objects.bulk_create(authors, ignore_conflicts=True)
    # Sorted by actor and event: the count triggers lock those rows in this order too.
    ArticleActor.objects.bulk_create(sorted(actor_links, key=lambda x: (x.actor_id, x.article_id)))
    ArticleEvent.objects.bulk_create(sorted(event_links, key=lambda x: (x.event_id, x.article_id)))

    for i, repeat in earlier.items():
        # The earlier draft is stored by now.
        original = outcomes[repeat.index].article
        outcomes[i] = Outcome(
            drafts[i].origin,
            "duplicate",
            original,
            Duplicate(original, repeat.similarity, exact=repeat.exact),
        )
    write_journal(journal, outcomes)
    return outcomes


def write_journal(journal: Journal | None, outcomes: list[Outcome]) -> None:
    if journal is None:
        return
    failed = [line_of(o.origin) for o in outcomes if o.status == "failed"] + journal.failed
    ImportedBatch.objects.create(
        file_key=journal.file_key,
        first_line=journal.first_line,
        last_line=journal.last_line,
        failed_lines=sorted({n for n in failed if n is not None}),
    )


def line_of(origin: str) -> int | None:
    _, _, number = origin.rpartition(":")
    return int(number) if number.isdigit() else None
