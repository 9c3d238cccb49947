"""Reading referral files (`cases.intake.files`): CSV in any delimiter and encoding
quirk, XLSX cells of any type, and files that cannot be read refused whole."""

import datetime
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.management.base import CommandError
from openpyxl import Workbook

from cases.intake.files import COLUMNS
from cases.models import Entity, Referral
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
