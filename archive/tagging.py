"""Suggested links from a piece to the actors and events it is about.

An actor is suggested when one of its names (Actor.match_names) occurs in the piece,
or one of its derived forms ("de Russische kant" for Rusland).
Names are matched on the piece's stored search vector, stemmed by the same Dutch
configuration as search, so inflections ("Poetins") and spellings without diacritics
follow the stemmer exactly as a reader's query would. An event is suggested on evidence
an editor can check at a glance: the date, the event's actors in the piece (named by a
name, not only by a derived form), and its signal words (matched like names).

Suggestions become links with confirmed=False. An editor confirms them or deletes them;
a deleted suggestion is remembered (Article.rejected_actors, rejected_events), and
nothing here ever suggests it again for that piece.

Working on a tsvector has limits: positions stop at 16383 and a lexeme keeps at most
256 of them. A news piece stays far below both; in a book-length text, mentions past
those limits would go uncounted, and phrases could match falsely at position 16383.
"""

import bisect
import datetime
import functools
import operator
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.search import SearchQuery
from django.db import connection, transaction
from django.db.models import Prefetch

from archive.models import Actor, Article, ArticleActor, ArticleEvent, Event

# A compound counts for a name when the name is one word of at least this many letters
# (as a lexeme) and the compound has at least COMPOUND_MIN_REST more: Wagnersoldaten
# for Wagner, but not Dugina for Dugin.
COMPOUND_MIN_NAME = 5
COMPOUND_MIN_REST = 4
# Commentary runs behind the news: a piece up to a month after an event ends is still
# in its window.
WINDOW_AFTER = datetime.timedelta(days=30)
# Pieces re-checked per round of queries in recheck_actor.
BATCH_SIZE = 500

Phrase = tuple[tuple[int, str], ...]
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class ActorSuggestion:
    actor: Actor
    mentions: int
    # False when the piece mentions the actor only through derived forms ("Russische").
    named: bool = True


@dataclass(frozen=True)
class EventSuggestion:
    event: Event
    evidence: str


@dataclass(frozen=True)
class Suggested:
    """Links newly created by apply_suggestions."""

    actors: int
    events: int


@dataclass(frozen=True)
class _Pattern:
    """A name or signal word as lexemes with offsets, whether compounds count, and
    whether it is an actor's derived form rather than a name."""

    phrase: Phrase
    compound: bool
    derived: bool = False


