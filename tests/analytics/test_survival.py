"""Time to outcome censored by coverage: only cases followed from their index date by a
source able to detect the outcome enter the curve, positives and negatives alike."""

import datetime

import pytest

from cases.analytics import stats
from cases.analytics import survival as survival_module
from cases.analytics.selectors import time_to_outcome
from cases.models import Case, CheckRun
from tests.analytics.test_selectors import PARTNERSHIP, finding, positive_case, referred
from tests.factories import CheckRunFactory

pytestmark = pytest.mark.django_db

D = datetime.date
INDEX = D(2017, 5, 1)


def after(days: int) -> D:
    return INDEX + datetime.timedelta(days=days)


def searched(case, first: D, last: D, *, status=CheckRun.Status.OK, detects="joint_venture"):
    CheckRunFactory(
        case=case, status=status, searched_from=first, searched_to=last, detects=detects
    )


def test_followed_until_unions_spans_with_a_one_day_gap():
    spans = [(after(0), after(99)), (after(100), after(200)), (after(202), after(300))]
    assert survival_module.followed_until(spans, INDEX) == after(200)


def test_followed_until_needs_a_span_from_the_index_date():
    assert survival_module.followed_until([(after(30), after(300))], INDEX) is None
    # within the stated tolerance the stretch still starts at the index date
    tolerance = survival_module.START_TOLERANCE_DAYS
    assert survival_module.followed_until([(after(tolerance), after(300))], INDEX) == after(300)
    # a span that began before the index date covers it
    assert survival_module.followed_until([(after(-400), after(50))], INDEX) == after(50)


def test_time_to_outcome_censors_at_the_end_of_the_searched_stretch():
    event = positive_case(30, on=INDEX)
    searched(event, after(0), after(10))  # followed; the event is counted though found later
    censored = referred(on=INDEX)
    searched(censored, after(-5), after(100))
    searched(censored, after(101), after(250))
    searched(censored, after(400), after(900))  # after a gap: not continuous follow-up
    searched(censored, after(251), after(600), status=CheckRun.Status.ERROR)  # not a success
    blind_source = referred(on=INDEX)
    searched(
        blind_source, after(0), after(700), detects=""
    )  # a source that detects no finding kind
    late_news = referred(on=INDEX)
    searched(late_news, after(900), after(1000))  # recent windows only: index not covered
    never_checked_positive = positive_case(5, on=INDEX)  # not admitted by its outcome

    [curve] = time_to_outcome(Case.objects.all())

    assert never_checked_positive
    assert curve.population == 5
    assert (curve.watched, curve.unwatched) == (2, 3)
    assert sorted(zip(curve.durations, curve.observed, strict=True)) == [(30, True), (250, False)]
    assert curve.curve == stats.kaplan_meier([30, 250], [True, False])


def test_time_to_outcome_reads_each_sources_kinds_per_outcome():
    case = referred(on=INDEX)
    finding(case, kind=PARTNERSHIP, on=after(40))
    searched(case, after(0), after(500), detects="partnership")

    [any_kind] = time_to_outcome(Case.objects.all())
    [jv] = time_to_outcome(Case.objects.all(), outcome="joint_venture")
    [partnership] = time_to_outcome(Case.objects.all(), outcome="partnership")

    assert (any_kind.durations, any_kind.observed) == ([40], [True])
    assert (jv.watched, jv.unwatched) == (0, 1)  # no source searched for joint ventures
    assert (partnership.durations, partnership.observed) == ([40], [True])


def test_coarse_dates_give_each_case_its_earliest_and_latest_duration():
    """Worked by hand. A: referred "2017", positive "2019-03": 789 days from period start
    to period start, 425 at the earliest (2017-12-31 to 2019-03-01), 819 at the latest
    (2017-01-01 to 2019-03-31). B: censored after 1096 days. C: positive after 276 days."""
    from cases import derived

    a = referred(on=D(2017, 1, 1), precision="year")
    derived.finding_create(
        case=a,
        kind="joint_venture",
        counterparty_name="Shenzhen Example Co.",
        counterparty_country="CN",
        event_date=D(2019, 3, 1),
        event_date_precision="month",
        review_state="confirmed",
    )
    b = referred(on=INDEX)
    c = positive_case(276, on=INDEX)
    for case in (a, b, c):
        searched(case, D(2017, 1, 1), D(2020, 5, 1))

    [curve] = time_to_outcome(Case.objects.all())

    assert sorted(curve.members) == sorted(
        [
            (a.pk, 789, 425, 819, "event"),
            (b.pk, 1096, 1096, 1096, "censored"),
            (c.pk, 276, 276, 276, "event"),
        ]
    )
    one, two, five = curve.incidence_bounds
    # 1 y: only C; 2 y: C then A (2 of 3 left at A: 1 - 2/3 * 1/2) at the earliest, A
    # after 2 y at the latest; 5 y: past the longest follow-up.
    assert (one.earliest, one.latest) == (pytest.approx(1 / 3), pytest.approx(1 / 3))
    assert (two.earliest, two.latest) == (pytest.approx(2 / 3), pytest.approx(1 / 3))
    assert (five.earliest, five.latest) == (None, None)
    assert curve.incidence[1].estimate == pytest.approx(1 / 3)  # A at 789 days


@pytest.mark.parametrize("by", ["year", "host_country", "cooperation_method"])
def test_the_pages_overall_curve_read_with_the_cohorts_is_the_curve_over_all_cases(by):
    event = positive_case(30, on=INDEX, country="US", methods=("joint_venture", "patent_licence"))
    searched(event, after(0), after(10))
    censored = referred(on=D(2018, 2, 1), country="GB")
    searched(censored, D(2018, 2, 1), D(2019, 6, 1))
    referred(on=INDEX, country="GB")  # not followed

    curves, overall = survival_module.curves_and_overall(Case.objects.all(), by=by)
    [alone] = time_to_outcome(Case.objects.all())

    assert curves == time_to_outcome(Case.objects.all(), by=by)
    assert overall.cohort == alone.cohort == "all"
    assert (overall.population, overall.watched, overall.unwatched) == (3, 2, 1)
    assert overall.curve == alone.curve
    assert overall.members == alone.members
    assert overall.incidence == alone.incidence


def test_no_cases_no_curves_and_no_overall_curve():
    assert survival_module.curves_and_overall(Case.objects.all(), by="year") == ([], None)
