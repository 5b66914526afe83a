"""Raw text as copied from a news site, made into a clean piece.

Pure text work, no database: the admin's paste form and the bulk importer both call
`clean()` and show the editor what it took out. Every rule below removes a whole
paragraph or a leading metadata line, never words inside a sentence, so a mistaken rule
can only drop a paragraph the editor sees listed as removed.
"""

import datetime
import re
import unicodedata
from contextlib import suppress
from dataclasses import dataclass, field

from archive.models import Article, DatePrecision

SUBHEADING = Article.SUBHEADING

# Invisible characters that ride along with copied text (soft hyphens, zero-width
# joiners, byte-order marks) and control characters other than newline and tab.
_INVISIBLE = dict.fromkeys(
    [0xAD, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF]
    + [c for c in range(32) if c not in (9, 10)]
    + list(range(0x7F, 0xA0))
)

# "date 2022-02" (or "datum: 2022-02-19") at the very start, sometimes run into the
# first sentence on the same line, as in the seeds.
_METADATA = re.compile(
    r"\A\s*(?:date|datum)\s*:?\s*(?P<date>\d{4}(?:-\d{1,2}(?:-\d{1,2})?)?)\b\s*", re.IGNORECASE
)

# A photo credit: "Beeld ANP / EPA", "Foto Guus Dubbelman / de Volkskrant", "© AFP".
# The credit is a short run of names, so a sentence that merely contains "Beeld" stays.
# Possessive quantifiers: a credit word cannot be split, so a long run of capitals cannot
# make the pattern backtrack.
_CREDIT_WORD = r"[A-Z0-9][\w.'’&-]*+"
_CREDIT_GAP = r"(?:\s*[/,&|]\s*|\s+(?:(?:de|van|der|den|voor)\s+)*+)"
_CAPTION_END = re.compile(
    rf"(?:\b(?:Beeld|Foto|Bron)\s*:?|©)\s*{_CREDIT_WORD}(?:{_CREDIT_GAP}{_CREDIT_WORD}){{0,5}}$"
)
_VIEWER = re.compile(r"^(?:Volledig scherm|Bekijk (?:de )?foto'?s?)\b", re.IGNORECASE)

# Embedded posts a site would not show without consent, and read-more links.
_PLACEHOLDERS = [
    re.compile(r"^Onze excuses\b.*\b(?:cookies?|social media)", re.IGNORECASE | re.DOTALL),
    re.compile(r"\bsocial media-cookies\b", re.IGNORECASE),
    re.compile(r"^(?:Accepteer|Aanvaard) (?:de )?\w*-?cookies\b", re.IGNORECASE),
    re.compile(r"^Deze (?:inhoud|video|tweet|post) kan (?:helaas )?niet", re.IGNORECASE),
]
_READ_MORE = re.compile(r"^(?:Lees ook|Lees meer|Bekijk ook|Meer over)\s*:", re.IGNORECASE)

# "Derk Sauer is uitgever van The Moscow Times en columnist bij Het Parool."
_NAME = r"[A-Z][\w'’-]+(?:\s+(?:(?:van|de|der|den|ter|ten|te|het|'t)\s+)*[A-Z][\w'’-]+){1,3}"
_BIO = re.compile(rf"^(?P<name>{_NAME})\s+(?:is|was|werkt|schrijft)\b")
_PROFESSION = re.compile(
    r"\b(?:columnist|correspondent|journalist|redacteur|verslaggever|commentator|uitgever"
    r"|schrijver|schrijfster|hoogleraar|publicist|essayist|analist|historicus|politicoloog"
    r"|econoom|filosoof|onderzoeker|chef|auteur)\w*",
    re.IGNORECASE,
)
_COLUMNIST = re.compile(r"\bcolumnist\w*\b", re.IGNORECASE)

_SENTENCE_END = re.compile(r"(?<=[.!?…])[’”\"']?\s+(?=[‘“\"'(A-Z0-9À-Ý,])")
_CLOSING_QUOTES = "’”\"'»)"
_NO_HEADING_END = ".!?:;,…"

HEADLINE_WORDS = 20
SUBHEADING_WORDS = 12
SHORT_PARAGRAPH_WORDS = 80
HEADLINE_CHARS = 120
LEAD_CHARS = 300


@dataclass(frozen=True)
class Removed:
    """A paragraph (or line) taken out of the text, and why."""

    kind: str
    text: str

    LABELS = {
        "metadata": "metagegevens",
        "caption": "fotobijschrift",
        "placeholder": "plaatshouder voor ingesloten inhoud",
        "link": "verwijzing naar ander stuk",
        "bio": "over de auteur",
        "headline": "kop",
    }

    @property
    def label(self) -> str:
        return self.LABELS[self.kind]


@dataclass
class CleanText:
    body: str
    removed: list[Removed] = field(default_factory=list)
    headline: str = ""
    headline_found: bool = False  # the text began with its own headline
    lead: str = ""
    published_on: datetime.date | None = None
    date_precision: str = ""
    bio: str = ""
    bio_author: str = ""
    is_column: bool = False  # the bio calls the author a columnist

    @property
    def subheadings(self) -> list[str]:
        return [p.removeprefix(SUBHEADING) for p in self.paragraphs if p.startswith(SUBHEADING)]

    @property
    def paragraphs(self) -> list[str]:
        return self.body.split("\n\n") if self.body else []


