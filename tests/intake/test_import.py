"""The referral import (`import_referrals`): good CSV and XLSX files are written whole,
a file with any bad row is refused whole with every bad row named, and re-importing
changes nothing."""

import csv
import datetime
import io
import zipfile
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from openpyxl import Workbook

from cases import derived
from cases.intake.files import COLUMNS
from cases.management.commands.import_referrals import Command
from cases.models import Case, Entity, Finding, Post, Referral
from tests.factories import CaseFactory, EntityFactory, PostFactory, ReferralFactory

pytestmark = pytest.mark.django_db


def row(**values: str) -> dict[str, str]:
    """A valid row; keyword arguments replace cells."""
    cells = {
        "referral_id": "R-001",
        "referral_date": "2017-05-03",
        "post": "Embassy in Moscow",
        "host_country": "Russia",
        "entity_name": "Acme Robotics Ltd.",
        "entity_name_native": "",
        "entity_type": "company",
        "technology_field": "Robotics",
        "cooperation_method": "joint venture",
        "proposed_amount": "",
        "currency": "",
        "summary": "",
        "source_url": "",
    }
    cells.update(values)
    return cells


def write_csv(
    tmp_path: Path,
    rows: list[dict[str, str]],
    columns=COLUMNS,
    name: str = "referrals.csv",
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    for cells in rows:
        writer.writerow([cells.get(column, "") for column in columns])
    path = tmp_path / name
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(tmp_path: Path, header: list, rows: list[list], name="referrals.xlsx") -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for values in rows:
        sheet.append(values)
    path = tmp_path / name
    workbook.save(path)
    return path


def run_import(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_referrals", str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def refused(path: Path, *args: str) -> str:
    """Run the import expecting it to refuse the file; return everything it said."""
    err = StringIO()
    with pytest.raises(CommandError) as exc_info:
        call_command("import_referrals", str(path), *args, stdout=StringIO(), stderr=err)
    return err.getvalue() + "\n" + str(exc_info.value)


def snapshot() -> dict[str, int]:
    """Row counts of every model of the app, history tables included."""
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_app_config("cases").get_models()
    }


@pytest.fixture
def existing():
    """An entity already stored, referred in 2019, so refused files have something to
    leave alone."""
    entity = EntityFactory(name="Acme Robotics Limited", country="GB")
    case = CaseFactory(entity=entity)
    ReferralFactory(
        external_id="OLD-1",
        entity=entity,
        post=PostFactory(),
        date=datetime.date(2019, 1, 1),
        date_precision="year",
        host_country="GB",
    )
    derived.case_index_dates_refresh(case_ids=[case.id])
    case.refresh_from_db()
    return case


# ------------------------------------------------------------------------ good files


GOOD_ROWS = [
    row(
        referral_id="R-001",
        referral_date="2017-05-03",
        post="Embassy in Moscow",
        host_country="Russia",
        entity_name="Acme Robotics Ltd.",
        entity_type="company",
        technology_field="Robotics",
        cooperation_method="joint venture; investment",
        proposed_amount="1,000,000",
        currency="usd",
        summary="Offered to buy a stake.",
        source_url="https://example.org/cables/r-001",
    ),
    row(
        referral_id="R-002",
        referral_date="2018-07",
        post="Consulate-General in Busan",
        host_country="South Korea",
        entity_name="Hanbit Semiconductor Co., Ltd.",
        entity_name_native="한빛반도체",
        entity_type="University",
        technology_field="Semiconductors",
        cooperation_method="patent licence",
        source_url="Cable 2018/07/12 para 4",
    ),
    row(
        referral_id="R-003",
        referral_date="2016",
        post="",
        host_country="Taiwan",
        entity_name="Formosa Optics Inc",
        entity_type="research institute",
        technology_field="",
        cooperation_method="",
    ),
    row(
        referral_id="R-004",
        referral_date="2019-11-30",
        post="Embassy in Berlin",
        host_country="DE",
        entity_name="Rhein Photonik GmbH",
        entity_type="company",
        cooperation_method="Joint_R&D;R&D staff hiring",
        proposed_amount="2500.50",
        currency="EUR",
    ),
    row(
        referral_id="R-005",
        referral_date="2020-02",
        post="Embassy in Paris",
        host_country="fra",
        entity_name="Lumière Systèmes SA",
        entity_type="company",
    ),
]


def test_it_imports_a_good_csv_with_the_right_values(tmp_path):
    out = run_import(write_csv(tmp_path, GOOD_ROWS))

    assert "Read 5 row(s); created 5 referral(s), 5 entit(y/ies), 5 case(s), 4 post(s)" in out
    assert Referral.objects.count() == 5
    assert Entity.objects.count() == Case.objects.count() == 5

    r1 = Referral.objects.get(external_id="R-001")
    assert (r1.date, r1.date_precision) == (datetime.date(2017, 5, 3), "day")
    assert r1.host_country == "RU"
    assert r1.cooperation_methods == ["joint_venture", "investment"]
    assert r1.proposed_amount == Decimal("1000000")
    assert r1.currency == "USD"
    assert r1.summary == "Offered to buy a stake."
    assert r1.source_url == "https://example.org/cables/r-001"
    assert r1.source_reference == ""
    assert r1.technology_field == "robotics"
    assert (r1.post.name, r1.post.kind, r1.post.city, r1.post.host_country) == (
        "Embassy in Moscow",
        Post.Kind.EMBASSY,
        "Moscow",
        "RU",
    )
    assert (r1.entity.name, r1.entity.name_key, r1.entity.country, r1.entity.kind) == (
        "Acme Robotics Ltd.",
        "acme robotics",
        "RU",
        Entity.Kind.COMPANY,
    )
    case = r1.entity.case
    assert (case.index_date, case.index_date_precision, case.status) == (
        datetime.date(2017, 5, 3),
        "day",
        Case.Status.OPEN,
    )

    r2 = Referral.objects.get(external_id="R-002")
    assert (r2.date, r2.date_precision) == (datetime.date(2018, 7, 1), "month")
    assert r2.host_country == "KR"
    assert r2.source_url == ""
    assert r2.source_reference == "Cable 2018/07/12 para 4"
    assert r2.proposed_amount is None
    assert r2.currency == ""
    assert r2.cooperation_methods == ["patent_licence"]
    assert (r2.post.kind, r2.post.city) == (Post.Kind.CONSULATE_GENERAL, "Busan")
    assert r2.entity.name_native == "한빛반도체"
    assert r2.entity.kind == Entity.Kind.UNIVERSITY
    assert r2.entity.technology_fields == "semiconductors"
    assert r2.entity.case.index_date_precision == "month"

    r3 = Referral.objects.get(external_id="R-003")
    assert (r3.date, r3.date_precision) == (datetime.date(2016, 1, 1), "year")
    assert r3.host_country == "TW"
    assert r3.post is None
    assert r3.cooperation_methods == []
    assert r3.entity.kind == Entity.Kind.RESEARCH_INSTITUTE
    assert r3.entity.case.index_date == datetime.date(2016, 1, 1)

    r4 = Referral.objects.get(external_id="R-004")
    assert r4.host_country == "DE"
    assert r4.cooperation_methods == ["joint_rd", "rd_staff_hiring"]
    assert (r4.proposed_amount, r4.currency) == (Decimal("2500.50"), "EUR")

    r5 = Referral.objects.get(external_id="R-005")
    assert r5.host_country == "FR"
    assert r5.entity.name == "Lumière Systèmes SA"
    assert r5.entity.name_key == "lumiere systemes"


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


def test_it_refuses_an_xlsx_with_bad_rows_naming_each(tmp_path, existing):
    path = write_xlsx(
        tmp_path,
        ["referral_id", "referral_date", "host_country", "entity_name"],
        [
            ["X-1", datetime.date(2017, 5, 3), "Russia", "Acme Robotics Ltd."],
            ["X-2", 2016, "Atlantis", "Hanbit Semiconductor"],
            ["X-3", "2017-02-30", "Japan", "Kyoto Robotics"],
        ],
    )
    before = snapshot()

    report = refused(path)

    assert "line 3, column host_country: unknown country 'Atlantis'" in report
    assert "line 4, column referral_date: '2017-02-30' is not a real calendar date" in report
    assert snapshot() == before


def test_it_makes_one_entity_of_two_spellings_and_keeps_the_other_as_alias(tmp_path):
    path = write_csv(
        tmp_path,
        [
            row(referral_id="R-1", host_country="GB", entity_name="Acme Robotics Ltd."),
            row(
                referral_id="R-2",
                host_country="United Kingdom",
                entity_name="ACME ROBOTICS LIMITED",
                referral_date="2016-02",
            ),
            row(referral_id="R-3", host_country="US", entity_name="Acme Robotics Inc"),
        ],
    )

    out = run_import(path)

    assert "created 3 referral(s), 2 entit(y/ies), 2 case(s)" in out
    entity = Entity.objects.get(country="GB")
    assert entity.name == "Acme Robotics Ltd."
    assert entity.name_key == "acme robotics"
    assert entity.alias_list == ["ACME ROBOTICS LIMITED"]
    assert set(entity.referrals.values_list("external_id", flat=True)) == {"R-1", "R-2"}
    assert (entity.case.index_date, entity.case.index_date_precision) == (
        datetime.date(2016, 2, 1),
        "month",
    )
    # Same name in another country is another entity.
    assert Entity.objects.get(country="US").referrals.get().external_id == "R-3"


def test_it_adds_referrals_to_an_existing_entity_by_name_key(tmp_path, existing):
    path = write_csv(
        tmp_path,
        [row(referral_id="R-1", host_country="GB", entity_name="ACME ROBOTICS LTD")],
    )

    out = run_import(path)

    assert "created 1 referral(s), 0 entit(y/ies), 0 case(s)" in out
    assert Entity.objects.count() == 1
    assert existing.entity.referrals.count() == 2


def test_an_entity_stored_without_a_case_gets_one_with_its_index_date(tmp_path):
    entity = EntityFactory(name="Orphan Optics Ltd", country="GB")
    assert not Case.objects.filter(entity=entity).exists()
    path = write_csv(
        tmp_path,
        [
            row(
                referral_id="R-1",
                referral_date="2018-09",
                host_country="GB",
                entity_name="Orphan Optics Ltd",
            )
        ],
    )

    out = run_import(path)

    assert "created 1 referral(s), 0 entit(y/ies), 1 case(s)" in out
    case = Case.objects.get(entity=entity)
    assert (case.index_date, case.index_date_precision) == (datetime.date(2018, 9, 1), "month")


def test_a_new_spelling_of_a_stored_entity_is_kept_as_an_alias(tmp_path, existing):
    path = write_csv(
        tmp_path,
        [row(referral_id="R-1", host_country="GB", entity_name="ACME ROBOTICS LTD")],
    )

    run_import(path)

    existing.entity.refresh_from_db()
    assert existing.entity.name == "Acme Robotics Limited"
    assert "ACME ROBOTICS LTD" in existing.entity.alias_list


def test_it_reports_a_similar_name_as_a_possible_duplicate_without_merging(tmp_path, existing):
    path = write_csv(
        tmp_path,
        [row(referral_id="R-1", host_country="GB", entity_name="Acme Robotic Ltd")],
    )

    out = run_import(path)

    assert "1 possible duplicate entit(y/ies), not merged" in out
    assert "'Acme Robotic Ltd' looks like 'Acme Robotics Limited' (GB" in out
    assert Entity.objects.count() == 2
    new = Entity.objects.get(name="Acme Robotic Ltd")
    assert new.name_key == "acme robotic"
    assert new.referrals.get().external_id == "R-1"
    assert existing.entity.referrals.count() == 1


def test_it_does_not_report_a_similar_name_in_another_country(tmp_path, existing):
    path = write_csv(
        tmp_path,
        [row(referral_id="R-1", host_country="US", entity_name="Acme Robotic Ltd")],
    )

    out = run_import(path)

    assert "possible duplicate" not in out


def test_importing_the_same_file_twice_changes_nothing_the_second_time(tmp_path):
    path = write_csv(tmp_path, GOOD_ROWS)
    run_import(path)
    after_first = snapshot()
    stored = list(Referral.objects.values().order_by("external_id"))

    out = run_import(path)

    assert "created 0 referral(s), 0 entit(y/ies), 0 case(s), 0 post(s)" in out
    assert "5 referral(s) already stored unchanged" in out
    assert "Nothing to change" in out
    assert snapshot() == after_first
    assert list(Referral.objects.values().order_by("external_id")) == stored


def test_an_xlsx_of_already_imported_referrals_changes_nothing(tmp_path):
    run_import(write_csv(tmp_path, GOOD_ROWS))
    after_first = snapshot()
    path = write_xlsx(tmp_path, list(COLUMNS), [[cells[c] for c in COLUMNS] for cells in GOOD_ROWS])

    out = run_import(path)

    assert "Nothing to change" in out
    assert snapshot() == after_first


def test_an_amount_with_more_than_two_decimals_is_refused_or_reimported_unchanged(tmp_path):
    path = write_csv(tmp_path, [row(proposed_amount="2500.505", currency="EUR")])

    try:
        run_import(path)
    except CommandError as exc:
        assert "referrals.csv" in str(exc)
        assert Referral.objects.count() == 0
        return
    stored = Referral.objects.get().proposed_amount
    out = run_import(path)
    assert "Nothing to change" in out
    assert Referral.objects.get().proposed_amount == stored


def test_a_long_document_reference_is_stored_whole_or_refused_clearly(tmp_path):
    reference = "Cable 2018/07/12, annex " + "x" * 600
    path = write_csv(tmp_path, [row(source_url=reference)])

    try:
        run_import(path)
    except CommandError as exc:
        assert "source_url" in str(exc) or "referrals.csv" in str(exc)
        assert Referral.objects.count() == 0
    else:
        assert Referral.objects.get().source_reference == reference


def test_identical_repeated_rows_are_skipped(tmp_path):
    path = write_csv(tmp_path, [row(referral_id="R-1"), row(referral_id="R-1")])

    out = run_import(path)

    assert "created 1 referral(s)" in out
    assert "1 repeated row(s) skipped" in out
    assert Referral.objects.count() == 1


def test_an_earlier_referral_moves_the_index_date_and_rederives_finding_timing(tmp_path, existing):
    finding = derived.finding_create(
        case=existing,
        kind=Finding.Kind.JOINT_VENTURE,
        event_date=datetime.date(2018, 3, 1),
        event_date_precision="day",
    )
    assert (existing.index_date, existing.index_date_precision) == (
        datetime.date(2019, 1, 1),
        "year",
    )
    assert finding.timing == Finding.Timing.BEFORE
    path = write_csv(
        tmp_path,
        [
            row(
                referral_id="R-EARLY",
                referral_date="2017",
                host_country="GB",
                post="Embassy in London",
                entity_name="Acme Robotics Ltd",
            )
        ],
    )

    out = run_import(path)

    assert "created 1 referral(s), 0 entit(y/ies), 0 case(s), 0 post(s)" in out
    existing.refresh_from_db()
    assert (existing.index_date, existing.index_date_precision) == (
        datetime.date(2017, 1, 1),
        "year",
    )
    finding.refresh_from_db()
    assert finding.timing == Finding.Timing.AFTER


def test_a_later_referral_leaves_the_index_date_alone(tmp_path, existing):
    path = write_csv(
        tmp_path,
        [
            row(
                referral_id="R-LATE",
                referral_date="2021-04",
                host_country="GB",
                entity_name="Acme Robotics Ltd",
            )
        ],
    )

    run_import(path)

    existing.refresh_from_db()
    assert (existing.index_date, existing.index_date_precision) == (
        datetime.date(2019, 1, 1),
        "year",
    )


def test_a_dry_run_reports_the_counts_and_writes_nothing(tmp_path, existing):
    path = write_csv(
        tmp_path,
        [
            *GOOD_ROWS,
            row(
                referral_id="R-6",
                post="Embassy in London",
                host_country="GB",
                entity_name="Acme Robotic Ltd",
            ),
        ],
    )
    before = snapshot()

    out = run_import(path, "--dry-run")

    assert "Read 6 row(s); would create 6 referral(s), 6 entit(y/ies), 6 case(s), 4 post(s)" in out
    assert "possible duplicate" in out
    assert "Dry run: nothing was written." in out
    assert snapshot() == before


def test_a_kind_different_from_the_stored_one_is_a_warning_and_the_stored_kind_is_kept(
    tmp_path, existing
):
    path = write_csv(
        tmp_path,
        [
            row(
                referral_id="R-1",
                host_country="GB",
                entity_name="Acme Robotics Ltd",
                entity_type="university",
            )
        ],
    )

    out = run_import(path)

    assert "Warning: line 2:" in out
    existing.entity.refresh_from_db()
    assert existing.entity.kind == Entity.Kind.COMPANY


# -------------------------------------------------------------------------- bad rows

FUTURE = f"{datetime.date.today().year + 1}-01-01"

BAD_CELLS = {
    "missing_name": ({"entity_name": ""}, "entity_name", "missing"),
    "name_without_letters": ({"entity_name": "!!!"}, "entity_name", "has no letters or digits"),
    "missing_referral_id": ({"referral_id": ""}, "referral_id", "missing"),
    "missing_date": ({"referral_date": ""}, "referral_date", "missing"),
    "missing_country": ({"host_country": ""}, "host_country", "missing"),
    "unknown_country": ({"host_country": "Atlantis"}, "host_country", "unknown country"),
    "unknown_country_code": ({"host_country": "XX"}, "host_country", "unknown country"),
    "impossible_date": (
        {"referral_date": "2017-02-30"},
        "referral_date",
        "'2017-02-30' is not a real calendar date",
    ),
    "month_13": ({"referral_date": "2017-13"}, "referral_date", "not a real calendar date"),
    "future_date": ({"referral_date": FUTURE}, "referral_date", "is in the future"),
    "malformed_date": (
        {"referral_date": "03/05/2017"},
        "referral_date",
        "is not a date in the form YYYY, YYYY-MM or YYYY-MM-DD",
    ),
    "year_before_1900": ({"referral_date": "1850"}, "referral_date", "before 1900"),
    "unknown_entity_type": (
        {"entity_type": "spaceship"},
        "entity_type",
        "unknown entity type 'spaceship'",
    ),
    "unknown_cooperation_method": (
        {"cooperation_method": "joint venture; telepathy"},
        "cooperation_method",
        "unknown cooperation method 'telepathy'",
    ),
    "letters_in_amount": (
        {"proposed_amount": "12abc", "currency": "USD"},
        "proposed_amount",
        "'12abc' is not an amount",
    ),
    "negative_amount": (
        {"proposed_amount": "-5", "currency": "USD"},
        "proposed_amount",
        "'-5' is not an amount",
    ),
    "badly_grouped_amount": (
        {"proposed_amount": "1,00,000", "currency": "USD"},
        "proposed_amount",
        "is not an amount",
    ),
    "huge_amount": (
        {"proposed_amount": "1" + "0" * 20, "currency": "USD"},
        "proposed_amount",
        "too large",
    ),
    "amount_without_currency": (
        {"proposed_amount": "1000", "currency": ""},
        "currency",
        "an amount needs its currency",
    ),
    "unknown_currency": (
        {"proposed_amount": "1000", "currency": "QQQ"},
        "currency",
        "unknown currency 'QQQ'",
    ),
    "too_long_name": ({"entity_name": "A" * 301}, "entity_name", "longer than 300 characters"),
    "too_long_field": (
        {"technology_field": "x" * 201},
        "technology_field",
        "longer than 200 characters",
    ),
    "too_long_referral_id": ({"referral_id": "R" * 101}, "referral_id", "longer than 100"),
    "bad_url": ({"source_url": "https://exa mple.org/x"}, "source_url", "is not a valid URL"),
}


@pytest.mark.parametrize(
    ("cells", "column", "reason"), BAD_CELLS.values(), ids=list(BAD_CELLS.keys())
)
def test_it_refuses_a_file_with_a_bad_row_and_writes_nothing(
    tmp_path, existing, cells, column, reason
):
    path = write_csv(
        tmp_path,
        [
            row(referral_id="GOOD-1", entity_name="Good Robotics Ltd"),
            row(**{"referral_id": "BAD-1", "entity_name": "Bad Robotics Ltd", **cells}),
            row(referral_id="GOOD-2", entity_name="Other Robotics Ltd"),
        ],
    )
    before = snapshot()

    report = refused(path)

    bad_lines = [line for line in report.splitlines() if line.strip().startswith("line ")]
    assert any(
        line.strip().startswith(f"line 3, column {column}: ") and reason in line
        for line in bad_lines
    ), report
    assert all(line.strip().startswith("line 3,") for line in bad_lines), report
    assert "nothing was written" in report
    assert snapshot() == before


def test_a_too_long_name_is_reported_as_too_long_only(tmp_path):
    path = write_csv(tmp_path, [row(entity_name="A" * 301)])

    report = refused(path)

    bad_lines = [line.strip() for line in report.splitlines() if line.strip().startswith("line")]
    assert bad_lines == ["line 2, column entity_name: longer than 300 characters"]


def test_it_lists_every_bad_row_of_a_file(tmp_path, existing):
    path = write_csv(
        tmp_path,
        [
            row(referral_id="R-1", entity_name="Good Robotics Ltd"),
            row(referral_id="R-2", entity_name=""),
            row(referral_id="R-3", host_country="Atlantis"),
            row(referral_id="R-4", entity_name="Good Optics", referral_date="2017-02-30"),
            row(referral_id="R-5", entity_name="Good Lasers", proposed_amount="12abc"),
            row(referral_id="R-6", entity_name="Good Drones", entity_type="spaceship"),
            row(referral_id="R-7", entity_name="Good Sensors"),
        ],
    )
    before = snapshot()

    report = refused(path)

    assert "line 3, column entity_name: missing" in report
    assert "line 4, column host_country: unknown country 'Atlantis'" in report
    assert "line 5, column referral_date: '2017-02-30' is not a real calendar date" in report
    assert "line 6, column proposed_amount: '12abc' is not an amount" in report
    assert "line 6, column currency: an amount needs its currency" in report
    assert "line 7, column entity_type: unknown entity type 'spaceship'" in report
    assert "6 problem(s); nothing was written" in report
    assert "line 2," not in report
    assert "line 8," not in report
    assert snapshot() == before


def test_the_command_exits_non_zero_on_a_bad_file(tmp_path, capsys, monkeypatch):
    path = write_csv(tmp_path, [row(host_country="Atlantis")])
    # run_from_argv closes every connection when done; keep the test's transaction open.
    monkeypatch.setattr(connections, "close_all", lambda: None)

    with pytest.raises(SystemExit) as exc_info:
        Command().run_from_argv(["manage.py", "import_referrals", str(path)])

    assert exc_info.value.code != 0
    assert "line 2, column host_country: unknown country 'Atlantis'" in capsys.readouterr().err
    assert Referral.objects.count() == 0


def test_it_refuses_a_repeated_referral_id_with_other_content(tmp_path, existing):
    path = write_csv(
        tmp_path,
        [
            row(referral_id="R-1", entity_name="Good Robotics Ltd"),
            row(referral_id="R-2", entity_name="Good Optics Ltd"),
            row(referral_id="R-1", entity_name="Good Robotics Ltd", referral_date="2018"),
        ],
    )
    before = snapshot()

    report = refused(path)

    assert (
        "line 4, column referral_id: referral id 'R-1' is also on line 2 with different content"
        in report
    )
    assert snapshot() == before


def test_it_refuses_a_referral_id_stored_with_other_content(tmp_path, existing):
    path = write_csv(
        tmp_path,
        [
            row(referral_id="R-NEW", entity_name="Good Robotics Ltd"),
            row(referral_id="OLD-1", entity_name="Acme Robotics Ltd", host_country="GB"),
        ],
    )
    before = snapshot()

    report = refused(path)

    assert "line 3, column referral_id: referral id 'OLD-1' is already stored with a" in report
    assert "nothing was written" in report
    assert snapshot() == before


def test_a_dry_run_of_a_bad_file_is_refused_the_same_way(tmp_path, existing):
    path = write_csv(tmp_path, [row(referral_id="R-1"), row(referral_id="R-2", currency="QQQ")])
    before = snapshot()

    report = refused(path, "--dry-run")

    assert "line 3, column currency: unknown currency 'QQQ'" in report
    assert snapshot() == before


def test_it_refuses_one_entity_given_two_types(tmp_path):
    path = write_csv(
        tmp_path,
        [
            row(referral_id="R-1", entity_name="Acme Robotics Ltd", entity_type="company"),
            row(referral_id="R-2", entity_name="ACME ROBOTICS", entity_type="university"),
        ],
    )

    report = refused(path)

    assert "line 3, column entity_type:" in report
    assert Entity.objects.count() == 0


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


# ------------------------------------------------------------------------ bad files

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


def test_it_refuses_a_missing_file(tmp_path):
    report = refused(tmp_path / "nowhere.csv")

    assert "cannot read" in report


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


# ------------------------------------------------------------------- hostile content

HOSTILE_NAMES = [
    '=HYPERLINK("http://evil.example/x","click me")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd",
    "<script>alert(1)</script>",
    "Robert'); DROP TABLE cases_entity;--",
    "Back\\slash \\N Robotics",
    # Each of these folds to 18 characters: the name key is longer than the name.
    "\ufdfa" * 20,
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_are_stored_verbatim_or_refused_clearly(tmp_path, name):
    path = write_csv(tmp_path, [row(entity_name=name, summary=name)])

    try:
        run_import(path)
    except CommandError as exc:
        assert "line 2" in str(exc) or "referrals.csv" in str(exc)
        assert Referral.objects.count() == 0
    else:
        referral = Referral.objects.get(external_id="R-001")
        assert referral.entity.name == name
        assert referral.summary == name
        assert referral.entity.name_key


@pytest.mark.parametrize("size", [20_001, 200_000, 2_000_000])
def test_a_very_long_cell_is_stored_verbatim_or_refused_clearly(tmp_path, size):
    path = write_csv(tmp_path, [row(referral_id="R-1"), row(referral_id="R-2", summary="x" * size)])
    before = snapshot()

    try:
        run_import(path)
    except CommandError as exc:
        assert "referrals.csv" in str(exc)
        assert snapshot() == before
    else:
        assert len(Referral.objects.get(external_id="R-2").summary) == size


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


# ------------------------------------------------------------------------ big files


def test_it_imports_several_thousand_rows_in_chunks(tmp_path):
    countries = ["DE", "FR", "JP", "KR", "US", "GB"]
    count = 6000
    rows = [
        row(
            referral_id=f"B-{n:05d}",
            referral_date=f"{2015 + n % 5}-{1 + n % 12:02d}",
            post=f"Embassy in Capital {n % 40}",
            host_country=countries[n % len(countries)],
            entity_name=f"Bulk Entity {n:05d} Ltd",
            cooperation_method="joint venture; investment" if n % 2 else "patent licence",
            proposed_amount=f"{n * 1000:,}" if n % 3 == 0 else "",
            currency="USD" if n % 3 == 0 else "",
        )
        for n in range(count)
    ]
    path = write_csv(tmp_path, rows)

    out = run_import(path)

    assert f"Read {count} row(s); created {count} referral(s), {count} entit(y/ies)" in out
    assert Referral.objects.count() == Entity.objects.count() == Case.objects.count() == count
    assert Case.objects.filter(index_date__isnull=True).count() == 0
    sample = Referral.objects.get(external_id="B-04203")
    assert sample.host_country == countries[4203 % 6]
    assert (sample.date, sample.date_precision) == (
        datetime.date(2015 + 4203 % 5, 1 + 4203 % 12, 1),
        "month",
    )
    assert sample.proposed_amount == Decimal("4203000")
    assert sample.cooperation_methods == ["joint_venture", "investment"]
    assert sample.entity.case.index_date == sample.date
    assert Referral.objects.filter(cooperation_methods__has="patent_licence").count() == 3000

    # Again: every id is looked up (in chunks) and found unchanged.
    out = run_import(path)
    assert f"{count} referral(s) already stored unchanged" in out
    assert "Nothing to change" in out

    # Earlier referrals for every entity: each stored case's index date is recomputed.
    earlier = [
        {**cells, "referral_id": f"E-{n:05d}", "referral_date": "2010"}
        for n, cells in enumerate(rows)
    ]
    out = run_import(write_csv(tmp_path, earlier, name="earlier.csv"))
    assert f"created {count} referral(s), 0 entit(y/ies), 0 case(s)" in out
    assert Case.objects.filter(index_date=datetime.date(2010, 1, 1)).count() == count
    assert Case.objects.exclude(index_date_precision="year").count() == 0
