"""Checking referral rows (`cases.intake.rows`): a file with any bad row is refused
whole with every bad row named, and rows are checked against each other."""

import datetime

import pytest
from django.core.management.base import CommandError

from cases.models import Entity, Referral
from tests.intake.conftest import (
    refused,
    row,
    run_import,
    snapshot,
    write_csv,
    write_xlsx,
)

pytestmark = pytest.mark.django_db


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


def test_identical_repeated_rows_are_skipped(tmp_path):
    path = write_csv(tmp_path, [row(referral_id="R-1"), row(referral_id="R-1")])

    out = run_import(path)

    assert "created 1 referral(s)" in out
    assert "1 repeated row(s) skipped" in out
    assert Referral.objects.count() == 1


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
