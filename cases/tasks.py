"""Celery tasks: thin wrappers that take ids and call services (cases.checks.services,
cases.checks.outbox, cases.derived).

Checks are idempotent (a finished CheckRun is not run again, leads are unique per case,
source and external id), so they are acknowledged late: a worker killed mid-check
leaves the message to be delivered again, and the second delivery finishes the job.
Their tasks are sent through the outbox (cases.checks.outbox): a broker that is down
when a run is queued delays the check, it does not lose it.
"""

import logging
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from celery import shared_task
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from cases import derived
from cases.casework import digest
from cases.checks import outbox, selectors
from cases.checks import services as checks_services
from cases.checks.sources import get_sources
from cases.identity import services as identity_services

logger = logging.getLogger(__name__)


@shared_task(name="cases.refresh_index_dates")
def refresh_index_dates(case_ids: list[int] | None = None) -> int:
    """Recompute index dates (and finding timings) of these cases, or of every case."""
    return derived.case_index_dates_refresh(case_ids=case_ids)


@shared_task(name="cases.run_check", bind=True, acks_late=True, reject_on_worker_lost=True)
def run_check(self, check_run_id: int) -> None:
    checks_services.check_execute(check_run_id=check_run_id, delivery=self.request.id or "")


@shared_task(name="cases.queue_due_checks")
def queue_due_checks() -> int:
    """Queue the checks whose last completed run is older than their source's interval, as
    many per source as its rate limit serves before the next pass, oldest coverage first."""
    due = selectors.checks_due(
        now=timezone.now(),
        sources=list(get_sources()),
        within_seconds=settings.WISHLIST_DUE_CHECK_EVERY_MINUTES * 60,
    )
    return len(checks_enqueue(due).ids)


@shared_task(name="cases.relay_checks")
def relay_checks() -> int:
    """Send the queued runs whose task the broker refused (or was never sent)."""
    return checks_publish().sent


@shared_task(name="cases.reap_checks")
def reap_checks() -> int:
    """Send again the runs a worker or the broker lost; give up on the hopeless ones."""
    reaped = outbox.check_runs_reap(now=timezone.now(), queue_idle=check_queue_idle())
    return reaped.requeued + reaped.gave_up


def _send(check_run_id: int) -> None:
    run_check.apply_async(args=[check_run_id])


def checks_publish(ids: list[int] | None = None) -> outbox.Published:
    """Send these queued runs (or, for the relay, every one waiting) to the workers."""
    return outbox.check_runs_publish(send=_send, ids=ids, limit=5000 if ids is None else None)


def check_queue_idle(queue: str | None = None) -> bool:
    """Whether no check waits in the broker's queue (False when it cannot be asked)."""
    app = run_check.app
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1)
            declared = connection.default_channel.queue_declare(
                queue=queue or app.conf.task_default_queue, passive=True
            )
    except outbox.ChannelError:
        return True  # no such queue: nothing has waited since the broker started
    except outbox.BROKER_ERRORS:
        return False
    return declared.message_count == 0


@dataclass(frozen=True)
class Enqueued:
    ids: list[int]
    published: outbox.Published | None  # None: sent when the caller's transaction commits

    @property
    def unreachable(self) -> str:
        """Why the broker refused the runs (they wait for the relay), or ''."""
        return self.published.error if self.published else ""


def checks_enqueue(pairs: list[tuple[int, str]], *, background: bool = False) -> Enqueued:
    """Record the runs, then send their tasks once the rows are committed.

    Runs the broker refuses stay queued for the relay; the caller learns it from
    `unreachable` (unless it holds a transaction open, when the tasks go at its commit).
    `background` is for a web request: in embedded mode the checks then run in a thread
    of this process (WISHLIST_CHECK_IN_THREAD) instead of in the request, which would
    hold the page for as long as every source takes to answer.
    """
    with transaction.atomic():
        ids = checks_services.checks_queue(pairs=pairs)
    if not ids:
        return Enqueued(ids, outbox.Published(sent=0, unsent=0))
    publish = _publish_in_thread if background and _checks_in_thread() else checks_publish
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: publish(ids))
        return Enqueued(ids, None)
    return Enqueued(ids, publish(ids))


def _checks_in_thread() -> bool:
    # The Celery app's own flag: it is what decides whether a task runs in this process.
    return run_check.app.conf.task_always_eager and settings.WISHLIST_CHECK_IN_THREAD


# Embedded mode: several "Check now" at once must not ask every source from many threads
# of the web process; the threads wait their turn (a source's rate limit holds anyway).
_CHECK_TURNS = threading.BoundedSemaphore(2)


# Random per start, and the process id for workers forked from one parent: a restarted
# server (in a container, often with the same process id) is never taken for the old one.
_STARTED = uuid.uuid4().hex[:12]


