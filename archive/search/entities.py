"""The actors and events a query names, and what search does with them.

A reader who types `muiterij` means the event "Muiterij van Wagner", even where a piece
about it says "opstand" or "bijna-coup": editors (and tagging) linked those pieces to
the event, and search uses the links. A query word or phrase names

- an actor by its name or an alias, or a person by the surname alone (the names
  Actor.match_names finds it by, but not its derived forms: "Russische" is a word,
  not a name for Rusland);
- an event by its name, or by a distinctive word of its name: one its editors also
  gave it as a signal word, that no other event's name holds, and that is no actor's
  name or derived form ("muiterij" for "Muiterij van
  Wagner"; not "wagner", which names the actor, nor "slag" of "Slag om Makiivka", a
  word of every day that editors did not make a signal word).

Pieces linked to what a group of the query names count as matching that group (pool.py
ranks them with the text matches): a confirmed link like an exact word, a suggested one
like a compound. For an actor only the links its names do not find are used: confirmed
links where tagging counted no mention (an editor linked the piece by hand). Every
other link of an actor was found by its names in the text, which the query's alias
expansion finds as well; taking them again would add a popular actor's thousands of
pieces to every search for it, each read whole, for nothing. A query that as a whole
names one actor or event gets a panel above the results.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field

from archive.search import catalogue
from archive.search.parsing import ParsedQuery, Term, fold

# Distinctive words shorter than this say too little ("slag", "om").
MIN_WORD_LENGTH = 4
_WORDS = re.compile(r"[^\W_]+")

ACTOR, EVENT = "actor", "event"


def key(text: str) -> str:
    """A name as the index compares it: folded words, so "Minsk-akkoorden" typed as
    `minsk akkoorden` or `Minsk-akkoorden` is the same key."""
    return " ".join(_WORDS.findall(fold(text)))


@dataclass(frozen=True)
class Named:
    kind: str  # ACTOR or EVENT
    pk: int
    name: str


class EntityIndex:
    """Which actors and events a key names."""

    def __init__(self, actors, events):
        self.by_key: dict[str, set[Named]] = defaultdict(set)
        actor_keys = set()  # every actor's names and derived forms
        for actor in actors:
            named = Named(ACTOR, actor.pk, actor.name)
            actor_keys |= {key(form) for form in actor.match_forms}
            for name in actor.match_names:
                if name not in actor.match_forms and (k := key(name)):
                    self.by_key[k].add(named)
                    actor_keys.add(k)
        events = list(events)
        words_of = {event.pk: set(key(event.name).split()) for event in events}
        holders = defaultdict(int)
        for words in words_of.values():
            for word in words:
                holders[word] += 1
        for event in events:
            named = Named(EVENT, event.pk, event.name)
            self.by_key[key(event.name)].add(named)
            signals = {key(word) for word in event.signal_words}
            for word in words_of[event.pk]:
                if (
                    word in signals
                    and len(word) >= MIN_WORD_LENGTH
                    and holders[word] == 1
                    and word not in actor_keys
                ):
                    self.by_key[word].add(named)

    @classmethod
    def load(cls) -> "EntityIndex":
        """The index for the current actors and events, kept per process until the
        archive changes."""
        return catalogue.remember("entities", cls._build)

    @classmethod
    def _build(cls):
        from archive.models import Event
        from archive.search.queries import actors

        return cls(actors(), Event.objects.only("name", "signal_words"))

    def named(self, text: str) -> set[Named]:
        return self.by_key.get(key(text), set())

    def for_group(self, group: list[Term]) -> set[Named]:
        """What any alternative of a query group names."""
        found = set()
        for term in group:
            found |= self.named(term.text)
        return found

    def whole(self, parsed: ParsedQuery) -> Named | None:
        """The one actor or event the query as a whole names (words or a phrase, no `or`,
        no exclusions), else None."""
        if not parsed.groups or parsed.excluded or any(len(g) > 1 for g in parsed.groups):
            return None
        found = self.named(" ".join(g[0].text for g in parsed.groups))
        return next(iter(found)) if len(found) == 1 else None


@dataclass
class Links:
    """Pieces linked to what a query's groups name, as pool.py scores them."""

    groups: list[dict[int, bool]]  # per compiled group: piece id -> link confirmed
    names: dict[int, list[str]] = field(default_factory=dict)  # piece id -> linked to

    def __bool__(self):
        return any(self.groups)

    @property
    def ids(self) -> list[int]:
        return sorted({pk for group in self.groups for pk in group}, reverse=True)

    def any_of(self, group: int) -> list[int]:
        return list(self.groups[group])

    def confirmed_of(self, group: int) -> list[int]:
        return [pk for pk, confirmed in self.groups[group].items() if confirmed]


def linked(compiled, parsed: ParsedQuery, queryset, limit: int) -> Links | None:
    """The pieces of `queryset` linked to what each group of the compiled query names,
    at most `limit` per group, confirmed links first; None when it names nothing."""
    index = EntityIndex.load()
    whole = index.whole(parsed)
    named_by_group = [
        index.for_group(group.terms) | ({whole} if whole else set()) for group in compiled.groups
    ]
    if not any(named_by_group):
        return None
    narrowed = queryset if queryset.query.where else None
    links = Links(groups=[])
    for named in named_by_group:
        group: dict[int, bool] = {}
        for pk, confirmed, name in _links(named, narrowed, limit):
            group[pk] = group.get(pk, False) or confirmed
            if name not in links.names.setdefault(pk, []):
                links.names[pk].append(name)
        links.groups.append(group)
    return links if links else None


def _links(named: set[Named], narrowed, limit: int) -> list[tuple[int, bool, str]]:
    """(piece id, confirmed, what it is linked to) for the named actors and events, at
    most `limit` of each kind, confirmed links first."""
    from archive.models import ArticleActor, ArticleEvent

    rows = []
    for model, kind, column, by_hand in (
        (ArticleEvent, EVENT, "event", {}),
        (ArticleActor, ACTOR, "actor", {"confirmed": True, "mentions": 0}),
    ):
        ids = [n.pk for n in named if n.kind == kind]
        if not ids:
            continue
        if narrowed is None:
            # The whole archive: the links alone, without touching a piece.
            links = model.objects.filter(**{f"{column}_id__in": ids}, **by_hand)
            fields = ("article_id", "confirmed", f"{column}__name")
        else:
            # Filters narrow the archive: asked of the pieces they leave, joined to
            # their links (one join, used by the filter and the values alike).
            via = f"{column}_links"
            condition = {f"{via}__{key}": value for key, value in by_hand.items()}
            links = narrowed.filter(**{f"{via}__{column}_id__in": ids}, **condition)
            fields = ("pk", f"{via}__confirmed", f"{via}__{column}__name")
        rows += links.order_by(f"-{fields[1]}", f"-{fields[0]}").values_list(*fields)[:limit]
    return rows
