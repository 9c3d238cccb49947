"""Checking referral rows (`cases.intake.rows`): a file with any bad row is refused
whole with every bad row named, and rows are checked against each other."""

import datetime
from decimal import Decimal

import pytest
from django.core.management.base import CommandError

from cases.intake import rows
from cases.intake.files import read_table
from cases.intake.rows import check_rows
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


# ------------------------------------------------------------------ column checkers


def reasons(checker, text: str, *args, **kwargs) -> tuple[str, ...]:
    """The reasons a checker gives for refusing `text`."""
    with pytest.raises(rows.CellError) as exc_info:
        checker(text, *args, **kwargs)
    return exc_info.value.reasons


def test_a_referral_id_is_kept_as_written_and_required():
    assert rows.clean_referral_id("R-001") == "R-001"
    assert reasons(rows.clean_referral_id, "") == ("missing",)


@pytest.mark.parametrize(
    ("text", "value", "precision"),
    [
        ("2017-05-03", datetime.date(2017, 5, 3), "day"),
        ("2018-07", datetime.date(2018, 7, 1), "month"),
        ("2016", datetime.date(2016, 1, 1), "year"),
    ],
)
def test_a_referral_date_keeps_its_precision(text, value, precision):
    partial = rows.clean_referral_date(text, datetime.date(2024, 1, 1))

    assert (partial.value, partial.precision) == (value, precision)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "missing"),
        ("2017-02-30", "'2017-02-30' is not a real calendar date"),
        ("2025-01-01", "is in the future"),
        ("03/05/2017", "is not a date in the form YYYY, YYYY-MM or YYYY-MM-DD"),
    ],
)
def test_a_referral_date_is_refused_with_its_reason(text, reason):
    (given,) = reasons(rows.clean_referral_date, text, datetime.date(2024, 1, 1))

    assert reason in given


def test_a_post_has_its_spaces_collapsed():
    assert rows.clean_post("Embassy   in\tMoscow") == "Embassy in Moscow"
    assert rows.clean_post("") == ""


@pytest.mark.parametrize(("text", "code"), [("Russia", "RU"), ("DE", "DE"), ("fra", "FR")])
def test_a_host_country_is_read_from_a_name_or_a_code(text, code):
    assert rows.clean_host_country(text) == code


def test_a_host_country_is_required_and_must_be_known():
    assert reasons(rows.clean_host_country, "") == ("missing",)
    assert reasons(rows.clean_host_country, "Atlantis") == ("unknown country 'Atlantis'",)


def test_an_entity_name_comes_with_its_name_key():
    assert rows.clean_entity_name("Acme  Robotics Ltd.") == ("Acme Robotics Ltd.", "acme robotics")


def test_an_entity_name_is_required_and_needs_a_letter_or_digit():
    assert reasons(rows.clean_entity_name, "") == ("missing",)
    assert reasons(rows.clean_entity_name, "!!!") == ("'!!!' has no letters or digits",)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", Entity.Kind.OTHER),
        ("company", Entity.Kind.COMPANY),
        ("University", Entity.Kind.UNIVERSITY),
        ("research_institute", Entity.Kind.RESEARCH_INSTITUTE),
        ("Research Institution", Entity.Kind.RESEARCH_INSTITUTE),
        ("person", Entity.Kind.INDIVIDUAL),
    ],
)
def test_an_entity_type_is_read_from_a_value_a_label_or_a_synonym(text, kind):
    assert rows.clean_entity_type(text) == kind


def test_an_unknown_entity_type_is_refused_with_the_choices():
    (reason,) = reasons(rows.clean_entity_type, "spaceship")

    assert reason.startswith("unknown entity type 'spaceship' (one of: ")
    assert "company" in reason


def test_a_technology_field_is_folded_to_lower_case_with_single_spaces():
    assert rows.clean_technology_field("New  Materials") == "new materials"


def test_cooperation_methods_are_read_in_order_without_repeats():
    methods = rows.clean_cooperation_method("joint venture; Joint_R&D;; investment; Joint Venture")

    assert methods == ["joint_venture", "joint_rd", "investment"]
    assert rows.clean_cooperation_method("") == []


def test_each_unknown_cooperation_method_is_a_reason():
    assert reasons(rows.clean_cooperation_method, "telepathy; joint venture; magic") == (
        "unknown cooperation method 'telepathy'",
        "unknown cooperation method 'magic'",
    )


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("", None),
        ("1,000,000", Decimal("1000000")),
        ("2500.50", Decimal("2500.50")),
        ("1 000", Decimal("1000")),
        ("1\u00a0000.5", Decimal("1000.5")),
    ],
)
def test_a_proposed_amount_is_read_with_or_without_thousands_separators(text, amount):
    assert rows.clean_proposed_amount(text) == amount


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("12abc", "'12abc' is not an amount (digits, at most 2 decimals, no sign)"),
        ("-5", "'-5' is not an amount"),
        ("1,00,000", "'1,00,000' is not an amount"),
        ("2500.505", "'2500.505' is not an amount"),
        ("1" + "0" * 16, "is too large"),
    ],
)
def test_a_proposed_amount_is_refused_with_its_reason(text, reason):
    (given,) = reasons(rows.clean_proposed_amount, text)

    assert reason in given