def _phrases(texts: Sequence[str]) -> list[Phrase]:
    """Each text as the lexemes the Dutch configuration makes of it, with positions
    relative to the first. Stopwords leave gaps, in a name as in a piece, so "Rostov aan
    de Don" is ((0, "rostov"), (3, "don")). One query for all texts."""
    if not texts:
        return []
    found = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT n.i, u.lexeme, p.pos
            FROM unnest(%s::text[]) WITH ORDINALITY AS n(text, i),
                 unnest(to_tsvector(%s::regconfig, n.text)) AS u,
                 unnest(u.positions) AS p(pos)
            """,
            [list(texts), settings.SEARCH_CONFIG],
        )
        for i, lexeme, pos in cursor.fetchall():
            found[i - 1].append((pos, lexeme))
    phrases = []
    for i in range(len(texts)):
        items = sorted(found.get(i, ()))
        phrases.append(tuple((pos - items[0][0], lexeme) for pos, lexeme in items))
    return phrases


def _patterns(texts: Sequence[str], derived: Sequence[bool] = ()) -> list[_Pattern | None]:
    """Patterns parallel to texts; None where a text is all stopwords (nothing to find).

    `derived` flags (parallel to texts) the actors' derived forms: they never count as
    the start of a compound, since an adjective's compounds are mostly about something
    else ("Russischtalige" is about a language, not about Rusland)."""
    derived = list(derived) or [False] * len(texts)
    patterns = []
    for text, phrase, form in zip(texts, _phrases(texts), derived, strict=True):
        if not phrase:
            patterns.append(None)
            continue
        single = len(phrase) == 1 and len(text.split()) == 1 and not form
        patterns.append(
            _Pattern(phrase, single and len(phrase[0][1]) >= COMPOUND_MIN_NAME, derived=form)
        )
    return patterns


class _Text:
    """A piece's words as its stored search vector holds them: lexeme -> positions."""

    def __init__(self, positions: dict[str, Iterable[int]] | None = None, *, ready=False):
        # `ready`: the positions are small tuples already (a lexeme has a few), which
        # answer `in` as fast as sets for that size.
        positions = positions or {}
        if not ready:
            positions = {lexeme: frozenset(p) for lexeme, p in positions.items()}
        self.positions = positions
        self.lexemes = sorted(self.positions)

    def spans(self, pattern: _Pattern) -> Iterator[tuple[int, int]]:
        (_, first), *rest = pattern.phrase
        length = pattern.phrase[-1][0]
        for start in self.positions.get(first, ()):
            if all(start + offset in self.positions.get(lexeme, ()) for offset, lexeme in rest):
                yield start, start + length
        if pattern.compound:
            for lexeme in self._starting_with(first):
                # A hyphenated word ("Kremlin-theorie") is in the vector whole and as
                # its parts, at the next positions; the parts alone count.
                if len(lexeme) >= len(first) + COMPOUND_MIN_REST and "-" not in lexeme:
                    for position in self.positions[lexeme]:
                        yield position, position

    def _starting_with(self, prefix: str) -> Iterator[str]:
        i = bisect.bisect_left(self.lexemes, prefix)
        while i < len(self.lexemes) and self.lexemes[i].startswith(prefix):
            yield self.lexemes[i]
            i += 1

    def mentions(self, groups: dict) -> dict:
        """Mentions per key (an actor, a signal word) of {key: patterns}.

        A mention is a matched span. Overlapping spans of one key count once ("Vladimir
        Poetin" is not also a mention of "Poetin"), and a span inside a longer span of
        another key does not count: "The Moscow Times" is no mention of Moskou (alias
        Moscow), "Wit-Rusland" none of Rusland, "Wit-Russische" none of Russische.
        """
        return {key: len(found) for key, found in self.mentions_named(groups).items()}

    def mentions_named(self, groups: dict) -> dict:
        """The mentions of mentions(), each as whether a name makes it (True) or only a
        derived form (False): {key: [bool, ...]}."""
        spans, by_name = {}, {}
        for key, patterns in groups.items():
            found, named = set(), set()
            for pattern in patterns:
                matched = set(self.spans(pattern))
                found |= matched
                if not pattern.derived:
                    named |= matched
            if found:
                spans[key], by_name[key] = sorted(found), named
        covering = defaultdict(list)
        for key, found in spans.items():
            for start, end in found:
                for position in range(start, end + 1) if end > start else ():
                    covering[position].append((key, start, end))
        found_by_key = {}
        for key, found in spans.items():
            mentions, reach = [], -1
            for start, end in found:
                if any(
                    other != key and s <= start and end <= e and e - s > end - start
                    for other, s, e in covering.get(start, ())
                ):
                    continue
                if start > reach:
                    mentions.append(False)
                if (start, end) in by_name[key]:
                    mentions[-1] = True
                reach = max(reach, end)
            if mentions:
                found_by_key[key] = mentions
        return found_by_key


