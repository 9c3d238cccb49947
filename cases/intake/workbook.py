"""Opening the first sheet of an XLSX workbook without trusting the file.

An XLSX is a ZIP of XML parts. Each part is capped unpacked, by its declared size and by
the bytes actually read (a lying header must not get past), and so is the whole; a part
that declares a DOCTYPE or an entity is refused (openpyxl parses with defusedxml, which
refuses entities too; the check here says so plainly and does not depend on it). The
sheet is read whatever its `<dimension>` element says, and its rows are counted in the XML
itself so that a row openpyxl skips cannot vanish without a word.
"""

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from xml.etree.ElementTree import ParseError

from django.conf import settings

PREFIX = "the file is not a readable XLSX workbook"


class WorkbookError(Exception):
    """The workbook cannot be read; the message says why, to whoever gave the file."""


# "<!DOCTYPE" or "<!ENTITY" in UTF-8 or either UTF-16.
_DECLARATION = re.compile(rb"<\x00?!\x00?(?:D\x00?O\x00?C\x00?T|E\x00?N\x00?T\x00?I)")
# A sheet's <row> element, with or without a namespace prefix (<x:row> from some writers).
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
# Bytes kept from the end of one read to find a match that straddles two.
_TAIL = 64
# Parts of a workbook: a few dozen in practice. zipfile reads the whole directory of the
# archive as it opens it, so a small file listing millions of parts would take GBs.
MAX_PARTS = 10_000


def _part_count(data: bytes) -> int | None:
    """Return the number of entries the ZIP's end records declare (ZIP64 included), or
    None if there is no end record (zipfile then says it is not a ZIP)."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 65535))
    if end < 0 or end + 22 > len(data):
        return None
    (count,) = struct.unpack_from("<H", data, end + 10)
    locator = end - 20
    if locator >= 0 and data[locator : locator + 4] == b"PK\x06\x07":
        (offset,) = struct.unpack_from("<Q", data, locator + 8)
        if data[offset : offset + 4] == b"PK\x06\x06" and offset + 40 <= len(data):
            (count,) = struct.unpack_from("<Q", data, offset + 32)
    return count


class _Part:
    """One part of the archive as it is read."""

    def __init__(self, raw, name: str, archive: "_Archive", count_rows: bool) -> None:
        self._raw = raw
        self.name = name
        self._archive = archive
        self._count_rows = count_rows
        self._tail = b""
        self.size = 0
        self.rows = 0
        self.utf8 = True
        self._since_markup = 0  # bytes read since the last "<"

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(1 << 20), b""))
        data = self._raw.read(size)
        if not data:
            return data
        if not self.size:
            self.utf8 = not data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00", b"<\x00"))
        self.size += len(data)
        self._archive.unpacked += len(data)
        if self.size > self._archive.part_limit:
            raise WorkbookError(
                f"{PREFIX}: its part {self.name} unpacks to more than "
                f"{self._archive.part_limit:,} bytes"
            )
        if self._archive.unpacked > self._archive.total_limit:
            raise WorkbookError(
                f"{PREFIX}: it unpacks to more than {self._archive.total_limit:,} bytes"
            )
        self._text_run(data)
        window = self._tail + data
        if _DECLARATION.search(window):
            raise WorkbookError(
                f"{PREFIX}: its part {self.name} declares a DOCTYPE or an entity, which a "
                "workbook never needs"
            )
        if self._count_rows:
            self.rows += len(_ROW_TAG.findall(window)) - len(_ROW_TAG.findall(self._tail))
        self._tail = window[-_TAIL:]
        return data

    def _text_run(self, data: bytes) -> None:
        """Refuse a run of text (or attribute) too long for any cell.

        The XML parser holds a text whole until its element ends, so without this a
        part under its size limit could still be one text of that size in memory.
        """
        first = data.find(b"<")
        if first < 0:
            longest = self._since_markup = self._since_markup + len(data)
        else:
            longest = max(self._since_markup + first, *map(len, data[first:].split(b"<")))
            self._since_markup = len(data) - data.rfind(b"<") - 1
        if longest > self._archive.text_limit:
            raise WorkbookError(
                f"{PREFIX}: its part {self.name} holds a text of more than "
                f"{self._archive.text_limit:,} bytes, longer than any cell may be"
            )

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> "_Part":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class _Archive(zipfile.ZipFile):
    """The workbook's ZIP, refusing parts larger than the limits before and while reading."""

    def __init__(self, data: bytes, *, part_limit: int, total_limit: int, text_limit: int) -> None:
        count = _part_count(data)
        if count is not None and count > MAX_PARTS:
            raise WorkbookError(f"{PREFIX}: it lists {count:,} parts; a workbook has a few dozen")
        super().__init__(io.BytesIO(data))
        self.part_limit = part_limit
        self.total_limit = total_limit
        self.text_limit = text_limit
        self.unpacked = 0
        self.last_name = ""
        self.sheet_part: _Part | None = None
        declared = 0
        for info in self.infolist():
            if info.file_size > part_limit:
                raise WorkbookError(
                    f"{PREFIX}: its part {info.filename} would unpack to {info.file_size:,} "
                    f"bytes, more than {part_limit:,}"
                )
            declared += info.file_size
        if declared > total_limit:
            raise WorkbookError(
                f"{PREFIX}: it would unpack to {declared:,} bytes, more than {total_limit:,}"
            )

    def open(self, name, mode="r", pwd=None, **kwargs):
        raw = super().open(name, mode, pwd, **kwargs)
        if mode != "r":
            return raw
        self.last_name = name.filename if isinstance(name, zipfile.ZipInfo) else str(name)
        is_sheet = self.last_name.startswith("xl/worksheets/")
        part = _Part(raw, self.last_name, self, count_rows=is_sheet)
        if is_sheet:
            self.sheet_part = part
        return part


