"""Writes of the follow-up checks: queueing check runs, claiming and running one, filing
its hits as leads.
"""

import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases import normalize
from cases.checks.http import HttpClient, HttpError, PermanentHttpError, RateLimitedError
from cases.checks.sources import Hit, Source, SourceSkipped, get_sources
from cases.models import Case, CheckRun, Finding

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


def check_execute(
    *, check_run_id: int, client: HttpClient | None = None, delivery: str = ""
) -> CheckRun:
    """Run one queued check: ask the source, file its hits as leads, record the run.

    `delivery` names the task message that runs it (see _check_run_claim).

    Idempotent: a finished run is left alone, leads are unique per case, source and
    external id (a rejected lead is never raised again), and the run is marked
    finished in the same transaction that files its leads, so "last checked" only
    moves forward once the findings are committed.
    """
    claimed = _check_run_claim(check_run_id, delivery)
    run = CheckRun.objects.select_related("case__entity").get(id=check_run_id)
    if not claimed:
        return run
    case = run.case
    source = get_sources().get(run.source)
    if source is None:
        return _check_run_finish(run, CheckRun.Status.ERROR, error=f"unknown source {run.source!r}")
    reason = _skip_reason(source, case)
    if reason:
        return _check_run_finish(run, CheckRun.Status.SKIPPED, error=reason)
    client = client or source.client()
    try:
        result = source.search(case.entity, case.index_date, client)
        with transaction.atomic():
            created = leads_file(case=case, source=source.name, hits=result.hits)
            status = CheckRun.Status.OK if result.hits else CheckRun.Status.NO_RESULTS
            return _check_run_finish(run, status, leads_created=created, query=result.query[:5000])
    except (SourceSkipped, HttpError) as exc:
        status, error = _failure(exc)
        return _check_run_finish(run, status, error=error, query=_asked(client))
    except Exception as exc:
        # Anything else (a parser's KeyError, the rate limiter's Redis going away, a
        # value the database refuses, a soft time limit) must still finish the run: a run
        # left "running" is never due again. The leads of a failed run were rolled back
        # with it; the traceback goes to the log, a readable reason to the run.
        logger.exception("Check %s (%s, case %s) failed", run.pk, run.source, case.pk)
        return _check_run_finish(
            run, CheckRun.Status.ERROR, error=_unexpected(exc), query=_asked(client)
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
            timing=normalize.compare_periods(
                hit.event_date,
                hit.event_date_precision,
                case.index_date,
                case.index_date_precision,
            ),
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
    return len(new)