def _texts(article_ids: Sequence[int], only: Iterable[_Pattern] | None = None):
    """article id -> _Text, one query. With `only`, just the lexemes those patterns can
    match are fetched: a re-check of one actor over thousands of pieces stays small.

    Only the text's own words count (weights A, B, C): weight D holds the parts of its
    compounds (archive/search/compounds.py), which are no mentions of anything."""
    sql = f"""
        SELECT a.id, u.lexeme, u.positions
        FROM {Article._meta.db_table} a,
             unnest(ts_filter(a.search_vector, '{{a,b,c}}')) AS u
        WHERE a.id = ANY(%s::bigint[])
    """
    params: list = [list(article_ids)]
    if only is not None:
        only = list(only)
        exact = sorted({lexeme for p in only for _, lexeme in p.phrase})
        prefixes = sorted({_like_prefix(p.phrase[0][1]) for p in only if p.compound})
        sql += " AND (u.lexeme = ANY(%s::text[]) OR u.lexeme LIKE ANY(%s::text[]))"
        params += [exact, prefixes]
    rows = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for article_id, lexeme, positions in cursor.fetchall():
            rows[article_id][lexeme] = positions
    return {article_id: _Text(rows.get(article_id)) for article_id in article_ids}


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _actor_patterns(actors: Iterable[Actor] | None = None):
    """[(actor, its patterns)] for actors with at least one findable name; the names of
    all actors are analysed in one query."""
    if actors is None:
        actors = Actor.objects.only("name", "aliases", "derived_forms", "kind")
    actors = list(actors)
    named = []
    for actor in actors:
        forms = set(actor.match_forms)
        named += [(actor, name, name in forms) for name in actor.match_names]
    by_actor = defaultdict(set)
    patterns = _patterns([n for _, n, _ in named], [form for _, _, form in named])
    for (actor, _, _), pattern in zip(named, patterns, strict=True):
        if pattern is not None:
            by_actor[actor.pk].add(pattern)
    return [(actor, by_actor[actor.pk]) for actor in actors if by_actor[actor.pk]]


def _suggest_actors(text: _Text, actor_patterns) -> list[ActorSuggestion]:
    groups = {actor.pk: patterns for actor, patterns in actor_patterns}
    found = text.mentions_named(groups)
    suggestions = [
        ActorSuggestion(a, len(found[a.pk]), named=any(found[a.pk]))
        for a, _ in actor_patterns
        if a.pk in found
    ]
    return sorted(suggestions, key=lambda s: (-s.mentions, s.actor.name, s.actor.pk))


def suggest_actors(article) -> list[ActorSuggestion]:
    """Actors named in the piece (title, lead and body), most mentions first."""
    return _suggest_actors(_texts([article.pk])[article.pk], _actor_patterns())


def _event_patterns():
    """[(event, {signal word: patterns})] for all events; three queries."""
    events = list(Event.objects.prefetch_related(Prefetch("actors", Actor.objects.only("name"))))
    words = [(event, word) for event in events for word in event.signal_words]
    by_event = defaultdict(dict)
    for (event, word), pattern in zip(words, _patterns([w for _, w in words]), strict=True):
        if pattern is not None:
            by_event[event.pk][word] = [pattern]
    return [(event, by_event[event.pk]) for event in events]


@dataclass(frozen=True)
class _Evidence:
    in_window: bool
    actors: list[str]
    signals: list[str]

    def convincing(self) -> bool:
        """The rule, calibrated on the seed pieces against the links editors made.

        Signal words and the event's actors named in the piece each count one; three
        are needed. At least one must be a signal word, since actors alone say little
        (Poetin and Rusland are in nearly every piece). A piece from after the event's
        window must name two signal words: looking back has to be explicit.
        """
        needed_signals = 1 if self.in_window else 2
        return len(self.signals) >= needed_signals and len(self.signals) + len(self.actors) >= 3

    def __str__(self):
        parts = ["datum past" if self.in_window else "stuk blikt terug"]
        if self.actors:
            parts.append("actoren: " + ", ".join(self.actors))
        if self.signals:
            parts.append("signaalwoorden: " + ", ".join(self.signals))
        text = "; ".join(parts)
        limit = ArticleEvent._meta.get_field("evidence").max_length
        return text if len(text) <= limit else text[: limit - 1] + "…"


def _evidence(article, text: _Text, actor_ids, event, signals) -> _Evidence | None:
    first, last = article.period
    if event.start_date > last:
        # Even the last day the piece can be from is before the event began.
        return None
    found = text.mentions(signals)
    return _Evidence(
        in_window=event.end_date is None or first <= event.end_date + WINDOW_AFTER,
        actors=sorted(a.name for a in event.actors.all() if a.pk in actor_ids),
        signals=[word for word in signals if word in found],
    )


