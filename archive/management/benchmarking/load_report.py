"""The figures of `manage.py loadtest` and their Markdown report: per phase what readers
got (status by status) and how long they waited, how fast the archive came back after
the burst and after the database was stopped, and whether every write survived."""

import math
from collections import Counter
from dataclasses import dataclass, field

from archive.management.benchmarking.faults import LINKS, Integrity, Outage

# Status classes, in report order. 0 is a request that got no answer at all: refused,
# reset, or timed out.
CATEGORIES = ["200", "429", "503", "other 5xx", "connection errors", "other"]
# Back to normal: this many requests in a row answered 200 within RECOVERED_FACTOR times
# the calibration's median.
RECOVERED_RUN = 5
RECOVERED_FACTOR = 2


def category(status: int) -> str:
    if status == 0:
        return "connection errors"
    if status in (200, 429, 503):
        return str(status)
    if status >= 500:
        return "other 5xx"
    return "other"


@dataclass(frozen=True)
class Sample:
    """One request: what it was, when it was sent (time.monotonic()), how long it took and
    its status (0: no answer)."""

    kind: str
    began: float
    seconds: float
    status: int
    timed_out: bool = False  # a 503 saying the statement timeout stopped it
    shed: bool = False  # a 503 saying the worker was too busy to take it (load shed)

    @property
    def ended(self) -> float:
        return self.began + self.seconds


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)] if ordered else math.nan


@dataclass
class Summary:
    requests: int
    counts: Counter
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, samples: list[Sample]) -> "Summary":
        seconds = [s.seconds for s in samples]
        return cls(
            requests=len(samples),
            counts=Counter(category(s.status) for s in samples),
            p50=percentile(seconds, 0.50),
            p95=percentile(seconds, 0.95),
            p99=percentile(seconds, 0.99),
            max=max(seconds) if seconds else math.nan,
        )


@dataclass
class Phase:
    name: str
    clients: int
    began: float
    stopped: float  # when its clients stopped sending: the deadline, or the budget spent
    ended: float  # when the last answer came
    samples: list[Sample]

    @property
    def seconds(self) -> float:
        return self.ended - self.began

    @property
    def summary(self) -> Summary:
        return Summary.of(self.samples)

    @property
    def rate(self) -> float:
        return len(self.samples) / self.seconds if self.seconds > 0 else math.nan


def recovered_after(samples: list[Sample], since: float, limit: float) -> float | None:
    """Seconds from `since` until the first of RECOVERED_RUN requests in a row answered 200
    within `limit` seconds each; None if that never happened."""
    ordered = sorted((s for s in samples if s.began >= since), key=lambda s: s.began)
    run = 0
    for index, sample in enumerate(ordered):
        run = run + 1 if sample.status == 200 and sample.seconds <= limit else 0
        if run == RECOVERED_RUN:
            return max(0.0, ordered[index - RECOVERED_RUN + 1].began - since)
    return None


def failing(sample: Sample) -> bool:
    """No answer or a 5xx, except load shed on purpose: that is the archive working."""
    return (sample.status == 0 or sample.status >= 500) and not sample.shed


@dataclass
class FaultFigures:
    """What readers got while the database was down and after it was started again."""

    during: Summary  # requests sent between the stop and the end of the restart
    first_200: float | None  # seconds from the restart to the first 200 of a new request
    steady: float | None  # seconds from the restart until no request failed any more
    failures_after: Counter  # 5xx and connection errors of requests sent after the restart

    @classmethod
    def of(cls, outage: Outage, samples: list[Sample]) -> "FaultFigures":
        during = [s for s in samples if outage.stop_began <= s.began < outage.started]
        after = sorted((s for s in samples if s.began >= outage.started), key=lambda s: s.ended)
        first = next((s.ended for s in after if s.status == 200), None)
        last_failure = max((s.ended for s in after if failing(s)), default=None)
        return cls(
            during=Summary.of(during),
            first_200=None if first is None else first - outage.started,
            steady=0.0 if last_failure is None else last_failure - outage.started,
            failures_after=Counter(category(s.status) for s in after if failing(s)),
        )


