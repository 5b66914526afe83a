"""`manage.py loadtest --smoke --fault`: the load and fault test on a tiny corpus, so it
never rots. What is checked is the report's shape, that every request is counted under
one status, and that no acknowledged write was lost; not the speed."""

import io
import re
import tempfile
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError

from archive.management.benchmarking.faults import Outage
from archive.management.benchmarking.load import loopback_only
from archive.management.benchmarking.load_report import (
    CATEGORIES,
    FaultFigures,
    Sample,
    Summary,
    recovered_after,
)

needs_generator = pytest.mark.skipif(
    "generate_corpus" not in get_commands(), reason="no generate_corpus command to build with"
)
MS = re.compile(r"^(\d[\d,]*(\.\d)?|–)$")
SECONDS = re.compile(r"^(\d+\.\d\d s|–)$")


def table(markdown: str, first_header: str) -> list[dict[str, str]]:
    """The rows of the table whose header row starts with `first_header`, as dicts."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    header = [cell.strip() for cell in lines[start].strip("|").split("|")]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True)))
    return rows


def pairs(markdown: str, heading: str) -> dict[str, str]:
    """The two-column table under `heading` (its header cells are empty) as a dict."""
    section = markdown[markdown.index(heading) :].split("\n## ")[0]
    cells = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("|  |")
    ]
    return {name: value for name, value in cells}


def number(cell: str) -> int:
    return int(cell.replace(",", ""))


@pytest.fixture(scope="module")
def smoke_report():
    """One smoke run with the fault, in a data folder of its own (never the archive's,
    never a server's database): its report and what it printed.

    Not under pytest's temporary folder: when run as root the embedded server runs as a
    user of its own, and another pytest starting meanwhile closes that folder to anyone
    but root again, so pg_ctl could not stop or start the server in it."""
    with tempfile.TemporaryDirectory(prefix="kroniek-load-") as folder:
        output = Path(folder) / "load.md"
        printed = io.StringIO()
        with pytest.MonkeyPatch.context() as patch:
            patch.delenv("DATABASE_URL", raising=False)
            call_command(
                "loadtest",
                "--smoke",
                "--fault",
                "--data-root",
                str(Path(folder) / "data"),
                "--output",
                str(output),
                stdout=printed,
            )
        yield output.read_text(), printed.getvalue()


@needs_generator
def test_every_phase_counts_each_request_under_one_status(smoke_report):
    markdown, printed = smoke_report
    phases = {row["phase"]: row for row in table(markdown, "phase")}
    assert list(phases) == ["calibration", "burst", "cool-down"]
    for name, row in phases.items():
        assert number(row["requests"]) > 0, name
        assert sum(number(row[c]) for c in CATEGORIES) == number(row["requests"]), row
        assert all(MS.match(row[c]) for c in ("p50 ms", "p95 ms", "p99 ms", "max ms")), row
    assert phases["burst"]["clients"] == "8"
    assert markdown in printed


@needs_generator
def test_the_burst_by_kind_adds_up_to_the_burst(smoke_report):
    markdown, _ = smoke_report
    burst = next(row for row in table(markdown, "phase") if row["phase"] == "burst")
    kinds = table(markdown, "kind")
    assert {row["kind"] for row in kinds} <= {"search", "page", "api", "feed", "browse", "export"}
    assert sum(number(row["requests"]) for row in kinds) == number(burst["requests"])
    for category in CATEGORIES:
        assert sum(number(row[category]) for row in kinds) == number(burst[category])


@needs_generator
def test_the_fault_is_reported_with_what_readers_got_while_down(smoke_report):
    markdown, _ = smoke_report
    assert "## Fault: PostgreSQL stopped for 1 s" in markdown
    fault = pairs(markdown, "## Fault")
    during = number(fault["requests sent while down"])
    assert sum(number(fault[f"… {c}"]) for c in CATEGORIES) == during
    for row in ("stop took", "down, stop to restarted", "first 200 after the restart"):
        assert SECONDS.match(fault[row]), (row, fault[row])


@needs_generator
def test_no_acknowledged_write_was_lost_or_left_half_done(smoke_report):
    markdown, _ = smoke_report
    section = markdown[markdown.index("## Writes during the burst") :]
    rows = pairs(markdown, "## Writes during the burst")
    assert number(rows["acknowledged"]) > 0
    assert number(rows["acknowledged but missing"]) == 0
    assert number(rows["without all their links"]) == 0
    assert number(rows["actors whose piece count disagrees"]) == 0
    assert "No acknowledged write was lost and no piece is without its links." in section


def test_statuses_are_counted_by_class():
    statuses = [200, 200, 429, 503, 502, 500, 0, 0, 404, 301]
    summary = Summary.of([Sample("search", 0.0, 0.1, status) for status in statuses])
    assert summary.requests == 10
    assert dict(summary.counts) == {
        "200": 2,
        "429": 1,
        "503": 1,
        "other 5xx": 2,
        "connection errors": 2,
        "other": 2,
    }


def test_the_outage_figures_follow_the_requests():
    outage = Outage(planned_seconds=5, stop_began=10, stopped=11, start_began=15, started=16)
    samples = [
        Sample("search", 9.0, 0.5, 200),  # before: not counted as during
        Sample("search", 10.5, 0.1, 503),
        Sample("page", 12.0, 0.1, 200),  # from the page cache
        Sample("api", 15.5, 0.2, 0),
        Sample("search", 16.1, 0.3, 503),  # after the restart, still failing
        Sample("search", 16.5, 0.5, 200),  # first 200 ends at 17.0
        Sample("search", 17.5, 0.5, 200),
        Sample("page", 18.0, 0.01, 503, shed=True),  # load shed on purpose: no failure
    ]
    figures = FaultFigures.of(outage, samples)
    assert figures.during.requests == 3
    assert dict(figures.during.counts) == {"503": 1, "200": 1, "connection errors": 1}
    assert figures.first_200 == pytest.approx(1.0)
    assert figures.steady == pytest.approx(0.4)
    assert dict(figures.failures_after) == {"503": 1}


def test_recovery_needs_a_run_of_quick_answers():
    slow, quick = 1.0, 0.1
    samples = [Sample("search", 100 + i, slow if i in (0, 3) else quick, 200) for i in range(10)]
    assert recovered_after(samples, since=99.0, limit=0.2) == pytest.approx(5.0)
    assert recovered_after(samples[:6], since=99.0, limit=0.2) is None


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_are_accepted(host):
    assert loopback_only(host) == host


@pytest.mark.parametrize("host", ["10.0.0.1", "192.0.2.7", "example.org", "0.0.0.0"])
def test_other_hosts_are_refused(host):
    with pytest.raises(CommandError, match="loopback only"):
        loopback_only(host)


def test_the_fault_is_refused_for_a_server_of_ones_own(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/kroniek")
    with pytest.raises(CommandError, match="not ours to stop"):
        call_command("loadtest", "--smoke", "--fault", "--data-root", str(tmp_path))
