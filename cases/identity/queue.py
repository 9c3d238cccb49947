"""Reads of the pages where people judge identifiers: the case page's resolution panel,
the queue of entities with open candidates (by registry), the cases a "find identifiers"
job covers and the job a person may follow."""

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count
from django.http import QueryDict
from django.shortcuts import get_object_or_404

from cases import access
from cases.casework.filters import CaseFilter
from cases.identity import selectors
from cases.models import (
    REGISTRY_FIELDS,
    Entity,
    IdentifierCandidate,
    Registry,
    ResolutionAttempt,
    ResolutionJob,
)

REGISTRY_LABELS = dict(Registry.choices)


@dataclass(frozen=True)
class Confirmed:
    """One identifier the entity has: confirmed from a candidate, or typed in by hand."""

    registry: str
    label: str
    value: str
    candidate: IdentifierCandidate | None  # None: typed in, not judged here


@dataclass
class Panel:
    open: list[IdentifierCandidate]
    confirmed: list[Confirmed]
    judged: list[IdentifierCandidate]  # rejected, newest judgement first
    attempts: list[ResolutionAttempt]
    runs_in_request: bool  # embedded mode: "Find identifiers" waits for the registries
    registries: list[str] = field(default_factory=lambda: list(REGISTRY_LABELS.values()))


def entity_panel(*, entity: Entity) -> Panel:
    """What the case page's resolution panel shows of the entity."""
    candidates = list(selectors.entity_candidates(entity=entity))
    # A confirmed candidate vouches for the field only while it holds that identifier (an
    # edit by hand may have replaced it since).
    by_value = {
        (candidate.registry, candidate.identifier): candidate
        for candidate in candidates
        if candidate.state == IdentifierCandidate.State.CONFIRMED
    }
    confirmed = [
        Confirmed(registry, REGISTRY_LABELS[registry], value, by_value.get((registry, value)))
        for registry, name in REGISTRY_FIELDS.items()
        if (value := getattr(entity, name))
    ]
    judged = sorted(
        (c for c in candidates if c.state == IdentifierCandidate.State.REJECTED),
        key=lambda c: (c.judged_at is None, c.judged_at),
        reverse=True,
    )
    return Panel(
        open=list(selectors.entity_candidates_open(entity=entity)),
        confirmed=confirmed,
        judged=judged,
        attempts=sorted(selectors.latest_attempts(entity=entity), key=lambda a: a.registry),
        runs_in_request=settings.CELERY_TASK_ALWAYS_EAGER,
    )


def candidate_or_404(user: AbstractBaseUser, pk: int) -> IdentifierCandidate:
    """The candidate, if its entity's case is one the user sees (else 404, like cases)."""
    return get_object_or_404(
        IdentifierCandidate.objects.filter(
            entity__case__in=access.visible_cases(user).values("id")
        ).select_related("entity__case"),
        pk=pk,
    )


class FilterUnreadable(ValueError):
    """The case-list filter of a job could not be read."""


def filtered_entity_ids(*, user: AbstractBaseUser, filter_query: str) -> list[int]:
    """The entities of the cases the case-list filter (its query string) shows the user,
    in case order."""
    case_filter = CaseFilter(
        QueryDict(filter_query), queryset=access.visible_cases(user), user=user
    )
    if not case_filter.is_valid():
        raise FilterUnreadable("The case filter could not be read; filter the list again.")
    return list(case_filter.qs.order_by("id").values_list("entity_id", flat=True))


def job_or_404(user: AbstractBaseUser, pk: int) -> ResolutionJob:
    """A job its starter follows (an admin follows any); another's is a 404."""
    jobs = ResolutionJob.objects.select_related("user")
    if not access.is_admin(user):
        jobs = jobs.filter(user=user)
    return get_object_or_404(jobs, pk=pk)


def job_attempt_failures(job: ResolutionJob) -> dict[str, int]:
    """Registries that failed (error or rate limited) for the job's entities since it
    started, with how many times."""
    if not job.started_at:
        return {}
    rows = (
        ResolutionAttempt.objects.filter(
            entity_id__in=job.entity_ids,
            at__gte=job.started_at,
            status__in=[ResolutionAttempt.Status.ERROR, ResolutionAttempt.Status.RATE_LIMITED],
        )
        .values("registry")
        .annotate(count=Count("id"))
        .order_by("registry")
    )
    return {row["registry"]: row["count"] for row in rows}
