"""The research pages' forms (cases/casework/forms.py): what each accepts, and the error
each gives for malformed, hostile and duplicate input."""

import datetime

import pytest

from cases.casework.forms import (
    AssignForm,
    BulkReviewForm,
    EntityForm,
    FindingForm,
    ReviewForm,
    StatusForm,
)
from cases.models import ENTITY_IDENTIFIERS, Case, Finding, identifier_taken
from cases.normalize import PartialDate
from tests.factories import CaseFactory, EntityFactory, UserFactory

pytestmark = pytest.mark.django_db

CONFIRMED = Finding.ReviewState.CONFIRMED
REJECTED = Finding.ReviewState.REJECTED
NO_NULLS = "Null characters are not allowed."


def with_lei_check_digits(base: str) -> str:
    """Return a valid LEI for an 18-character base (ISO 7064 mod 97-10)."""
    digits = "".join(str(int(ch, 36)) for ch in base + "00")
    return f"{base}{98 - int(digits) % 97:02d}"


VALID_LEI = with_lei_check_digits("5299000EXAMPLE0001")
OTHER_LEI = with_lei_check_digits("5299000EXAMPLE0002")
BAD_CHECK_LEI = VALID_LEI[:-2] + ("00" if VALID_LEI[-2:] != "00" else "01")


def errors(form) -> dict[str, list[str]]:
    assert not form.is_valid()
    return {field: list(messages) for field, messages in form.errors.items()}


# ------------------------------------------------------------------------------ versions


@pytest.mark.parametrize(
    "version, message",
    [
        (None, "This field is required."),
        ("", "This field is required."),
        ("abc", "Enter a whole number."),
        ("1; DROP TABLE cases_case", "Enter a whole number."),
        ("0", "Ensure this value is greater than or equal to 1."),
        ("-3", "Ensure this value is greater than or equal to 1."),
    ],
)
@pytest.mark.parametrize(
    "form_class, data",
    [(StatusForm, {"status": Case.Status.OPEN}), (ReviewForm, {"decision": CONFIRMED})],
    ids=["status", "review"],
)
def test_a_change_needs_the_version_it_was_shown_at(form_class, data, version, message):
    if version is not None:
        data = {**data, "version": version}

    assert errors(form_class(data)) == {"version": [message]}


# ------------------------------------------------------------------------------ status


@pytest.mark.parametrize("status", Case.Status.values)
def test_it_accepts_every_case_status(status):
    form = StatusForm({"status": status, "version": "3"})

    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"status": status, "version": 3}


@pytest.mark.parametrize("status", ["lost", "OPEN", "<script>alert(1)</script>"])
def test_it_refuses_a_status_that_is_not_one(status):
    form = StatusForm({"status": status, "version": "1"})

    assert errors(form) == {
        "status": [f"Select a valid choice. {status} is not one of the available choices."]
    }


def test_it_refuses_a_change_without_a_status():
    assert errors(StatusForm({"version": "1"})) == {"status": ["This field is required."]}


# ------------------------------------------------------------------------------ assign


def test_it_offers_the_active_members_of_the_cases_team(team, analyst, colleague, other_analyst):
    UserFactory(username="gone", is_active=False).teams.add(team)
    case = CaseFactory(team=team)

    offered = AssignForm(case=case).fields["assignee"].queryset

    assert [user.username for user in offered] == ["alice", "bob"]


def test_it_offers_every_active_user_for_a_case_without_a_team(analyst, other_analyst, staff):
    UserFactory(username="gone", is_active=False)

    offered = AssignForm(case=CaseFactory(team=None)).fields["assignee"].queryset

    assert [user.username for user in offered] == ["alice", "olga", "root"]


def test_it_assigns_a_member_or_nobody(team, analyst):
    case = CaseFactory(team=team)

    member = AssignForm({"assignee": analyst.pk, "version": "1"}, case=case)
    nobody = AssignForm({"assignee": "", "version": "1"}, case=case)

    assert member.is_valid(), member.errors
    assert member.cleaned_data["assignee"] == analyst
    assert nobody.is_valid(), nobody.errors
    assert nobody.cleaned_data["assignee"] is None


