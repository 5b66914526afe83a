"""`manage.py benchmark --smoke`: the whole benchmark path on a tiny corpus, so it never
rots. What is checked is the report, not the speed."""

import io
import re

import pytest
from django.core.management import call_command, get_commands

from archive.management.benchmarking import targets
from archive.management.benchmarking.workload import CLASSES, PAGES
from archive.management.commands.known_items import KINDS
from archive.management.corpus import default_corpus_dir

NUMBER = re.compile(r"^\d[\d,.]*$")
SHARES = re.compile(r"^\d+% / \d+% / \d+%$")

pytestmark = pytest.mark.skipif(
    "generate_corpus" not in get_commands(), reason="no generate_corpus command to build with"
)


def rows(markdown: str, first_cell: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in markdown.splitlines()
        if line.startswith(f"| {first_cell} |")
    ]


@pytest.fixture(scope="module")
def smoke_report(tmp_path_factory):
    """One smoke run in a data folder of its own (never the archive's, never a server's
    database), its report and what it printed."""
    folder = tmp_path_factory.mktemp("bench")
    output = folder / "benchmarks.md"
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DATABASE_URL", raising=False)
        call_command(
            "benchmark",
            "--smoke",
            "--data-root",
            str(folder / "data"),
            "--output",
            str(output),
            stdout=printed,
        )
    return output.read_text(), printed.getvalue()


def test_report_times_every_search_class_and_page_kind(smoke_report):
    markdown, _ = smoke_report
    for label in [*CLASSES.values(), *PAGES.values()]:
        found = rows(markdown, label)
        assert found, f"no row for {label}"
        assert any(NUMBER.match(cell) for row in found for cell in row[1:]), found


def test_report_has_throughput_memory_and_setting(smoke_report):
    markdown, printed = smoke_report
    for clients in ("1", "8", "32"):
        assert any(row[1] == clients and NUMBER.match(row[2]) for row in rows(markdown, "300"))
    assert "## Memory after the load" in markdown
    assert "PostgreSQL" in markdown and "shared_buffers" in markdown
    assert "gunicorn" in markdown
    assert markdown in printed


def test_report_has_known_item_quality_when_the_corpus_is_there(smoke_report):
    markdown, _ = smoke_report
    if not targets.corpus_present(default_corpus_dir()):
        assert "Skipped: no corpus" in markdown
        return
    (row,) = [r for r in rows(markdown, "300") if r[-1].isdigit() and "%" in r[3]]
    assert all(cell.endswith("%") for cell in row[3:6])


def test_report_breaks_known_item_quality_down_by_kind(smoke_report):
    # The smoke run asks a few queries of every kind (taken from each kind in turn).
    markdown, _ = smoke_report
    if not targets.corpus_present(default_corpus_dir()):
        pytest.skip("no corpus: no known-item quality")
    for label in KINDS.values():
        (row,) = rows(markdown, label)
        assert row[1].isdigit() and int(row[1]) > 0, row
        assert row[2:] and all(SHARES.match(cell) for cell in row[2:]), row
