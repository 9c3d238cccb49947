"""Time to the first positive finding, censored by what was actually searched (reads).

Population: the referred cases with an index date in the visible set, the same cases as
the rate table's referred rows. A case is *followed* when successful checks by sources
able to detect the outcome kind searched a stretch starting at its index date; only
followed cases enter the curve, positives and negatives alike, so the curve never admits
a case by its outcome. A followed case without a positive is censored at the end of that
continuous stretch; a followed case with a positive is an event at its first positive,
even one found outside the searched stretch (entered by hand, say): it was followed, and
its event is known. A case with no such coverage is "not followed" and counted apart.

Coarse dates: a duration from the index date to the first positive's date runs from the
first day of one period to the first day of another, and either may be a year long. Each
case therefore also gets the earliest and the latest duration its dates allow (from the
end of the index period to the start of the finding's, from the start of the index
period to the end of the finding's; censoring likewise from the end and from the start
of the index period), and the cumulative incidence is given under both datings as well.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from functools import lru_cache

from django.db.models import QuerySet

from cases import normalize, rules
from cases.analytics import stats, survival_stats
from cases.analytics.cohorts import check_outcome, cohort_keys, group_annotation
from cases.models import Case, CheckRun

# Sources search from a span boundary, so a stretch that starts a few days after the index
# date still follows the case from its index date: nothing happens to a case in a week.
START_TOLERANCE_DAYS = 7
# Two spans a day apart (one ends on the 4th, the next starts on the 5th) are continuous.
GAP_DAYS = 1


def followed_until(spans, index_date: date) -> date | None:
    """The last day of the continuous stretch of searched days from `index_date`, or None
    when no span starts on or before it (within START_TOLERANCE_DAYS)."""
    reach = None
    for first, last in sorted(spans):
        if reach is None:
            if first > index_date + timedelta(days=START_TOLERANCE_DAYS):
                break
            if last < index_date:
                continue
            reach = last
        elif first > reach + timedelta(days=GAP_DAYS):
            break
        else:
            reach = max(reach, last)
    return reach


def detects_outcome(detects: str, outcome: str) -> bool:
    kinds = _detected_kinds(detects)
    return bool(kinds) if outcome == "any" else outcome in kinds


@lru_cache(maxsize=256)
def _detected_kinds(detects: str) -> frozenset[str]:
    # A handful of distinct strings over 100,000s of runs: parsed once each.
    return frozenset(kind.strip() for kind in detects.split(",") if kind.strip())


def _inputs(cases: QuerySet[Case], members: QuerySet[Case], outcome: str):
    positives = rules.positive_findings(outcome)
    runs = CheckRun.objects.filter(
        status__in=rules.SUCCESSFUL_CHECK_STATES,
        searched_from__isnull=False,
        searched_to__isnull=False,
    )
    if cases.query.where:
        positives = positives.filter(case__in=members.values("id"))
        runs = runs.filter(case__in=members.values("id"))
    # The first positive's date lies between the earliest start and the earliest end
    # among the positive findings' periods.
    first_positive: dict = {}
    for case_id, day, precision in positives.order_by().values_list(
        "case", "event_date", "event_date_precision"
    ):
        start, end = day, normalize.period_end(day, precision)
        known = first_positive.get(case_id)
        first_positive[case_id] = (
            (start, end) if known is None else (min(known[0], start), min(known[1], end))
        )
    spans = defaultdict(list)
    # Plain lists, not .iterator(): on PostgreSQL a server-side cursor fetched in chunks
    # cost more than holding these few columns in memory.
    for case_id, first, last, detects in runs.values_list(
        "case", "searched_from", "searched_to", "detects"
    ):
        if detects_outcome(detects, outcome):
            spans[case_id].append((first, last))
    return first_positive, spans


# What each case is in the survival download.
EVENT, CENSORED, NOT_FOLLOWED = "event", "censored", "not followed"


class _Follow:
    def __init__(self):
        self.durations: list[float] = []  # period start to period start
        self.earliest: list[float] = []  # the shortest the dates allow
        self.latest: list[float] = []  # the longest
        self.observed: list[bool] = []
        self.population = 0
        self.not_followed = 0
        # (case id, days, earliest, latest, what it is), days None when not followed
        self.members: list[tuple] = []

    def add(self, pk: int, index: tuple[date, date], first_positive, reach) -> None:
        self.population += 1
        start, end = index
        if reach is None:
            self.not_followed += 1
            self.members.append((pk, None, None, None, NOT_FOLLOWED))
            return
        if first_positive is not None:
            low, high = first_positive[0] - end, first_positive[1] - start
            point, state = first_positive[0] - start, EVENT
        else:
            low, high = reach - end, reach - start
            point, state = reach - start, CENSORED
        days, earliest, latest = (max(span.days, 0) for span in (point, low, high))
        self.durations.append(days)
        self.earliest.append(earliest)
        self.latest.append(latest)
        self.observed.append(state == EVENT)
        self.members.append((pk, days, earliest, latest, state))


def time_to_outcome(cases: QuerySet[Case], *, by: str | None = None, outcome: str = "any"):
    """Kaplan-Meier curves per cohort, censored by coverage (see the module docstring)."""
    return curves_and_overall(cases, by=by, outcome=outcome)[0]


def curves_and_overall(cases: QuerySet[Case], *, by: str | None, outcome: str = "any"):
    """The curves per cohort of `by` and the curve over all the cases, from one read of
    the cases, findings and check runs (the page shows both)."""
    from cases.analytics.selectors import CohortSurvival, _labeller

    check_outcome(outcome)
    members = cases.filter(kind=Case.Kind.REFERRED, index_date__isnull=False)
    if by is not None:
        members = members.annotate(group=group_annotation(by))
    first_positive, spans = _inputs(cases, members, outcome)
    follows: dict = defaultdict(_Follow)
    overall = _Follow()
    rows = members.values_list("id", "index_date", "index_period_end", *(["group"] if by else []))
    for pk, index_date, index_end, *group in rows:
        reach = followed_until(spans.get(pk, ()), index_date)
        index = (index_date, index_end or index_date)
        for key in cohort_keys(by, group[0] if group else None):
            follows[key].add(pk, index, first_positive.get(pk), reach)
        if by is not None:
            overall.add(pk, index, first_positive.get(pk), reach)
    if by is None:
        overall = follows.get("all")
    label = _labeller(by, cases)

    def curve(name: str, f: _Follow) -> CohortSurvival:
        return CohortSurvival(
            name,
            stats.kaplan_meier(f.durations, f.observed),
            len(f.durations),
            f.not_followed,
            f.durations,
            observed=f.observed,
            population=f.population,
            band=survival_stats.km_band(f.durations, f.observed),
            incidence=survival_stats.cumulative_incidence(f.durations, f.observed),
            median=survival_stats.km_median(f.durations, f.observed),
            incidence_bounds=survival_stats.incidence_bounds(f.earliest, f.latest, f.observed),
            members=f.members,
        )

    result = [
        curve(label(key), f) for key, f in follows.items() if not (by == "cohort" and key is None)
    ]
    result.sort(key=lambda s: (-s.watched, s.cohort))
    whole = None
    if overall is not None and overall.population:
        whole = result[0] if by is None else curve("all", overall)
    return result, whole
