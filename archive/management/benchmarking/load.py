"""`manage.py loadtest`: the archive served by gunicorn on loopback, driven past what it
can serve and back again, optionally with its database stopped for a few seconds in the
middle; what readers got, phase by phase.

- calibration: one client, one request at a time: what a reader gets on a quiet server,
  and the capacity the burst is measured against;
- burst: many clients without pause (well above the workers times threads the server
  serves at once), bounded by a duration and a request budget; a writer adds pieces
  meanwhile, and with --fault the embedded PostgreSQL is stopped and started again;
- cool-down: one client again, until latency is back near the calibration's.

Searches are distinct (word pairs, alternatives, exclusions, filters drawn from the
corpus's vocabulary), so the page and pool caches do not answer them all. The database
is one of its own (`<data root>/pg-load-<size>`, or `kroniek_load_<size>` on the
DATABASE_URL server), generated once and reused like the benchmark's.
"""

import datetime
import ipaddress
import itertools
import os
import random
import re
import secrets
import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg
from django.conf import settings
from django.core.management.base import CommandError

from archive.management import benchmarking
from archive.management.benchmarking import faults, targets
from archive.management.benchmarking.load_report import LoadRun, Phase, Sample
from archive.management.benchmarking.server import (
    HOST,
    Client,
    Gunicorn,
    collect_static,
    gunicorn_settings,
)
from archive.models import Genre

# What readers ask, by weight: mostly searches, then the pages they land on, the JSON and
# feeds that machines read, now and then an export.
KINDS = {"search": 50, "page": 20, "api": 10, "feed": 10, "browse": 7, "export": 3}
# A request unanswered for this long counts as a connection error (gunicorn's own
# timeout, 30 s, replaces a stuck worker before that).
REQUEST_TIMEOUT = 60
# Simulated client addresses come from the range set aside for benchmarks (RFC 2544).
ADDRESS_RANGE = ipaddress.ip_network("198.18.0.0/15")
WARM_UP_ADDRESS = "198.19.255.254"
# In the 503 page and the API's answer when the statement timeout stopped a search, and
# not when the database is away (templates/503.html, archive/failures.py).
STOPPED_BY_TIMEOUT = b"duurde te lang"
# In the 503 a worker answers at once when too many requests wait in its queue
# (gunicorn.conf.py, archive/failures.py): load shed, not a failure.
SHED = b"erg druk"


@dataclass
class Options:
    pieces: int
    data_root: Path
    seed: int
    calibration: float
    duration: float
    cooldown: float
    clients: int
    max_requests: int
    addresses: int
    fault: bool
    fault_at: float
    fault_seconds: float


