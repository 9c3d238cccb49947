"""Reading referral files (CSV or XLSX) into header-keyed rows with their line numbers."""

import csv
import gc
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

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


def _header_key(value: object) -> str:
    return re.sub(r"[\s\-]+", "_", str(value or "").strip().casefold())


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


def _csv_rows(data: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"the file is not UTF-8 text (bad byte at line {line}); save it as CSV UTF-8"
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ImportFileError(f"the file contains a NUL byte at line {line}; is it really CSV?")
    # The delimiter is read off the header line alone, whose cells are known names;
    # guessing quote rules from the data (csv.Sniffer) misreads apostrophes in summaries.
    header_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("the file is empty") from None
    except csv.Error as exc:
        raise ImportFileError(f"line 1: {exc}") from None
    _check_header(header)
    keys = [_header_key(h) for h in header]
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(f"line {line}: the CSV is malformed: {exc}") from None
        if "".join(cells).strip():
            if len(cells) > len(keys) and any(c.strip() for c in cells[len(keys) :]):
                yield line, {"__extra__": f"{len(cells)} cells but {len(keys)} columns"}
            else:
                yield line, {k: c for k, c in zip(keys, cells, strict=False) if k}
        line = reader.line_num + 1


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
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFileError(f"the file is not a readable XLSX workbook ({exc})") from None
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
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
                yield number, {k: c for k, c in zip(keys, cells, strict=False) if k}
    finally:
        workbook.close()


def read_table(data: bytes, filename: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, {column: text}) for each non-empty row of a CSV or XLSX file."""
    suffix = Path(filename).suffix.casefold()
    if suffix == ".xlsx" or data[:4] == b"PK\x03\x04":
        return _xlsx_rows(data)
    if suffix in {".csv", ".txt", ""}:
        return _csv_rows(data)
    raise ImportFileError(f"unsupported file type {suffix!r}: give a .csv or .xlsx file")
