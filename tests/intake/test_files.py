"""Reading referral files (`cases.intake.files`): CSV in any delimiter and encoding
quirk, XLSX cells of any type, and files that cannot be read refused whole."""

import datetime
import io
import tracemalloc
import zipfile
from decimal import Decimal

import pytest
from django.core.management.base import CommandError
from openpyxl import Workbook

from cases.intake.files import COLUMNS
from cases.models import Entity, Referral
from tests.intake import hostile
from tests.intake.conftest import (
    GOOD_ROWS,
    refused,
    row,
    run_import,
    snapshot,
    write_csv,
    write_xlsx,
)

pytestmark = pytest.mark.django_db


def test_it_reads_utf8_with_a_byte_order_mark(tmp_path):
    path = write_csv(tmp_path, GOOD_ROWS, encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    run_import(path)

    assert Referral.objects.count() == 5
    assert Entity.objects.filter(name="Lumière Systèmes SA").exists()


def test_it_reads_columns_in_any_order_and_without_the_optional_ones(tmp_path):
    columns = ["entity_name", "host_country", "source_url", "referral_date", "referral_id"]
    path = write_csv(
        tmp_path,
        [
            row(referral_id="X-1", entity_name="Nordlicht AG", host_country="Germany"),
            row(referral_id="X-2", entity_name="Oslo Marine AS", host_country="NO"),
        ],
        columns=columns,
    )

    run_import(path)

    referral = Referral.objects.get(external_id="X-1")
    assert referral.entity.name == "Nordlicht AG"
    assert referral.host_country == "DE"
    assert referral.date == datetime.date(2017, 5, 3)
    assert referral.post is None
    assert referral.entity.kind == Entity.Kind.OTHER
    assert Referral.objects.get(external_id="X-2").entity.country == "NO"


def test_it_reads_a_semicolon_separated_csv(tmp_path):
    path = write_csv(
        tmp_path,
        [
            row(referral_id="S-1", host_country="Japan", entity_name="Kyoto Robotics KK")
            | {"cooperation_method": "joint venture; investment"},
            row(referral_id="S-2", host_country="Japan", entity_name="Osaka Optics KK"),
        ],
        delimiter=";",
    )

    run_import(path)

    referral = Referral.objects.get(external_id="S-1")
    assert referral.host_country == "JP"
    assert referral.cooperation_methods == ["joint_venture", "investment"]
    assert Referral.objects.get(external_id="S-2").entity.name == "Osaka Optics KK"


def test_it_reads_a_semicolon_separated_csv_whose_last_cell_is_quoted(tmp_path):
    path = write_csv(
        tmp_path,
        [
            row(referral_id="S-1", host_country="Japan", entity_name="Kyoto Robotics KK"),
            row(
                referral_id="S-2",
                host_country="Japan",
                entity_name="Osaka Optics KK",
                source_url="Cable 12; para 4",
            ),
        ],
        delimiter=";",
    )

    run_import(path)

    assert Referral.objects.get(external_id="S-2").source_reference == "Cable 12; para 4"


def test_cells_with_apostrophes_are_read_as_written(tmp_path):
    path = write_csv(
        tmp_path,
        [
            row(referral_id="A-1", summary="Discussed the 'Thousand Talents' plan"),
            row(referral_id="A-2", host_country="NL", entity_name="'s-Hertogenbosch Robotics BV"),
            row(referral_id="A-3", host_country="NL", entity_name="Delft Lasers BV"),
        ],
    )

    run_import(path)

    assert Referral.objects.get(external_id="A-1").summary == (
        "Discussed the 'Thousand Talents' plan"
    )
    assert set(Entity.objects.filter(country="NL").values_list("name", flat=True)) == {
        "'s-Hertogenbosch Robotics BV",
        "Delft Lasers BV",
    }
    assert Referral.objects.count() == 3


@pytest.mark.parametrize(
    "summary",
    [
        "line one\nline two",
        'He said "we pay", then left',
        "back\\slash and \\N",
        "tab\there",
        'tab\tand "quotes"',
        'He said "we pay" and\nthen left',
    ],
)
def test_newlines_quotes_backslashes_and_tabs_in_a_summary_survive_the_import(tmp_path, summary):
    path = write_csv(tmp_path, [row(summary=summary)])

    run_import(path)

    assert Referral.objects.get().summary == summary


def test_it_imports_an_xlsx_with_a_date_cell_and_an_integer_year_cell(tmp_path):
    header = ["Referral ID", "Referral Date", "Host Country", "Entity Name", "Entity Type"]
    header += ["Proposed Amount", "Currency", "Cooperation Method"]
    path = write_xlsx(
        tmp_path,
        header,
        [
            ["X-1", datetime.date(2017, 5, 3), "Russia", "Acme Robotics Ltd.", "company"]
            + [1500000, "USD", "investment"],
            ["X-2", 2016, "South Korea", "Hanbit Semiconductor", "university"]
            + [None, None, "patent licence; joint venture"],
            ["X-3", "2018-07", "Taiwan", "Formosa Optics", None, 12.5, "TWD", None],
        ],
    )

    out = run_import(path)

    assert "created 3 referral(s)" in out
    day = Referral.objects.get(external_id="X-1")
    assert (day.date, day.date_precision) == (datetime.date(2017, 5, 3), "day")
    assert (day.proposed_amount, day.currency) == (Decimal("1500000"), "USD")
    year = Referral.objects.get(external_id="X-2")
    assert (year.date, year.date_precision) == (datetime.date(2016, 1, 1), "year")
    assert year.host_country == "KR"
    assert year.cooperation_methods == ["patent_licence", "joint_venture"]
    month = Referral.objects.get(external_id="X-3")
    assert (month.date, month.date_precision) == (datetime.date(2018, 7, 1), "month")
    assert (month.proposed_amount, month.currency) == (Decimal("12.5"), "TWD")
    assert month.entity.kind == Entity.Kind.OTHER


def test_a_formula_cell_in_an_xlsx_is_stored_verbatim_or_refused_clearly(tmp_path):
    path = write_xlsx(
        tmp_path,
        ["referral_id", "referral_date", "host_country", "entity_name"],
        [["X-1", "2017", "Japan", '=HYPERLINK("http://evil.example","x")']],
    )

    try:
        run_import(path)
    except CommandError as exc:
        assert "referrals.xlsx" in str(exc)
        assert Referral.objects.count() == 0
    else:
        assert Entity.objects.get().name == '=HYPERLINK("http://evil.example","x")'


def test_it_refuses_a_row_with_more_cells_than_the_header(tmp_path):
    path = tmp_path / "referrals.csv"
    path.write_text(
        "referral_id,referral_date,host_country,entity_name\r\n"
        "R-1,2017,Japan,Kyoto Robotics\r\n"
        "R-2,2017,Japan,Osaka Optics,surplus\r\n",
        encoding="utf-8",
    )

    report = refused(path)

    assert "line 3: the row has more cells than the header" in report
    assert Referral.objects.count() == 0


HEADER = ",".join(COLUMNS)


GOOD_LINE = "R-1,2017-05,Embassy in Paris,France,Société Générale Robotique,,company,,,,,,"


def zip_of_text() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("referrals.csv", HEADER + "\r\n" + GOOD_LINE + "\r\n")
    return buffer.getvalue()


BAD_FILES = {
    "empty": ("referrals.csv", b"", "the file is empty"),
    "header_only": (
        "referrals.csv",
        (HEADER + "\r\n").encode(),
        "the file has a header but no rows",
    ),
    "unknown_column": (
        "referrals.csv",
        (HEADER + ",colour\r\n" + GOOD_LINE + ",red\r\n").encode(),
        "unknown column(s) 'colour'",
    ),
    "missing_required_column": (
        "referrals.csv",
        b"referral_id,referral_date,entity_name\r\nR-1,2017,Acme\r\n",
        "missing required column(s): host_country",
    ),
    "duplicate_column": (
        "referrals.csv",
        b"referral_id,referral_date,host_country,entity_name,Entity Name\r\n"
        b"R-1,2017,Japan,Acme,Acme\r\n",
        "column(s) given twice: entity_name",
    ),
    "latin_1": (
        "referrals.csv",
        (HEADER + "\r\n" + GOOD_LINE + "\r\n").encode("latin-1"),
        "not UTF-8",
    ),
    "utf_16": (
        "referrals.csv",
        (HEADER + "\r\n" + GOOD_LINE + "\r\n").encode("utf-16"),
        "not UTF-8",
    ),
    "nul_byte": (
        "referrals.csv",
        (HEADER + "\r\n" + GOOD_LINE.replace("Robotique", "Robo\x00tique") + "\r\n").encode(),
        "NUL byte at line 2",
    ),
    "garbage_xlsx": ("referrals.xlsx", b"this is not a workbook at all", "not a readable XLSX"),
    "zip_that_is_not_xlsx": ("referrals.xlsx", zip_of_text(), "not a readable XLSX"),
    "unsupported_extension": ("referrals.pdf", b"%PDF-1.4\n", "unsupported file type '.pdf'"),
}


@pytest.mark.parametrize(
    ("name", "content", "reason"), BAD_FILES.values(), ids=list(BAD_FILES.keys())
)
def test_it_refuses_a_bad_file_clearly_and_writes_nothing(
    tmp_path, existing, name, content, reason
):
    path = tmp_path / name
    path.write_bytes(content)
    before = snapshot()

    report = refused(path)

    assert reason in report
    assert "nothing was written" in report
    assert snapshot() == before


def test_it_refuses_an_xlsx_with_a_header_only(tmp_path):
    path = write_xlsx(tmp_path, list(COLUMNS), [])

    report = refused(path)

    assert "the file has a header but no rows" in report


def test_it_refuses_an_xlsx_whose_first_sheet_is_empty(tmp_path):
    path = tmp_path / "referrals.xlsx"
    Workbook().save(path)
    before = snapshot()

    report = refused(path)

    assert "referrals.xlsx" in report
    assert "nothing was written" in report
    assert snapshot() == before


# Hostile and malformed files: each is refused with a message naming the line, and
# leaves the database as it was.

SHORT_HEADER = "referral_id,referral_date,host_country,entity_name,summary"


def short_rows(count: int, start: int = 1) -> list[str]:
    return [f"R-{i},2017,Japan,Kyoto Robotics {i},plain" for i in range(start, start + count)]


def refused_csv(tmp_path, lines: list[str], **kwargs) -> str:
    path = tmp_path / "referrals.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(), **kwargs)
    before = snapshot()
    report = refused(path)
    assert "nothing was written" in report
    assert snapshot() == before
    return report


def test_it_refuses_an_unclosed_quote_naming_the_line_it_opens_on(tmp_path, existing):
    lines = [SHORT_HEADER, *short_rows(5)]
    lines.append('R-6,2017,Japan,Osaka Optics,"Offered to buy, then left')
    lines += short_rows(93, start=7)
    assert len(lines) == 100

    report = refused_csv(tmp_path, lines)

    assert "line 7: a quote opened here is never closed" in report


def test_it_finds_the_unclosed_quote_after_a_cell_of_several_lines(tmp_path, existing):
    lines = [SHORT_HEADER, 'R-1,2017,Japan,Kyoto Robotics,"one\r\ntwo, three\r\nfour"']
    lines += ['R-2,2017,Japan,Osaka Optics,"never closed', *short_rows(3, start=3)]

    report = refused_csv(tmp_path, lines)

    assert "line 5: a quote opened here is never closed" in report


def test_it_refuses_an_unclosed_quote_that_a_later_quote_seems_to_close(tmp_path, existing):
    lines = [SHORT_HEADER, *short_rows(3)]
    lines.append('R-4,2017,Japan,Osaka Optics,"Offered to buy')
    lines += short_rows(3, start=5)
    lines.append('R-8,2017,Japan,"Nagoya Lasers",plain')

    report = refused_csv(tmp_path, lines)

    assert "line 5: a quote opened here is never closed (the next quote, on line 9" in report


def test_it_refuses_a_quote_whose_cell_swallows_whole_rows(tmp_path, existing):
    # The quote opened on line 5 is closed by the inch mark ending line 9, so the csv
    # module reads lines 5 to 9 as one row of five cells: four referrals would vanish.
    lines = [SHORT_HEADER, *short_rows(3)]
    lines.append('R-4,2017,Japan,Osaka Optics,"Offered to buy')
    lines += short_rows(3, start=5)
    lines.append('R-8,2017,Japan,Nagoya Lasers,Monitors of 27"')

    report = refused_csv(tmp_path, lines)

    assert "line 5: a quoted cell here runs on over line 6, which reads as a row" in report


def test_a_closed_quoted_cell_of_several_lines_with_commas_is_read_whole(tmp_path):
    summary = "Met the director, the deputy, and two engineers.\nThey offered 2017, 2018, 2019."
    path = write_csv(tmp_path, [row(referral_id="M-1", summary=summary), row(referral_id="M-2")])

    run_import(path)

    assert Referral.objects.get(external_id="M-1").summary == summary
    assert Referral.objects.count() == 2


def test_it_refuses_text_after_a_closing_quote(tmp_path, existing):
    lines = [SHORT_HEADER, *short_rows(1), 'R-2,2017,Japan,"Osaka" Optics,plain']

    report = refused_csv(tmp_path, lines)

    assert "line 3: text follows the closing quote of a cell" in report


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        (
            ["referral_id,referral_date;host_country,entity_name", "R-1,2017;Japan,Acme"],
            "line 1: the header mixes commas and semicolons",
        ),
        (
            ["referral_id|referral_date|host_country|entity_name", "R-1|2017|Japan|Acme"],
            "line 1: the columns are separated by '|'",
        ),
        (
            [SHORT_HEADER, *short_rows(1), "R-2;2017;Japan;Osaka Optics;plain"],
            "line 3: the row has 1 cell but the header has 5 columns; it seems separated "
            "by ';', the header by ','",
        ),
    ],
    ids=["mixed_in_header", "pipes", "row_with_other_delimiter"],
)
def test_it_refuses_mixed_or_odd_delimiters_clearly(tmp_path, existing, lines, reason):
    report = refused_csv(tmp_path, lines)

    assert reason in report


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            (SHORT_HEADER + "\r\nR-1,2017,Japan,Kyoto\x0bRobotics,plain\r\n").encode(),
            "a control character (U+000B) at line 2",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a control character (U+001A) at line 2"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "an old Excel (.xls) workbook"),
    ],
    ids=["control_character", "png", "xls"],
)
def test_it_refuses_a_file_that_is_not_text(tmp_path, existing, content, reason):
    path = tmp_path / "referrals.csv"
    path.write_bytes(content)
    before = snapshot()

    report = refused(path)

    assert reason in report
    assert snapshot() == before