def _problem(exc: BaseException, archive: _Archive | None) -> str:
    """Say what is wrong with the workbook, from what openpyxl, zipfile or the XML
    parser raised (openpyxl wraps the parser's errors in a ValueError)."""
    from defusedxml import DefusedXmlException
    from openpyxl.utils.exceptions import InvalidFileException

    while exc.__cause__ is not None:
        exc = exc.__cause__
    part = archive.last_name if archive is not None else ""
    if isinstance(exc, WorkbookError):
        return str(exc)
    if isinstance(exc, DefusedXmlException):
        return f"{PREFIX}: its part {part} declares entities, which a workbook never needs"
    if isinstance(exc, ParseError):
        return f"{PREFIX}: its part {part} is not well-formed XML ({exc})"
    if isinstance(exc, zipfile.BadZipFile):
        return f"{PREFIX}: it is not a ZIP archive, or a damaged one ({exc})"
    if isinstance(exc, zlib.error | EOFError):
        return f"{PREFIX}: it is damaged or cut short ({exc})"
    if isinstance(exc, KeyError):
        return f"{PREFIX}: a part it needs is missing ({exc})"
    if isinstance(exc, InvalidFileException | OSError | ValueError):
        return f"{PREFIX} ({exc})"
    return f"{PREFIX} ({type(exc).__name__}: {exc})"


class Sheet:
    def __init__(self, worksheet, archive: _Archive) -> None:
        self._worksheet = worksheet
        self._archive = archive

    def rows(self) -> Iterator[tuple | list]:
        """Yield the values of every row of the sheet, a gap in its row numbers as an
        empty list; raise WorkbookError if the XML holds rows that were not read."""
        try:
            # Read-only mode stops at the declared <dimension>, which writers leave stale.
            self._worksheet.reset_dimensions()
            rows = self._worksheet.iter_rows(values_only=True)
        except AttributeError:  # a chart sheet first
            raise WorkbookError(f"{PREFIX}: its first sheet is not a worksheet") from None
        read = 0
        while True:
            try:
                values = next(rows)
            except StopIteration:
                break
            except Exception as exc:  # anything a damaged sheet makes openpyxl raise
                raise WorkbookError(_problem(exc, self._archive)) from None
            if isinstance(values, tuple):  # a row of the sheet (gaps are filled with lists)
                read += 1
            yield values
        part = self._archive.sheet_part
        if part is not None and part.utf8 and part.rows != read:
            raise WorkbookError(
                f"{PREFIX}: its first sheet holds {part.rows} rows but {read} could be read "
                "(a row given twice or out of order?)"
            )


@contextmanager
def first_sheet(data: bytes) -> Iterator[Sheet]:
    """Open the workbook in `data` read-only and give its first sheet; raise WorkbookError
    with a readable reason if it cannot be opened."""
    from openpyxl.reader.excel import ExcelReader

    archive = None
    try:
        archive = _Archive(
            data,
            part_limit=settings.WISHLIST_IMPORT_MAX_PART_BYTES,
            total_limit=settings.WISHLIST_IMPORT_MAX_UNZIPPED_BYTES,
            # A cell's characters, as UTF-8 (up to 4 bytes) or entities ("&amp;" is 5).
            text_limit=8 * settings.WISHLIST_IMPORT_MAX_CELL_CHARS,
        )
        # load_workbook is these lines with openpyxl's own ZipFile; the guarded archive
        # takes its place before anything is read. External links are never followed.
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        reader.archive.close()
        reader.archive = archive
        reader.read()
        book = reader.wb
        worksheet = book.worksheets[0]
    except Exception as exc:  # a hostile file can make openpyxl raise almost anything
        if archive is not None:
            archive.close()
        raise WorkbookError(_problem(exc, archive)) from None
    try:
        yield Sheet(worksheet, archive)
    finally:
        book.close()