def loopback_only(host: str) -> str:
    """The load goes to this machine's loopback interface only: never to anyone's server."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise CommandError(f"loadtest sends its load to loopback only, not to {host}.")
    return host


def client_addresses(n: int) -> list[str]:
    hosts = itertools.islice(ADDRESS_RANGE.hosts(), n)
    return [str(address) for address in hosts if str(address) != WARM_UP_ADDRESS]


def load_target(pieces: int, data_root: Path) -> targets.Target:
    """The load database: never the archive's own, never the benchmark's (the writer adds
    pieces to it)."""
    label = f"load-{targets.size_label(pieces)}"
    base_url = os.environ.get("DATABASE_URL")
    if base_url:
        parts = urlsplit(base_url)
        name = "kroniek_" + label.replace("-", "_")
        if parts.path == f"/{name}":
            raise CommandError(f"DATABASE_URL names {name}; the load test needs its own.")
        return targets.Target(
            label, pieces, data_root, url=urlunsplit(parts._replace(path=f"/{name}"))
        )
    data_dir = (data_root / f"pg-{label}").resolve()
    own = {(Path(settings.BASE_DIR) / ".pgdata").resolve()}
    if settings.DATABASES["default"].get("DATA_DIR"):
        own.add(Path(settings.DATABASES["default"]["DATA_DIR"]).resolve())
    if data_dir in own:
        raise CommandError(f"{data_dir} is the archive's own data folder.")
    return targets.Target(label, pieces, data_root, data_dir=data_dir)


# Pieces whose headline and intro the words and phrases are taken from.
SAMPLE = 400
_WORD = re.compile(r"[^\W\d_]{4,}")


def sample_corpus(uri: str, seed: int) -> dict[str, list[str]]:
    """Words and two-word phrases as the pieces write them (from the headlines and intros
    of a sample), and the slugs of pieces and of the most covered subjects. Quick at any
    size: a sample of pages, and the counter columns."""
    with psycopg.connect(uri) as conn:
        (total,) = conn.execute("SELECT count(*) FROM archive_article").fetchone()
        share = min(100.0, 100.0 * 2 * SAMPLE / max(total, 1))
        rows = conn.execute(
            f"SELECT slug, title || ' ' || lead FROM archive_article "
            f"TABLESAMPLE SYSTEM ({share:.4f}) REPEATABLE ({seed}) ORDER BY id LIMIT {SAMPLE}"
        ).fetchall()

        def slugs(table: str, order: str, n: int) -> list[str]:
            query = f"SELECT slug FROM {table} ORDER BY {order} LIMIT {n}"
            return [slug for (slug,) in conn.execute(query)]

        found = {
            "articles": [slug for slug, _ in rows[:40]],
            "actors": slugs("archive_actor", "piece_count DESC, id", 20),
            "events": slugs("archive_event", "piece_count DESC, id", 10),
            "sources": slugs("archive_source", "id", 10),
            "authors": slugs("archive_author", "id", 10),
        }
    words, phrases = Counter(), Counter()
    for _, text in rows:
        found_words = _WORD.findall(text)
        words.update(found_words)
        phrases.update(f"{a} {b}" for a, b in itertools.pairwise(found_words))
    found["words"] = [word for word, _ in words.most_common(300)]
    found["phrases"] = [f'"{pair}"' for pair, n in phrases.most_common(40) if n > 1]
    return found


class Mix:
    """Requests as readers and machines send them, with words from the corpus."""

    def __init__(self, corpus: dict[str, list[str]]):
        self.words = corpus["words"] or ["Poetin", "oorlog", "kabinet"]
        self.phrases = corpus["phrases"]
        self.actors = corpus["actors"]
        self.pages = [
            "/",
            "/actoren/",
            "/gebeurtenissen/",
            *(f"/genre/{genre}/" for genre in Genre.values),
            *(f"/artikel/{slug}/" for slug in corpus["articles"]),
            *(f"/actor/{slug}/" for slug in corpus["actors"]),
            *(f"/gebeurtenis/{slug}/" for slug in corpus["events"]),
            *(f"/bron/{slug}/" for slug in corpus["sources"]),
            *(f"/auteur/{slug}/" for slug in corpus["authors"]),
        ]
        self.api_articles = [f"/api/artikel/{slug}/" for slug in corpus["articles"]]
        self.subject_feeds = [
            *(f"/actor/{slug}/feed/" for slug in corpus["actors"]),
            *(f"/gebeurtenis/{slug}/feed/" for slug in corpus["events"]),
            *(f"/bron/{slug}/feed/" for slug in corpus["sources"]),
        ]
        self.kinds, self.weights = list(KINDS), list(KINDS.values())

    def query(self, rng: random.Random) -> str:
        a, b, c = (rng.choice(self.words) for _ in range(3))
        shape = rng.random()
        if shape < 0.35:
            q = f"{a} {b}"
        elif shape < 0.55:
            q = a
        elif shape < 0.65:
            q = f"{a} or {b}"
        elif shape < 0.75:
            q = f"{a} -{b}"
        elif shape < 0.85 and self.phrases:
            q = f"{rng.choice(self.phrases)} {a}"
        else:
            q = f"{a} {b} {c}"
        params = [("q", q)]
        narrow = rng.random()
        if narrow < 0.15 and self.actors:
            params.append(("actor", rng.choice(self.actors)))
        elif narrow < 0.25:
            year = rng.randint(2000, 2024)
            params += [("van", f"{year}-01-01"), ("tot", f"{year}-12-31")]
        elif narrow < 0.30:
            params.append(("sort", "newest"))
        if rng.random() < 0.1:
            params.append(("pagina", str(rng.randint(2, 10))))
        return urlencode(params)

    def next(self, rng: random.Random) -> tuple[str, str]:
        kind = rng.choices(self.kinds, self.weights)[0]
        if kind == "search":
            return kind, f"/zoeken/?{self.query(rng)}"
        if kind == "page":
            return kind, rng.choice(self.pages)
        if kind == "api":
            if self.api_articles and rng.random() < 0.3:
                return kind, rng.choice(self.api_articles)
            return kind, f"/api/zoeken/?{self.query(rng)}"
        if kind == "feed":
            if self.subject_feeds and rng.random() < 0.3:
                return kind, rng.choice(self.subject_feeds)
            return kind, f"/zoeken/feed/?{self.query(rng)}"
        if kind == "export":
            return kind, f"/zoeken/export.csv?{self.query(rng)}"
        return kind, f"/zoeken/?pagina={rng.randint(1, 50)}"


def drive(
    name: str,
    port: int,
    mix: Mix,
    clients: int,
    seconds: float,
    max_requests: int,
    addresses: list[str],
    seed: int,
) -> Phase:
    """`clients` threads sending requests without pause (each one at a time, on one
    keep-alive connection) until `seconds` have passed or `max_requests` are sent."""
    loopback_only(HOST)
    samples: list[Sample] = []
    budget = itertools.count()
    start = threading.Barrier(clients + 1)
    deadline = [0.0]
    stopped = [0.0]

    def loop(i: int) -> None:
        rng = random.Random(f"{seed}:{name}:{i}")
        client = Client(port, timeout=REQUEST_TIMEOUT)
        start.wait()
        while time.monotonic() < deadline[0]:
            if next(budget) >= max_requests:
                stopped[0] = stopped[0] or time.monotonic()
                break
            kind, path = mix.next(rng)
            headers = {"X-Forwarded-For": rng.choice(addresses)} if addresses else None
            began = time.monotonic()
            status, took, body = client.request("GET", path, headers=headers)
            timed_out = status == 503 and STOPPED_BY_TIMEOUT in body
            shed = status == 503 and SHED in body
            samples.append(Sample(kind, began, took, status, timed_out, shed))
        client.close()

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    return Phase(
        name=name,
        clients=clients,
        began=began,
        stopped=min(stopped[0] or deadline[0], deadline[0]),
        ended=time.monotonic(),
        samples=samples,
    )


def warm_up(port: int, mix: Mix, addresses: list[str]) -> None:
    """Each page once and a few searches, unmeasured: code imported, templates compiled,
    the hot pages in PostgreSQL's buffers."""
    client = Client(port, timeout=REQUEST_TIMEOUT)
    headers = {"X-Forwarded-For": WARM_UP_ADDRESS} if addresses else None
    rng = random.Random(0)
    for path in [*mix.pages, *(f"/zoeken/?{mix.query(rng)}" for _ in range(5))]:
        client.request("GET", path, headers=headers)
    client.close()