def test_it_refuses_a_cell_longer_than_excel_allows(tmp_path, existing):
    lines = [SHORT_HEADER, *short_rows(2), "R-3,2017,Japan,Osaka Optics," + "x" * 40_000]

    report = refused_csv(tmp_path, lines)

    assert "line 4: a cell holds 40,000 characters; a cell holds at most 32,767" in report


def test_it_refuses_a_file_with_more_rows_than_allowed(tmp_path, existing, settings):
    settings.WISHLIST_IMPORT_MAX_ROWS = 3

    report = refused_csv(tmp_path, [SHORT_HEADER, *short_rows(5)])

    assert "line 5: the file has more than 3 rows; split it into smaller files" in report


def xlsx_file(tmp_path, data: bytes):
    path = tmp_path / "referrals.xlsx"
    path.write_bytes(data)
    return path


TEN_ROWS = [[f"X-{i}", "2017", "Japan", f"Kyoto Robotics {i}"] for i in range(1, 11)]
XLSX_HEADER = ["referral_id", "referral_date", "host_country", "entity_name"]


def test_it_reads_every_row_of_an_xlsx_whatever_its_declared_dimension(tmp_path):
    data = hostile.workbook_bytes(TEN_ROWS, header=XLSX_HEADER)
    sheet = hostile.parts(data)[hostile.SHEET]
    assert b'<dimension ref="A1:D11" />' in sheet
    stale = sheet.replace(b'<dimension ref="A1:D11" />', b'<dimension ref="A1:D2" />')

    out = run_import(xlsx_file(tmp_path, hostile.rezip(data, {hostile.SHEET: stale})))

    assert "created 10 referral(s)" in out
    assert Referral.objects.count() == 10