def _suggest_events(article, text: _Text, actor_ids, event_patterns) -> list[EventSuggestion]:
    """`actor_ids` are the actors that count as evidence: see _event_actors."""
    suggestions = []
    for event, signals in event_patterns:
        evidence = _evidence(article, text, actor_ids, event, signals)
        if evidence is not None and evidence.convincing():
            suggestions.append(EventSuggestion(event, str(evidence)))
    return suggestions


def _event_actors(actor_ids, actors: Iterable[ActorSuggestion], confirmed=()) -> set[int]:
    """The piece's actors that count as evidence for an event: not those it mentions
    only through derived forms, unless an editor confirmed them.

    The event rule was calibrated on actors named by name. Adjectives run through
    nearly every piece about the war ("de Russische kant", "Oekraïense steden"), and
    counted as actors they bring events the piece is not about (the Slag om Makiivka
    for a piece on the Wagner mutiny that says "Oekraïense" twice).
    """
    weak = {s.actor.pk for s in actors if not s.named} - set(confirmed)
    return set(actor_ids) - weak


def suggest_events(article, actor_ids: set[int]) -> list[EventSuggestion]:
    """Events the piece is probably about, given the ids of the actors it is about (an
    actor it mentions only through derived forms is no evidence); latest event first."""
    text = _texts([article.pk])[article.pk]
    actor_ids = _event_actors(actor_ids, _suggest_actors(text, _actor_patterns()))
    return _suggest_events(article, text, actor_ids, _event_patterns())


@dataclass(frozen=True)
class Vocabulary:
    """What suggestions look for: every actor's names and every event's signal words,
    analysed by the search configuration. A bulk import loads it once for its run.

    Indexed by the first lexeme of each pattern, so a piece is matched against the few
    actors and events whose words it holds, not against thousands of them: a pattern
    whose first lexeme (or, for a compound, a lexeme starting with it) is not in the
    piece cannot match, nor cover another's mention."""

    actors: list
    events: list

    @classmethod
    def load(cls) -> "Vocabulary":
        return cls(_actor_patterns(), _event_patterns())

    @functools.cached_property
    def _index(self):
        words, prefixes = defaultdict(set), defaultdict(set)
        entries = [(("actor", i), ps) for i, (_, ps) in enumerate(self.actors)]
        entries += [
            (("event", i), [p for ps in signals.values() for p in ps])
            for i, (_, signals) in enumerate(self.events)
        ]
        for key, patterns in entries:
            for pattern in patterns:
                if pattern.compound:
                    prefixes[pattern.phrase[0][1]].add(key)
                else:
                    # Any of a phrase's lexemes must be in the piece for it to match; the
                    # longest is the rarest as a rule ("baarholt", not "frank").
                    words[max((lexeme for _, lexeme in pattern.phrase), key=len)].add(key)
        lengths = sorted({len(p) for p in prefixes})
        return words, prefixes, lengths

    def _keys_in(self, text: "_Text") -> set:
        words, prefixes, lengths = self._index
        keys = set()
        for lexeme in text.lexemes:
            keys.update(words.get(lexeme, ()))
            keys.update(prefixes.get(lexeme, ()))
            for n in lengths:
                if len(lexeme) < n + COMPOUND_MIN_REST:
                    break
                keys.update(prefixes.get(lexeme[:n], ()))
        return keys

    def narrowed(self, text: "_Text") -> "Vocabulary":
        """The part of the vocabulary that can match this piece: the same suggestions."""
        keys = sorted(self._keys_in(text))
        return Vocabulary(
            [self.actors[i] for kind, i in keys if kind == "actor"],
            [self.events[i] for kind, i in keys if kind == "event"],
        )


