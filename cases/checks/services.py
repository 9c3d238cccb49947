"""Writes of the follow-up checks: queueing check runs, claiming and running one, filing
its hits as leads.
"""

import logging
import time
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases import rules
from cases.checks import selectors
from cases.checks.http import HttpClient, HttpError, PermanentHttpError, RateLimitedError
from cases.checks.sources import Hit, Source, SourceSkipped, get_sources
from cases.models import Case, CheckRun, Finding
from cases.notifications.services import notify_new_leads
from cases.webhooks import services as webhook_services

logger = logging.getLogger(__name__)


def checks_queue(*, pairs: Iterable[tuple[int, str]]) -> list[int]:
    """Record a queued CheckRun for each (case id, source name); return their ids.

    The rows exist before any task runs, so a check that is queued but never run is
    visible, and a re-delivered task finds its own row instead of making a second one.
    """
    now = timezone.now()
    runs = CheckRun.objects.bulk_create(
        [CheckRun(case_id=case_id, source=source, queued_at=now) for case_id, source in pairs],
        batch_size=1000,
    )
    if runs and runs[0].pk is None:  # backends that return no ids from bulk inserts
        return list(
            CheckRun.objects.filter(queued_at=now, status=CheckRun.Status.QUEUED).values_list(
                "id", flat=True
            )
        )
    return [run.pk for run in runs]


def _check_run_claim(check_run_id: int, delivery: str) -> bool:
    """Mark the run as running, unless it finished or another message holds it.

    A conditional UPDATE, so two deliveries never both run the check: a queued run is
    taken by whichever message comes first; a running one only by the same message
    delivered again after its worker died (`delivery`, the task's id). A second message
    for the same run (the reaper sent it again while the first was still in the broker)
    finds it running or finished and does nothing.
    """
    now = timezone.now()
    return bool(
        CheckRun.objects.filter(
            Q(status=CheckRun.Status.QUEUED) | Q(status=CheckRun.Status.RUNNING, delivery=delivery),
            id=check_run_id,
        ).update(
            status=CheckRun.Status.RUNNING,
            attempts=F("attempts") + 1,
            started_at=Coalesce("started_at", Value(now)),
            claimed_at=now,
            delivery=delivery,
        )
    )


def _check_run_finish(run: CheckRun, status: str, *, error: str = "", **values) -> CheckRun:
    run.status = status
    run.error = error[:5000]
    run.finished_at = timezone.now()
    for name, value in values.items():
        setattr(run, name, value)
    run.save(update_fields=["status", "error", "finished_at", *values])
    return run


def _skip_reason(source: Source, case: Case) -> str:
    reason = source.skip_reason(case.entity)
    if not reason and case.index_date is None:
        reason = "the case has no referral date to search from"
    return reason


def _asked(client) -> str:
    """What the source had asked before it failed, for whoever looks into it."""
    return "\n".join(getattr(client, "asked", []))[:5000]


def _unexpected(exc: Exception) -> str:
    """A one-line reason for a failure nobody planned for: what failed, not a traceback."""
    detail = " ".join(str(exc).split())[:300]
    return f"failed: {type(exc).__name__}" + (f": {detail}" if detail else "")


def _failure(exc: SourceSkipped | HttpError) -> tuple[str, str]:
    """The status and error a search that raised records."""
    if isinstance(exc, SourceSkipped):
        return CheckRun.Status.SKIPPED, str(exc)
    if isinstance(exc, RateLimitedError):
        return CheckRun.Status.RATE_LIMITED, str(exc)
    if isinstance(exc, PermanentHttpError):
        return CheckRun.Status.ERROR, f"permanent: {exc}"
    return CheckRun.Status.ERROR, f"transient: {exc}"


