"""Reads of identity resolution: open candidates per entity, best first; the queue of
entities with open candidates a user may judge; the latest attempt per registry."""

from datetime import datetime
from functools import reduce
from operator import or_

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Max, Prefetch, Q, QuerySet

from cases import access
from cases.models import REGISTRY_FIELDS, Entity, IdentifierCandidate, ResolutionAttempt

OPEN_STATES = (IdentifierCandidate.State.SUGGESTED, IdentifierCandidate.State.UNSURE)


def _field_still_empty(prefix: str = "") -> Q:
    """Candidates whose registry's field on the entity is still empty: once an LEI is
    confirmed (or typed in), the other LEI candidates are no longer a question."""
    return reduce(
        or_,
        (
            Q(**{f"{prefix}registry": registry, f"{prefix}entity__{field}": ""})
            for registry, field in REGISTRY_FIELDS.items()
        ),
    )


def open_candidates() -> QuerySet[IdentifierCandidate]:
    """Every open candidate: suggested or unsure, its registry's field still empty."""
    return IdentifierCandidate.objects.filter(_field_still_empty(), state__in=OPEN_STATES)


def entity_candidates_open(*, entity: Entity) -> QuerySet[IdentifierCandidate]:
    """The entity's open candidates, suggested before unsure, then best score first."""
    return (
        open_candidates()
        .filter(entity=entity)
        .select_related("judged_by")
        .order_by("state", "-score", "registry", "id")  # "suggested" < "unsure"
    )


def entity_candidates(*, entity: Entity) -> QuerySet[IdentifierCandidate]:
    """Every candidate of the entity, judged ones included (for its history panel)."""
    return entity.identifier_candidates.select_related("judged_by").order_by(
        "registry", "-score", "id"
    )


def identity_queue(*, user: AbstractBaseUser, registry: str = "") -> QuerySet[Entity]:
    """Entities of the user's visible cases with open candidates (of `registry`, when
    given), best candidate first; each with `best_score`, `open_count` and its open
    candidates, best first, as `open_candidates`."""
    candidates = open_candidates()
    if registry:
        candidates = candidates.filter(registry=registry)
    is_open = Q(identifier_candidates__in=candidates)
    return (
        Entity.objects.filter(case__in=access.visible_cases(user).values("id"))
        .annotate(
            best_score=Max("identifier_candidates__score", filter=is_open),
            open_count=Count("identifier_candidates", filter=is_open, distinct=True),
        )
        .filter(open_count__gt=0)
        .select_related("case", "case__team")
        .prefetch_related(
            Prefetch(
                "identifier_candidates",
                queryset=candidates.select_related("judged_by").order_by(
                    "state", "-score", "registry", "id"
                ),
                to_attr="open_candidates",
            )
        )
        .order_by("-best_score", "name", "id")
    )


def candidates_of(*, entity_ids: list[int], registries: list[str] | None = None):
    """Every candidate of these entities (any state), by entity then best first."""
    queryset = IdentifierCandidate.objects.filter(entity_id__in=entity_ids)
    if registries:
        queryset = queryset.filter(registry__in=registries)
    return queryset.select_related("entity").order_by("entity__name", "entity_id", "-score", "id")


def latest_attempts(*, entity: Entity) -> list[ResolutionAttempt]:
    """The entity's latest attempt per registry."""
    latest: dict[str, ResolutionAttempt] = {}
    for attempt in entity.resolution_attempts.order_by("-at", "-id"):
        latest.setdefault(attempt.registry, attempt)
    return list(latest.values())


def resolution_progress(*, entity_ids: list[int], since: datetime) -> tuple[int, int]:
    """(entities with an attempt since `since`, entities): a queued resolution's progress.

    An entity counts once its first registry has answered; a page polling this shows a
    job started at `since` over these entities moving to done.
    """
    done = (
        ResolutionAttempt.objects.filter(entity_id__in=entity_ids, at__gte=since)
        .values("entity_id")
        .distinct()
        .count()
    )
    return done, len(set(entity_ids))
