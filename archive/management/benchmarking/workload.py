"""What is asked: query words picked from the corpus's own vocabulary, the search
classes and page kinds built from them, and the loops that time them over HTTP."""

import bisect
import datetime
import html
import math
import random
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode

import psycopg
from django.conf import settings
from django.urls import reverse

from archive.management.benchmarking.server import Client
from archive.management.commands.known_items import by_kind
from archive.management.corpus import _same_text, read_dpg
from archive.models import Article

# Search classes, in report order: key -> what a reader types.
CLASSES = {
    "rare": "rare word",
    "common": "very common word",
    "two_common": "two common words",
    "or": "w1 or w2",
    "phrase": '"phrase"',
    "exclusion": "word -exclusion",
    "alias": "alias (Putin for Poetin)",
    "prefix": "compound prefix",
    "actor": "word + actor filter",
    "dates": "word + date range",
    "deep": "deep page (pagina=50)",
    "cached": "cached: one query repeated",
}
# Page kinds, in report order: key -> label.
PAGES = {
    "home": "home",
    "browse": "browse, no query",
    "article": "article page",
    "actor": "actor page (most covered)",
    "event": "event page",
    "source": "source page",
    "author": "author page",
    "genre": "genre page",
    "actors": "actor index",
    "events": "event index",
    "search_feed": "search feed (Atom)",
    "actor_feed": "actor feed (Atom)",
    "sitemap": "sitemap index",
    "sitemap_section": "sitemap section (pieces)",
    "api_search": "JSON search",
    "api_article": "JSON article",
    "suggestions": "search-box suggestions (JSON)",
    "csv": "CSV export",
    "admin_list": "admin: pieces",
    "admin_actor": "admin: pieces of an actor",
    "admin_search": "admin: search",
    "admin_change": "admin: change a piece",
}
ADMIN_PAGES = {"admin_list", "admin_actor", "admin_search", "admin_change"}

DATE_RANGE = (datetime.date(2010, 1, 1), datetime.date(2012, 12, 31))
DEEP_PAGE = 50
VARIETY = 20  # different queries per class, where the vocabulary has them
SAMPLE = 3000  # pieces read to pick words from
_WORD = re.compile(r"[^\W\d_]{3,}")
_PAIR = re.compile(r"\b([^\W\d_]{3,}) ([^\W\d_]{3,})\b")
_LEXEME = re.compile(r"'((?:[^']|'')+)':")


@dataclass(frozen=True)
class Probe:
    """One search: the reader's query and filters, and the same in Tantivy's terms."""

    q: str
    tantivy: str
    params: tuple[tuple[str, str], ...] = ()
    actor_pk: int | None = None
    dates: tuple[datetime.date, datetime.date] | None = None
    offset: int = 0

    def path(self, base: str = "/zoeken/") -> str:
        return f"{base}?{urlencode([('q', self.q), *self.params])}"


@dataclass
class Plan:
    """What one corpus is asked: probes per class, paths per page kind."""

    probes: dict[str, list[Probe]]
    pages: dict[str, list[str]]
    notes: list[str] = field(default_factory=list)
    sample: int = 0

    def words(self) -> dict[str, str]:
        """Class -> its queries, for the report (so a run can be repeated)."""
        return {key: " · ".join(p.q for p in probes) for key, probes in self.probes.items()}


