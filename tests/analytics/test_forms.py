"""The analytics pages' forms (cases/analytics/forms.py): what each accepts, and the error
each gives for malformed, hostile and repeated input. A cohort name or a control entity
already stored is refused by the services (tests/analytics/test_views.py)."""

import pytest
from django.contrib.auth.models import Group
from django.http import QueryDict

from cases.access import ANALYST
from cases.analytics.forms import (
    AnalyticsForm,
    CohortForm,
    ControlCaseForm,
    SecondCoderForm,
    SecondReadingForm,
)
from cases.models import Entity, Finding
from tests.factories import AnalystFactory, CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

JV = Finding.Kind.JOINT_VENTURE
NO_NULLS = "Null characters are not allowed."
DIMENSIONS = [
    "year",
    "host_country",
    "bloc",
    "post",
    "technology_field",
    "entity_type",
    "cooperation_method",
    "team",
    "cohort",
]


def errors(form) -> dict[str, list[str]]:
    assert not form.is_valid()
    return {field: list(messages) for field, messages in form.errors.items()}


def too_long(limit: int) -> str:
    return f"Ensure this value has at most {limit} characters (it has {limit + 1})."


def not_a_choice(value: str) -> list[str]:
    return [f"Select a valid choice. {value} is not one of the available choices."]


# ------------------------------------------------------------------------------ analytics


def test_it_reads_no_choice_as_every_outcome_by_referral_year():
    for data in ({}, {"dimension": "", "outcome": ""}):
        form = AnalyticsForm(data)

        assert form.is_valid(), form.errors
        assert form.cleaned_data == {
            "dimension": "year",
            "outcome": "any",
            "interval": "wilson",
            "small": "flag",
        }


@pytest.mark.parametrize("dimension", DIMENSIONS)
@pytest.mark.parametrize("outcome", ["any", *Finding.Kind.values])
def test_it_accepts_every_dimension_and_outcome(dimension, outcome):
    form = AnalyticsForm({"dimension": dimension, "outcome": outcome})

    assert form.is_valid(), form.errors
    assert form.cleaned_data == {
        "dimension": dimension,
        "outcome": outcome,
        "interval": "wilson",
        "small": "flag",
    }


@pytest.mark.parametrize("interval", ["wilson", "beta", "jeffreys"])
@pytest.mark.parametrize("small", ["flag", "group"])
def test_it_accepts_every_interval_method_and_small_cohort_choice(interval, small):
    form = AnalyticsForm({"dimension": "host_country", "interval": interval, "small": small})

    assert form.is_valid(), form.errors
    assert (form.cleaned_data["interval"], form.cleaned_data["small"]) == (interval, small)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"interval": "normal"}, "interval"),
        ({"interval": "<script>"}, "interval"),
        ({"small": "hide"}, "small"),
    ],
)
def test_it_refuses_an_unknown_interval_or_small_cohort_choice(data, field):
    form = AnalyticsForm(data)

    assert not form.is_valid()
    assert list(form.errors) == [field]


def test_it_refuses_pooling_small_cooperation_method_cohorts():
    # A case is in one cohort per method its referral seeks: pooled, it would count twice.
    form = AnalyticsForm({"dimension": "cooperation_method", "small": "group"})

    assert not form.is_valid()
    assert "cannot be pooled" in form.errors["small"][0]


@pytest.mark.parametrize(
    "field, value",
    [
        ("dimension", "colour"),
        ("dimension", "YEAR"),
        ("dimension", "year; DROP TABLE cases_case"),
        ("dimension", "<script>alert(1)</script>"),
        ("outcome", "bribery"),
        ("outcome", "entity__name"),
    ],
)
def test_it_refuses_a_dimension_or_outcome_it_does_not_know(field, value):
    assert errors(AnalyticsForm({field: value})) == {field: not_a_choice(value)}


def test_it_reads_the_last_of_a_repeated_dimension():
    form = AnalyticsForm(QueryDict("dimension=colour&dimension=team"))

    assert form.is_valid(), form.errors
    assert form.cleaned_data["dimension"] == "team"


# ------------------------------------------------------------------------------ cohorts


def test_it_saves_a_whole_list_or_draws_a_seeded_sample():
    whole = CohortForm({"name": " Referred 2017 ", "filter_query": "year=2017"})
    sample = CohortForm({"name": "Sample", "size": "25", "seed": "0"})

    assert whole.is_valid(), whole.errors
    assert whole.cleaned_data == {
        "name": "Referred 2017",
        "description": "",
        "filter_query": "year=2017",
        "size": None,
        "seed": None,
    }
    assert sample.is_valid(), sample.errors
    assert (sample.cleaned_data["size"], sample.cleaned_data["seed"]) == (25, 0)


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "   "}, "name", "This field is required."),
        ({"name": "x" * 201}, "name", too_long(200)),
        ({"size": "0"}, "size", "Ensure this value is greater than or equal to 1."),
        ({"size": "-5"}, "size", "Ensure this value is greater than or equal to 1."),
        ({"size": "100001"}, "size", "Ensure this value is less than or equal to 100000."),
        ({"size": "1e3"}, "size", "Enter a whole number."),
        ({"size": "ten"}, "size", "Enter a whole number."),
        ({"size": "5", "seed": "-1"}, "seed", "Ensure this value is greater than or equal to 0."),
        (
            {"size": "5", "seed": str(2**62 + 1)},
            "seed",
            f"Ensure this value is less than or equal to {2**62}.",
        ),
        ({"seed": "42"}, "size", "A seed is for drawing a sample: give its size."),
        ({"seed": "0"}, "size", "A seed is for drawing a sample: give its size."),
        (
            {"filter_query": "q=" + "a" * 1999},
            "filter_query",
            too_long(2000),
        ),
    ],
)
def test_it_refuses_a_malformed_cohort_with_what_is_wrong(data, field, message):
    form = CohortForm({"name": "Cohort", **data})

    assert errors(form) == {field: [message]}