def apply_suggestions(article, vocabulary: Vocabulary | None = None) -> Suggested:
    """Link the piece to the actors and events suggested for it, unconfirmed.

    Existing actor links get the new mention count (an editor's confirmation stays as
    it is); a link whose actor is not found by name keeps its count, since an editor may
    have linked an actor the names cannot find. Rejected actors and events are never
    linked. Running it twice changes nothing the second time.
    """
    vocabulary = vocabulary or Vocabulary.load()
    with transaction.atomic():
        text = _texts([article.pk])[article.pk]
        rejected_actors = set(article.rejected_actors.values_list("pk", flat=True))
        rejected_events = set(article.rejected_events.values_list("pk", flat=True))
        existing = {
            link.actor_id: link for link in ArticleActor.objects.filter(article=article).order_by()
        }
        created, changed = [], []
        vocabulary = vocabulary.narrowed(text)
        actors = _suggest_actors(text, vocabulary.actors)
        for suggestion in actors:
            link = existing.get(suggestion.actor.pk)
            if link is None and suggestion.actor.pk not in rejected_actors:
                created.append(
                    ArticleActor(
                        article=article, actor=suggestion.actor, mentions=suggestion.mentions
                    )
                )
            elif link is not None and link.mentions != suggestion.mentions:
                link.mentions = suggestion.mentions
                changed.append(link)
        ArticleActor.objects.bulk_create(created)
        ArticleActor.objects.bulk_update(changed, ["mentions"])

        actor_ids = ({link.actor_id for link in created} | set(existing)) - rejected_actors
        confirmed = {pk for pk, link in existing.items() if link.confirmed}
        actor_ids = _event_actors(actor_ids, actors, confirmed)
        linked = set(
            ArticleEvent.objects.filter(article=article)
            .order_by()
            .values_list("event_id", flat=True)
        )
        events = [
            ArticleEvent(article=article, event=s.event, evidence=s.evidence)
            for s in _suggest_events(article, text, actor_ids, vocabulary.events)
            if s.event.pk not in linked and s.event.pk not in rejected_events
        ]
        ArticleEvent.objects.bulk_create(events)
    return Suggested(actors=len(created), events=len(events))


def suggest_for_new(article, text: "_Text", vocabulary: Vocabulary):
    """(actor suggestions, event suggestions) for a piece that has no links and no
    rejections yet, as apply_suggestions would make them, without a query: a bulk
    import has the text from the INSERT that stored the piece."""
    vocabulary = vocabulary.narrowed(text)
    actors = _suggest_actors(text, vocabulary.actors)
    actor_ids = _event_actors({s.actor.pk for s in actors}, actors)
    return actors, _suggest_events(article, text, actor_ids, vocabulary.events)


# One lexeme of a tsvector's text form with its positions: 'wagner':3A,17 ('' for ').
_TSV_ENTRY = re.compile(r"'((?:[^']|'')*)':([0-9A-D,]+)")


def text_of_tsvector(value: str) -> "_Text":
    """A _Text from a tsvector as PostgreSQL prints it, best without weights (every
    position at D, which prints no letter: `setweight(v, 'd')`). Lexemes are quoted and
    never hold a space; the plain split is exact unless one holds a quote or backslash,
    which the pattern reads."""
    value = value or ""
    if "''" in value or "\\" in value or not value:
        positions = {}
        for lexeme, found in _TSV_ENTRY.findall(value):
            positions[lexeme.replace("''", "'").replace("\\\\", "\\")] = tuple(
                int(p.rstrip("ABCD")) for p in found.split(",")
            )
        return _Text(positions, ready=True)
    positions = {}
    for entry in value.split(" "):
        lexeme, _, found = entry.rpartition(":")
        if found.isdigit():
            positions[lexeme[1:-1]] = (int(found),)
        else:
            positions[lexeme[1:-1]] = tuple(int(p.rstrip("ABCD")) for p in found.split(","))
    return _Text(positions, ready=True)


