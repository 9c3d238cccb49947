"""The case page's time axis (cases/casework/timeline.py): where the referral and each
finding go, the year ticks, the rows that keep marks apart, and the undated findings."""

import datetime

import pytest

from cases.casework import timeline
from cases.models import Finding
from tests.factories import CaseFactory, FindingFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def case_referred_on(day: D | None):
    return CaseFactory(index_date=day, index_date_precision="day" if day else "")


def dated(case, *days: D) -> list[Finding]:
    return [FindingFactory(case=case, event_date=day, event_date_precision="day") for day in days]


def undated(case, count: int = 1) -> list[Finding]:
    return [
        FindingFactory(case=case, event_date=None, event_date_precision="") for _ in range(count)
    ]


def percent(day: D, axis: timeline.Timeline) -> float:
    return round(100 * (day - axis.start).days / (axis.end - axis.start).days, 2)


def test_it_lists_every_finding_as_undated_when_nothing_is_dated():
    case = case_referred_on(None)
    findings = undated(case, 2)

    axis = timeline.build(case, findings)

    assert axis.index_x is None
    assert axis.marks == []
    assert axis.ticks == []
    assert axis.undated == findings
    assert axis.start == axis.end == D.today()


def test_it_runs_from_the_first_january_of_the_referral_to_after_this_year():
    case = case_referred_on(D(2017, 5, 1))

    axis = timeline.build(case, dated(case, D(2019, 3, 1)))

    assert axis.start == D(2017, 1, 1)
    assert axis.end == D(D.today().year + 1, 1, 1)


def test_it_starts_at_a_finding_earlier_than_the_referral():
    case = case_referred_on(D(2017, 5, 1))

    axis = timeline.build(case, dated(case, D(2012, 8, 20), D(2019, 3, 1)))

    assert axis.start == D(2012, 1, 1)


def test_it_ends_after_a_finding_dated_beyond_this_year():
    case = case_referred_on(D(2017, 5, 1))
    later = D(D.today().year + 2, 6, 1)

    axis = timeline.build(case, dated(case, later))

    assert axis.end == D(later.year + 1, 1, 1)
    assert 0 < axis.marks[0].x < 100


def test_it_places_the_referral_and_the_findings_as_percentages_of_the_axis():
    case = case_referred_on(D(2017, 5, 1))
    before, after = dated(case, D(2015, 7, 1), D(2020, 1, 1))

    axis = timeline.build(case, [before, after])

    assert axis.index_x == percent(D(2017, 5, 1), axis)
    assert [(m.finding, m.x) for m in axis.marks] == [
        (before, percent(D(2015, 7, 1), axis)),
        (after, percent(D(2020, 1, 1), axis)),
    ]
    assert 0 < axis.marks[0].x < axis.index_x < axis.marks[1].x < 100


def test_it_puts_a_tick_on_each_first_january_from_start_to_end():
    case = case_referred_on(D(2017, 5, 1))

    axis = timeline.build(case, [])

    years = list(range(2017, D.today().year + 2))
    assert [year for _, year in axis.ticks] == years
    assert axis.ticks[0] == (0.0, 2017)
    assert axis.ticks[-1] == (100.0, D.today().year + 1)
    assert [x for x, _ in axis.ticks] == [percent(D(year, 1, 1), axis) for year in years]


def test_it_draws_the_referral_of_a_case_without_findings():
    case = case_referred_on(D(2017, 5, 1))

    axis = timeline.build(case, [])

    assert axis.index_x == percent(D(2017, 5, 1), axis)
    assert axis.marks == []
    assert axis.undated == []


def test_it_draws_the_findings_of_a_case_without_an_index_date():
    case = case_referred_on(None)

    axis = timeline.build(case, dated(case, D(2019, 3, 1)))

    assert axis.index_x is None
    assert axis.start == D(2019, 1, 1)
    assert len(axis.marks) == 1


def test_it_orders_the_marks_by_date_then_by_finding():
    case = case_referred_on(D(2017, 5, 1))
    late, early, same_day = dated(case, D(2021, 1, 1), D(2018, 1, 1), D(2018, 1, 1))

    axis = timeline.build(case, [late, same_day, early])

    assert [m.finding for m in axis.marks] == [early, same_day, late]


def test_it_puts_marks_closer_than_two_percent_on_separate_rows():
    case = case_referred_on(D(2010, 1, 1))
    findings = dated(case, D(2015, 3, 1), D(2015, 3, 2), D(2015, 3, 20), D(2019, 1, 1))

    axis = timeline.build(case, findings)

    assert [m.row for m in axis.marks] == [0, 1, 2, 0]
    assert axis.marks[3].x - axis.marks[0].x >= 2


def test_it_goes_back_to_the_first_row_once_a_mark_is_two_percent_on():
    case = case_referred_on(D(2010, 1, 1))
    first = D(2015, 3, 1)
    span = (D(D.today().year + 1, 1, 1) - D(2010, 1, 1)).days
    near = first + datetime.timedelta(days=span * 3 // 200)  # 1.5 % on
    clear = first + datetime.timedelta(days=span * 2 // 100 + 1)

    axis = timeline.build(case, dated(case, first, near, clear))

    assert [m.row for m in axis.marks] == [0, 1, 0]


def test_it_stacks_marks_on_the_same_day_on_at_most_six_rows():
    case = case_referred_on(D(2017, 5, 1))
    same_day = [D(2019, 3, 1)] * 8

    axis = timeline.build(case, dated(case, *same_day))

    assert [m.row for m in axis.marks] == [0, 1, 2, 3, 4, 5, 5, 5]
    assert len({m.x for m in axis.marks}) == 1


def test_it_keeps_the_undated_findings_apart_from_the_marks():
    case = case_referred_on(D(2017, 5, 1))
    [on_axis] = dated(case, D(2019, 3, 1))
    off_axis = undated(case, 2)

    axis = timeline.build(case, [off_axis[0], on_axis, off_axis[1]])

    assert [m.finding for m in axis.marks] == [on_axis]
    assert axis.undated == off_axis
