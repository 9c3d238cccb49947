"""Time to the first positive finding, censored by what was actually searched (reads).

Population: the referred cases with an index date in the visible set, the same cases as
the rate table's referred rows. A case is *followed* when successful checks by sources
able to detect the outcome kind searched a stretch starting at its index date; only
followed cases enter the curve, positives and negatives alike, so the curve never admits
a case by its outcome. A followed case without a positive is censored at the end of that
continuous stretch; a followed case with a positive is an event at its first positive,
even one found outside the searched stretch (entered by hand, say): it was followed, and
its event is known. A case with no such coverage is "not followed" and counted apart.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.db.models import Min, QuerySet

from cases import rules
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
    kinds = {kind.strip() for kind in detects.split(",") if kind.strip()}
    return bool(kinds) if outcome == "any" else outcome in kinds


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
    first_positive = dict(
        positives.order_by()
        .values("case")
        .annotate(first=Min("event_date"))
        .values_list("case", "first")
    )
    spans = defaultdict(list)
    for case_id, first, last, detects in runs.values_list(
        "case", "searched_from", "searched_to", "detects"
    ).iterator(chunk_size=10000):
        if detects_outcome(detects, outcome):
            spans[case_id].append((first, last))
    return first_positive, spans


class _Follow:
    def __init__(self):
        self.durations: list[float] = []
        self.observed: list[bool] = []
        self.population = 0
        self.not_followed = 0

    def add(self, index_date, first_positive, reach) -> None:
        self.population += 1
        if reach is None:
            self.not_followed += 1
        elif first_positive is not None:
            self.durations.append(max((first_positive - index_date).days, 0))
            self.observed.append(True)
        else:
            self.durations.append(max((reach - index_date).days, 0))
            self.observed.append(False)


def time_to_outcome(cases: QuerySet[Case], *, by: str | None = None, outcome: str = "any"):
    """Kaplan-Meier curves per cohort, censored by coverage (see the module docstring)."""
    from cases.analytics.selectors import CohortSurvival, _labeller

    check_outcome(outcome)
    members = cases.filter(kind=Case.Kind.REFERRED, index_date__isnull=False)
    if by is not None:
        members = members.annotate(group=group_annotation(by))
    first_positive, spans = _inputs(cases, members, outcome)
    follows: dict = defaultdict(_Follow)
    rows = members.values_list("id", "index_date", *(["group"] if by else []))
    for pk, index_date, *group in rows.iterator(chunk_size=10000):
        reach = followed_until(spans.get(pk, ()), index_date)
        for key in cohort_keys(by, group[0] if group else None):
            follows[key].add(index_date, first_positive.get(pk), reach)
    label = _labeller(by, cases)
    result = [
        CohortSurvival(
            label(key),
            stats.kaplan_meier(f.durations, f.observed),
            len(f.durations),
            f.not_followed,
            f.durations,
            observed=f.observed,
            population=f.population,
            band=survival_stats.km_band(f.durations, f.observed),
            incidence=survival_stats.cumulative_incidence(f.durations, f.observed),
            median=survival_stats.km_median(f.durations, f.observed),
        )
        for key, f in follows.items()
        if not (by == "cohort" and key is None)
    ]
    return sorted(result, key=lambda s: (-s.watched, s.cohort))