def _name_query(patterns: Iterable[tuple[str, _Pattern]]) -> SearchQuery | None:
    """Pieces that can mention any of the names, found through the GIN index: each name
    as a phrase, and a one-word name also as the start of a compound (`wagner:*`, on the
    lexeme, so it matches what _Text.spans counts). A finer count follows in Python."""
    queries = []
    for name, pattern in patterns:
        queries.append(SearchQuery(name, search_type="phrase", config=settings.SEARCH_CONFIG))
        lexeme = pattern.phrase[0][1]
        # Only letters and digits reach the raw tsquery, so no name can break its syntax.
        if pattern.compound and _WORD.fullmatch(lexeme):
            queries.append(SearchQuery(f"{lexeme}:*", search_type="raw", config="simple"))
    return functools.reduce(operator.or_, queries) if queries else None


def _rivals(actor, actor_patterns, ours: set[_Pattern]):
    """{actor pk: patterns} of other actors whose longer names can contain a mention of
    this one ("The Moscow Times" around "Moscow"): the only others a re-check needs."""
    lexemes = {lexeme for p in ours for _, lexeme in p.phrase}
    prefixes = tuple(p.phrase[0][1] for p in ours if p.compound)

    def contains(p):
        return len(p.phrase) > 1 and any(
            lexeme in lexemes or (prefixes and lexeme.startswith(prefixes))
            for _, lexeme in p.phrase
        )

    rivals = {}
    for other, patterns in actor_patterns:
        kept = {p for p in patterns if contains(p)}
        if other.pk != actor.pk and kept:
            rivals[other.pk] = kept
    return rivals


