"""Writing the case export as CSV or JSON, shared by the command and the admin download;
the case list download; safe cells and the BOM of CSV files opened in spreadsheets."""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import TextIO

from django.db.models import QuerySet

from cases.casework.selectors import EXPORT_FIELDS, case_export_rows, export_outcome
from cases.models import Case

# Excel takes a CSV file for UTF-8 only when it starts with a byte order mark; without one
# "Zürich" opens as "ZÃ¼rich" and Chinese names as noise. Files served to a browser start
# with it; command output, read by scripts, does not.
BOM = "\ufeff"

# Spreadsheet programs run a cell that starts with one of these as a formula; scraped
# names must never become formulas in an analyst's spreadsheet.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Neutralise a cell a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_text(header: list[str], rows: Iterable[Iterable]) -> str:
    """A small table as CSV text, with formula-like cells neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return out.getvalue()


def write_cases_csv(out: TextIO, cases: QuerySet[Case] | None = None) -> int:
    """Write the cases (every case unless given) as CSV; return how many."""
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    count = 0
    for row in case_export_rows(cases):
        writer.writerow({key: safe_cell(value) for key, value in row.items()})
        count += 1
    return count


def write_cases_json(out: TextIO, cases: QuerySet[Case] | None = None) -> int:
    """Write the cases (every case unless given) as a JSON list; return how many."""
    rows = list(case_export_rows(cases))
    json.dump(rows, out, ensure_ascii=False, indent=1)
    out.write("\n")
    return len(rows)


WRITERS = {"csv": write_cases_csv, "json": write_cases_json}


CASE_LIST_FIELDS = (
    "case_id",
    "entity_name",
    "entity_name_native",
    "entity_type",
    "country",
    "index_date",
    "status",
    "team",
    "assignee",
    "leads_to_review",
    "outcome",
    "tags",
)


class _Line:
    """A file-like object whose write returns the text, for streaming csv rows."""

    def write(self, value: str) -> str:
        return value


def case_list_csv_lines(cases, *, preamble: Iterable[str] = ()) -> Iterator[str]:
    """The case list as a download's CSV lines, streamed: the BOM, then `preamble` lines
    (the download's metadata, as comments), the header and `cases`, the annotated,
    filtered list."""
    yield BOM
    for line in preamble:
        yield line + "\r\n"
    writer = csv.writer(_Line())
    yield writer.writerow(CASE_LIST_FIELDS)
    for case in cases.iterator(chunk_size=2000):
        entity = case.entity
        row = (
            case.pk,
            entity.name,
            entity.name_native,
            entity.kind,
            entity.country,
            case.index_date_display,
            case.status,
            case.team.name if case.team else "",
            case.assignee.get_username() if case.assignee else "",
            case.lead_count,
            # The admin export's three words: a concluded case with nothing positive is a
            # negative, an open one is not reviewed (not a negative).
            export_outcome(
                positive=case.is_positive, reviewed=case.status == Case.Status.CONCLUDED
            ),
            "; ".join(tag.name for tag in case.tags.all()),
        )
        yield writer.writerow([safe_cell(value) for value in row])