def test_it_refuses_an_xlsx_whose_rows_could_not_all_be_read(tmp_path, existing):
    data = hostile.workbook_bytes(TEN_ROWS, header=XLSX_HEADER)
    sheet = hostile.parts(data)[hostile.SHEET]
    # Row 5 given again after row 6: openpyxl skips a row numbered below one it has read.
    row_5 = sheet[sheet.index(b'<row r="5"') : sheet.index(b'<row r="6"')]
    twice = sheet.replace(b'<row r="7"', row_5 + b'<row r="7"')
    before = snapshot()

    report = refused(xlsx_file(tmp_path, hostile.rezip(data, {hostile.SHEET: twice})))

    assert "its first sheet holds 12 rows but 11 could be read" in report
    assert snapshot() == before


XXE_SHEET = (
    b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY leak SYSTEM "file:///etc/passwd">]>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&leak;</t></is></c></row>'
    b"</sheetData></worksheet>"
)
LAUGHS = b'<!ENTITY lol "lol">' + b"".join(
    b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
    for i in range(1, 10)
)
LAUGHS_SHEET = XXE_SHEET.replace(b'<!ENTITY leak SYSTEM "file:///etc/passwd">', LAUGHS).replace(
    b"&leak;", b"&lol9;"
)
PLAIN_DOCTYPE_SHEET = XXE_SHEET.replace(
    b' [<!ENTITY leak SYSTEM "file:///etc/passwd">]', b""
).replace(b"&leak;", b"referral_id")


