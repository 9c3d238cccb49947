"""The one-query counts behind the outcome rates: cases, reviewed and positive cases per
cohort value, over all cases or a subset, one row per cooperation method, and the median
days where the database computes it (PostgreSQL)."""

import datetime

import pytest
from django.db import connection

from cases import derived
from cases.analytics.figures import cohort_figures, figures_reused
from cases.analytics.services import cohort_save
from cases.models import Case, Finding
from tests.factories import CaseFactory, EntityFactory, ReferralFactory, TeamFactory

pytestmark = pytest.mark.django_db

D = datetime.date
REFERRED = Case.Kind.REFERRED
JV = Finding.Kind.JOINT_VENTURE


def referred(*, on: D, methods=("joint_venture",), status=Case.Status.MONITORING, team=None):
    entity = EntityFactory(country="GB")
    ReferralFactory(
        entity=entity, host_country="GB", date=on, date_precision="day", cooperation_methods=methods
    )
    case = CaseFactory(entity=entity, status=status, team=team)
    derived.case_index_dates_refresh(case_ids=[case.pk])
    case.refresh_from_db()
    return case


def finding(case: Case, *, days: int, state=Finding.ReviewState.CONFIRMED, country="CN"):
    derived.finding_create(
        case=case,
        kind=JV,
        counterparty_name="Counterparty",
        counterparty_country=country,
        event_date=case.index_date + datetime.timedelta(days=days),
        event_date_precision="day",
        review_state=state,
    )


def counts(figures: dict) -> dict:
    """The figures without the database's median, which only PostgreSQL gives."""
    return {
        group: (values["cases"], values["reviewed"], values["positive"])
        for group, values in figures.items()
    }


@pytest.fixture
def cases():
    """2017: a positive case (100 days), a concluded one, a rejected finding's and a
    lead's; 2019: a positive case (300 days) of another team. Reviewed are the concluded
    and the positive ones: a rejected finding alone leaves its case unreviewed."""
    team, other = TeamFactory(name="One"), TeamFactory(name="Two")
    finding(referred(on=D(2017, 5, 1), team=team), days=100)
    referred(on=D(2017, 6, 1), status=Case.Status.CONCLUDED, team=team)
    finding(referred(on=D(2017, 7, 1), team=team), days=10, state=Finding.ReviewState.REJECTED)
    finding(referred(on=D(2017, 8, 1), team=team), days=10, state=Finding.ReviewState.LEAD)
    two_methods = referred(on=D(2019, 1, 1), methods=("joint_venture", "investment"), team=other)
    finding(two_methods, days=300)
    return {"team": team, "other": other, "two_methods": two_methods}


def test_it_counts_cases_reviewed_and_positive_per_value(cases):
    figures = cohort_figures(Case.objects.all(), by="year", outcome="any", kind=REFERRED)

    assert counts(figures) == {2017: (4, 2, 1), 2019: (1, 1, 1)}


def test_without_a_dimension_everything_is_all(cases):
    figures = cohort_figures(Case.objects.all(), by=None, outcome="any", kind=REFERRED)

    assert counts(figures) == {"all": (5, 3, 2)}


def test_a_subset_counts_only_its_own_cases_and_findings(cases):
    subset = Case.objects.filter(team=cases["team"])

    figures = cohort_figures(subset, by=None, outcome="any", kind=REFERRED)

    assert counts(figures) == {"all": (4, 2, 1)}


def test_a_case_counts_once_in_each_method_of_its_index_referral(cases):
    figures = cohort_figures(
        Case.objects.all(), by="cooperation_method", outcome="any", kind=REFERRED
    )

    assert counts(figures) == {"joint_venture": (5, 3, 2), "investment": (1, 1, 1)}


def test_a_case_in_no_named_cohort_is_in_no_row(cases):
    pair = cohort_save(name="Pair", cases=Case.objects.filter(team=cases["team"])[:2], actor=None)

    figures = cohort_figures(Case.objects.all(), by="cohort", outcome="any", kind=REFERRED)

    assert list(figures) == [pair.pk]  # by id: names are unique per person only
    assert counts(figures)[pair.pk][0] == 2


