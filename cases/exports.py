"""Writing the case export as CSV or JSON, shared by the command and the admin download."""

import csv
import json
from typing import TextIO

from .selectors import EXPORT_FIELDS, case_export_rows

# Spreadsheet programs run a cell that starts with one of these as a formula; scraped
# names must never become formulas in an analyst's spreadsheet.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe_cell(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_cases_csv(out: TextIO) -> int:
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    count = 0
    for row in case_export_rows():
        writer.writerow({key: _safe_cell(value) for key, value in row.items()})
        count += 1
    return count


def write_cases_json(out: TextIO) -> int:
    rows = list(case_export_rows())
    json.dump(rows, out, ensure_ascii=False, indent=1)
    out.write("\n")
    return len(rows)


WRITERS = {"csv": write_cases_csv, "json": write_cases_json}