@dataclass
class LoadRun:
    date: str
    machine: dict
    where: str
    pieces: int
    gunicorn: dict
    server: dict  # the settings the server ran with that shape the answers
    addresses: int
    phases: list[Phase] = field(default_factory=list)
    outage: Outage | None = None
    integrity: Integrity | None = None
    worker_boots: int = 0
    worker_timeouts: int = 0
    log_path: str = ""
    notes: list[str] = field(default_factory=list)

    def phase(self, name: str) -> Phase | None:
        return next((p for p in self.phases if p.name == name), None)


# Markdown ------------------------------------------------------------------------------


def ms(seconds: float | None) -> str:
    if seconds is None or math.isnan(seconds):
        return "–"
    value = seconds * 1000
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def secs(seconds: float | None) -> str:
    return "–" if seconds is None or math.isnan(seconds) else f"{seconds:.2f} s"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


STATUS_HEADER = [*CATEGORIES, "p50 ms", "p95 ms", "p99 ms", "max ms"]


def _status_cells(summary: Summary) -> list[str]:
    return [
        *(f"{summary.counts.get(c, 0):,}" for c in CATEGORIES),
        ms(summary.p50),
        ms(summary.p95),
        ms(summary.p99),
        ms(summary.max),
    ]


def render(run: LoadRun) -> str:
    lines = [
        "# Load and fault test",
        "",
        f"{run.date}. `manage.py loadtest`: gunicorn on loopback serving {run.pieces:,} "
        f"pieces ({run.where}), driven by threads in one process. Machine: "
        f"{run.machine.get('cpu')}, {run.machine.get('cores')} cores, {run.machine.get('ram')}, "
        f"load {run.machine.get('load')}; code {run.machine.get('code')}.",
        "",
        "Server: "
        + ", ".join(f"{k} {v}" for k, v in run.gunicorn.items())
        + "; "
        + ", ".join(f"{k} {v}" for k, v in run.server.items())
        + (
            f". Requests come from {run.addresses} simulated client addresses "
            "(X-Forwarded-For, one trusted proxy)."
            if run.addresses
            else ". All requests come from one address."
        ),
        "",
        "## Phases",
        "",
        "Statuses: 429 is the rate limit, 503 the database away or a search stopped by the "
        "statement timeout, connection errors are requests that got no answer at all.",
        "",
    ]
    rows = []
    for phase in run.phases:
        summary = phase.summary
        rows.append(
            [
                phase.name,
                str(phase.clients),
                f"{phase.seconds:.1f}",
                f"{summary.requests:,}",
                f"{phase.rate:,.1f}",
                *_status_cells(summary),
            ]
        )
    lines += _table(["phase", "clients", "seconds", "requests", "req/s", *STATUS_HEADER], rows)
    shed = {p.name: sum(s.shed for s in p.samples) for p in run.phases}
    if any(shed.values()):
        lines += [
            "",
            "Of the 503s, load shed at once by a worker with too many requests waiting "
            "(WEB_MAX_WAITING): " + ", ".join(f"{name} {n:,}" for name, n in shed.items()) + ".",
        ]
    timeouts = {p.name: sum(s.timed_out for s in p.samples) for p in run.phases}
    if any(timeouts.values()):
        lines += [
            "",
            "Of the 503s, searches stopped by the statement timeout: "
            + ", ".join(f"{name} {n:,}" for name, n in timeouts.items())
            + ".",
        ]
    calibration, burst, cooldown = (run.phase(n) for n in ("calibration", "burst", "cool-down"))
    if calibration and burst:
        base = calibration.summary.p50
        lines += [
            "",
            f"Capacity at 1 client: {calibration.rate:,.1f} requests/s, p50 {ms(base)} ms. "
            f"The burst offered {burst.clients} clients without pause to "
            f"{run.gunicorn.get('workers', '?')} workers × {run.gunicorn.get('threads', '?')} "
            f"threads, and got {burst.rate:,.1f} requests/s.",
        ]
        if cooldown:
            back = recovered_after(cooldown.samples, burst.stopped, RECOVERED_FACTOR * base)
            lines.append(
                f"Latency back within {RECOVERED_FACTOR}× the calibration p50 "
                f"({ms(RECOVERED_FACTOR * base)} ms, {RECOVERED_RUN} requests in a row): "
                + (
                    f"{secs(back)} after the burst's clients stopped sending"
                    if back is not None
                    else "not within the cool-down"
                )
                + f" (the last of their answers came {secs(burst.ended - burst.stopped)} "
                "after they stopped)."
            )
    if burst:
        by_kind: dict[str, list[Sample]] = {}
        for sample in burst.samples:
            by_kind.setdefault(sample.kind, []).append(sample)
        lines += ["", "## The burst by kind of request", ""]
        lines += _table(
            ["kind", "requests", *STATUS_HEADER],
            [
                [kind, f"{len(samples):,}", *_status_cells(Summary.of(samples))]
                for kind, samples in sorted(by_kind.items())
            ],
        )
    if run.outage is not None:
        lines += ["", *_fault(run)]
    if run.integrity is not None:
        lines += ["", *_writes(run.integrity)]
    lines += [
        "",
        "## gunicorn",
        "",
        f"Worker starts in the log: {run.worker_boots} (the first ones included; a worker is "
        f"also replaced after its max_requests). Worker timeouts: {run.worker_timeouts}. "
        f"Log: `{run.log_path}`.",
    ]
    if run.notes:
        lines += ["", "## Notes", "", *(f"- {note}" for note in run.notes)]
    return "\n".join(lines) + "\n"