def _thread_delivery() -> str:
    """The start of the deliveries of the runs this process hands to its threads."""
    return f"{outbox.THREAD_DELIVERY}{_STARTED}-{os.getpid()}-"


def checks_resume_orphaned(case_id: int) -> int:
    """Embedded mode: run again the case's checks a stopped web process left unfinished
    (cases.checks.outbox.check_runs_orphaned_take_back); how many. Elsewhere the reaper
    does this, and this does nothing."""
    if not _checks_in_thread():
        return 0
    ids = outbox.check_runs_orphaned_take_back(
        case_id=case_id, this_process=_thread_delivery(), now=timezone.now()
    )
    if ids:
        _publish_in_thread(ids)
    return len(ids)


def _publish_in_thread(ids: list[int]) -> outbox.Published:
    """Mark the runs sent, as the outbox does for a worker, and as this process's, and run
    them one after the other in a daemon thread; the case page follows them."""
    taken: list[int] = []
    published = outbox.check_runs_publish(send=taken.append, ids=ids, delivery=_thread_delivery())
    if taken:
        _in_thread(f"checks-{taken[0]}", lambda: _checks_in_turn(taken))
    return published


def _checks_in_turn(ids: list[int]) -> None:
    with _CHECK_TURNS:
        for check_run_id in ids:
            # One run that breaks must not strand the rest (check_execute records its own
            # failures; this is for what escapes it, such as a lost database connection).
            try:
                task_id = f"{_thread_delivery()}{check_run_id}"
                run_check.apply(args=[check_run_id], task_id=task_id, throw=True)
            except Exception:
                logger.exception("Check %s failed in its thread", check_run_id)


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
        transaction.on_commit(lambda: _import_send(import_record_id))


def _import_send(import_record_id: int) -> None:
    """Send the import's task; a broker that refuses it fails the record with the reason
    (the page following the job says so) rather than the request."""
    from cases.intake import jobs

    _send_or_report(
        run_import,
        import_record_id,
        refused=lambda why: jobs.import_unqueued(record_id=import_record_id, reason=why),
    )


def _import_thread_start(import_record_id: int) -> None:
    _in_thread(f"import-{import_record_id}", lambda: run_import(import_record_id))


# ------------------------------------------------------------------------ identity
# Proposing registry identifiers (cases.identity.services). Idempotent: a candidate is
# stored once per entity, registry and identifier, so a second delivery adds only an
# attempt row.


@shared_task(name="cases.resolve_identifiers", acks_late=True, reject_on_worker_lost=True)
def resolve_identifiers(entity_ids: list[int], registries: list[str] | None = None) -> int:
    """Propose identifiers for these entities; return how many candidates are new."""
    return sum(
        len(identity_services.identifiers_propose(entity_id=pk, registries=registries).proposed)
        for pk in entity_ids
    )


RESOLVE_BATCH = 50  # entities per task: a task's work stays well inside its time limit


def identifiers_enqueue(entity_ids: list[int], registries: list[str] | None = None) -> int:
    """Queue resolution of these entities for the workers, sent once the current
    transaction commits; return the number of tasks. Follow the progress with
    cases.identity.selectors.resolution_progress."""
    batches = [entity_ids[i : i + RESOLVE_BATCH] for i in range(0, len(entity_ids), RESOLVE_BATCH)]
    for batch in batches:
        resolve_identifiers.delay_on_commit(batch, registries)
    return len(batches)


# ------------------------------------------------------------------------ resolution jobs
# "Find identifiers" over a case list (cases.identity.jobs): one task per step of a few
# entities, each queueing the next, so no task outlives the time limits; a step resumes
# where the job's done count says, so a second delivery repeats at most one entity.


@shared_task(
    name="cases.run_resolution_job",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=1800,
    time_limit=1900,
)
def run_resolution_job(job_id: int) -> None:
    from cases.identity import jobs

    try:
        more = jobs.resolution_job_step(job_id=job_id)
    except Exception as exc:
        # Nothing would queue the next step: end the job with the reason, not "running".
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
        jobs.resolution_job_fail(job_id=job_id, reason=f"The job stopped ({reason}).")
        raise
    if more:
        _resolution_job_send(job_id)


def resolution_job_enqueue(job_id: int) -> None:
    """Run the job once its record is committed: on the workers; in embedded mode in a
    thread of this process (WISHLIST_RESOLVE_IN_THREAD), or else here."""
    from django.conf import settings

    from cases.identity import jobs

    if not settings.CELERY_TASK_ALWAYS_EAGER:
        transaction.on_commit(lambda: _resolution_job_send(job_id))
    elif settings.WISHLIST_RESOLVE_IN_THREAD:
        transaction.on_commit(lambda: _resolution_job_thread_start(job_id))
    else:
        transaction.on_commit(lambda: jobs.resolution_job_run(job_id=job_id))


