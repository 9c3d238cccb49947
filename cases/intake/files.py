"""Reading referral files (CSV or XLSX) into header-keyed rows with their line numbers.

Every way a file can be malformed is refused with the line where it goes wrong, before
any row is checked against the database: an unclosed quote, mixed delimiters, bytes that
are not text, a workbook that is damaged, declares entities, or unpacks past the limits
in settings (WISHLIST_IMPORT_MAX_*), so that memory stays bounded whatever the upload.
"""

import csv
import gc
import io
import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

from django.conf import settings

from cases import normalize
from cases.intake import workbook

COLUMNS = (
    "referral_id",
    "referral_date",
    "post",
    "host_country",
    "entity_name",
    "entity_name_native",
    "entity_type",
    "technology_field",
    "cooperation_method",
    "proposed_amount",
    "currency",
    "summary",
    "source_url",
)


REQUIRED_COLUMNS = ("referral_id", "referral_date", "host_country", "entity_name")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk step.

    Checking and writing 100,000 rows allocates millions of small objects and no cycles;
    the collector's repeated full passes over them took a quarter of the import's time.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class ImportFileError(Exception):
    """The file as a whole cannot be read (wrong format, encoding, headers)."""


# The key of a row that cannot be read as cells (more cells than the header, another
# delimiter): its value is the reason, reported as that row's error.
ROW_PROBLEM = "__problem__"


def _header_key(value: object) -> str:
    text, _ = normalize.strip_invisible(str(value or ""))
    return re.sub(r"[\s\-]+", "_", text.strip().casefold())


def _check_header(header: list[str]) -> None:
    keys = [_header_key(h) for h in header]
    problems = []
    unknown = [h for h, k in zip(header, keys, strict=True) if k and k not in COLUMNS]
    if unknown:
        problems.append(
            "unknown column(s) "
            + ", ".join(repr(u) for u in unknown)
            + f"; the columns are: {', '.join(COLUMNS)}"
        )
    repeated = sorted({k for k in keys if k and keys.count(k) > 1})
    if repeated:
        problems.append("column(s) given twice: " + ", ".join(repeated))
    missing = [c for c in REQUIRED_COLUMNS if c not in keys]
    if missing:
        problems.append("missing required column(s): " + ", ".join(missing))
    if problems:
        raise ImportFileError("; ".join(problems))


# Bytes no CSV text holds: the C0 controls but tab, line feed and carriage return, and DEL.
_CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_TEXT_BYTES = bytes(b for b in range(256) if b not in _CONTROL_BYTES)
_BINARY_KINDS = (
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) workbook; save it as .xlsx or CSV UTF-8"),
    (b"%PDF", "a PDF document"),
    (b"\xff\xfe", "UTF-16 text, not UTF-8; save it as CSV UTF-8"),
    (b"\xfe\xff", "UTF-16 text, not UTF-8; save it as CSV UTF-8"),
)
_DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs"}
_OTHER_DELIMITERS = "|:^~#/!"
_YEAR_START = re.compile(r"^\s*\"?\d{4}\b")
_FIRST_LINE = re.compile(r"[^\r\n]*")


def _csv_text(data: bytes) -> str:
    """Return the file as text, or refuse a file that is not UTF-8 text."""
    for magic, kind in _BINARY_KINDS:
        if data.startswith(magic):
            raise ImportFileError(f"the file is {kind}")
    # One pass in C over the bytes; UTF-8 never uses these bytes inside a character.
    controls = data.translate(None, _TEXT_BYTES)
    if controls:
        position = data.index(controls[:1])
        line = data.count(b"\n", 0, position) + 1
        if controls[0] == 0:
            raise ImportFileError(f"the file contains a NUL byte at line {line}; is it really CSV?")
        raise ImportFileError(
            f"the file contains a control character (U+{controls[0]:04X}) at line {line}; "
            "is it really CSV text?"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"the file is not UTF-8 text (bad byte at line {line}); save it as CSV UTF-8"
        ) from None


