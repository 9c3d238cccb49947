"""Reads of the follow-up checks: which checks are due, a batch's summary, a case's check
history per source.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, F, Max, OuterRef, Q, Sum

from cases import rules
from cases.checks import wording
from cases.checks.sources import get_sources
from cases.models import Case, CheckRun

# How soon a check that failed (error, rate limited) is tried again.
RETRY_FAILED_AFTER = timedelta(hours=6)


def coverage_end(
    *, case_id: int, source: str, start: date, searched_as: str | None = None
) -> date | None:
    """The last day this source has searched for this case without a gap from `start`,
    over all its runs (finished or cut short); None when `start` itself is not covered.
    With `searched_as`, only runs that searched by those names and identifiers count."""
    return coverage(case_id=case_id, source=source, start=start, searched_as=searched_as)[0]


def coverage(
    *, case_id: int, source: str, start: date, searched_as: str | None = None
) -> tuple[date | None, date | None]:
    """(coverage_end, resume_after): the last day searched without a gap from `start`,
    and, when the latest run that searched anything was cut short, the last day that run
    read (the next run resumes the day after it; after a complete run it may overlap)."""
    runs = CheckRun.objects.filter(case_id=case_id, source=source, searched_from__isnull=False)
    if searched_as is not None:
        runs = runs.filter(searched_as=searched_as)
    rows = list(runs.order_by("id").values_list("searched_from", "searched_to", "cut_short"))
    reach = _reach([(first, last) for first, last, _ in rows], start)
    if reach is None or not rows:
        return reach, None
    _, latest_to, latest_cut = rows[-1]
    return reach, (latest_to if latest_cut and latest_to <= reach else None)


def _reach(spans: Iterable[tuple[date, date]], start: date) -> date | None:
    reach = start - timedelta(days=1)
    for first, last in sorted(spans):
        if first > reach + timedelta(days=1):
            break
        reach = max(reach, last)
    return reach if reach >= start else None


def checks_due(
    *,
    now: datetime,
    sources: Iterable[str],
    case_ids: Iterable[int] | None = None,
    within_seconds: float | None = None,
) -> list[tuple[int, str]]:
    """Return the (case id, source) pairs whose last completed check is older than the
    source's interval; one query per source.

    Closed cases are left out. A check that is queued or running is not due again, and
    one that failed is retried after RETRY_FAILED_AFTER rather than on every pass; one
    whose last run was cut short is due at once, to search the rest.

    Cases never searched come first, then those whose search reaches least far. With
    `within_seconds` (the scheduler's period) each source gets only as many as its rate
    limit can serve before the next pass (`Source.capacity`), so a slow source's backlog
    is worked oldest first instead of piling up in the broker.
    """
    due = []
    for name in sources:
        source = get_sources()[name]
        done = [CheckRun.Status.OK, CheckRun.Status.NO_RESULTS, CheckRun.Status.SKIPPED]
        runs = CheckRun.objects.filter(case=OuterRef("pk"), source=name)
        cases = (
            Case.objects.exclude(status=Case.Status.CLOSED)
            .annotate(
                last_done=Max(
                    "check_runs__finished_at",
                    filter=Q(check_runs__source=name, check_runs__status__in=done),
                ),
                last_tried=Max("check_runs__finished_at", filter=Q(check_runs__source=name)),
                pending=Exists(
                    runs.filter(status__in=[CheckRun.Status.QUEUED, CheckRun.Status.RUNNING])
                ),
            )
            .annotate(
                # The last completed run stopped before the end of its period (a page
                # limit): the rest is due now, not an interval later.
                resume=Exists(
                    runs.filter(status__in=rules.SUCCESSFUL_CHECK_STATES, cut_short=True).exclude(
                        Exists(
                            CheckRun.objects.filter(
                                case=OuterRef("case"),
                                source=name,
                                finished_at__isnull=False,
                                pk__gt=OuterRef("pk"),
                            )
                        )
                    )
                )
            )
            .filter(
                Q(resume=True)
                | (
                    (Q(last_done__isnull=True) | Q(last_done__lt=now - source.interval))
                    & (Q(last_tried__isnull=True) | Q(last_tried__lt=now - RETRY_FAILED_AFTER))
                ),
                pending=False,
            )
        )
        if case_ids is not None:
            cases = cases.filter(id__in=list(case_ids))
        cases = cases.annotate(
            reached=Max("check_runs__searched_to", filter=Q(check_runs__source=name))
        ).order_by(F("reached").asc(nulls_first=True), "id")
        ids = cases.values_list("id", flat=True)
        limit = source.capacity(within_seconds) if within_seconds else None
        if limit is not None:
            # What is still queued or running counts against this pass's share.
            waiting = CheckRun.objects.filter(
                source=name, status__in=[CheckRun.Status.QUEUED, CheckRun.Status.RUNNING]
            ).count()
            limit -= waiting
            if limit <= 0:
                continue
        due.extend((case_id, name) for case_id in (ids[:limit] if limit else ids))
    return due


def check_summary(check_run_ids: Iterable[int]) -> dict[str, dict[str, int]]:
    """Per source: how many runs ended in each status, and the leads they created."""
    rows = (
        CheckRun.objects.filter(id__in=list(check_run_ids))
        .values("source", "status")
        .annotate(runs=Count("id"), leads=Sum("leads_created"))
        .order_by("source", "status")
    )
    summary: dict[str, dict[str, int]] = {}
    for row in rows:
        entry = summary.setdefault(row["source"], {"leads": 0})
        entry[row["status"]] = row["runs"]
        entry["leads"] += row["leads"] or 0
    return summary


@dataclass
class SourceHistory:
    source: str
    runs: list[CheckRun]
    last_success: datetime | None
    last_error: str
    # The period searched without a gap from the first day any run searched; None: never.
    searched_from: date | None = None
    searched_to: date | None = None
    # The latest run in words (cases.checks.wording): what the case page's panel shows.
    now: wording.RunWords | None = None

    @property
    def pending(self) -> bool:
        return self.now is not None and not self.now.finished


def words_of(run: CheckRun) -> wording.RunWords:
    return wording.run_words(
        status=run.status,
        error=run.error,
        leads=run.leads_created,
        sent=run.published_at is not None,
    )


def case_check_history(case: Case, *, per_source: int = 5) -> list[SourceHistory]:
    """Each source's latest runs for the case, its last success and its last error."""
    by_source: dict[str, list[CheckRun]] = defaultdict(list)
    for run in CheckRun.objects.filter(case=case).order_by("source", "-queued_at", "-id"):
        by_source[run.source].append(run)
    history = []
    for source, runs in sorted(by_source.items()):
        success = next(
            (r.finished_at for r in runs if r.status in rules.SUCCESSFUL_CHECK_STATES), None
        )
        failed = next(
            (r for r in runs if r.status in (CheckRun.Status.ERROR, CheckRun.Status.RATE_LIMITED)),
            None,
        )
        error = words_of(failed).detail if failed else ""
        starts = [r.searched_from for r in runs if r.searched_from]
        first = min(starts) if starts else None
        spans = [(r.searched_from, r.searched_to) for r in runs if r.searched_from]
        reach = _reach(spans, first) if first else None
        for run in runs[:per_source]:
            run.words = words_of(run)
        history.append(
            SourceHistory(
                source, runs[:per_source], success, error, first, reach, now=runs[0].words
            )
        )
    return history


def case_pending_sources(case: Case) -> set[str]:
    """Sources with a run of this case queued or running now."""
    return set(
        CheckRun.objects.filter(
            case=case, status__in=[CheckRun.Status.QUEUED, CheckRun.Status.RUNNING]
        ).values_list("source", flat=True)
    )
