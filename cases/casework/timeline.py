"""Place a case's index date and findings on one time axis for the case page.

Positions are percentages of the axis width, so the template draws them as plain SVG
with no script; findings before the referral and after it get different marks.
"""

from dataclasses import dataclass
from datetime import date

from cases.models import Case, Finding


@dataclass(frozen=True)
class Mark:
    x: float
    finding: Finding
    row: int


@dataclass(frozen=True)
class Timeline:
    start: date
    end: date
    index_x: float | None
    marks: list[Mark]
    ticks: list[tuple[float, int]]  # (x, year) at each 1 January on the axis
    undated: list[Finding]


def _x(day: date, start: date, end: date) -> float:
    span = max((end - start).days, 1)
    return round(100 * (day - start).days / span, 2)


def build(case: Case, findings: list[Finding]) -> Timeline:
    dated = [f for f in findings if f.event_date]
    days = [f.event_date for f in dated]
    if case.index_date:
        days.append(case.index_date)
    if not days:
        return Timeline(date.today(), date.today(), None, [], [], list(findings))
    start = date(min(days).year, 1, 1)
    end = date(max(max(days).year, date.today().year) + 1, 1, 1)
    # Marks closer than 2 % of the axis go on separate rows so none hides another.
    marks: list[Mark] = []
    last_x_on_row: dict[int, float] = {}
    for finding in sorted(dated, key=lambda f: (f.event_date, f.pk)):
        x = _x(finding.event_date, start, end)
        row = 0
        while row in last_x_on_row and x - last_x_on_row[row] < 2:
            row += 1
        last_x_on_row[row] = x
        marks.append(Mark(x, finding, min(row, 5)))
    ticks = [(_x(date(year, 1, 1), start, end), year) for year in range(start.year, end.year + 1)]
    index_x = _x(case.index_date, start, end) if case.index_date else None
    return Timeline(start, end, index_x, marks, ticks, [f for f in findings if not f.event_date])