@pytest.mark.parametrize(
    ("part", "xml", "reason"),
    [
        (hostile.SHEET, XXE_SHEET, "declares a DOCTYPE or an entity"),
        (hostile.SHEET, LAUGHS_SHEET, "declares a DOCTYPE or an entity"),
        (hostile.SHEET, PLAIN_DOCTYPE_SHEET, "declares a DOCTYPE or an entity"),
        (
            hostile.SHEET,
            XXE_SHEET.decode().encode("utf-16"),
            "declares a DOCTYPE or an entity",
        ),
        ("xl/workbook.xml", XXE_SHEET, "its part xl/workbook.xml declares a DOCTYPE"),
        (
            hostile.SHEET,
            b'<?xml version="1.0"?><worksheet><sheetData><row r="1"><c r="A1"',
            "its part xl/worksheets/sheet1.xml is not well-formed XML",
        ),
    ],
    ids=["external_entity", "billion_laughs", "doctype", "utf16_entity", "workbook_part", "cut"],
)
def test_it_refuses_an_xlsx_with_hostile_or_broken_xml(tmp_path, existing, part, xml, reason):
    data = hostile.rezip(hostile.workbook_bytes(TEN_ROWS, header=XLSX_HEADER), {part: xml})
    before = snapshot()

    report = refused(xlsx_file(tmp_path, data))

    assert "the file is not a readable XLSX workbook" in report
    assert reason in report
    assert "root:" not in report
    assert snapshot() == before


