"""Writes of identity resolution: propose candidates from the registries, and judge them
(confirm, reject, mark unsure), each judgement recorded with who and when.

Confirming fills the entity's identifier field, validated as any edit of it is, and adds
the registry's names to the entity's aliases. Two registries that agree by identifier
(Wikidata's LEI claim is the LEI of GLEIF's record) confirm both candidates
automatically, marked as such. A candidate once stored, in whatever state, is never
proposed again, so a rejected one does not come back when resolution runs again.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cases import normalize
from cases.casework.services import EditConflict
from cases.checks import matching
from cases.checks.http import HttpError, RateLimitedError
from cases.derived import entity_save
from cases.identity.resolvers import IDENTIFIER_ERRORS, Candidate, get_resolvers
from cases.models import REGISTRY_FIELDS, Entity, IdentifierCandidate, ResolutionAttempt

State = IdentifierCandidate.State
OPEN = (State.SUGGESTED, State.UNSURE)


@dataclass
class Resolution:
    """What one resolution of one entity did."""

    entity_id: int
    attempts: list[ResolutionAttempt] = field(default_factory=list)
    proposed: list[IdentifierCandidate] = field(default_factory=list)
    confirmed_automatically: list[IdentifierCandidate] = field(default_factory=list)


def valid_candidates(registry: str, candidates: list[Candidate]) -> tuple[list[Candidate], str]:
    """Drop candidates whose identifier is not valid for the registry (a registry's typo
    must never reach an entity); return the rest and a note on what was dropped."""
    check = IDENTIFIER_ERRORS[registry]
    kept = [candidate for candidate in candidates if not check(candidate.identifier)]
    dropped = [candidate.identifier for candidate in candidates if check(candidate.identifier)]
    note = f"left out {len(dropped)} with an invalid identifier: {', '.join(dropped)}"
    return kept, note if dropped else ""


def _ask(entity: Entity, registry: str) -> tuple[ResolutionAttempt, list[Candidate]]:
    """Ask one registry about the entity (no database writes); return an unsaved attempt."""
    resolver = get_resolvers()[registry]
    attempt = ResolutionAttempt(entity=entity, registry=registry, at=timezone.now())
    reason = resolver.skip_reason(entity)
    if reason:
        attempt.status, attempt.error = ResolutionAttempt.Status.SKIPPED, reason
        return attempt, []
    client = resolver.client()
    candidates: list[Candidate] = []
    try:
        candidates, asked = resolver.propose(entity, client)
    except RateLimitedError as exc:
        attempt.status, attempt.error = ResolutionAttempt.Status.RATE_LIMITED, str(exc)
    except HttpError as exc:
        attempt.status, attempt.error = ResolutionAttempt.Status.ERROR, str(exc)
    else:
        attempt.status = ResolutionAttempt.Status.OK
        candidates, attempt.error = valid_candidates(registry, candidates)
        attempt.asked = "\n".join(asked)
    attempt.requests = len(client.asked)
    if not attempt.asked:
        attempt.asked = "\n".join(client.asked)
    return attempt, candidates


@transaction.atomic
def _store(
    entity_id: int, attempt: ResolutionAttempt, candidates: list[Candidate]
) -> list[IdentifierCandidate]:
    """Store the attempt and the candidates not stored before, in any state."""
    entity = Entity.objects.select_for_update().get(pk=entity_id)
    known = set(
        IdentifierCandidate.objects.filter(entity=entity, registry=attempt.registry).values_list(
            "identifier", flat=True
        )
    )
    stored = []
    if not getattr(entity, REGISTRY_FIELDS[attempt.registry]):
        for candidate in candidates:
            if candidate.identifier in known:
                continue
            known.add(candidate.identifier)
            stored.append(
                IdentifierCandidate.objects.create(
                    entity=entity,
                    registry=attempt.registry,
                    identifier=candidate.identifier,
                    registry_name=candidate.name[:500],
                    score=candidate.score,
                    explanation=candidate.explanation,
                    evidence=candidate.evidence(attempt.asked.splitlines()),
                )
            )
    attempt.proposed = len(stored)
    attempt.save()
    return stored


def identifiers_propose(*, entity_id: int, registries: Iterable[str] | None = None) -> Resolution:
    """Ask each registry (all, by default) for candidates for the entity and store them.

    Each registry's answer is recorded as a ResolutionAttempt, a failure too (an error,
    a 429, a body that is not what the registry documents); a failed registry proposes
    nothing. Then candidates two registries agree on are confirmed automatically.
    Requests are made outside any transaction; each registry's writes are one.
    """
    resolution = Resolution(entity_id=entity_id)
    for registry in registries or list(get_resolvers()):
        # Fresh each time: a person may fill a field while earlier registries are asked.
        entity = Entity.objects.get(pk=entity_id)
        attempt, candidates = _ask(entity, registry)
        resolution.proposed += _store(entity_id, attempt, candidates)
        resolution.attempts.append(attempt)
    resolution.confirmed_automatically = candidates_confirm_agreeing(entity_id=entity_id)
    return resolution


def _agreeing_pairs(entity: Entity) -> list[tuple[IdentifierCandidate, IdentifierCandidate | None]]:
    """(candidate, the one it agrees with, or None when it agrees with the entity's own
    identifier): open candidates at or above the match threshold whose claim for another
    registry is that registry's open candidate or the entity's confirmed identifier."""
    threshold = settings.WISHLIST_MATCH_THRESHOLD
    open_ = [
        candidate
        for candidate in entity.identifier_candidates.filter(state=State.SUGGESTED)
        if candidate.score >= threshold
    ]
    by_key = {(candidate.registry, candidate.identifier): candidate for candidate in open_}
    pairs = []
    for candidate in open_:
        for registry, identifier in (candidate.evidence.get("claims") or {}).items():
            if registry not in REGISTRY_FIELDS:
                continue
            other = by_key.get((registry, identifier))
            if other is not None:
                pairs.append((candidate, other))
            elif identifier and getattr(entity, REGISTRY_FIELDS[registry]) == identifier:
                pairs.append((candidate, None))
    return pairs


def candidates_confirm_agreeing(*, entity_id: int) -> list[IdentifierCandidate]:
    """Confirm, automatically, the candidates two registries agree on by identifier.

    Only candidates scoring at least WISHLIST_MATCH_THRESHOLD on the name count: two
    registries agreeing on a record found by a poor name match are agreeing on someone
    else. A candidate whose registry's field is already filled, or whose identifier
    another entity has, is left for a person.
    """
    confirmed = []
    entity = Entity.objects.get(pk=entity_id)
    for candidate, other in _agreeing_pairs(entity):
        for each in (candidate, other):
            if each is None or each.pk in {done.pk for done in confirmed}:
                continue
            entity.refresh_from_db()
            if getattr(entity, each.field):
                continue
            each.refresh_from_db()
            if each.state != State.SUGGESTED:
                continue
            try:
                confirmed.append(candidate_confirm(candidate=each, user=None, automatic=True))
            except ValidationError:
                # Another entity holds the identifier (a duplicate to merge, or a wrong
                # claim): a person decides, from the candidate left suggested.
                continue
    return confirmed


def _judged_by(candidate: IdentifierCandidate) -> str:
    who = candidate.judged_by.get_username() if candidate.judged_by else "an automated task"
    when = timezone.localtime(candidate.judged_at or candidate.updated_at)
    return f"{who} at {when:%Y-%m-%d %H:%M}"


def _lock(candidate_id: int, version: int | None) -> IdentifierCandidate:
    """The candidate locked for this transaction, refused if judged since `version`."""
    try:
        locked = IdentifierCandidate.objects.select_for_update().get(pk=candidate_id)
    except IdentifierCandidate.DoesNotExist:
        raise EditConflict(
            f"Candidate {candidate_id} was deleted after you opened it; nothing was saved."
        ) from None
    if version is not None and locked.version != version:
        raise EditConflict(
            f"Candidate {candidate_id} was marked {locked.state} by {_judged_by(locked)} "
            "after you opened it, so your judgement was not saved. Reload the page to see "
            "the current state, then try again."
        )
    return locked


def _new_aliases(entity: Entity, names: list[str]) -> list[str]:
    """The registry's names whose name key none of the entity's names has."""
    keys = {normalize.name_key(name) for name in matching.entity_names(entity)}
    added = []
    for name in names:
        key = normalize.name_key(name)
        if name and key and key not in keys:
            keys.add(key)
            added.append(name)
    return added


def _set_identifier(
    entity: Entity, candidate: IdentifierCandidate, value: str, reason: str, user
) -> None:
    entity._history_user = user
    entity._change_reason = reason[:100]
    setattr(entity, candidate.field, value)
    entity_save(entity=entity)  # full_clean: the field's validators and uniqueness


def _record(
    locked: IdentifierCandidate, state: str, user, automatic: bool = False, reason: str = ""
) -> None:
    """Save the judgement; the person's reason, if any, goes on its history row (the
    admin's history of the candidate shows it)."""
    locked.state = state
    locked.automatic = automatic
    locked.judged_by = user
    locked.judged_at = timezone.now()
    locked.version += 1
    locked._history_user = user
    reason = " ".join(reason.split())[:100]
    if reason:
        locked._change_reason = reason
    locked.save()