def _count_in_log(path: Path, pattern: str) -> int:
    text = path.read_text(errors="replace") if path.exists() else ""
    return len(re.findall(pattern, text))


def run(options: Options, log) -> LoadRun:
    target = load_target(options.pieces, options.data_root)
    if options.fault and not target.data_dir:
        raise CommandError(
            "--fault stops the embedded PostgreSQL; a server named by DATABASE_URL is not "
            "ours to stop (unset DATABASE_URL to use an embedded one)."
        )
    addresses = client_addresses(options.addresses)
    trusted = {"TRUSTED_PROXIES": "1"} if addresses else {}
    gunicorn = gunicorn_settings()
    result = LoadRun(
        date=datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        machine=benchmarking.machine(),
        where=target.where,
        pieces=0,
        gunicorn={k: gunicorn[k] for k in ("workers", "threads", "timeout") if k in gunicorn},
        server={},
        addresses=len(addresses),
        log_path=str(options.data_root / f"gunicorn-{target.label}.log"),
    )
    collect_static(log)
    shutil.rmtree(target.cache_dir(), ignore_errors=True)
    with targets.opened(target) as uri:
        if others := targets.other_users(target):
            log(f"  also in use by processes {others}: figures may be disturbed")
        targets.prepare(
            target,
            uri,
            seed=options.seed,
            corpus_dir=None,
            password=secrets.token_urlsafe(16),
            log=log,
        )
        if removed := faults.remove_earlier_runs(uri):
            log(f"  removed {removed:,} pieces written by earlier runs")
        result.pieces = targets.counts(uri)["all"]
        mix = Mix(sample_corpus(uri, options.seed))
        run_id = datetime.datetime.now().strftime("%Y%m%d%H%M%S")
        writer = faults.Writer(
            target,
            run_id,
            options.data_root / f"writer-{target.label}.log",
            env=trusted,
        )
        log("  starting gunicorn")
        with Gunicorn(target.env(**trusted), Path(result.log_path)) as server:
            warm_up(server.port, mix, addresses)

            def phase(name: str, clients: int, seconds: float) -> Phase:
                log(f"  {name}: {clients} client(s), {seconds:g} s")
                found = drive(
                    name,
                    server.port,
                    mix,
                    clients,
                    seconds,
                    options.max_requests,
                    addresses,
                    options.seed,
                )
                result.phases.append(found)
                summary = found.summary
                log(f"    {summary.requests:,} requests, {dict(summary.counts)}")
                return found

            phase("calibration", 1, options.calibration)
            writer.start()
            result.server = writer.settings
            try:
                stopper = None
                if options.fault:
                    stopper = faults.ServerStop(
                        target.data_dir, time.monotonic() + options.fault_at, options.fault_seconds
                    )
                    stopper.start()
                try:
                    phase("burst", options.clients, options.duration)
                    # Only now: the cool-down starts at once, not after the writer's exit.
                    writer.finish()
                finally:
                    if stopper:
                        stopper.finish()
                        result.outage = stopper.outage
                phase("cool-down", 1, options.cooldown)
            finally:
                writes = writer.stop()
        result.integrity = faults.verify(uri, run_id, writes)
    log_path = Path(result.log_path)
    result.worker_boots = _count_in_log(log_path, r"Booting worker")
    result.worker_timeouts = _count_in_log(log_path, r"WORKER TIMEOUT")
    return result
