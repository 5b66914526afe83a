"""New pieces from outside: raw text, saved HTML pages and JSON Lines, made into drafts,
checked for duplicates and stored one at a time.

Reading never touches the database and storing is one transaction per piece, so a
file that cannot be read or a piece that fails leaves nothing half-stored. The admin's
paste form uses it; `manage.py import_articles` reads its drafts here and stores them a
batch at a time (archive/bulk.py), falling back to `store` for a batch one piece broke.
"""

import datetime
import gzip
import json
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from archive.cleaning import Removed, clean, parse_partial_date
from archive.duplicates import Duplicate, find_duplicate
from archive.models import Article, Author, DatePrecision, Genre, Source, unique_slug

TEXT_SUFFIXES = {".txt", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSONL_SUFFIXES = {".jsonl", ".ndjson", ".jsonl.gz"}
MIN_HTML_WORDS = 25
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES


class Unreadable(Exception):
    """A file or line that cannot be made into a piece; the message says why, in Dutch."""


@dataclass
class Draft:
    """A piece as read, before it is stored: what the text and its metadata tell."""

    origin: str
    body: str
    title: str = ""
    lead: str = ""
    genre: str = ""
    published_on: datetime.date | None = None
    date_precision: str = ""
    source: str = ""
    authors: list[str] = field(default_factory=list)
    author_bio: str = ""  # of the first author, found at the end of the text
    url: str = ""
    removed: list[Removed] = field(default_factory=list)


@dataclass
class Defaults:
    """What the run supplies where a piece does not say: `--genre`, `--date`, `--source`."""

    genre: str = Genre.NIEUWS
    published_on: datetime.date | None = None
    date_precision: str = DatePrecision.DAY
    source: str = ""


@dataclass
class Outcome:
    origin: str
    status: str  # "added", "duplicate" or "failed"
    article: Article | None = None  # the new piece, or the one it duplicates
    duplicate: Duplicate | None = None
    reason: str = ""


def draft_from_text(raw: str, origin: str, **metadata) -> Draft:
    """A draft from raw text: cleaned, with whatever the text tells about itself.
    Metadata given by the caller (from JSON or HTML) wins over what the text suggests."""
    check_size("tekst", raw, settings.MAX_PASTE_CHARS, "MAX_PASTE_CHARS")
    cleaned = clean(raw)
    if not cleaned.body:
        raise Unreadable("geen tekst over na het opschonen")
    check_size("opgeschoonde tekst", cleaned.body, settings.MAX_PIECE_CHARS, "MAX_PIECE_CHARS")
    draft = Draft(
        origin=origin,
        body=cleaned.body,
        title=cleaned.headline,
        lead=cleaned.lead,
        genre=Genre.COLUMN if cleaned.is_column else "",
        published_on=cleaned.published_on,
        date_precision=cleaned.date_precision,
        authors=[cleaned.bio_author] if cleaned.bio_author else [],
        author_bio=cleaned.bio,
        removed=cleaned.removed,
    )
    for name, value in metadata.items():
        if value:
            setattr(draft, name, value)
    check_size("intro", draft.lead, settings.MAX_LEAD_CHARS, "MAX_LEAD_CHARS")
    return draft


def check_size(what: str, text: str, limit: int, setting: str) -> None:
    """Unreadable when `text` is over `limit` characters, naming the size and the setting."""
    if len(text) > limit:
        raise Unreadable(too_long(what, len(text), limit, setting))


def too_long(what: str, length: int, limit: int, setting: str) -> str:
    return f"{what} te lang: {thousands(length)} tekens, ten hoogste {thousands(limit)} ({setting})"


def thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def source_named_in(text: str, names=None) -> str:
    """A known source that an author bio names ("columnist bij Het Parool"); `names`,
    the sources' names when the caller has them already."""
    if not text:
        return ""
    if names is None:
        names = Source.objects.values_list("name", flat=True)
    return next((name for name in names if name in text), "")


def draft_from_html(html: str, origin: str) -> Draft:
    """Main text and metadata of a saved news page, extracted by trafilatura."""
    import trafilatura

    document = trafilatura.bare_extraction(
        html, with_metadata=True, include_formatting=True, include_comments=False
    )
    words = len((document.text or "").split()) if document else 0
    # Below this, what trafilatura found is a menu or a footer, not a piece.
    if words < MIN_HTML_WORDS:
        raise Unreadable(f"geen hoofdtekst gevonden in de HTML ({words} woorden)")
    title = (document.title or "").strip()
    published_on, precision = None, ""
    if document.date:
        with suppress(ValueError):
            published_on, precision = parse_partial_date(document.date[:10])
    authors = [a.strip() for a in (document.author or "").split(";") if a.strip()]
    return draft_from_text(
        document.text,
        origin,
        title=title,
        lead=(document.description or "").strip(),
        published_on=published_on,
        date_precision=precision,
        source=(document.sitename or "").strip(),
        authors=authors,
        url=(document.url or "").strip(),
    )


def draft_from_json(row, origin: str) -> Draft:
    """One JSON Lines record. Fields: body (or text), title, lead, date (or published_on,
    published_at; "2023", "2023-06", "2023-06-25" or a timestamp), date_precision, genre,
    source, authors (a list, or author as a string), url."""
    if not isinstance(row, dict):
        raise Unreadable("regel is geen JSON-object")
    body = row.get("body") or row.get("text")
    if not isinstance(body, str) or not body.strip():
        raise Unreadable("geen tekst (veld body of text)")
    published_on, precision = None, ""
    date = row.get("date") or row.get("published_on") or row.get("published_at")
    if date:
        text = str(date)
        try:
            published_on, precision = parse_partial_date(text[:10] if "T" in text else text)
        except ValueError as error:
            raise Unreadable(f"datum {text!r} niet te lezen") from error
        if row.get("date_precision"):
            precision = row["date_precision"]
    authors = row.get("authors") or row.get("author") or []
    if isinstance(authors, str):
        authors = [authors]
    return draft_from_text(
        body,
        origin,
        title=str(row.get("title") or "").strip(),
        lead=str(row.get("lead") or "").strip(),
        genre=str(row.get("genre") or "").strip(),
        published_on=published_on,
        date_precision=precision,
        source=str(row.get("source") or "").strip(),
        authors=[str(a).strip() for a in authors if str(a).strip()],
        url=str(row.get("url") or "").strip(),
    )


def suffix_of(path: Path) -> str:
    return ".jsonl.gz" if path.name.endswith(".jsonl.gz") else path.suffix.lower()


def files_in(paths) -> Iterator[Path]:
    """The files to read: the paths given, and in folders every file of a known kind."""
    for path in map(Path, paths):
        if path.is_dir():
            found = (p for p in path.rglob("*") if p.is_file() and suffix_of(p) in SUFFIXES)
            yield from sorted(found)
        else:
            yield path


def _read_text(path: Path) -> str:
    limit = settings.MAX_IMPORT_CHARS
    try:
        with path.open("rb") as handle:
            # A character is at most 4 bytes: past that many bytes the file is too long
            # whatever it holds, and the rest is not read.
            data = handle.read(4 * limit + 1)
    except FileNotFoundError as error:
        raise Unreadable("bestand bestaat niet") from error
    except OSError as error:
        raise Unreadable(f"niet te lezen: {error.strerror or error}") from error
    if len(data) > 4 * limit:
        raise Unreadable(f"bestand te lang: meer dan {thousands(limit)} tekens (MAX_IMPORT_CHARS)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Unreadable(f"geen UTF-8-tekst (byte {error.start})") from error
    check_size("bestand", text, limit, "MAX_IMPORT_CHARS")
    return text


def open_lines(path: Path):
    if suffix_of(path) == ".jsonl.gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def numbered_lines(handle) -> Iterator[tuple[int, str | None, int]]:
    """(number, line, length) for each line; a line over MAX_IMPORT_CHARS comes as None
    with its length, and is never held in memory whole."""
    limit = settings.MAX_IMPORT_CHARS
    number = 0
    while chunk := handle.readline(limit + 1):
        number += 1
        if chunk.endswith("\n") or len(chunk) <= limit:
            yield number, chunk, len(chunk.rstrip("\n"))
            continue
        length = len(chunk)
        while (more := handle.readline(1 << 20)) and not more.endswith("\n"):
            length += len(more)
        length += len(more.rstrip("\n"))
        yield number, None, length


def read_file(path: Path) -> Iterator[Draft | Outcome]:
    """Drafts from one file; what cannot be read comes as a failed Outcome instead."""
    kind = suffix_of(path)
    if kind in JSONL_SUFFIXES:
        yield from _read_jsonl(path)
        return
    try:
        text = _read_text(path)
        if kind in HTML_SUFFIXES or (kind not in TEXT_SUFFIXES and _looks_like_html(text)):
            yield draft_from_html(text, path.name)
        else:
            yield draft_from_text(text, path.name)
    except Unreadable as error:
        yield Outcome(path.name, "failed", reason=str(error))


def _looks_like_html(text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return head.startswith(("<!doctype html", "<html")) or "<body" in head


def _read_jsonl(path: Path) -> Iterator[Draft | Outcome]:
    number = 0
    try:
        with open_lines(path) as handle:
            for number, line, length in numbered_lines(handle):
                origin = f"{path.name}:{number}"
                if line is None:
                    limit = settings.MAX_IMPORT_CHARS
                    reason = too_long("regel", length, limit, "MAX_IMPORT_CHARS")
                    yield Outcome(origin, "failed", reason=reason)
                    continue
                if not line.strip():
                    continue
                try:
                    yield draft_from_json(json.loads(line), origin)
                except json.JSONDecodeError as error:
                    yield Outcome(origin, "failed", reason=f"geen geldige JSON ({error.msg})")
                except Unreadable as error:
                    yield Outcome(origin, "failed", reason=str(error))
    except FileNotFoundError:
        yield Outcome(path.name, "failed", reason="bestand bestaat niet")
    except (OSError, UnicodeDecodeError, EOFError) as error:
        where = f"{path.name}:{number + 1}" if number else path.name
        yield Outcome(where, "failed", reason=f"niet te lezen: {error}")


NO_DATE = "geen publicatiedatum in de tekst; geef er een met --date JJJJ[-MM[-DD]]"


def unsaved_article(draft: Draft, defaults: Defaults) -> Article | str:
    """The piece a draft makes, unsaved (no slug, source or authors yet) and checked
    field by field; or, as a string, why it cannot be one. The database itself enforces
    the constraints when it is stored."""
    published_on = draft.published_on or defaults.published_on
    if not published_on:
        return NO_DATE
    precision = (draft.date_precision if draft.published_on else defaults.date_precision) or "day"
    # A date known to the month or year is stored on its first day (the model's rule).
    if precision == DatePrecision.MONTH:
        published_on = published_on.replace(day=1)
    elif precision == DatePrecision.YEAR:
        published_on = published_on.replace(month=1, day=1)
    article = Article(
        title=(draft.title or draft.body[:100])[:300],
        lead=draft.lead,
        body=draft.body,
        genre=draft.genre or defaults.genre,
        published_on=published_on,
        date_precision=precision,
        url=draft.url[:500],
    )
    try:
        article.full_clean(
            exclude=["slug", "source"], validate_unique=False, validate_constraints=False
        )
    except ValidationError as error:
        return validation_message(error)
    return article


def store(draft: Draft, defaults: Defaults | None = None, vocabulary=None) -> Outcome:
    """Store a draft as a piece unless it duplicates one; all or nothing.

    The new piece gets the archive's actor and event suggestions, unconfirmed; a bulk
    import passes the tagging Vocabulary it loaded once.
    """
    from archive.tagging import apply_suggestions

    defaults = defaults or Defaults()
    duplicate = find_duplicate(draft.body)
    if duplicate:
        return Outcome(draft.origin, "duplicate", duplicate.article, duplicate)
    article = unsaved_article(draft, defaults)
    if isinstance(article, str):
        return Outcome(draft.origin, "failed", reason=article)
    try:
        with transaction.atomic():
            # A columnist's bio may name the paper ("columnist bij Het Parool").
            source_name = draft.source or source_named_in(draft.author_bio) or defaults.source
            article.source = source_for(source_name) if source_name else None
            article.slug = unique_slug(Article, article.title)
            article.save()
            article.authors.set(
                [
                    author_for(name, draft.author_bio if i == 0 else "")
                    for i, name in enumerate(draft.authors)
                ]
            )
            apply_suggestions(article, vocabulary)
    except IntegrityError:
        # Another writer stored the same text between the check and the insert.
        duplicate = find_duplicate(draft.body)
        if duplicate:
            return Outcome(draft.origin, "duplicate", duplicate.article, duplicate)
        raise
    return Outcome(draft.origin, "added", article)


def validation_message(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(
            f"{Article._meta.get_field(name).verbose_name}: {' '.join(messages)}"
            if name != "__all__"
            else " ".join(messages)
            for name, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


def source_for(name: str) -> Source:
    found = Source.objects.filter(name__iexact=name).first()
    if found:
        return found
    return Source.objects.create(name=name[:200], slug=unique_slug(Source, name))


def author_for(name: str, bio: str = "") -> Author:
    found = Author.objects.filter(name__iexact=name).first()
    if found:
        if bio and not found.bio:
            found.bio = bio
            found.save(update_fields=["bio"])
        return found
    return Author.objects.create(name=name[:200], slug=unique_slug(Author, name), bio=bio)