@transaction.atomic
def candidate_confirm(
    *,
    candidate: IdentifierCandidate,
    user: AbstractBaseUser | None,
    version: int | None = None,
    automatic: bool = False,
    reason: str = "",
) -> IdentifierCandidate:
    """Confirm the candidate: fill the entity's identifier and add the registry's names
    as aliases (the entity's history row names the registry they came from).

    Refused (ValidationError, nothing saved) when the entity already has another
    identifier of that registry or another entity has this one; refused (EditConflict)
    when the candidate was judged after `version`.
    """
    locked = _lock(candidate.pk, version)
    entity = Entity.objects.select_for_update().get(pk=locked.entity_id)
    current = getattr(entity, locked.field)
    if current and current != locked.identifier:
        raise ValidationError(
            {
                locked.field: f"The entity already has {current}; clear it or reject "
                f"that candidate before confirming {locked.identifier}."
            }
        )
    added = _new_aliases(entity, locked.evidence.get("names") or [locked.registry_name])
    if added:
        entity.aliases = "\n".join([*entity.alias_list, *added])
    how = "automatically (registries agree)" if automatic else "by a person"
    source = f"; aliases from {locked.registry}: {'; '.join(added)}" if added else ""
    _set_identifier(
        entity,
        locked,
        locked.identifier,
        f"{locked.registry} {locked.identifier} confirmed {how}{source}",
        user,
    )
    _record(locked, State.CONFIRMED, user, automatic=automatic, reason=reason)
    return locked


