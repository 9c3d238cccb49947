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


# Referral imports ---------------------------------------------------------------------------
# An import claims its record once (queued -> running), so a second delivery does nothing.
# Its limits are those of a 100,000-row file with room to spare, under the broker's
# visibility timeout. (The block imports what it needs inside its functions, to stay one
# block apart from the checks' tasks.)


@shared_task(name="cases.run_import", acks_late=True, soft_time_limit=1800, time_limit=1900)
def run_import(import_record_id: int) -> None:
    from cases.intake import jobs

    jobs.import_run(record_id=import_record_id)


@shared_task(name="cases.expire_uploads")
def expire_uploads() -> int:
    """Delete uploads never confirmed within WISHLIST_UPLOAD_TTL; mark their records."""
    from cases.intake import jobs

    return jobs.uploads_expire()


def import_enqueue(import_record_id: int) -> None:
    """Run the import once the record is committed: on a worker, or in embedded mode in a
    thread of this process (the web request returns at once either way)."""
    from django.conf import settings

    if settings.CELERY_TASK_ALWAYS_EAGER and settings.WISHLIST_IMPORT_IN_THREAD:
        transaction.on_commit(lambda: _import_thread_start(import_record_id))
    else:
        run_import.delay_on_commit(import_record_id)


def _import_thread_start(import_record_id: int) -> None:
    import threading

    from django.db import connection

    def target():
        try:
            run_import(import_record_id)
        finally:
            connection.close()  # the thread's own connection

    threading.Thread(target=target, name=f"import-{import_record_id}", daemon=True).start()