def check_period(*, source: Source, case: Case, today: date) -> tuple[date, date] | None:
    """The period a check of this case by this source searches, or None when there is none.

    A first check searches from the referral (or the source's archive start) to today. A
    check after one cut short resumes the day after the last day read. After a complete
    check, a source that lists dated items starts a little before the last day searched
    (items indexed late); one that reads a record reads the whole period again.
    """
    start = case.index_date
    if source.archive_start and source.archive_start > start:
        start = source.archive_start
    if start > today:
        return None
    covered, resume_after = selectors.coverage(
        case_id=case.pk,
        source=source.name,
        start=start,
        searched_as=source.searched_as(case.entity),
    )
    if covered is None:
        return start, today
    if resume_after is not None:
        return min(resume_after + timedelta(days=1), today), today
    if source.incremental:
        return min(max(start, covered - source.recheck_overlap), today), today
    return start, today


class _Attempt:
    """What a check has asked so far, for the run's query when it fails."""

    def __init__(self, client: HttpClient | None):
        self.client = client
        self.asked: list[str] = []

    def query(self) -> str:
        return _joined([*self.asked, _asked(self.client)])


def check_execute(
    *, check_run_id: int, client: HttpClient | None = None, delivery: str = ""
) -> CheckRun:
    """Run one queued check: ask the source span by span, file its hits as leads, record
    the period searched.

    `delivery` names the task message that runs it (see _check_run_claim).

    Each span's leads and the run's new `searched_to` commit together, so a run cut short
    (a 429, a worker lost, a page limit) keeps what it read and the next run resumes after
    it. Idempotent: a finished run is left alone, and leads are unique per case, source and
    external id (a rejected lead is never raised again). The status is set last, so "last
    checked" only moves once every span is in.
    """
    claimed = _check_run_claim(check_run_id, delivery)
    run = CheckRun.objects.select_related("case__entity").get(id=check_run_id)
    if not claimed:
        return run
    started = time.monotonic()
    source = get_sources().get(run.source)
    if source is None:
        return _check_run_finish(run, CheckRun.Status.ERROR, error=f"unknown source {run.source!r}")
    run.detects = ",".join(source.detects)[:300]
    run.searched_as = source.searched_as(run.case.entity)
    attempt = _Attempt(client)
    try:
        return _check_run(run, source, attempt, delivery=delivery, started=started)
    except (SourceSkipped, HttpError) as exc:
        status, error = _failure(exc)
        return _check_run_finish(
            run, status, error=error, query=attempt.query(), **_unfinished(run)
        )
    except Exception as exc:
        # Anything else (a parser's KeyError, the rate limiter's Redis going away, a
        # value the database refuses, a soft time limit) must still finish the run: a run
        # left "running" is never due again. The leads of spans already read stay, with
        # the period they cover; the traceback goes to the log, a readable reason to the run.
        logger.exception("Check %s (%s, case %s) failed", run.pk, run.source, run.case_id)
        return _check_run_finish(
            run,
            CheckRun.Status.ERROR,
            error=_unexpected(exc),
            query=attempt.query(),
            **_unfinished(run),
        )


def _unfinished(run: CheckRun) -> dict:
    """The fields a failed run records: its kinds, and whether it read part of its period
    (then the next run resumes after it)."""
    return {"detects": run.detects, "cut_short": run.searched_to is not None}