def _resolution_job_send(job_id: int) -> None:
    """Queue the job's next step; a broker that refuses it fails the job with the reason
    (its page says so) rather than the request or the worker."""
    from cases.identity import jobs

    def refused(why: str) -> None:
        reason = (
            f"The task queue could not be reached ({why}); the cases done so far keep "
            "their candidates. Start the job again once the queue is back."
        )
        jobs.resolution_job_fail(job_id=job_id, reason=reason)

    _send_or_report(run_resolution_job, job_id, refused=refused)


def _resolution_job_thread_start(job_id: int) -> None:
    from cases.identity import jobs

    _in_thread(f"resolution-job-{job_id}", lambda: jobs.resolution_job_run(job_id=job_id))


# ------------------------------------------------------------------------ jobs' plumbing


def _send_or_report(task, *args, refused: Callable[[str], None]) -> None:
    """Send a job's task; if the broker refuses it, tell `refused` why (one line) instead
    of raising: the job's record says so, and its page shows it."""
    try:
        task.apply_async(args=list(args))
    except outbox.BROKER_ERRORS as exc:
        refused(outbox.broker_failure(exc))


def _in_thread(name: str, work: Callable[[], object]) -> None:
    """Run a job in a daemon thread of this process (embedded mode: the web request
    returns at once), closing the thread's own database connection when it ends."""

    def target():
        try:
            work()
        finally:
            connection.close()

    threading.Thread(target=target, name=name, daemon=True).start()


# Outgoing webhooks ----------------------------------------------------------------------
# A delivery claims its row (pending -> sending), so a duplicate message sends nothing.


@shared_task(name="cases.deliver_webhook", acks_late=True, ignore_result=True)
def deliver_webhook(delivery_id: int) -> None:
    from cases.webhooks import services as webhook_services

    webhook_services.attempt(delivery_id)


@shared_task(name="cases.deliver_due_webhooks")
def deliver_due_webhooks() -> int:
    from cases.webhooks import services as webhook_services

    return webhook_services.sweep()


@shared_task(name="cases.send_digests")
def send_digests(frequency: str) -> int:
    """Send the day's or the week's email digests not sent yet (at most one per person
    and period, so a retry or a second run sends nothing again)."""
    return len(digest.digests_send(frequency=frequency).sent)


# ------------------------------------------------------------------------ kept evidence
# Capturing a finding's page (cases.evidence.services). Idempotent: the run claims its
# pending row with a conditional UPDATE, so a second delivery does nothing.


@shared_task(
    name="cases.capture_evidence",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=300,
    time_limit=360,
)
def capture_evidence(evidence_id: int) -> None:
    from cases.evidence import services as evidence_services

    evidence_services.evidence_capture_run(evidence_id=evidence_id)


def evidence_capture_enqueue(evidence_id: int) -> None:
    """Capture once the row is committed: on a worker; in embedded mode in a thread of
    this process (WISHLIST_CAPTURE_IN_THREAD), or else here. Confirming a lead returns
    at once either way but the last."""
    from django.conf import settings

    if not settings.CELERY_TASK_ALWAYS_EAGER:
        transaction.on_commit(lambda: _capture_send(evidence_id))
    elif settings.WISHLIST_CAPTURE_IN_THREAD:
        transaction.on_commit(
            lambda: _in_thread(f"capture-{evidence_id}", lambda: _capture_in_turn(evidence_id))
        )
    else:
        # Robust: a capture that breaks must not turn the confirmation into an error page
        # (it is committed already, and the capture's row says what went wrong).
        transaction.on_commit(lambda: capture_evidence(evidence_id), robust=True)


# Embedded mode: "confirm all" on fifty leads must not start fifty fetches and browsers
# at once in the web process; the threads wait their turn.
_CAPTURE_TURNS = threading.BoundedSemaphore(2)


def _capture_in_turn(evidence_id: int) -> None:
    with _CAPTURE_TURNS:
        capture_evidence(evidence_id)


def _capture_send(evidence_id: int) -> None:
    """Send the capture's task; a broker that refuses it fails the capture with the
    reason (the case page shows it, and the analyst may ask again)."""
    from cases.models import Evidence

    def refused(why: str) -> None:
        Evidence.objects.filter(pk=evidence_id, state=Evidence.State.PENDING).update(
            state=Evidence.State.FAILED,
            error=f"the task queue could not be reached ({why}); capture it again later",
        )

    _send_or_report(capture_evidence, evidence_id, refused=refused)
