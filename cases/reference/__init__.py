"""The reference lists the app reads: NATO accession dates, US Major Non-NATO Ally
designations and the DoD 1260H list. The editions in this folder ship with the project;
WISHLIST_REFERENCE_DIR points at newer ones (README.md here says how to update them).
"""

import csv
from collections.abc import Collection
from pathlib import Path

from django.conf import settings

NATO_MEMBERS = "nato_members.csv"
MAJOR_NON_NATO_ALLIES = "us_major_non_nato_allies.csv"
DOD_1260H = "dod_1260h_chinese_military_companies.csv"
LISTS = (NATO_MEMBERS, MAJOR_NON_NATO_ALLIES, DOD_1260H)


class ReferenceListError(Exception):
    """A reference list is missing, unreadable or not in the shape the app reads."""

    def __init__(self, path: Path, problem: str):
        self.path = path
        self.problem = problem
        super().__init__(f"Reference list {path} {problem} (read from WISHLIST_REFERENCE_DIR).")


def list_path(name: str) -> Path:
    return Path(settings.WISHLIST_REFERENCE_DIR) / name


def list_rows(name: str, *, columns: Collection[str]) -> list[tuple[int, dict[str, str]]]:
    """Return (line number, row) for every row of a reference list.

    Raise ReferenceListError when the file cannot be read as UTF-8 CSV, lacks one of
    the columns or has no rows: an empty bloc or an empty DoD list would look like a
    finding ("no country is in NATO") rather than an error.
    """
    path = list_path(name)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            rows = [(reader.line_num, row) for row in reader]
            header = reader.fieldnames or []
    except FileNotFoundError:
        raise ReferenceListError(path, "is missing") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReferenceListError(path, f"cannot be read ({exc})") from exc
    missing = [column for column in columns if column not in header]
    if missing:
        raise ReferenceListError(path, f"has no column {', '.join(missing)}")
    if not rows:
        raise ReferenceListError(path, "has no rows")
    return rows