def test_it_refuses_someone_of_another_team_an_inactive_member_or_no_one_at_all(
    team, other_analyst
):
    gone = UserFactory(username="gone", is_active=False)
    gone.teams.add(team)
    case = CaseFactory(team=team)
    invalid = ["Select a valid choice. That choice is not one of the available choices."]

    for assignee in (other_analyst.pk, gone.pk, 999999, "alice", "1 OR 1=1"):
        form = AssignForm({"assignee": assignee, "version": "1"}, case=case)

        assert errors(form) == {"assignee": invalid}, assignee


# ------------------------------------------------------------------------------ entity


def entity_data(**values) -> dict:
    return {
        "name_native": "",
        "aliases": "",
        "website": "",
        "lei": "",
        "sec_cik": "",
        "uk_company_number": "",
        "ror_id": "",
        "openalex_id": "",
        "wikidata_id": "",
        "version": "1",
        **values,
    }


def test_it_gives_the_entitys_editable_values_only():
    entity = EntityFactory(name="Alpha Robotics Ltd")

    form = EntityForm(
        entity_data(
            lei=f"  {VALID_LEI} ",
            aliases="Alpha Robotics\nAlpha Robo",
            website="alpha.example.org",
            name="Renamed Ltd",
            country="CN",
        ),
        instance=entity,
    )

    assert form.is_valid(), form.errors
    values = form.entity_values()
    assert set(values) == {
        "name_native",
        "aliases",
        "website",
        "lei",
        "sec_cik",
        "uk_company_number",
        "ror_id",
        "openalex_id",
        "wikidata_id",
    }
    assert values["lei"] == VALID_LEI
    assert values["aliases"] == "Alpha Robotics\nAlpha Robo"
    assert values["website"] == "https://alpha.example.org"
    assert form.cleaned_data["version"] == 1


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("lei", "5299000EXAMPLE", "An LEI is 18 letters or digits followed by 2 check digits."),
        ("lei", BAD_CHECK_LEI, "The LEI's check digits do not match (ISO 7064 mod 97-10)."),
        ("sec_cik", "CIK320193", "A SEC CIK is 1 to 10 digits."),
        ("wikidata_id", "P31", "A Wikidata id is Q followed by digits (e.g. Q2283)."),
        (
            "uk_company_number",
            "1234",
            "A UK company number is 8 digits or 2 letters and 6 digits (e.g. 00445790, SC123456).",
        ),
        ("website", "not a website", "Enter a valid URL."),
        ("lei", "X" * 21, "Ensure this value has at most 20 characters (it has 21)."),
    ],
)
def test_it_refuses_a_malformed_identifier_with_what_is_wrong(field, value, message):
    form = EntityForm(entity_data(**{field: value}), instance=EntityFactory())

    assert errors(form) == {field: [message]}


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("website", "javascript:alert(document.cookie)", "Enter a valid URL."),
        ("website", "data:text/html,<script>alert(1)</script>", "Enter a valid URL."),
        ("aliases", "Alpha\x00Robotics", NO_NULLS),
        ("name_native", "阿尔法\x00", NO_NULLS),
        (
            "lei",
            "5299000EXAMPLE0001'--",
            "Ensure this value has at most 20 characters (it has 21).",
        ),
    ],
)
def test_it_refuses_hostile_entity_input(field, value, message):
    form = EntityForm(entity_data(**{field: value}), instance=EntityFactory())

    assert errors(form) == {field: [message]}


@pytest.mark.parametrize(
    "field, value",
    [("lei", VALID_LEI), ("sec_cik", "320193"), ("wikidata_id", "Q2283")],
)
def test_it_refuses_an_identifier_another_entity_has(field, value):
    EntityFactory(name="Holder Ltd", **{field: value})

    form = EntityForm(entity_data(**{field: value}), instance=EntityFactory())

    assert not form.is_valid()
    assert form.non_field_errors()


