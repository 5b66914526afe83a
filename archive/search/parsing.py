"""A reader's query as groups of terms: words, "exact phrases", `or` and `-word`."""

import re
import unicodedata
from dataclasses import dataclass, field

MAX_QUERY_LENGTH = 500
MAX_GROUPS = 12

_QUOTES = str.maketrans({c: '"' for c in "“”„‟«»″〝〞＂"} | {c: "'" for c in "‘’‚‛′"})
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"[^\W_]+")


def clean_query(text: str) -> str:
    """Drop control characters (NUL included: PostgreSQL text cannot hold it), squeeze
    whitespace and cut over-long input, so any string a reader types can be searched."""
    kept = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text or "")
    return " ".join(kept.split())[:MAX_QUERY_LENGTH]


def fold(text: str) -> str:
    """Lower case without diacritics: how names are compared (Čaputová = caputova)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Term:
    """A word or a phrase, as its plain words."""

    words: tuple[str, ...]

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass
class ParsedQuery:
    groups: list[list[Term]] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)

    def __bool__(self):
        return bool(self.groups or self.excluded)

    @property
    def words(self) -> list[str]:
        return [w for group in self.groups for term in group for w in term.words]


def _term(text: str) -> Term | None:
    words = tuple(_WORD.findall(text))
    return Term(words) if words else None


def parse_query(text: str) -> ParsedQuery:
    """Web-search syntax: words, "phrases", `or` between alternatives, `-word`.

    Curly quotes count as straight ones; an unclosed quote runs to the end; anything
    that is not a word (operator soup) is dropped.
    """
    parsed = ParsedQuery()
    join_next = False
    for minus, quoted, bare in _TOKEN.findall(clean_query(text).translate(_QUOTES)):
        if bare and bare.lower() == "or":
            join_next = bool(parsed.groups)
            continue
        negative = bool(minus) or (bare.startswith("-") and len(bare) > 1)
        term = _term(quoted if quoted or minus else bare.lstrip("-"))
        if term is None:
            continue
        if negative:
            parsed.excluded.append(term)
        elif join_next:
            parsed.groups[-1].append(term)
        else:
            parsed.groups.append([term])
        join_next = False
    parsed.groups = parsed.groups[:MAX_GROUPS]
    return parsed