def _check_run(
    run: CheckRun, source: Source, attempt: _Attempt, *, delivery: str, started: float
) -> CheckRun:
    case = run.case
    reason = _skip_reason(source, case)
    period = None if reason else check_period(source=source, case=case, today=timezone.now().date())
    if not reason and period is None:
        reason = "nothing to search: the referral (or the source's archive) starts after today"
    if reason:
        return _check_run_finish(run, CheckRun.Status.SKIPPED, error=reason, detects=run.detects)
    attempt.client = client = attempt.client or source.client()
    spans = source.windows(*period)
    if source.batch_size > 1 and _batchable(period):
        companions = _companions(run, source, delivery=delivery or f"batch-{run.pk}")
        if companions:
            return _batch_execute([(run, period), *companions], source, client)
    found = False
    budget = settings.CELERY_TASK_SOFT_TIME_LIMIT * 0.6
    for number, (first, last) in enumerate(spans):
        if number and time.monotonic() - started > budget:
            # Stop between spans, well before the task's soft time limit: what was read
            # is recorded and the rest is due at once, instead of the run dying mid-span.
            attempt.asked.append(f"(stopped before {first} for time; the rest on the next run)")
            run.cut_short = True
            break
        result = source.search(case.entity, first, client, until=last)
        found = found or bool(result.hits)
        attempt.asked.append(result.query)
        reached = min(result.searched_to or last, last)
        begun = result.searched_from or first
        if reached >= begun:
            _span_record(run, source, result, first=begun, to=reached)
        if reached < last:
            # The source stopped short of the span's end (a page limit): coverage must
            # stay without gaps, so the rest waits for the next run, which is due at once.
            attempt.asked.append(f"(searched to {reached}; the rest on the next run)")
            run.cut_short = True
            break
    status = CheckRun.Status.OK if found else CheckRun.Status.NO_RESULTS
    return _check_run_finish(
        run, status, query=_joined(attempt.asked), cut_short=run.cut_short, detects=run.detects
    )


BATCH_PERIOD = timedelta(days=62)  # a re-check's period: one batch whatever its spans


def _batchable(period: tuple[date, date]) -> bool:
    return period[1] - period[0] <= BATCH_PERIOD


def _companions(
    run: CheckRun, source: Source, *, delivery: str
) -> list[tuple[CheckRun, tuple[date, date]]]:
    """Other re-checks of the same source this delivery takes to run in one batch with
    `run`: queued ones, or ones this same delivery claimed before its worker was lost,
    each claimed by the conditional UPDATE a delivered message uses, so a companion's own
    message, arriving later, finds it finished and does nothing."""
    today = timezone.now().date()
    picked = []
    candidates = (
        CheckRun.objects.filter(
            Q(status=CheckRun.Status.QUEUED) | Q(status=CheckRun.Status.RUNNING, delivery=delivery),
            source=source.name,
        )
        .exclude(pk=run.pk)
        .select_related("case__entity")
        .order_by("queued_at", "id")[: source.batch_size * 3]
    )
    for other in candidates:
        if len(picked) == source.batch_size - 1:
            break
        if _skip_reason(source, other.case):
            continue
        period = check_period(source=source, case=other.case, today=today)
        if period is None or not _batchable(period):
            continue  # a first check: its own spans, on its own
        if _check_run_claim(other.pk, delivery):
            other.status = CheckRun.Status.RUNNING
            other.delivery = delivery
            other.detects = ",".join(source.detects)[:300]
            other.searched_as = source.searched_as(other.case.entity)
            picked.append((other, period))
    return picked


def _batch_execute(
    pairs: list[tuple[CheckRun, tuple[date, date]]], source: Source, client: HttpClient
) -> CheckRun:
    """Run re-checks together: one search_batch over the union of their periods, each run
    filing only what falls in its own period. Every run of the batch is finished, whatever
    fails. Return the first run."""
    first = min(period[0] for _, period in pairs)
    last = max(period[1] for _, period in pairs)
    finished: set[int] = set()
    try:
        results = source.search_batch(
            [run.case.entity for run, _ in pairs], first, client, until=last
        )
        for (run, (own_first, own_last)), result in zip(pairs, results, strict=True):
            _batch_member_finish(run, source, result, own_first, own_last)
            finished.add(run.pk)
    except (SourceSkipped, HttpError) as exc:
        status, error = _failure(exc)
        for run, _ in pairs:
            if run.pk not in finished:
                _check_run_finish(
                    run, status, error=error, query=_asked(client), **_unfinished(run)
                )
    except Exception as exc:
        logger.exception("Batch of %s checks (%s) failed", len(pairs), source.name)
        for run, _ in pairs:
            if run.pk not in finished:
                _check_run_finish(
                    run, CheckRun.Status.ERROR, error=_unexpected(exc), **_unfinished(run)
                )
    return pairs[0][0]