def _csv_delimiter(text: str) -> str:
    """Return the delimiter of the header line, whose cells are known names.

    Guessing quote rules from the data (csv.Sniffer) misreads apostrophes in summaries.
    """
    header_line = _FIRST_LINE.match(text).group()
    used = [d for d in _DELIMITERS if d in header_line]
    if len(used) > 1:
        names = " and ".join(_DELIMITERS[d] for d in used)
        raise ImportFileError(f"line 1: the header mixes {names}; separate its columns with one")
    if used:
        return used[0]
    other = max(_OTHER_DELIMITERS, key=header_line.count)
    if header_line.count(other):
        raise ImportFileError(
            f"line 1: the columns are separated by {other!r}; use commas, semicolons or tabs"
        )
    return ","


def _open_quote_line(text: str, delimiter: str, start: int, end: int | None = None) -> int:
    """Return the line of the quote still open at line `end` (or the end of the file),
    reading the record that starts at line `start` as the csv module does."""
    lines = itertools.islice(io.StringIO(text, newline=""), start - 1, end)
    quoted, opened = False, start
    for number, line in enumerate(lines, start=start):
        position = 0
        while (position := line.find('"', position)) >= 0:
            if not quoted:
                # Only a quote that starts a cell opens one; elsewhere it is a character.
                if position == 0 or line[position - 1] == delimiter:
                    quoted, opened = True, number
            elif line.startswith('"', position + 1):
                position += 1  # a doubled quote stands for one
            else:
                quoted = False
                after = line[position + 1 : position + 2]
                if after not in (delimiter, "\r", "\n", ""):
                    return opened
            position += 1
    return opened


def _csv_error(exc: csv.Error, text: str, delimiter: str, start: int, end: int) -> ImportFileError:
    """Turn the csv module's error on the record of lines start..end into a message."""
    reason = str(exc)
    if reason == "unexpected end of data":
        line = _open_quote_line(text, delimiter, start)
        return ImportFileError(f"line {line}: a quote opened here is never closed")
    if reason.startswith(f"'{delimiter}' expected after '\"'"):
        line = _open_quote_line(text, delimiter, start, end)
        if line < end:
            return ImportFileError(
                f"line {line}: a quote opened here is never closed (the next quote, on "
                f"line {end}, is followed by more text)"
            )
        return ImportFileError(
            f"line {end}: text follows the closing quote of a cell; a quote inside a quoted "
            'cell is written twice ("")'
        )
    if reason.startswith("field larger than field limit"):
        limit = settings.WISHLIST_IMPORT_MAX_CELL_CHARS
        return ImportFileError(f"line {start}: a cell holds more than {limit:,} characters")
    return ImportFileError(f"line {start}: the CSV is malformed: {exc}")


def _swallowed_row(cells: list[str], delimiter: str, columns: int, date_at: int) -> int:
    """Return the position among the cell's lines of a line that reads as a row of its own
    (as many cells as the header, a year where the date is), or 0.

    A quote left open early in a file runs on, across the following rows, to the next
    quote that happens to close it; the csv module then reads those rows as one cell.
    """
    for cell in cells:
        if "\n" not in cell and "\r" not in cell:
            continue
        for offset, line in enumerate(io.StringIO(cell, newline=""), start=0):
            if offset == 0:
                continue
            parts = line.split(delimiter)
            if len(parts) >= columns and _YEAR_START.match(parts[date_at]):
                return offset
    return 0