def test_defused_xml_refuses_entities_even_without_the_explicit_check():
    import defusedxml.ElementTree
    from defusedxml import EntitiesForbidden
    from openpyxl.xml import functions

    assert functions.iterparse is defusedxml.ElementTree.iterparse
    with pytest.raises(EntitiesForbidden):
        list(functions.iterparse(io.BytesIO(LAUGHS_SHEET)))


def test_it_refuses_a_cut_short_or_damaged_zip(tmp_path, existing):
    data = hostile.workbook_bytes(TEN_ROWS, header=XLSX_HEADER)
    archive = zipfile.ZipFile(io.BytesIO(data))
    sheet = archive.getinfo(hostile.SHEET)
    # Flip the bytes of the sheet's deflated data, past its local header.
    start = sheet.header_offset + 30 + len(sheet.filename) + 10
    damaged = data[:start] + bytes(b ^ 0xFF for b in data[start : start + 40]) + data[start + 40 :]
    before = snapshot()

    cut = refused(xlsx_file(tmp_path, data[: len(data) // 2]))
    broken = refused(xlsx_file(tmp_path, damaged))

    assert "not a ZIP archive, or a damaged one" in cut
    assert "the file is not a readable XLSX workbook: it is" in broken
    assert snapshot() == before


@pytest.mark.parametrize("compressed_mb", [1, 4])
def test_it_refuses_a_zip_bomb_at_once(tmp_path, existing, compressed_mb):
    data = hostile.zip_bomb(compressed_mb)
    assert compressed_mb * 900_000 < len(data) < compressed_mb * 1_100_000
    before = snapshot()
    tracemalloc.start()

    report = refused(xlsx_file(tmp_path, data))

    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "its part xl/worksheets/sheet1.xml would unpack to" in report
    assert f"more than {256 * 1024 * 1024:,}" in report
    assert peak < 50_000_000 + 3 * len(data)
    assert snapshot() == before


@pytest.mark.parametrize("declared", [5_000, 200_000_000])
def test_it_refuses_a_zip_bomb_that_lies_about_its_size(tmp_path, existing, declared):
    data = hostile.zip_bomb(4, declared_size=declared)
    tracemalloc.start()

    report = refused(xlsx_file(tmp_path, data))

    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "the file is not a readable XLSX workbook: it" in report
    assert peak < 50_000_000 + 3 * len(data)


def test_it_counts_the_bytes_read_not_only_the_sizes_declared():
    from cases.intake import workbook

    data = hostile.workbook_bytes(TEN_ROWS, header=XLSX_HEADER)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        size = archive.getinfo(hostile.SHEET).file_size
    guarded = workbook._Archive(data, part_limit=10**9, total_limit=10**9, text_limit=size)
    guarded.part_limit = size - 1  # as if the declared size had been a lie

    with pytest.raises(workbook.WorkbookError, match="unpacks to more than"):
        guarded.read(hostile.SHEET)


def test_it_refuses_a_workbook_larger_unpacked_than_allowed(tmp_path, existing, settings):
    settings.WISHLIST_IMPORT_MAX_UNZIPPED_BYTES = 5_000

    report = refused(xlsx_file(tmp_path, hostile.workbook_bytes(TEN_ROWS, header=XLSX_HEADER)))

    assert "it would unpack to" in report
    assert "more than 5,000" in report


def test_it_refuses_an_xlsx_cell_longer_than_excel_allows(tmp_path, existing):
    data = hostile.workbook_bytes([*TEN_ROWS[:2], ["X-3", "2017", "Japan", "LONG"]], XLSX_HEADER)
    # Written into the XML: openpyxl itself cuts a longer cell to 32,767 as it saves.
    sheet = hostile.parts(data)[hostile.SHEET].replace(b"LONG", b"y" * 33_000)

    report = refused(xlsx_file(tmp_path, hostile.rezip(data, {hostile.SHEET: sheet})))

    assert "line 4: a cell holds 33,000 characters; a cell holds at most 32,767" in report


def test_it_refuses_a_cell_longer_than_the_csv_module_reads(tmp_path, existing):
    lines = [SHORT_HEADER, *short_rows(2), "R-3,2017,Japan,Osaka Optics," + "x" * 200_000]

    report = refused_csv(tmp_path, lines)

    assert "line 4: a cell holds more than 32,767 characters" in report


def test_it_reads_a_file_whose_lines_end_in_carriage_returns_only(tmp_path):
    path = tmp_path / "referrals.csv"
    lines = [SHORT_HEADER, "R-1,2017,Japan,Kyoto Robotics,met; twice", *short_rows(2, start=2)]
    path.write_bytes("\r".join(lines).encode())

    run_import(path)

    assert Referral.objects.get(external_id="R-1").summary == "met; twice"
    assert Referral.objects.count() == 3


@pytest.mark.parametrize("zip64", [False, True], ids=["zip", "zip64"])
def test_it_refuses_a_zip_listing_more_parts_than_a_workbook_has(tmp_path, existing, zip64):
    from cases.intake.workbook import MAX_PARTS

    buffer = io.BytesIO(hostile.workbook_bytes(TEN_ROWS, header=XLSX_HEADER))
    with zipfile.ZipFile(buffer, "a") as archive:
        for number in range(MAX_PARTS if not zip64 else 65_536):
            archive.writestr(f"x/{number}", b"")
    before = snapshot()

    report = refused(xlsx_file(tmp_path, buffer.getvalue()))

    parts = MAX_PARTS + 9 if not zip64 else 65_536 + 9
    assert f"it lists {parts:,} parts; a workbook has a few dozen" in report
    assert snapshot() == before