def _batch_member_finish(
    run: CheckRun, source: Source, result, own_first: date, own_last: date
) -> None:
    if isinstance(result, SourceSkipped):
        _check_run_finish(run, CheckRun.Status.SKIPPED, error=str(result), detects=run.detects)
        return
    # What the run would have filed alone: nothing after its period, and for a source of
    # dated items nothing before it (a registry's record has no such bound).
    lowest = own_first if source.incremental else date.min
    own = [
        hit for hit in result.hits if hit.event_date is None or lowest <= hit.event_date <= own_last
    ]
    reached = min(result.searched_to or own_last, own_last)
    if reached >= own_first:
        _span_record(run, source, replace(result, hits=own), first=own_first, to=reached)
    status = CheckRun.Status.OK if own else CheckRun.Status.NO_RESULTS
    _check_run_finish(
        run,
        status,
        query=_joined([result.query]),
        detects=run.detects,
        cut_short=reached < own_last,
    )


def _joined(parts: list[str], limit: int = 5000) -> str:
    """The run's query: what was asked, in order. Past the limit the middle goes, since
    the first requests say what was searched and the last lines why the run stopped."""
    text = "\n".join(part for part in parts if part)
    if len(text) <= limit:
        return text
    gap = "\n(…)\n"
    head = (limit - len(gap)) // 2
    return text[:head] + gap + text[-(limit - len(gap) - head) :]


@transaction.atomic
def _span_record(run: CheckRun, source: Source, result, *, first: date, to: date) -> None:
    """File one span's leads and move the run's searched period to its end, together."""
    run.leads_created += leads_file(case=run.case, source=source.name, hits=result.hits)
    run.searched_from = min(run.searched_from or first, first)
    run.searched_to = max(run.searched_to or to, to)
    run.save(
        update_fields=["leads_created", "searched_from", "searched_to", "detects", "searched_as"]
    )


def leads_file(*, case: Case, source: str, hits: Iterable[Hit]) -> int:
    """File hits that match the entity well enough as leads; return how many are new.

    Evidence already recorded for this case and source (whatever its review state) is
    skipped, by its external id, so a rejected lead never comes back.
    """
    threshold = settings.WISHLIST_MATCH_THRESHOLD
    wanted = {}
    for hit in hits:
        if hit.score >= threshold and hit.external_id not in wanted:
            wanted[hit.external_id] = hit
    if not wanted:
        return 0
    known = set(
        Finding.objects.filter(case=case, source=source, external_id__in=list(wanted)).values_list(
            "external_id", flat=True
        )
    )
    now = timezone.now()
    new = [
        Finding(
            case=case,
            kind=hit.kind,
            counterparty_name=hit.counterparty_name[:300],
            counterparty_country=hit.counterparty_country,
            event_date=hit.event_date,
            event_date_precision=hit.event_date_precision if hit.event_date else "",
            timing=rules.finding_timing(hit.event_date, hit.event_date_precision, case),
            source=source,
            source_url=hit.url[:1000],
            excerpt=hit.excerpt,
            retrieved_at=now,
            evidence_sha256=hit.evidence_sha256,
            external_id=hit.external_id[:300],
            match_score=hit.score,
            match_explanation=hit.explanation,
            flags="; ".join(hit.flags)[:300],
            confidence=Finding.Confidence.MEDIUM,
        )
        for external_id, hit in wanted.items()
        if external_id not in known
    ]
    # ignore_conflicts: a concurrent delivery of the same check may have filed them first.
    Finding.objects.bulk_create(new, ignore_conflicts=True)
    if new:
        # Read back: bulk_create with ignore_conflicts leaves the rows without ids.
        filed = list(
            Finding.objects.filter(
                case=case, source=source, external_id__in=[f.external_id for f in new]
            ).select_related("case__entity", "case__team")
        )
        webhook_services.leads_filed(case, filed)
        notify_new_leads(case, filed)  # the assignee, watchers, the team
    return len(new)