def _csv_rows(data: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    text = _csv_text(data)
    delimiter = _csv_delimiter(text)
    max_cell = settings.WISHLIST_IMPORT_MAX_CELL_CHARS
    # strict: a closing quote followed by more text, or a quote still open at the end of
    # the file, is an error instead of a cell that swallows the rest of the file.
    reader = csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("the file is empty") from None
    except csv.Error as exc:
        raise _csv_error(exc, text, delimiter, 1, reader.line_num) from None
    _check_header(header)
    keys = [_header_key(h) for h in header]
    date_at = keys.index("referral_date")
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _csv_error(exc, text, delimiter, line, reader.line_num) from None
        if reader.line_num > line:
            swallowed = _swallowed_row(cells, delimiter, len(keys), date_at)
            if swallowed:
                raise ImportFileError(
                    f"line {line}: a quoted cell here runs on over line {line + swallowed}, "
                    f"which reads as a row of its own; is a closing quote missing on line {line}?"
                )
        if "".join(cells).strip():
            longest = max(map(len, cells))
            if longest > max_cell:
                raise ImportFileError(
                    f"line {line}: a cell holds {longest:,} characters; a cell holds at most "
                    f"{max_cell:,}"
                )
            yield line, _csv_cells(cells, keys, delimiter)
        line = reader.line_num + 1


def _csv_cells(cells: list[str], keys: list[str], delimiter: str) -> dict[str, str]:
    if len(cells) > len(keys) and any(c.strip() for c in cells[len(keys) :]):
        reason = (
            f"the row has more cells than the header ({len(cells)} cells but {len(keys)} columns)"
        )
        return {ROW_PROBLEM: reason}
    if len(cells) == 1 < len(keys):
        reason = f"the row has 1 cell but the header has {len(keys)} columns"
        others = [d for d in (*_DELIMITERS, "|") if d != delimiter and d in cells[0]]
        if others:
            reason += f"; it seems separated by {others[0]!r}, the header by {delimiter!r}"
        return {ROW_PROBLEM: reason}
    return {k: c for k, c in zip(keys, cells, strict=False) if k}


def _xlsx_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        yield from _xlsx_sheet_rows(data)
    except workbook.WorkbookError as exc:
        raise ImportFileError(str(exc)) from None


def _xlsx_sheet_rows(data: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    max_cell = settings.WISHLIST_IMPORT_MAX_CELL_CHARS
    with workbook.first_sheet(data) as sheet:
        rows = sheet.rows()
        header = next(rows, None)
        if header is None:
            raise ImportFileError("the workbook's first sheet is empty")
        header = [_xlsx_cell(h) for h in header]
        while header and not header[-1].strip():
            header.pop()
        _check_header(header)
        keys = [_header_key(h) for h in header]
        for number, values in enumerate(rows, start=2):
            cells = [_xlsx_cell(v) for v in values]
            if any(c.strip() for c in cells):
                longest = max(map(len, cells))
                if longest > max_cell:
                    raise ImportFileError(
                        f"line {number}: a cell holds {longest:,} characters; a cell holds at "
                        f"most {max_cell:,}"
                    )
                yield number, {k: c for k, c in zip(keys, cells, strict=False) if k}


def _at_most(rows: Iterator[tuple[int, dict[str, str]]], limit: int):
    for count, (line, cells) in enumerate(rows, start=1):
        if count > limit:
            raise ImportFileError(
                f"line {line}: the file has more than {limit:,} rows; split it into smaller files"
            )
        yield line, cells


def read_table(data: bytes, filename: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, {column: text}) for each non-empty row of a CSV or XLSX file.

    A row that cannot be split into cells is yielded as {ROW_PROBLEM: reason}; a file that
    cannot be read raises ImportFileError, possibly after some rows have been yielded.
    """
    suffix = Path(filename).suffix.casefold()
    if suffix == ".xlsx" or data[:4] == b"PK\x03\x04":
        rows = _xlsx_rows(data)
    elif suffix in {".csv", ".txt", ""}:
        rows = _csv_rows(data)
    else:
        raise ImportFileError(f"unsupported file type {suffix!r}: give a .csv or .xlsx file")
    return _at_most(rows, settings.WISHLIST_IMPORT_MAX_ROWS)