IDENTIFIER_VALUES = {
    "lei": VALID_LEI,
    "sec_cik": "320193",
    "uk_company_number": "01234567",
    "ror_id": "02mhbdp94",
    "openalex_id": "I136199984",
    "wikidata_id": "Q2283",
}


@pytest.mark.parametrize(("field", "constraint", "label"), ENTITY_IDENTIFIERS)
def test_a_taken_identifier_is_refused_without_naming_its_holder(field, constraint, label):
    """Entities are shared by every team: the refusal names neither the constraint nor
    the entity holding the value, which may be another team's case."""
    value = IDENTIFIER_VALUES[field]
    EntityFactory(name="Secret Holder Ltd", **{field: value})

    form = EntityForm(entity_data(**{field: value}), instance=EntityFactory())

    assert not form.is_valid()
    assert form.non_field_errors() == [identifier_taken(label)]
    assert "Secret Holder" not in str(form.errors)
    assert constraint not in str(form.errors)


def test_it_accepts_the_entitys_own_identifier_again():
    entity = EntityFactory(lei=VALID_LEI)
    EntityFactory(lei=OTHER_LEI)

    form = EntityForm(entity_data(lei=VALID_LEI), instance=entity)

    assert form.is_valid(), form.errors


# ------------------------------------------------------------------------------ finding


def finding_data(**values) -> dict:
    return {
        "kind": Finding.Kind.JOINT_VENTURE,
        "counterparty_name": "Shenzhen Example Technology Co., Ltd.",
        "counterparty_country": "CN",
        "event_date": "2019-03",
        "source_url": "https://news.example.org/item",
        "excerpt": "They formed a joint venture.",
        "confidence": Finding.Confidence.HIGH,
        **values,
    }


@pytest.mark.parametrize(
    "typed, code", [("CN", "CN"), ("cn", "CN"), (" Hong Kong ", "HK"), ("China", "CN")]
)
def test_it_reads_a_counterparty_country_as_a_code_or_a_name(typed, code):
    form = FindingForm(finding_data(counterparty_country=typed))

    assert form.is_valid(), form.errors
    assert form.cleaned_data["counterparty_country"] == code


@pytest.mark.parametrize(
    "typed, date",
    [
        ("2019", PartialDate(datetime.date(2019, 1, 1), "year")),
        ("2019-03", PartialDate(datetime.date(2019, 3, 1), "month")),
        (" 2019-03-15 ", PartialDate(datetime.date(2019, 3, 15), "day")),
    ],
)
def test_it_reads_a_date_to_its_precision(typed, date):
    form = FindingForm(finding_data(event_date=typed))

    assert form.is_valid(), form.errors
    assert form.cleaned_data["event_date"] == date


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("counterparty_country", "Narnia", "Not a country this tool knows; use the ISO code."),
        ("counterparty_country", "", "This field is required."),
        (
            "event_date",
            "March 2019",
            "'March 2019' is not a date in the form YYYY, YYYY-MM or YYYY-MM-DD",
        ),
        ("event_date", "2019-02-30", "'2019-02-30' is not a real calendar date"),
        ("event_date", "1850", "year 1850 is before 1900"),
        ("event_date", "2999-01-01", "'2999-01-01' is in the future"),
        ("kind", "bribery", "Select a valid choice. bribery is not one of the available choices."),
        (
            "confidence",
            "total",
            "Select a valid choice. total is not one of the available choices.",
        ),
        ("source_url", "ftp://files.example.org/report", "Give an http or https address."),
        ("source_url", "not a url", "Enter a valid URL."),
        ("excerpt", "", "This field is required."),
        (
            "counterparty_name",
            "X" * 301,
            "Ensure this value has at most 300 characters (it has 301).",
        ),
    ],
)
def test_it_refuses_a_malformed_finding_with_what_is_wrong(field, value, message):
    assert errors(FindingForm(finding_data(**{field: value}))) == {field: [message]}


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("source_url", "javascript:alert(document.cookie)", "Enter a valid URL."),
        ("source_url", "data:text/html;base64,PHNjcmlwdD4=", "Enter a valid URL."),
        ("counterparty_name", "Shenzhen\x00Example", NO_NULLS),
        ("excerpt", "They\x00formed", NO_NULLS),
        ("event_date", "2019'--", "is not a date in the form"),
    ],
)
def test_it_refuses_hostile_finding_input(field, value, message):
    messages = errors(FindingForm(finding_data(**{field: value})))

    assert list(messages) == [field]
    assert message in messages[field][0]


