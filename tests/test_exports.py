"""The case export (`export_cases`): every case with its entity, index date, status,
referral count and confirmed findings per kind, as CSV or JSON."""

import csv
import datetime
import io
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from cases import derived
from cases.casework import services as casework_services
from cases.casework.selectors import EXPORT_FIELDS
from cases.models import Case, Entity, Finding
from tests.factories import (
    CaseFactory,
    EntityFactory,
    FindingFactory,
    ReferralFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

KIND_COLUMNS = [f"confirmed_{kind}" for kind in Finding.Kind.values]


def export(*args: str) -> str:
    out = StringIO()
    call_command("export_cases", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def confirmed(case: Case, kind: str, **values) -> Finding:
    return FindingFactory(
        case=case,
        kind=kind,
        review_state=Finding.ReviewState.CONFIRMED,
        reviewed_at=timezone.now(),
        **values,
    )


@pytest.fixture
def cases():
    """Three cases: one with referrals and findings in every review state, one with a
    hostile name and no findings, one with neither referrals nor findings."""
    analyst = UserFactory(username="analyst")
    acme = EntityFactory(
        name="Acme Robotics Ltd.",
        name_native="阿克米机器人",
        country="GB",
        kind=Entity.Kind.COMPANY,
    )
    acme_case = CaseFactory(
        entity=acme,
        status=Case.Status.IN_REVIEW,
        priority=Case.Priority.HIGH,
        assignee=analyst,
    )
    ReferralFactory(entity=acme, date=datetime.date(2017, 5, 1), date_precision="month")
    ReferralFactory(entity=acme, date=datetime.date(2019, 3, 4), date_precision="day")
    ReferralFactory(entity=acme, date=datetime.date(2018, 1, 1), date_precision="year")
    confirmed(acme_case, Finding.Kind.JOINT_VENTURE)
    confirmed(acme_case, Finding.Kind.JOINT_VENTURE, external_id="jv-2", source="gleif")
    confirmed(acme_case, Finding.Kind.ACQUISITION)
    FindingFactory(case=acme_case, kind=Finding.Kind.JOINT_VENTURE)  # a lead
    FindingFactory(case=acme_case, kind=Finding.Kind.SUBSIDIARY)  # a lead
    FindingFactory(
        case=acme_case,
        kind=Finding.Kind.ACQUISITION,
        review_state=Finding.ReviewState.REJECTED,
        reviewed_at=timezone.now(),
    )

    hostile = EntityFactory(
        name='=HYPERLINK("http://evil.example","x")',
        name_native="+SUM(1,2)",
        country="US",
        kind=Entity.Kind.UNIVERSITY,
    )
    hostile_case = CaseFactory(entity=hostile)
    ReferralFactory(
        entity=hostile, host_country="US", date=datetime.date(2016, 1, 1), date_precision="year"
    )

    empty_case = CaseFactory(entity=EntityFactory(name="Quiet Optics GmbH", country="DE"))
    derived.case_index_dates_refresh()
    return {"acme": acme_case, "hostile": hostile_case, "empty": empty_case}


def by_case_id(rows: list[dict]) -> dict:
    return {int(row["case_id"]): row for row in rows}


def test_the_csv_lists_every_case_with_its_counts(cases):
    rows = by_case_id(list(csv.DictReader(io.StringIO(export("--format", "csv")))))

    assert set(rows) == {case.id for case in cases.values()}
    acme = rows[cases["acme"].id]
    assert acme["entity_name"] == "Acme Robotics Ltd."
    assert acme["entity_name_native"] == "阿克米机器人"
    assert acme["entity_type"] == "company"
    assert acme["country"] == "GB"
    assert acme["index_date"] == "2017-05"
    assert acme["status"] == "in_review"
    assert acme["priority"] == "high"
    assert acme["assignee"] == "analyst"
    assert acme["referral_count"] == "3"
    assert acme["confirmed_total"] == "3"
    assert acme["confirmed_joint_venture"] == "2"
    assert acme["confirmed_acquisition"] == "1"
    assert acme["confirmed_subsidiary"] == "0"
    assert (acme["kind"], acme["team"], acme["outcome"]) == ("referred", "", "positive")
    assert {column: acme[column] for column in KIND_COLUMNS} == {
        column: "2"
        if column == "confirmed_joint_venture"
        else "1"
        if column == "confirmed_acquisition"
        else "0"
        for column in KIND_COLUMNS
    }

    hostile = rows[cases["hostile"].id]
    assert hostile["index_date"] == "2016"
    assert hostile["status"] == "open"
    assert hostile["assignee"] == ""
    assert hostile["referral_count"] == "1"
    assert hostile["confirmed_total"] == "0"
    assert hostile["outcome"] == "not reviewed"

    empty = rows[cases["empty"].id]
    assert empty["index_date"] == ""
    assert empty["referral_count"] == "0"
    assert all(empty[column] == "0" for column in ["confirmed_total", *KIND_COLUMNS])


def test_the_csv_header_is_the_export_fields(cases):
    header = next(csv.reader(io.StringIO(export("--format", "csv"))))

    assert header == list(EXPORT_FIELDS)
    assert set(KIND_COLUMNS) <= set(header)


def test_the_default_format_is_csv(cases):
    assert export() == export("--format", "csv")


def test_the_csv_neutralises_cells_that_start_like_formulas(cases):
    rows = by_case_id(list(csv.DictReader(io.StringIO(export("--format", "csv")))))

    hostile = rows[cases["hostile"].id]
    assert hostile["entity_name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert hostile["entity_name_native"] == "'+SUM(1,2)"
    assert rows[cases["acme"].id]["entity_name"] == "Acme Robotics Ltd."


@pytest.mark.parametrize("name", ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1"])
def test_every_formula_start_is_neutralised(name):
    case = CaseFactory(entity=EntityFactory(name=name))

    row = next(csv.DictReader(io.StringIO(export("--format", "csv"))))

    assert int(row["case_id"]) == case.id
    assert row["entity_name"] == "'" + name


def test_the_json_lists_every_case_with_its_counts_and_values_as_stored(cases):
    rows = by_case_id(json.loads(export("--format", "json")))

    assert set(rows) == {case.id for case in cases.values()}
    acme = rows[cases["acme"].id]
    assert set(acme) == set(EXPORT_FIELDS)
    assert acme["entity_name"] == "Acme Robotics Ltd."
    assert acme["index_date"] == "2017-05"
    assert acme["status"] == "in_review"
    assert acme["referral_count"] == 3
    assert acme["confirmed_total"] == 3
    assert acme["confirmed_joint_venture"] == 2
    assert acme["confirmed_acquisition"] == 1
    assert acme["confirmed_subsidiary"] == 0
    hostile = rows[cases["hostile"].id]
    assert hostile["entity_name"] == '=HYPERLINK("http://evil.example","x")'
    assert hostile["index_date"] == "2016"
    empty = rows[cases["empty"].id]
    assert empty["index_date"] == ""
    assert empty["referral_count"] == 0
    assert empty["confirmed_total"] == 0


def test_the_json_of_no_cases_is_an_empty_list():
    assert json.loads(export("--format", "json")) == []


def test_the_csv_of_no_cases_is_the_header_only():
    assert list(csv.reader(io.StringIO(export("--format", "csv")))) == [list(EXPORT_FIELDS)]


def test_counts_are_not_multiplied_by_joins(cases):
    """Several referrals and several findings on one case must not multiply each other."""
    acme = cases["acme"]
    for _ in range(3):
        ReferralFactory(entity=acme.entity)
        confirmed(acme, Finding.Kind.PARTNERSHIP)
    derived.case_index_dates_refresh()  # the new findings are dated after the referral

    row = by_case_id(json.loads(export("--format", "json")))[acme.id]

    assert row["referral_count"] == 6
    assert row["confirmed_partnership"] == 3
    assert row["confirmed_total"] == 6


def test_a_confirmed_lead_starts_counting_and_a_rejected_one_stops(cases, superuser):
    acme = cases["acme"]
    lead = Finding.objects.get(case=acme, kind=Finding.Kind.SUBSIDIARY)
    casework_services.finding_review(
        finding=lead, state=Finding.ReviewState.CONFIRMED, reviewer=superuser
    )
    joint_venture = Finding.objects.filter(
        case=acme, kind=Finding.Kind.JOINT_VENTURE, review_state="confirmed"
    ).first()
    casework_services.finding_review(
        finding=joint_venture,
        state=Finding.ReviewState.REJECTED,
        reviewer=superuser,
        note="the joint venture was with a Taiwanese firm",
    )

    row = by_case_id(json.loads(export("--format", "json")))[acme.id]

    assert row["confirmed_subsidiary"] == 1
    assert row["confirmed_joint_venture"] == 1
    assert row["confirmed_total"] == 3


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_output_writes_a_file_and_says_how_many_cases(cases, tmp_path, fmt):
    path = tmp_path / f"cases.{fmt}"
    err = StringIO()

    out = StringIO()
    call_command("export_cases", "--format", fmt, "--output", str(path), stdout=out, stderr=err)

    assert out.getvalue() == ""
    assert f"Wrote 3 case(s) to {path}" in err.getvalue()
    text = path.read_bytes().decode("utf-8")
    assert text == export("--format", fmt)
    rows = list(csv.DictReader(io.StringIO(text))) if fmt == "csv" else json.loads(text)
    assert {int(row["case_id"]) for row in rows} == {case.id for case in cases.values()}


def test_output_to_an_unwritable_place_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="cannot write"):
        call_command("export_cases", "--output", str(tmp_path / "missing" / "cases.csv"))


def test_an_unknown_format_is_refused():
    with pytest.raises(CommandError):
        call_command("export_cases", "--format", "xml")