def _fault(run: LoadRun) -> list[str]:
    outage = run.outage
    burst = run.phase("burst")
    lines = [f"## Fault: PostgreSQL stopped for {outage.planned_seconds:g} s", ""]
    if outage.error:
        lines += [f"**{outage.error}**", ""]
    if not outage.happened:
        return lines if outage.error else [*lines, "Not stopped: the burst ended first."]
    samples = [s for phase in run.phases for s in phase.samples]
    figures = FaultFigures.of(outage, samples)
    after = ", ".join(f"{c} {n:,}" for c, n in sorted(figures.failures_after.items())) or "none"
    since = outage.stop_began - burst.began if burst else math.nan
    lines += _table(
        ["", ""],
        [
            ["stopped (`pg_ctl stop -m fast`)", f"{secs(since)} into the burst"],
            ["stop took", secs(outage.stopped - outage.stop_began)],
            ["down, stop to restarted", secs(outage.down_seconds)],
            ["restart took", secs(outage.started - outage.start_began)],
            ["requests sent while down", f"{figures.during.requests:,}"],
            *([f"… {c}", f"{figures.during.counts.get(c, 0):,}"] for c in CATEGORIES),
            ["first 200 after the restart", secs(figures.first_200)],
            ["steady (no 5xx, no connection error from then on)", secs(figures.steady)],
            ["5xx and connection errors after the restart", after],
        ],
    )
    return lines


def _writes(integrity: Integrity) -> list[str]:
    failed = ", ".join(f"{e} {n}" for e, n in integrity.failed.most_common()) or "none"
    lines = [
        "## Writes during the burst",
        "",
        f"A writer added pieces with {LINKS} actor links each, each piece in a transaction of "
        "its own, and noted which commits returned.",
        "",
    ]
    lines += _table(
        ["", ""],
        [
            ["acknowledged", f"{integrity.acknowledged:,}"],
            ["failed (by error)", failed],
            ["in the database", f"{integrity.found:,}"],
            ["acknowledged but missing", f"{len(integrity.missing):,}"],
            ["without all their links", f"{len(integrity.partial):,}"],
            ["whole but not acknowledged (commit answer lost)", f"{integrity.in_doubt:,}"],
            ["actors whose piece count disagrees", f"{integrity.counters_off:,}"],
        ],
    )
    if integrity.ok:
        verdict = "No acknowledged write was lost and no piece is without its links."
    else:
        verdict = "**Failed:** " + "; ".join(
            [
                *(["missing: " + ", ".join(integrity.missing[:10])] if integrity.missing else []),
                *(["partial: " + ", ".join(integrity.partial[:10])] if integrity.partial else []),
                *([f"{integrity.counters_off} counters off"] if integrity.counters_off else []),
                *integrity.problems,
            ]
        )
    return [*lines, "", verdict]