def test_a_currency_is_an_upper_case_iso_code_needed_only_with_an_amount():
    assert rows.clean_currency("usd") == "USD"
    assert rows.clean_currency("") == ""
    assert rows.clean_currency("EUR", amount_given=True) == "EUR"
    assert reasons(rows.clean_currency, "", amount_given=True) == (
        "an amount needs its currency (ISO 4217 code such as USD)",
    )
    assert reasons(rows.clean_currency, "qqq") == (
        "unknown currency 'QQQ' (ISO 4217 code such as USD)",
    )


def test_a_source_is_a_url_or_a_document_reference():
    url = "https://example.org/cables/r-001"
    assert rows.clean_source_url(url) == (url, "")
    assert rows.clean_source_url("Cable 2018/07/12 para 4") == ("", "Cable 2018/07/12 para 4")
    assert rows.clean_source_url("") == ("", "")


def test_a_bad_url_or_an_overlong_reference_is_refused():
    assert reasons(rows.clean_source_url, "https://exa mple.org/x") == (
        "'https://exa mple.org/x' is not a valid URL",
    )
    (reason,) = reasons(rows.clean_source_url, "x" * 1000)
    assert reason.startswith("a document reference is at most ")


# ------------------------------------------------------------------------- one row


def test_check_row_names_every_bad_cell_of_a_row():
    record, errors = rows.check_row(
        7,
        row(entity_name="", host_country="Atlantis", proposed_amount="12abc"),
        datetime.date(2024, 1, 1),
    )

    assert record is None
    assert [str(error) for error in errors] == [
        "line 7, column host_country: unknown country 'Atlantis'",
        "line 7, column entity_name: missing",
        "line 7, column proposed_amount: '12abc' is not an amount (digits, at most 2 "
        "decimals, no sign)",
        "line 7, column currency: an amount needs its currency (ISO 4217 code such as USD)",
    ]


def test_check_row_returns_the_clean_record_of_a_good_row():
    record, errors = rows.check_row(
        7, row(host_country=" Russia ", currency="usd", proposed_amount="5"), datetime.date.today()
    )

    assert errors == []
    assert (record.line, record.external_id, record.host_country) == (7, "R-001", "RU")
    assert (record.entity_name, record.entity_key) == ("Acme Robotics Ltd.", "acme robotics")
    assert (record.proposed_amount, record.currency) == (Decimal("5"), "USD")
    assert record.cooperation_methods == ["joint_venture"]


# ------------------------------------------------------- invisible control characters


def test_invisible_controls_are_stripped_from_every_cell_and_reported_per_row(tmp_path):
    path = write_csv(
        tmp_path,
        [
            row(referral_id="I-1"),
            row(referral_id="I-2", entity_name="Acme\u202e Robotics\u200b Ltd."),
            row(referral_id="I-3", entity_name="Kyoto Optics", summary="Met\u2066 twice\u2069"),
            row(referral_id="I-\u200d4", entity_name="Osaka\u200f Lasers", post="\ufeffEmbassy"),
        ],
    )

    checked = check_rows(read_table(path.read_bytes(), path.name))
    run_import(path)

    assert checked.errors == []
    assert checked.warnings == [
        "line 3: removed 2 invisible control characters from entity_name",
        "line 4: removed 2 invisible control characters from summary",
        "line 5: removed 3 invisible control characters from referral_id, post, entity_name",
    ]
    assert Referral.objects.count() == 4
    assert Referral.objects.get(external_id="I-2").entity.name == "Acme Robotics Ltd."
    assert Referral.objects.get(external_id="I-3").summary == "Met twice"
    four = Referral.objects.get(external_id="I-4")
    assert (four.entity.name, four.post.name) == ("Osaka Lasers", "Embassy")
    names = "".join(Entity.objects.values_list("name", flat=True))
    assert not any(character in names for character in "\u202e\u200b\u200f")


def test_rows_with_invisible_controls_past_the_first_fifty_are_counted_in_one_line(tmp_path):
    path = write_csv(
        tmp_path,
        [row(referral_id=f"I-{i}", summary=f"note\u200b {i}") for i in range(60)],
    )

    warnings = check_rows(read_table(path.read_bytes(), path.name)).warnings

    assert len(warnings) == 51
    assert warnings[0] == "line 2: removed 1 invisible control character from summary"
    assert warnings[-1] == "invisible control characters were also removed from 10 more row(s)"