def recheck_actor(actor, names: list[str] | None = None, progress=None) -> int:
    """Re-check the pieces that mention any of `names` (default: all the actor's match
    names, derived forms included) for this actor, after an editor changed its names or
    derived forms: link it as a suggestion where it is new, update the mention count
    where it is linked. The actor must be saved with its new names first; pieces that
    rejected it are skipped.

    Returns how many pieces got a new or changed link. The pieces are found through the
    search index and handled BATCH_SIZE at a time, a few queries per batch, each batch
    its own transaction; `progress(checked, pieces, changed)` hears after each.
    """
    actor_patterns = _actor_patterns()
    ours = next((patterns for a, patterns in actor_patterns if a.pk == actor.pk), set())
    forms = set(actor.match_forms)
    if names is None:
        names = actor.match_names
    elif actor.kind == Actor.Kind.PERSON:
        # A new "Vladimir Poutine" also means pieces that say just "Poutine".
        surnames = (n.split()[-1] for n in names if len(n.split()) > 1 and n not in forms)
        names = [*names, *surnames]
    names = list(dict.fromkeys(n.strip() for n in names if n and n.strip()))
    patterns = _patterns(names, [n in forms for n in names])
    searched = [(n, p) for n, p in zip(names, patterns, strict=True) if p is not None]
    query = _name_query(searched)
    if not ours or query is None:
        return 0

    groups = {actor.pk: ours, **_rivals(actor, actor_patterns, ours)}
    needed = {p for patterns in groups.values() for p in patterns}
    rejected = Article.rejected_actors.through.objects.filter(actor=actor).values("article")
    ids = list(
        Article.objects.filter(search_vector=query)
        .exclude(pk__in=rejected)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    changed = 0
    for first in range(0, len(ids), BATCH_SIZE):
        batch = ids[first : first + BATCH_SIZE]
        with transaction.atomic():
            texts = _texts(batch, only=needed)
            links = {
                link.article_id: link
                for link in ArticleActor.objects.filter(actor=actor, article__in=batch).order_by()
            }
            created, updated = [], []
            for article_id in batch:
                mentions = texts[article_id].mentions(groups).get(actor.pk, 0)
                link = links.get(article_id)
                if not mentions:
                    continue
                if link is None:
                    created.append(
                        ArticleActor(article_id=article_id, actor=actor, mentions=mentions)
                    )
                elif link.mentions != mentions:
                    link.mentions = mentions
                    updated.append(link)
            ArticleActor.objects.bulk_create(created)
            ArticleActor.objects.bulk_update(updated, ["mentions"])
            changed += len(created) + len(updated)
        if progress is not None:
            progress(first + len(batch), len(ids), changed)
    return changed


def recheck_event(event, progress=None) -> int:
    """Re-check the pieces an event's signal words can find (and those it is suggested
    for), after an editor changed its signal words, dates or actors: suggest it where
    the evidence now convinces, bring a suggestion's evidence up to date, and withdraw a
    suggestion that no longer convinces. Confirmed links and rejections stay as they
    are. Returns how many links it made, changed or withdrew; BATCH_SIZE pieces a
    transaction, `progress(checked, pieces, changed)` after each."""
    event = Event.objects.prefetch_related(Prefetch("actors", Actor.objects.only("name"))).get(
        pk=event.pk
    )
    signals = {}
    words = list(event.signal_words)
    for word, pattern in zip(words, _patterns(words), strict=True):
        if pattern is not None:
            signals[word] = [pattern]
    suggested = ArticleEvent.objects.filter(event=event, confirmed=False).values("article")
    found = Article.objects.filter(pk__in=suggested)
    query = _name_query([(w, p) for w, ps in signals.items() for p in ps])
    if query is not None:
        # A piece dated only to the year is stored on 1 January: none before can fit.
        start = event.start_date.replace(month=1, day=1)
        found = found | Article.objects.filter(search_vector=query, published_on__gte=start)
    rejected = Article.rejected_events.through.objects.filter(event=event).values("article")
    ids = list(found.exclude(pk__in=rejected).order_by("pk").values_list("pk", flat=True))
    vocabulary = Vocabulary.load()
    changed = 0
    for first in range(0, len(ids), BATCH_SIZE):
        batch = ids[first : first + BATCH_SIZE]
        with transaction.atomic():
            changed += _recheck_event_batch(event, signals, batch, vocabulary)
        if progress is not None:
            progress(first + len(batch), len(ids), changed)
    return changed


def _recheck_event_batch(event, signals, batch, vocabulary) -> int:
    texts = _texts(batch)
    articles = Article.objects.only("published_on", "date_precision").in_bulk(batch)
    links = {
        link.article_id: link
        for link in ArticleEvent.objects.filter(event=event, article__in=batch).order_by()
    }
    actor_links = defaultdict(dict)
    rejected_actors = defaultdict(set)
    for article_id, actor_id, confirmed in (
        ArticleActor.objects.filter(article__in=batch)
        .order_by()
        .values_list("article_id", "actor_id", "confirmed")
    ):
        actor_links[article_id][actor_id] = confirmed
    for article_id, actor_id in Article.rejected_actors.through.objects.filter(
        article__in=batch
    ).values_list("article_id", "actor_id"):
        rejected_actors[article_id].add(actor_id)
    created, updated, withdrawn = [], [], []
    for article_id in batch:
        text, article = texts[article_id], articles[article_id]
        linked = actor_links[article_id]
        actors = _suggest_actors(text, vocabulary.narrowed(text).actors)
        actor_ids = set(linked) - rejected_actors[article_id]
        confirmed = {pk for pk, yes in linked.items() if yes}
        evidence = _evidence(
            article, text, _event_actors(actor_ids, actors, confirmed), event, signals
        )
        link = links.get(article_id)
        convincing = evidence is not None and evidence.convincing()
        if link is not None and link.confirmed:
            continue
        if convincing and link is None:
            created.append(ArticleEvent(article_id=article_id, event=event, evidence=str(evidence)))
        elif convincing and link.evidence != str(evidence):
            link.evidence = str(evidence)
            updated.append(link)
        elif not convincing and link is not None:
            withdrawn.append(link.pk)
    ArticleEvent.objects.bulk_create(created)
    ArticleEvent.objects.bulk_update(updated, ["evidence"])
    ArticleEvent.objects.filter(pk__in=withdrawn).delete()
    return len(created) + len(updated) + len(withdrawn)