@pytest.mark.parametrize("field", ["name", "description", "filter_query"])
def test_it_refuses_null_characters_in_a_cohort(field):
    form = CohortForm({"name": "Cohort", field: "Robotics\x00"})

    assert errors(form) == {field: [NO_NULLS]}


def test_it_keeps_markup_in_a_cohort_name_as_text_for_the_page_to_escape():
    name = "<script>alert(1)</script> & =HYPERLINK(1)"

    form = CohortForm({"name": name, "description": name})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == name
    assert form.cleaned_data["description"] == name


# ------------------------------------------------------------------------------ second coder


def test_it_offers_as_second_coder_the_teams_other_active_analysts(
    team, analyst, colleague, supervisor, other_analyst, no_role, staff
):
    carol = AnalystFactory(username="carol", teams=[team])
    AnalystFactory(username="gone", teams=[team], is_active=False)
    case = CaseFactory(team=team, assignee=analyst)

    offered = SecondCoderForm(case=case).fields["coder"].queryset

    assert list(offered) == [colleague, carol]


def test_it_offers_a_supervisor_who_is_also_an_analyst(team, supervisor):
    supervisor.groups.add(Group.objects.get(name=ANALYST))

    offered = SecondCoderForm(case=CaseFactory(team=team)).fields["coder"].queryset

    assert [user.username for user in offered] == ["sam"]


def test_it_offers_every_active_analyst_for_a_case_without_a_team(analyst, other_analyst):
    UserFactory(username="plain")

    offered = SecondCoderForm(case=CaseFactory(team=None)).fields["coder"].queryset

    assert [user.username for user in offered] == ["alice", "olga"]


@pytest.mark.parametrize("who", ["analyst", "other_analyst", "supervisor", "no_role", "staff"])
def test_it_refuses_a_second_coder_not_offered(request, team, analyst, who):
    case = CaseFactory(team=team, assignee=analyst)
    person = request.getfixturevalue(who)

    form = SecondCoderForm({"coder": person.pk}, case=case)

    assert errors(form) == {
        "coder": ["Select a valid choice. That choice is not one of the available choices."]
    }


@pytest.mark.parametrize("coder", ["", "bob", "1 OR 1=1", "999999"])
def test_it_refuses_a_second_coder_that_is_no_one(team, colleague, coder):
    form = SecondCoderForm({"coder": coder}, case=CaseFactory(team=team))

    assert list(errors(form)) == ["coder"]


# ------------------------------------------------------------------------------ reading


def test_it_reads_no_kind_ticked_as_no_outcome():
    form = SecondReadingForm({"note": " Nothing after the referral. "})

    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"positive_kinds": [], "note": "Nothing after the referral."}


def test_it_reads_the_kinds_ticked():
    form = SecondReadingForm({"positive_kinds": [JV, Finding.Kind.PARTNERSHIP]})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["positive_kinds"] == [JV, Finding.Kind.PARTNERSHIP]


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"positive_kinds": [JV, "bribery"]}, "positive_kinds", not_a_choice("bribery")[0]),
        ({"positive_kinds": ["<b>jv</b>"]}, "positive_kinds", not_a_choice("<b>jv</b>")[0]),
        (
            {"note": "x" * 5001},
            "note",
            too_long(5000),
        ),
        ({"note": "joint\x00venture"}, "note", NO_NULLS),
    ],
)
def test_it_refuses_a_reading_it_cannot_record(data, field, message):
    assert errors(SecondReadingForm(data)) == {field: [message]}


# ------------------------------------------------------------------------------ controls


def control_data(**values) -> dict:
    return {
        "name": "Gamma Sensors Ltd",
        "country": "GB",
        "kind": Entity.Kind.COMPANY,
        "technology_fields": "",
        "matched_case": "12",
        **values,
    }


@pytest.mark.parametrize("typed, code", [("GB", "GB"), ("gb", "GB"), (" United Kingdom ", "GB")])
def test_it_reads_a_controls_country_as_a_code_or_a_name(typed, code):
    form = ControlCaseForm(control_data(country=typed))

    assert form.is_valid(), form.errors
    assert form.cleaned_data["country"] == code
    assert form.cleaned_data["matched_case"] == 12


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "", "This field is required."),
        ("name", "x" * 301, too_long(300)),
        ("name", "Gamma\x00Sensors", NO_NULLS),
        ("country", "Narnia", "Not a country this tool knows; use the ISO code."),
        ("country", "", "This field is required."),
        ("kind", "spaceship", not_a_choice("spaceship")[0]),
        (
            "technology_fields",
            "x" * 501,
            too_long(500),
        ),
        ("matched_case", "abc", "Enter a whole number."),
        ("matched_case", "0", "Ensure this value is greater than or equal to 1."),
        ("matched_case", "12 OR 1=1", "Enter a whole number."),
        ("matched_case", "", "This field is required."),
        ("relaxed", ["everything"], not_a_choice("everything")[0]),
        ("match_note", "x" * 501, too_long(500)),
    ],
)
def test_it_refuses_a_malformed_control_with_what_is_wrong(field, value, message):
    assert errors(ControlCaseForm(control_data(**{field: value}))) == {field: [message]}