def normalise(raw: str) -> str:
    """NFC, Unix newlines, no invisible or control characters."""
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_INVISIBLE).replace("\xa0", " ")


def paragraphs_of(text: str) -> list[str]:
    """Paragraphs are separated by blank lines; text pasted with single newlines only
    (some sites copy that way) has a paragraph per line."""
    chunks = re.split(r"\n\s*\n", text) if re.search(r"\n\s*\n", text) else text.split("\n")
    return [" ".join(chunk.split()) for chunk in chunks if chunk.strip()]


def parse_partial_date(value: str) -> tuple[datetime.date, str]:
    """ "2022", "2022-02" or "2022-02-19" as (first day, precision); ValueError if not a date."""
    parts = [int(p) for p in value.strip().split("-")]
    if len(parts) == 1:
        return datetime.date(parts[0], 1, 1), DatePrecision.YEAR
    if len(parts) == 2:
        return datetime.date(parts[0], parts[1], 1), DatePrecision.MONTH
    if len(parts) == 3:
        return datetime.date(*parts), DatePrecision.DAY
    raise ValueError(f"geen datum: {value!r}")


def debris_kind(paragraph: str) -> str | None:
    """Which kind of scraping debris a paragraph is, or None for real text."""
    words = len(paragraph.split())
    if _VIEWER.match(paragraph):
        return "caption"
    if words <= SHORT_PARAGRAPH_WORDS and _CAPTION_END.search(paragraph):
        return "caption"
    if words <= SHORT_PARAGRAPH_WORDS and any(p.search(paragraph) for p in _PLACEHOLDERS):
        return "placeholder"
    if words <= 30 and _READ_MORE.match(paragraph):
        return "link"
    return None


def bio_author(paragraph: str) -> str:
    """The author's name when a paragraph is a short author bio, else ""."""
    if len(paragraph.split()) > SHORT_PARAGRAPH_WORDS:
        return ""
    match = _BIO.match(paragraph)
    if match and _PROFESSION.search(paragraph):
        return match["name"]
    return ""


def _looks_like_heading(paragraph: str, max_words: int) -> bool:
    stripped = paragraph.rstrip(_CLOSING_QUOTES)
    return (
        0 < len(paragraph.split()) <= max_words
        and bool(stripped)
        and stripped[-1] not in _NO_HEADING_END
    )


def first_sentences(text: str, limit: int, most: int | None = None) -> str:
    """Whole sentences from the start of `text`, as many as fit in `limit` characters
    (at least one, cut at a word if even that is too long), at most `most` of them."""
    sentences = _SENTENCE_END.split(text)
    out = sentences[0]
    for sentence in sentences[1:most]:
        if len(out) + 1 + len(sentence) > limit:
            break
        out = f"{out} {sentence}"
    if len(out) > limit:
        out = out[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return out


def clean(raw: str) -> CleanText:
    """Clean a raw text: remove debris, mark subheadings, find bio, date, headline, lead."""
    result = CleanText(body="")
    text = normalise(raw)

    metadata = _METADATA.match(text)
    if metadata:
        # An impossible date is still debris; the editor fills in the real one.
        with suppress(ValueError):
            result.published_on, result.date_precision = parse_partial_date(metadata["date"])
        result.removed.append(Removed("metadata", metadata.group(0).strip()))
        text = text[metadata.end() :]

    kept = []
    for paragraph in paragraphs_of(text):
        kind = debris_kind(paragraph)
        if kind:
            result.removed.append(Removed(kind, paragraph))
        else:
            kept.append(paragraph)

    if len(kept) > 1 and (name := bio_author(kept[-1])):
        result.bio, result.bio_author = kept.pop(), name
        result.is_column = bool(_COLUMNIST.search(result.bio))
        result.removed.append(Removed("bio", result.bio))

    # A page's own headline: "# Kop" from an HTML extraction, or a short first line.
    if len(kept) > 1 and (kept[0].startswith("# ") or _looks_like_heading(kept[0], HEADLINE_WORDS)):
        headline = kept.pop(0)
        result.headline, result.headline_found = headline.removeprefix("# ").strip(), True
        result.removed.append(Removed("headline", headline))

    body = []
    for i, paragraph in enumerate(kept):
        marked = re.match(r"^#{1,6}\s+(.*)", paragraph)
        if marked:
            body.append(SUBHEADING + marked[1])
        elif 0 < i < len(kept) - 1 and _looks_like_heading(paragraph, SUBHEADING_WORDS):
            body.append(SUBHEADING + paragraph)
        else:
            body.append(paragraph)
    result.body = "\n\n".join(body)

    opening = next((p for p in body if not p.startswith(SUBHEADING)), "")
    if not result.headline:
        result.headline = first_sentences(opening, HEADLINE_CHARS, most=1) if opening else ""
    result.lead = first_sentences(opening, LEAD_CHARS) if opening else ""
    return result
