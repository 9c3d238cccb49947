"""Identifier resolution as recorded jobs: "find identifiers" for a filtered case list (or
one case) is a ResolutionJob saying who asked, for which filter, how many cases and how
far it got; its page follows the record.

A job runs in steps of STEP entities (the task `cases.run_resolution_job` does one step
and queues the next), each entity through cases.identity.services.identifiers_propose,
so no task outlives the workers' time limits however long the list. A step resumes at
`done_count`: a step delivered twice re-asks at most the one entity it was on, which
stores nothing twice (a candidate is stored once per entity, registry and identifier).
"""

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cases.identity import services
from cases.models import Entity, ResolutionJob

logger = logging.getLogger(__name__)

State = ResolutionJob.State

STEP = 10  # entities per task: at one request a second, well inside the time limits


def resolution_job_create(*, user, entity_ids: list[int], filter_query: str = "") -> ResolutionJob:
    """Record a job over these entities, queued (the caller queues its task)."""
    ids = list(dict.fromkeys(entity_ids))  # once each, in the order given
    return ResolutionJob.objects.create(
        user=user,
        filter_query=filter_query[:2000],
        entity_ids=ids,
        case_count=len(ids),
    )


def resolution_job_step(*, job_id: int, limit: int = STEP) -> bool:
    """Resolve the job's next `limit` entities; return whether any remain.

    A finished job is left alone (a late second delivery does nothing). An entity whose
    resolution raises is counted as failed, with the reason on the job, and the job goes
    on: the registries' own failures are recorded by the service as attempts.
    """
    with transaction.atomic():
        job = ResolutionJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.finished:
            return False
        if job.state == State.QUEUED:
            job.state, job.started_at = State.RUNNING, timezone.now()
            job.save(update_fields=["state", "started_at", "updated_at"])
    todo = job.entity_ids[job.done_count : job.done_count + limit]
    for entity_id in todo:
        _resolve_one(job, entity_id)
    job.refresh_from_db()
    if job.done_count >= job.case_count:
        ResolutionJob.objects.filter(pk=job.pk, state=State.RUNNING).update(
            state=State.DONE, finished_at=timezone.now(), updated_at=timezone.now()
        )
        return False
    return True


def _resolve_one(job: ResolutionJob, entity_id: int) -> None:
    proposed, failed, error = 0, 0, None
    try:
        proposed = len(services.identifiers_propose(entity_id=entity_id).proposed)
    except Entity.DoesNotExist:
        pass  # deleted (or merged away) since the job started: nothing to resolve
    except Exception as exc:
        logger.exception("resolution job #%s: entity %s failed", job.pk, entity_id)
        failed, error = 1, f"entity {entity_id}: {type(exc).__name__}: {exc}".splitlines()[0]
    values = {
        "done_count": F("done_count") + 1,
        "proposed_count": F("proposed_count") + proposed,
        "failed_count": F("failed_count") + failed,
        "updated_at": timezone.now(),
    }
    if error:
        values["error"] = error[:1000]
    # Outside any transaction: the progress page sees each entity done at once.
    ResolutionJob.objects.filter(pk=job.pk, done_count__lt=F("case_count")).update(**values)


def resolution_job_run(*, job_id: int) -> ResolutionJob:
    """Run every step of the job here (embedded mode, or the request itself)."""
    while resolution_job_step(job_id=job_id):
        pass
    return ResolutionJob.objects.get(pk=job_id)


def resolution_job_fail(*, job_id: int, reason: str) -> None:
    """End an unfinished job that cannot go on (its task could not be queued)."""
    ResolutionJob.objects.filter(pk=job_id, state__in=[State.QUEUED, State.RUNNING]).update(
        state=State.FAILED, finished_at=timezone.now(), error=reason[:1000]
    )
