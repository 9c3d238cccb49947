"""Celery tasks: thin wrappers that take ids and call services (cases.checks.services,
cases.derived).

Checks are idempotent (a finished CheckRun is not run again, leads are unique per case,
source and external id), so they are acknowledged late: a worker killed mid-check
leaves the message to be delivered again, and the second delivery finishes the job.
"""

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from cases import derived
from cases.checks import selectors
from cases.checks import services as checks_services
from cases.checks.sources import get_sources


@shared_task(name="cases.refresh_index_dates")
def refresh_index_dates(case_ids: list[int] | None = None) -> int:
    """Recompute index dates (and finding timings) of these cases, or of every case."""
    return derived.case_index_dates_refresh(case_ids=case_ids)


@shared_task(name="cases.run_check", acks_late=True, reject_on_worker_lost=True)
def run_check(check_run_id: int) -> None:
    checks_services.check_execute(check_run_id=check_run_id)


@shared_task(name="cases.queue_due_checks")
def queue_due_checks() -> int:
    """Queue every check whose last completed run is older than its source's interval."""
    due = selectors.checks_due(now=timezone.now(), sources=list(get_sources()))
    return len(checks_enqueue(due))


def checks_enqueue(pairs: list[tuple[int, str]]) -> list[int]:
    """Record the runs and queue their tasks once the rows are committed."""
    with transaction.atomic():
        ids = checks_services.checks_queue(pairs=pairs)
        for check_run_id in ids:
            run_check.delay_on_commit(check_run_id)
    return ids