def test_an_outcome_of_another_kind_is_not_positive(cases):
    figures = cohort_figures(Case.objects.all(), by=None, outcome="acquisition", kind=REFERRED)

    assert counts(figures) == {"all": (5, 1, 0)}


def test_no_cases_of_the_kind_no_figures(cases):
    assert cohort_figures(Case.objects.all(), by="year", outcome="any", kind="control") == {}
    assert cohort_figures(Case.objects.none(), by=None, outcome="any", kind=REFERRED) == {}


def test_an_unknown_outcome_is_refused(cases):
    with pytest.raises(ValueError, match="espionage"):
        cohort_figures(Case.objects.all(), by="year", outcome="espionage", kind=REFERRED)


def test_the_median_comes_from_the_database_only_on_postgresql(cases):
    figures = cohort_figures(Case.objects.all(), by=None, outcome="any", kind=REFERRED)

    if connection.vendor == "postgresql":
        assert figures["all"]["median_days"] == 200
    else:
        assert "median_days" not in figures["all"]


def test_within_figures_reused_a_question_asked_again_is_not_queried_again(
    cases, django_assert_num_queries
):
    everything, subset = Case.objects.all(), Case.objects.filter(team=cases["team"])
    with figures_reused():
        first = cohort_figures(everything, by="year", outcome="any", kind=REFERRED)
        with django_assert_num_queries(0):
            again = cohort_figures(everything, by="year", outcome="any", kind=REFERRED)
            # The control cases were counted by the same query.
            assert cohort_figures(everything, by="year", outcome="any", kind="control") == {}
        again[2017]["cases"] = 0  # a caller's change is its own
        # The totals too, where the database has GROUPING SETS.
        with django_assert_num_queries(0 if connection.vendor == "postgresql" else 1):
            total = cohort_figures(everything, by=None, outcome="any", kind=REFERRED)
        # Another set of cases or outcome is another question.
        with django_assert_num_queries(2):
            assert counts(cohort_figures(subset, by=None, outcome="any", kind=REFERRED)) == {
                "all": (4, 2, 1)
            }
            cohort_figures(everything, by="year", outcome="acquisition", kind=REFERRED)
        assert cohort_figures(everything, by="year", outcome="any", kind=REFERRED) == first

    assert counts(first) == {2017: (4, 2, 1), 2019: (1, 1, 1)}
    assert total == cohort_figures(everything, by=None, outcome="any", kind=REFERRED)
    with django_assert_num_queries(1):  # outside the block, every question is asked
        cohort_figures(everything, by="year", outcome="any", kind=REFERRED)


@pytest.mark.parametrize("by", ["year", "entity_type", "cooperation_method", "cohort", "team"])
def test_figures_reused_answers_as_each_question_alone(cases, by):
    """Both kinds and the totals from one query give what each question asked alone does."""
    control = CaseFactory(
        kind=Case.Kind.CONTROL, matched_case=cases["two_methods"], team=cases["team"]
    )
    derived.case_index_dates_refresh(case_ids=[control.pk])
    finding(Case.objects.get(pk=control.pk), days=50)
    cohort_save(name="Pair", cases=Case.objects.filter(team=cases["team"])[:2], actor=None)
    for everything in (Case.objects.all(), Case.objects.filter(team__isnull=False)):
        questions = [(by, REFERRED), (by, "control"), (None, REFERRED), (None, "control")]
        alone = [
            cohort_figures(everything, by=dimension, outcome="any", kind=kind)
            for dimension, kind in questions
        ]
        with figures_reused():
            together = [
                cohort_figures(everything, by=dimension, outcome="any", kind=kind)
                for dimension, kind in questions
            ]

        assert together == alone
        assert alone[3]["all"]["cases"] == 1  # the control case counted