def test_it_keeps_markup_in_a_name_as_text_for_the_page_to_escape():
    form = FindingForm(finding_data(counterparty_name="<b>Shenzhen</b> & Co"))

    assert form.is_valid(), form.errors
    assert form.cleaned_data["counterparty_name"] == "<b>Shenzhen</b> & Co"


# ------------------------------------------------------------------------------ review


def test_it_confirms_a_lead_without_a_note():
    form = ReviewForm({"decision": CONFIRMED, "version": "2"})

    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"decision": CONFIRMED, "note": "", "version": 2}


@pytest.mark.parametrize("note", ["", "   \n  "])
def test_it_refuses_to_reject_a_lead_without_saying_why(note):
    form = ReviewForm({"decision": REJECTED, "note": note, "version": "1"})

    assert errors(form) == {"note": ["Say why the lead is rejected."]}


@pytest.mark.parametrize("decision", [Finding.ReviewState.LEAD, "approved", ""])
def test_it_refuses_a_decision_that_is_not_confirm_or_reject(decision):
    messages = errors(ReviewForm({"decision": decision, "version": "1"}))

    assert list(messages) == ["decision"]


def test_it_refuses_a_hostile_review_note():
    form = ReviewForm({"decision": REJECTED, "note": "wrong\x00company", "version": "1"})

    assert errors(form)["note"][0] == NO_NULLS


# ------------------------------------------------------------------------------ bulk review


def test_it_reads_the_picked_leads_with_the_versions_they_were_shown_at():
    form = BulkReviewForm({"findings": ["12:3", " 40 : 1 "], "decision": CONFIRMED})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["findings"] == {12: 3, 40: 1}


def test_it_reviews_a_lead_picked_twice_once():
    form = BulkReviewForm({"findings": ["12:3", "12:3"], "decision": CONFIRMED})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["findings"] == {12: 3}


@pytest.mark.parametrize(
    "picked",
    [["12"], ["12:"], [":3"], ["-12:3"], ["12:3.0"], ["abc:def"], ["12:3", "1 OR 1=1:1"]],
)
def test_it_refuses_a_selection_it_cannot_read(picked):
    form = BulkReviewForm({"findings": picked, "decision": CONFIRMED})

    assert errors(form) == {"findings": ["The selection could not be read; reload the page."]}


def test_it_refuses_an_empty_selection():
    form = BulkReviewForm({"decision": CONFIRMED})

    assert errors(form) == {"findings": ["Pick at least one lead."]}


def test_it_refuses_more_than_500_leads_at_once():
    at_most = BulkReviewForm({"findings": [f"{n}:1" for n in range(500)], "decision": CONFIRMED})
    too_many = BulkReviewForm({"findings": [f"{n}:1" for n in range(501)], "decision": CONFIRMED})

    assert at_most.is_valid(), at_most.errors
    assert errors(too_many) == {"findings": ["Review at most 500 leads at once."]}


def test_it_refuses_to_reject_leads_without_saying_why():
    form = BulkReviewForm({"findings": ["12:3"], "decision": REJECTED, "note": " "})

    assert errors(form) == {"note": ["Say why the leads are rejected."]}
