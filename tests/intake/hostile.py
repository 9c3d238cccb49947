"""Hostile workbooks built at test time (never committed): parts rewritten, XML with
entities, and zip bombs, a few MB that unpack to GBs, written without unpacking them."""

import io
import struct
import zipfile
import zlib

from openpyxl import Workbook

from cases.intake.files import COLUMNS

SHEET = "xl/worksheets/sheet1.xml"


def workbook_bytes(rows: list[list] | None = None, header=COLUMNS) -> bytes:
    """A workbook saved by openpyxl with a header and these rows."""
    book = Workbook()
    sheet = book.active
    sheet.append(list(header))
    for values in rows or []:
        sheet.append(values)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(data: bytes, replace: dict[str, bytes]) -> bytes:
    """The workbook with some parts (by path) replaced."""
    contents = parts(data) | replace
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, value in contents.items():
            archive.writestr(name, value)
    return buffer.getvalue()


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _raw_zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A ZIP of (name, deflated bytes, CRC-32, declared size) written by hand, so that a
    member's data need not be unpacked to be written and its size can be anything."""
    out = io.BytesIO()
    central = []
    for name, data, crc, size in members:
        offset = out.tell()
        encoded = name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data),
                              size, len(encoded), 0))  # fmt: skip
        out.write(encoded)
        out.write(data)
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(data),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )  # fmt: skip
            + encoded
        )
    start = out.tell()
    for record in central:
        out.write(record)
    size = out.tell() - start
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), size,
                          start, 0))  # fmt: skip
    return out.getvalue()


def zip_bomb(compressed_mb: int, declared_size: int | None = None) -> bytes:
    """A workbook whose sheet is about `compressed_mb` MB deflated and unpacks to about
    1,000 times that (XML, then spaces). Its declared size is the true one unless given."""
    head = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<sheetData>"
    )
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    chunk = 1 << 20
    # After a full flush the compressor starts afresh, so every MiB of spaces deflates to
    # the same bytes: compress one, repeat it.
    piece = compressor.compress(b" " * chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    count = compressed_mb * 1_000_000 // len(piece)
    stream = start + piece * count + compressor.flush()
    true_size = len(head) + count * chunk
    members = []
    for name, value in parts(workbook_bytes()).items():
        if name == SHEET:
            # The CRC is left wrong: computing it means unpacking the bomb, and a reader
            # that refuses the bomb never gets to check it.
            members.append((name, stream, 0, declared_size or true_size))
        else:
            members.append((name, _deflate(value), zlib.crc32(value), len(value)))
    return _raw_zip(members)
