"""Cohorts of cases: which cohorts a case's value puts it in and how each is labelled,
and the outcome kinds a cohort is measured by. No database."""

import pytest

from cases.analytics import cohorts
from cases.models import AllianceBloc, CooperationMethod, Entity, Finding


def test_every_dimension_is_read_from_a_column_but_cooperation_methods():
    assert [by for by, column in cohorts.DIMENSIONS.items() if column is None] == [
        "cooperation_method"
    ]


def test_the_outcomes_are_any_and_each_finding_kind():
    assert ("any", *Finding.Kind.values) == cohorts.OUTCOME_KINDS
    cohorts.check_outcome("any")
    with pytest.raises(ValueError, match="espionage"):
        cohorts.check_outcome("espionage")


@pytest.mark.parametrize(
    "by, value, keys",
    [
        (None, "whatever", ["all"]),
        ("year", 2017, [2017]),
        ("year", None, [None]),
        ("cohort", "Mixed", ["Mixed"]),
        ("cooperation_method", ["joint_venture", "investment"], ["joint_venture", "investment"]),
        ("cooperation_method", [], []),
        ("cooperation_method", None, []),
    ],
)
def test_a_case_is_in_one_cohort_per_value_and_one_per_cooperation_method(by, value, keys):
    assert cohorts.cohort_keys(by, value) == keys


@pytest.mark.parametrize(
    "by, value, label",
    [
        (None, "all", "all"),
        ("year", 2017, "2017"),
        ("host_country", "GB", "GB"),
        ("bloc", AllianceBloc.NATO, AllianceBloc.NATO.label),
        ("entity_type", Entity.Kind.COMPANY, Entity.Kind.COMPANY.label),
        (
            "cooperation_method",
            CooperationMethod.PATENT_LICENCE,
            CooperationMethod.PATENT_LICENCE.label,
        ),
        ("cohort", "=HYPERLINK(1)", "=HYPERLINK(1)"),
        ("year", None, "(none)"),
        ("post", "", "(none)"),
        ("bloc", None, "(unknown)"),
        ("bloc", "", "(unknown)"),
    ],
)
def test_a_cohort_is_labelled_by_its_choice_or_its_value(by, value, label):
    assert cohorts.cohort_label(by, value) == label
