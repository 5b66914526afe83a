"""Charts drawn on the server as inline SVG: no JavaScript, readable without it.

Every chart is an <svg role="img"> named by its <title> and described by a <desc> that
gives the counts, followed by the same numbers as a table a reader can open. All text
goes through format_html, so a label is escaped like any other text on the page.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

MONTHS = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]
MONTHS_SHORT = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]

# Over three years of months, bars get too thin to read: count per year instead.
MAX_MONTHS = 36

# Geometry in SVG user units; the SVG scales to its container's width.
WIDTH, HEIGHT = 640, 200
TOP, BOTTOM, LEFT, RIGHT = 22, 40, 8, 8
# Bars in the site's accent on the paper colour (contrast about 8:1), text in the muted
# ink (about 7:1), the baseline darker than 3:1 as WCAG asks of graphics.
BAR, TEXT, AXIS = "#8a1c12", "#5b5750", "#8a857c"
MAX_VALUE_LABELS = 24


def pieces(n: int) -> str:
    return f"{n} stuk" if n == 1 else f"{n} stukken"


@dataclass(frozen=True)
class Bar:
    label: str  # on the axis: "jun", "2023"
    name: str  # in full, for the text alternative: "juni 2023"
    value: int
    group: str = ""  # a second axis line where it changes: the year under the months


@dataclass
class Chart:
    title: str
    bars: list[Bar]
    note: str = ""
    chart_id: str = "grafiek"
    unit: Callable[[int], str] = field(default=pieces)

    @property
    def total(self) -> int:
        return sum(bar.value for bar in self.bars)

    def summary(self) -> str:
        """The counts in words: the non-empty bars, then how many were empty."""
        shown = [f"{bar.name}: {self.unit(bar.value)}" for bar in self.bars if bar.value]
        empty = len(self.bars) - len(shown)
        text = "; ".join(shown) or "geen gegevens"
        if empty:
            text += f"; in de overige {empty} perioden geen"
        return f"{text}. Totaal: {self.unit(self.total)}."

    def __html__(self) -> str:
        return render(self)

    def __str__(self) -> str:
        return render(self)


def render(chart: Chart) -> SafeString:
    n = len(chart.bars) or 1
    peak = max((bar.value for bar in chart.bars), default=0) or 1
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / n
    width = max(slot * 0.7, 1)
    every = max(1, round(n / 18))  # axis labels that fit side by side
    baseline = TOP + plot_h

    shapes = []
    previous_group = None
    for i, bar in enumerate(chart.bars):
        x = LEFT + i * slot + (slot - width) / 2
        h = plot_h * bar.value / peak
        middle = LEFT + i * slot + slot / 2
        shapes.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>',
                f"{x:.1f}",
                f"{baseline - h:.1f}",
                f"{width:.1f}",
                f"{h:.1f}",
                BAR,
                bar.name,
                chart.unit(bar.value),
            )
        )
        if bar.value and n <= MAX_VALUE_LABELS:
            shapes.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" class="value">{}</text>',
                    f"{middle:.1f}",
                    f"{baseline - h - 5:.1f}",
                    bar.value,
                )
            )
        if i % every == 0:
            shapes.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle">{}</text>',
                    f"{middle:.1f}",
                    baseline + 15,
                    bar.label,
                )
            )
        if bar.group and bar.group != previous_group:
            shapes.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="start" class="group">{}</text>',
                    f"{LEFT + i * slot:.1f}",
                    baseline + 32,
                    bar.group,
                )
            )
        previous_group = bar.group

    svg = format_html(
        '<svg class="chart" role="img" viewBox="0 0 {} {}"'
        ' aria-labelledby="{}-titel {}-beschrijving"'
        ' fill="{}" font-family="Arial, sans-serif" font-size="12">'
        '<title id="{}-titel">{}</title><desc id="{}-beschrijving">{}</desc>'
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/>{}</svg>',
        WIDTH,
        HEIGHT,
        chart.chart_id,
        chart.chart_id,
        TEXT,
        chart.chart_id,
        chart.title,
        chart.chart_id,
        chart.summary(),
        LEFT,
        WIDTH - RIGHT,
        baseline,
        baseline,
        AXIS,
        format_html_join("", "{}", ((shape,) for shape in shapes)),
    )
    rows = format_html_join(
        "",
        '<tr><th scope="row">{}</th><td>{}</td></tr>',
        ((bar.name, bar.value) for bar in chart.bars),
    )
    note = format_html("<figcaption>{}</figcaption>", chart.note) if chart.note else ""
    return format_html(
        '<figure class="chart">{}{}<details><summary>De cijfers</summary>'
        "<table><caption>{}</caption>"
        '<thead><tr><th scope="col">Periode</th><th scope="col">Aantal</th></tr></thead>'
        "<tbody>{}</tbody></table></details></figure>",
        svg,
        note,
        chart.title,
        rows,
    )


def _months(first: datetime.date, last: datetime.date):
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield datetime.date(year, month, 1)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def coverage_chart(rows, subject: str, chart_id: str = "dekking") -> Chart | None:
    """Pieces over time from (month, date precision, count) rows: per month, or per year
    when the pieces span more than three years.

    A piece known only to the year cannot go in a month; a monthly chart says how many it
    leaves out rather than pile them into January.
    """
    rows = list(rows)
    if not rows:
        return None
    dated = [(month, n) for month, precision, n in rows if precision != "year"]
    year_only = sum(n for _, precision, n in rows if precision == "year")
    first = min((m for m, _ in dated), default=None)
    last = max((m for m, _ in dated), default=None)
    span = (last.year - first.year) * 12 + last.month - first.month + 1 if dated else 0

    if not dated or span > MAX_MONTHS:
        per_year: dict[int, int] = {}
        for month, _, n in rows:
            per_year[month.year] = per_year.get(month.year, 0) + n
        years = range(min(per_year), max(per_year) + 1)
        bars = [Bar(str(y), str(y), per_year.get(y, 0)) for y in years]
        return Chart(f"{subject} per jaar", bars, chart_id=chart_id)

    per_month: dict[datetime.date, int] = {}
    for month, n in dated:
        per_month[month] = per_month.get(month, 0) + n
    bars = [
        Bar(
            MONTHS_SHORT[m.month - 1],
            f"{MONTHS[m.month - 1]} {m.year}",
            per_month.get(m, 0),
            group=str(m.year),
        )
        for m in _months(first, last)
    ]
    note = (
        f"Niet in de grafiek: {pieces(year_only)} waarvan alleen het jaar bekend is."
        if year_only
        else ""
    )
    return Chart(f"{subject} per maand", bars, note=note, chart_id=chart_id)