@dataclass
class Stats:
    """Latencies of one measured series, in seconds, and what went wrong."""

    seconds: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)

    def add(self, status: int, seconds: float) -> None:
        self.seconds.append(seconds)
        if status != 200:
            self.errors[status] += 1

    @property
    def n(self) -> int:
        return len(self.seconds)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def percentile(self, p: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[max(0, math.ceil(p * len(ordered)) - 1)] if ordered else math.nan

    @property
    def p50(self) -> float:
        return self.percentile(0.50)

    @property
    def p95(self) -> float:
        return self.percentile(0.95)

    @property
    def max(self) -> float:
        return max(self.seconds) if self.seconds else math.nan


# Picking the words -----------------------------------------------------------------


def _lexeme(tsvector_text: str) -> str | None:
    found = _LEXEME.findall(tsvector_text)
    return found[0].replace("''", "'") if len(found) == 1 else None


def _spread(items: list, k: int, rng: random.Random) -> list:
    return rng.sample(items, k) if len(items) > k else list(items)


def plan(uri: str, seed: int) -> Plan:
    """Words by document frequency in a sample of the corpus (ts_stat over the stored
    search vectors), each lexeme typed as the form the pieces use most; the subjects
    with the most pieces for the subject pages and filters."""
    rng = random.Random(seed)
    config = settings.SEARCH_CONFIG
    with psycopg.connect(uri) as conn:
        (total,) = conn.execute("SELECT count(*) FROM archive_article").fetchone()
        share = min(100.0, 100.0 * 1.5 * SAMPLE / max(total, 1))
        conn.execute(
            "CREATE TEMP TABLE bench_sample AS SELECT id FROM archive_article "
            f"TABLESAMPLE SYSTEM ({share:.4f}) REPEATABLE ({seed})"
        )
        lexeme_docs = dict(
            conn.execute(
                # The text's own words (weights A-C), not the parts of its compounds.
                "SELECT word, ndoc FROM ts_stat('SELECT ts_filter(a.search_vector, "
                "''{a,b,c}'') FROM archive_article a JOIN bench_sample USING (id)')"
            ).fetchall()
        )
        rows = conn.execute(
            "SELECT a.id, a.slug, a.title || ' ' || a.lead || ' ' || a.body "
            "FROM archive_article a JOIN bench_sample USING (id) ORDER BY a.id"
        ).fetchall()
        surface_docs, forms, pairs = Counter(), defaultdict(Counter), Counter()
        for _, _, text in rows:
            seen = set()
            for word in _WORD.findall(text):
                forms[word.lower()][word] += 1
                seen.add(word.lower())
            surface_docs.update(seen)
            pairs.update({(a.lower(), b.lower()) for a, b in _PAIR.findall(text)})
        lexeme_of = {
            word: _lexeme(vector)
            for word, vector in conn.execute(
                f"SELECT w, to_tsvector('{config}', w)::text FROM unnest(%s::text[]) AS w",
                [list(surface_docs)],
            )
        }
        subjects = _subjects(conn)
    sample = len(rows)
    # Each lexeme as the surface word that most pieces use, written as they write it.
    typed: dict[str, str] = {}
    for word, _docs in surface_docs.most_common():
        lexeme = lexeme_of.get(word)
        if lexeme and lexeme in lexeme_docs and lexeme not in typed and len(word) >= 4:
            typed[lexeme] = forms[word].most_common(1)[0][0]
    by_share = sorted(typed, key=lambda lx: -lexeme_docs[lx])
    common = [lx for lx in by_share if lexeme_docs[lx] >= 0.10 * sample]
    if len(common) < 4:
        common = by_share[:VARIETY]
    # The names of the most covered actors (Poetin, in a fifth of the pieces) first:
    # what readers search most. The one query of the "cached" class is the first.
    names = [lexeme_of.get(word.lower()) for word in subjects["actor_words"]]
    common = list(dict.fromkeys([lx for lx in names if lx in common] + common))[:VARIETY]
    middle = [lx for lx in by_share if 0.01 * sample <= lexeme_docs[lx] < 0.10 * sample]
    middle = _spread(middle[:400] or by_share[VARIETY : VARIETY + 200], VARIETY * 2, rng)
    rare = [lx for lx in typed if lexeme_docs[lx] <= 2 and len(typed[lx]) >= 6]
    rare = _spread(rare or by_share[-VARIETY:], VARIETY, rng)
    heads = _compound_heads(lexeme_docs, typed, sample)
    phrases = [
        (a, b)
        for (a, b), n in pairs.most_common(2000)
        if lexeme_of.get(a) and lexeme_of.get(b) and a != b
    ][:VARIETY]

    def w(lexeme: str) -> str:
        return typed[lexeme]

    def t(lexeme: str) -> str:
        return typed[lexeme].lower()

    n = VARIETY
    mid = middle or common
    probes: dict[str, list[Probe]] = {
        "rare": [Probe(w(x), t(x)) for x in rare],
        "common": [Probe(w(x), t(x)) for x in common],
        "two_common": [
            Probe(f"{w(a)} {w(b)}", f"{t(a)} {t(b)}")
            for a, b in zip(common, common[1:] + common[:1], strict=True)
        ][:n],
        "or": [
            Probe(f"{w(a)} or {w(b)}", f"{t(a)} OR {t(b)}")
            for a, b in zip(mid[::2], mid[1::2], strict=False)
        ][:n],
        "phrase": [Probe(f'"{a} {b}"', f'"{a} {b}"') for a, b in phrases],
        "exclusion": [
            Probe(f"{w(a)} -{w(b)}", f"{t(a)} -{t(b)}") for a, b in zip(common, mid, strict=False)
        ][:n],
        "alias": [
            Probe(alias, "(" + " OR ".join(_tantivy_term(x) for x in names) + ")")
            for alias, names in subjects["aliases"]
        ][:n],
        "prefix": [Probe(w(x), f"{t(x)}*") for x in heads],
        "actor": [
            Probe(w(x), t(x), (("actor", slug),), actor_pk=pk)
            for x, (slug, pk) in zip(mid, _cycle(subjects["actors"][:3], len(mid)), strict=False)
        ][:n],
        "dates": [
            Probe(
                w(x),
                t(x),
                (("van", DATE_RANGE[0].isoformat()), ("tot", DATE_RANGE[1].isoformat())),
                dates=DATE_RANGE,
            )
            for x in mid[:n]
        ],
        "deep": [
            Probe(w(x), t(x), (("pagina", str(DEEP_PAGE)),), offset=(DEEP_PAGE - 1) * 20)
            for x in common
        ],
        "cached": [Probe(w(common[0]), t(common[0]))] if common else [],
    }
    notes = [f"no {CLASSES[key]} in this corpus" for key, found in probes.items() if not found]
    probes = {key: found for key, found in probes.items() if found}
    articles = [(pk, slug) for pk, slug, _ in _spread(rows, VARIETY, rng)]
    pages = _pages(subjects, articles, [p.q for p in probes.get("rare", [])], mid, typed)
    for key, label in PAGES.items():
        if not pages.get(key):
            notes.append(f"no {label}: nothing to show it for")
    return Plan(probes, {k: v for k, v in pages.items() if v}, notes, sample)


def _cycle(items: list, n: int) -> list:
    return [items[i % len(items)] for i in range(n)] if items else []


def _tantivy_term(name: str) -> str:
    words = [word.lower() for word in re.findall(r"[^\W_]+", name)]
    return words[0] if len(words) == 1 else '"' + " ".join(words) + '"'


def _compound_heads(lexeme_docs: dict[str, int], typed: dict[str, str], sample: int):
    """Words that head compounds (oorlog: oorlogsmisdaad, oorlogsschip), those heading
    the most first."""
    ordered = sorted(lexeme_docs)
    heads = []
    for lexeme in typed:
        if len(lexeme) < 5 or lexeme_docs[lexeme] < 0.005 * sample:
            continue
        start = bisect.bisect_right(ordered, lexeme)
        end = bisect.bisect_left(ordered, lexeme + "\uffff")
        longer = sum(1 for x in ordered[start:end] if len(x) >= len(lexeme) + 3)
        if longer >= 2:
            heads.append((longer, lexeme))
    heads.sort(reverse=True)
    return [lexeme for _, lexeme in heads[:VARIETY]]


def _subjects(conn) -> dict:
    """The actors, event, source, author and genre with the most pieces."""
    top = conn.execute(
        "SELECT a.slug, a.id, a.name FROM archive_articleactor l JOIN archive_actor a "
        "ON a.id = l.actor_id GROUP BY a.id ORDER BY count(*) DESC, a.id LIMIT 10"
    ).fetchall()
    actors = [(slug, pk) for slug, pk, _ in top[:3]]
    # How pieces mostly name them: Poetin, not Vladimir Poetin.
    actor_words = [re.findall(r"[^\W\d_]+", name)[-1:] for _, _, name in top[:5]]
    actor_words = [word for words in actor_words for word in words]
    aliases = []
    for name, names in conn.execute(
        "SELECT a.name, a.aliases FROM archive_actor a LEFT JOIN archive_articleactor l "
        "ON l.actor_id = a.id WHERE cardinality(a.aliases) > 0 "
        "GROUP BY a.id ORDER BY count(l.id) DESC, a.id LIMIT 50"
    ):
        spelled = {word.lower() for word in re.findall(r"[^\W_]+", name)}
        for alias in names:
            # Short ones (VS, US) are abbreviations more than spellings.
            if len(alias.strip()) >= 4 and alias.lower() not in spelled:
                aliases.append((alias.strip(), [name, *names]))
    # The alias the archive is known for first: `Putin` for Poetin.
    aliases.sort(key=lambda item: item[0] != "Putin")

    def first(query: str):
        row = conn.execute(query).fetchone()
        return row[0] if row else None

    authors_table = Article.authors.through._meta.db_table
    return {
        "actors": actors,
        "actor_words": actor_words,
        "aliases": aliases,
        "event": first(
            "SELECT e.slug FROM archive_event e LEFT JOIN archive_articleevent l "
            "ON l.event_id = e.id GROUP BY e.id ORDER BY count(l.id) DESC, e.id LIMIT 1"
        ),
        "source": first(
            "SELECT s.slug FROM archive_article a JOIN archive_source s ON s.id = a.source_id "
            "GROUP BY s.id ORDER BY count(*) DESC, s.id LIMIT 1"
        ),
        "author": first(
            f"SELECT au.slug FROM {authors_table} l JOIN archive_author au "
            "ON au.id = l.author_id GROUP BY au.id ORDER BY count(*) DESC, au.id LIMIT 1"
        ),
        "genre": first("SELECT genre FROM archive_article GROUP BY genre ORDER BY count(*) DESC"),
    }


def _pages(subjects, articles, rare, middle, typed) -> dict[str, list[str]]:
    actor = subjects["actors"][0] if subjects["actors"] else None
    words = [typed[x] for x in middle] or rare
    q = [urlencode({"q": word}) for word in words]
    pieces = reverse("admin:archive_article_changelist")
    return {
        "home": ["/"],
        "browse": ["/zoeken/"],
        "article": [f"/artikel/{slug}/" for _, slug in articles],
        "actor": [f"/actor/{actor[0]}/"] if actor else [],
        "event": [f"/gebeurtenis/{subjects['event']}/"] if subjects["event"] else [],
        "source": [f"/bron/{subjects['source']}/"] if subjects["source"] else [],
        "author": [f"/auteur/{subjects['author']}/"] if subjects["author"] else [],
        "genre": [f"/genre/{subjects['genre']}/"] if subjects["genre"] else [],
        "actors": ["/actoren/"],
        "events": ["/gebeurtenissen/"],
        "search_feed": [f"/zoeken/feed/?{x}" for x in q],
        "actor_feed": [f"/actor/{actor[0]}/feed/"] if actor else [],
        "sitemap": ["/sitemap.xml"],
        # The last page when paginated: the deepest OFFSET a crawler asks for.
        # The first page until the index names the last (last_sitemap_section).
        "sitemap_section": ["/sitemap-stukken.xml"],
        "api_search": [f"/api/zoeken/?{x}" for x in q],
        "api_article": [f"/api/artikel/{slug}/" for _, slug in articles],
        # What the search box asks as a reader types: 2, 3 and 4 letters of common and
        # rare words.
        "suggestions": [
            "/api/suggesties/?" + urlencode({"q": word[:n].lower()})
            for word in words[:5] + rare[:5]
            for n in (2, 3, 4)
        ],
        "csv": [f"/zoeken/export.csv?{x}" for x in q],
        "admin_list": [pieces],
        "admin_actor": [f"{pieces}?actor={actor[1]}"] if actor else [],
        "admin_search": [f"{pieces}?{x}" for x in q],
        "admin_change": [reverse("admin:archive_article_change", args=[pk]) for pk, _ in articles],
    }


# Timing over HTTP ------------------------------------------------------------------


def measure(client: Client, paths: list[str], runs: int, fresh: bool = False) -> Stats:
    """`runs` requests, one at a time, cycling through `paths`; `fresh`: each asks for a
    fresh answer (Cache-Control: no-cache), so no cached page, pool or facets serve it."""
    stats = Stats()
    headers = {"Cache-Control": "no-cache"} if fresh else None
    for i in range(runs):
        status, seconds, _ = client.request("GET", paths[i % len(paths)], headers=headers)
        stats.add(status, seconds)
    return stats


def last_sitemap_section(client: Client, work: Plan) -> None:
    """Measure the last page of the pieces' sitemap, the deepest a crawler asks for, as
    the sitemap index lists it."""
    status, _, body = client.get("/sitemap.xml")
    pages = re.findall(r"<loc>[^<]*?(/sitemap-stukken\.xml[^<]*)</loc>", body.decode())
    if status == 200 and pages:
        work.pages["sitemap_section"] = [html.unescape(pages[-1])]


def warm_up(client: Client, admin: Client, work: Plan, passes: int) -> None:
    """Each page kind and a query of each class, unmeasured, `passes` times (to reach
    more than one worker): code imported, templates compiled, connections open, hot
    pages in the buffer cache."""
    for _ in range(passes):
        for key, paths in work.pages.items():
            (admin if key in ADMIN_PAGES else client).get(paths[-1])
        for probes in work.probes.values():
            client.get(probes[-1].path())


def mix(work: Plan) -> list[str]:
    """A realistic stream: three requests in four are searches of every class, the rest
    the pages readers land on from them."""
    searches = [p.path() for key, ps in work.probes.items() if key != "cached" for p in ps]
    reading = [
        path
        for key in ("home", "article", "actor", "browse", "api_search", "event")
        for path in work.pages.get(key, [])
    ]
    return searches * 3 + reading * max(1, len(searches) // max(1, len(reading)))


def throughput(port: int, paths: list[str], concurrency: int, duration: float, seed: int):
    """`concurrency` clients asking without pause for `duration` seconds:
    (requests per second, Stats)."""
    results = [Stats() for _ in range(concurrency)]
    start = threading.Barrier(concurrency + 1)
    deadline = [0.0]

    def client_loop(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        client = Client(port)
        start.wait()
        while time.perf_counter() < deadline[0]:
            status, seconds, _ = client.get(rng.choice(paths))
            results[i].add(status, seconds)
        client.close()

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + duration
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    total = Stats()
    for stats in results:
        total.seconds += stats.seconds
        total.errors.update(stats.errors)
    return total.n / elapsed, total


# Known-item quality ----------------------------------------------------------------


def target_slugs(corpus_dir) -> dict[int, str]:
    """Corpus id -> slug of the piece it became; a reprint maps to the first printing,
    as the import keeps only that one."""
    first_of: dict[str, int] = {}
    slugs = {}
    for row in read_dpg(corpus_dir):
        first = first_of.setdefault(_same_text(row["text"]), row["id"])
        slugs[row["id"]] = f"dpg-{first}"
    return slugs


def known_items(client: Client, items, slugs: dict[int, str]) -> dict:
    """Share of known-item queries whose piece is in the top 1, 3 and 10 of the JSON
    search (results in rank order), in all and per kind of query. A target is a corpus
    id (its slug from `slugs`) or a seed piece's slug."""
    import json

    ranks, errors = [], 0
    for item in items:
        status, _, body = client.get(f"/api/zoeken/?{urlencode({'q': item.query})}")
        found = []
        if status == 200:
            found = [r["slug"] for r in json.loads(body)["results"]][:10]
        else:
            errors += 1
        target = item.target if isinstance(item.target, str) else slugs.get(item.target)
        ranks.append(found.index(target) + 1 if target in found else None)

    def shares(found: list) -> dict:
        n = len(found)
        return {
            "n": n,
            **{f"top{k}": sum(1 for r in found if r and r <= k) / n for k in (1, 3, 10)},
        }

    return {
        **shares(ranks),
        "errors": errors,
        "kinds": {kind: shares(found) for kind, found in by_kind(items, ranks).items()},
    }
