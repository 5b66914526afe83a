"""Suggestions while a reader types in the search box: actors and events with a name
that has a word starting with the typed letters, then the newest headlines with such a
word. Asked at every pause in typing, so each answer must cost a few milliseconds at a
million pieces.

Actors and events are few (thousands at most): their names live in a sorted list in
each process, kept until the archive changes (catalogue.remember), and a prefix is a
binary search there. Headlines come from the pieces' head vectors, newest first;
`headlines` says why that stays cheap.
"""

import bisect
import re
from dataclasses import asdict, dataclass

from django.conf import settings
from django.urls import reverse
from django.utils.formats import date_format

from archive.models import Actor, DatePrecision, Event
from archive.routers import reading_connection
from archive.search import catalogue
from archive.search.parsing import clean_query, fold

# Fewer typed letters match too much to be of help (and the box shows none).
MIN_LETTERS = 2
# Longer input is not being typed into a search box by hand: no suggestions.
MAX_CHARS = 100
# Words of the input used; later ones are left out.
MAX_WORDS = 6
MAX_SUBJECTS = 5
MAX_HEADLINES = 3
_WORD = re.compile(r"[^\W_]+")

# Dates as a list shows them, at the piece's precision: '24 jun 2023', 'jun 2023', '2023'.
_DATE_FORMATS = {DatePrecision.DAY: "j b Y", DatePrecision.MONTH: "b Y", DatePrecision.YEAR: "Y"}


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "actor", "event" or "piece"
    label: str
    detail: str
    url: str


def words_of(text: str) -> list[str]:
    """The folded words a reader typed; none for input no one types by hand."""
    text = clean_query(text or "")
    if len(text) > MAX_CHARS:
        return []
    words = _WORD.findall(fold(text))[:MAX_WORDS]
    return words if sum(map(len, words)) >= MIN_LETTERS else []


def suggest(text: str) -> list[Suggestion]:
    """What the search box offers for `text`: actors and events (most pieces first),
    then the newest headlines."""
    words = words_of(text)
    if not words:
        return []
    return SubjectIndex.load().find(words, MAX_SUBJECTS) + headlines(words, MAX_HEADLINES)


def as_json(suggestion: Suggestion) -> dict:
    return asdict(suggestion)


def _pieces(n: int) -> str:
    # Grouped the Dutch way (1.234): one of these per suggested subject.
    return "1 stuk" if n == 1 else f"{n:,} stukken".replace(",", ".")


@dataclass(frozen=True)
class Subject:
    """An actor or event as the index holds it; its Suggestion is made when offered."""

    kind: str
    name: str
    slug: str
    pieces: int
    about: str  # an actor's kind ("persoon"), an event's start date ("24 jun 2023")


class SubjectIndex:
    """Every word start of every actor's and event's names, folded and sorted: 'vladimir
    poetin' and 'poetin' both lead to Vladimir Poetin, so 'poe' and 'vladimir p' find
    him by binary search."""

    def __init__(self, subjects: list[tuple[Subject, list[str]]]):
        self.subjects = [subject for subject, _ in subjects]
        keys = set()
        for number, (_, names) in enumerate(subjects):
            for name in names:
                words = _WORD.findall(fold(name))
                keys.update((" ".join(words[start:]), number) for start in range(len(words)))
        ordered = sorted(keys)
        self.keys = [key for key, _ in ordered]
        self.owners = [number for _, number in ordered]
        self.urls = {
            kind: reverse(f"archive:{kind}", kwargs={"slug": "-"}) for kind in ("actor", "event")
        }

    @classmethod
    def load(cls):
        """The index for the current actors and events, kept per process until the
        archive changes."""
        return catalogue.remember("suggest-subjects", cls._build)

    @classmethod
    def _build(cls):
        kinds = dict(Actor.Kind.choices)
        subjects = [
            (
                Subject("actor", a.name, a.slug, a.piece_count, kinds.get(a.kind, a.kind)),
                a.match_names,
            )
            # All fields but the description: match_names may read any of them.
            for a in Actor.objects.order_by().defer("description")
        ]
        events = Event.objects.order_by().values_list("name", "slug", "piece_count", "start_date")
        for name, slug, pieces, start in events:
            when = date_format(start, _DATE_FORMATS[DatePrecision.DAY])
            subjects.append((Subject("event", name, slug, pieces, when), [name]))
        return cls(subjects)

    def find(self, words: list[str], limit: int) -> list[Suggestion]:
        """Subjects with a name in which `words` follow each other, the last one as the
        start of a word; most pieces first."""
        typed = " ".join(words)
        found = set()
        at = bisect.bisect_left(self.keys, typed)
        while at < len(self.keys) and self.keys[at].startswith(typed):
            found.add(self.subjects[self.owners[at]])
            at += 1
        ranked = sorted(found, key=lambda s: (-s.pieces, s.name, s.slug))[:limit]
        return [self._offered(subject) for subject in ranked]

    def _offered(self, subject: Subject) -> Suggestion:
        url = self.urls[subject.kind].replace("/-/", f"/{subject.slug}/")
        if subject.kind == "actor":
            detail = f"{subject.about} · {_pieces(subject.pieces)}"
        else:
            detail = subject.about
        return Suggestion(subject.kind, subject.name, detail, url)