@transaction.atomic
def candidate_reject(
    *,
    candidate: IdentifierCandidate,
    user: AbstractBaseUser | None,
    version: int | None = None,
    reason: str = "",
) -> IdentifierCandidate:
    """Reject the candidate for good; if it was confirmed, the entity's field is cleared."""
    locked = _lock(candidate.pk, version)
    if locked.state == State.CONFIRMED:
        entity = Entity.objects.select_for_update().get(pk=locked.entity_id)
        if getattr(entity, locked.field) == locked.identifier:
            cleared = f"{locked.registry} {locked.identifier} rejected after confirmation"
            _set_identifier(entity, locked, "", cleared, user)
    _record(locked, State.REJECTED, user, reason=reason)
    return locked


@transaction.atomic
def candidate_mark_unsure(
    *,
    candidate: IdentifierCandidate,
    user: AbstractBaseUser | None,
    version: int | None = None,
    reason: str = "",
) -> IdentifierCandidate:
    """Mark an open candidate unsure: it stays in the queue, after the suggested ones."""
    locked = _lock(candidate.pk, version)
    if locked.state not in OPEN:
        raise ValidationError(
            {"state": f"Candidate {locked.pk} is {locked.state}; only an open one can be unsure."}
        )
    _record(locked, State.UNSURE, user, reason=reason)
    return locked