def headline_query(words: list[str]) -> tuple[str, list[str]] | None:
    """SQL for a tsquery matching pieces whose headline has a word starting with each
    typed word, and its parameters; None when no word is long enough.

    Each word as typed is a prefix in the 'simple' configuration (folded, not stemmed:
    the stemmer would cut a half-typed word anywhere), or the whole word stemmed as the
    vector holds it, for a reader who typed 'muiterijen' where the vector says
    'muiterij'. Weight A is the headline (head_vector also holds the intro, weight B).
    A single letter narrows nothing and would read a large part of the index: left out.
    """
    parts, params = [], []
    for word in words:
        if len(word) < MIN_LETTERS:
            continue
        parts.append("(to_tsquery('simple', %s) || to_tsquery(%s::regconfig, %s))")
        # Only letters and digits reach to_tsquery, so no input can break its syntax.
        params += [f"{word}:*A", settings.SEARCH_CONFIG, f"{word}:A"]
    return (" && ".join(parts), params) if parts else None


# The newest pieces whose headlines are read one by one before asking the index: a
# prefix that is in more than a few of every thousand headlines is found among them.
RECENT = 1000
_RECENT_SQL = """
    SELECT a.slug, a.title, a.published_on, a.date_precision, s.name
    FROM (
        SELECT id, slug, title, published_on, date_precision, source_id, head_vector
        FROM archive_article ORDER BY published_on DESC, id DESC LIMIT %s
    ) a
    LEFT JOIN archive_source s ON s.id = a.source_id
    WHERE a.head_vector @@ ({query})
    ORDER BY a.published_on DESC, a.id DESC
    LIMIT %s
"""
# "+ 0": sorted after matching, never by walking the date index, which for a rare
# prefix would read every piece in the archive before it gave up.
_ALL_SQL = """
    SELECT a.slug, a.title, a.published_on, a.date_precision, s.name
    FROM archive_article a
    LEFT JOIN archive_source s ON s.id = a.source_id
    WHERE a.head_vector @@ ({query})
    ORDER BY a.published_on + 0 DESC, a.id DESC
    LIMIT %s
"""


def headlines(words: list[str], limit: int) -> list[Suggestion]:
    """The newest pieces whose headline matches, with source and date.

    One plan is not right for every prefix, and PostgreSQL cannot tell them apart (a
    prefix missing from its statistics it takes to be in one piece of 400). A common
    prefix ('ge') is in 50,000 of 100,000 head vectors: reading those from the GIN
    index and sorting them costs 100 ms, while walking the newest pieces finds three
    after a dozen. A rare one ('prig') is in a few dozen: the GIN index gives them at
    once, and the walk reads the whole archive. So: walk the newest RECENT pieces (a
    fixed cost); only when they hold too few, ask the GIN index for all matches, which
    are then few: a prefix in fewer than three of the newest thousand is, as a rule, in
    fewer than three of every thousand pieces. The exception is a word of one past
    period (a name from 2014), which costs what its matches cost.
    """
    compiled = headline_query(words)
    if compiled is None:
        return []
    query, params = compiled
    with reading_connection().cursor() as cursor:
        cursor.execute(_RECENT_SQL.format(query=query), [RECENT, *params, limit])
        rows = cursor.fetchall()
        if len(rows) < limit:
            cursor.execute(_ALL_SQL.format(query=query), [*params, limit])
            rows = cursor.fetchall()
    piece_url = reverse("archive:article", kwargs={"slug": "-"})
    found = []
    for slug, title, published_on, precision, source in rows:
        when = date_format(published_on, _DATE_FORMATS[precision])
        detail = f"{source} · {when}" if source else when
        found.append(Suggestion("piece", title, detail, piece_url.replace("/-/", f"/{slug}/")))
    return found
