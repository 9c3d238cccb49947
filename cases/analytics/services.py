"""Writes of the analytics: named cohorts and seeded samples, blind second codings, control
cases.
"""

import random
import secrets
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from cases import access
from cases.derived import case_index_dates_refresh, control_match_derive, entity_save
from cases.models import Case, Cohort, Entity, Finding, SecondCoding, Team
from wishlist.version import code_version


@transaction.atomic
def cohort_save(
    *,
    name: str,
    cases: QuerySet[Case],
    actor: AbstractBaseUser | None,
    filter_query: str = "",
    description: str = "",
) -> Cohort:
    """Save every case of a filtered set as a named cohort."""
    ids = list(cases.values_list("pk", flat=True))
    cohort = Cohort(
        name=name.strip(),
        description=description,
        filter_query=filter_query,
        population=len(ids),
        created_by=actor,
    )
    cohort.full_clean()
    cohort.save()
    cohort.cases.set(ids)
    return cohort


def sample_ids(ids: Iterable[int], *, size: int, seed: int) -> list[int]:
    """The same `size` ids for the same seed and the same set, whatever their order."""
    population = sorted(set(ids))
    if size > len(population):
        raise ValidationError(
            {"size": f"The set has {len(population)} case(s); a sample of {size} cannot be drawn."}
        )
    return sorted(random.Random(seed).sample(population, size))


def sample_redraw(cohort: Cohort) -> list[int]:
    """The ids the cohort's seed draws over its stored frame: its cases, unless they were
    changed by hand since."""
    if cohort.seed is None or cohort.sample_size is None:
        raise ValueError(f"cohort {cohort.pk} is not a sample")
    return sample_ids(cohort.frame, size=cohort.sample_size, seed=cohort.seed)


@transaction.atomic
def cohort_sample_draw(
    *,
    name: str,
    cases: QuerySet[Case],
    size: int,
    actor: AbstractBaseUser | None,
    seed: int | None = None,
    filter_query: str = "",
    description: str = "",
) -> Cohort:
    """Draw `size` cases at random from a filtered set and save them as a cohort.

    The seed (a fresh one when none is given), the frame's ids and the code version are
    recorded, so anyone can draw the same sample again (sample_redraw). A sample larger
    than its frame is refused.
    """
    if size < 1:
        raise ValidationError({"size": "Draw at least one case."})
    if seed is None:
        seed = secrets.randbelow(2**31)
    frame = sorted(set(cases.values_list("pk", flat=True)))
    picked = sample_ids(frame, size=size, seed=seed)
    cohort = Cohort(
        name=name.strip(),
        description=description,
        filter_query=filter_query,
        population=len(frame),
        seed=seed,
        sample_size=len(picked),
        frame=frame,
        code_version=code_version(),
        created_by=actor,
    )
    cohort.full_clean()
    cohort.save()
    cohort.cases.set(picked)
    return cohort


@transaction.atomic
def second_coding_assign(
    *, case: Case, coder: AbstractBaseUser, actor: AbstractBaseUser | None
) -> SecondCoding:
    """Give a case to a second analyst for a blind reading of its outcome."""
    if case.assignee_id is not None and case.assignee_id == coder.pk:
        raise ValidationError({"coder": "The second coder must not be the case's analyst."})
    if not access.is_analyst(coder):
        raise ValidationError({"coder": f"{coder.get_username()} is not an analyst."})
    # A coder who decided any of the case's findings knows the first reading: not blind.
    if case.findings.filter(reviewed_by=coder).exists():
        raise ValidationError(
            {"coder": f"{coder.get_username()} reviewed this case's findings: not blind."}
        )
    if case.team_id is not None and not coder.teams.filter(pk=case.team_id).exists():
        raise ValidationError({"coder": f"{coder.get_username()} is not on the case's team."})
    coding = SecondCoding.objects.select_for_update().filter(case=case).first()
    if coding is not None and coding.recorded_at is not None:
        raise ValidationError({"coder": "The second reading of this case is already recorded."})
    if coding is None:
        coding = SecondCoding(case=case)
    coding.coder = coder
    coding.assigned_by = actor
    coding.assigned_at = timezone.now()
    coding.save()
    return coding


@transaction.atomic
def second_coding_record(
    *, coding: SecondCoding, positive_kinds: list[str], note: str, actor: AbstractBaseUser
) -> SecondCoding:
    """Record the second coder's reading: the outcome kinds the evidence shows (or none)."""
    locked = SecondCoding.objects.select_for_update().get(pk=coding.pk)
    if locked.coder_id != actor.pk:
        raise ValidationError("Only the assigned second coder records this reading.")
    unknown = set(positive_kinds) - set(Finding.Kind.values)
    if unknown:
        raise ValidationError({"positive_kinds": f"Unknown kinds: {', '.join(sorted(unknown))}"})
    locked.positive_kinds = sorted(set(positive_kinds))
    locked.note = note.strip()
    locked.recorded_at = timezone.now()
    locked.save()
    return locked


@transaction.atomic
def control_case_create(
    *,
    name: str,
    country: str,
    kind: str,
    matched_case: Case,
    technology_fields: str = "",
    relaxed: Iterable[str] = (),
    match_note: str = "",
    team: Team | None = None,
    actor: AbstractBaseUser | None = None,
) -> Case:
    """Enter a comparable entity that was never referred, as a control case whose clock
    starts on its matched referred case's index date.

    It must have the matched case's host country, entity kind and technology field
    (cases.rules.control_match); a criterion it misses is refused, with nothing saved,
    unless it is in `relaxed`. Which criteria it meets and which were relaxed (and why,
    `match_note`) are recorded on the case.
    """
    if matched_case.kind != Case.Kind.REFERRED:
        raise ValidationError({"matched_case": "Match a control to a referred case."})
    entity = Entity(name=name, country=country, kind=kind, technology_fields=technology_fields)
    control = Case(
        entity=entity,
        kind=Case.Kind.CONTROL,
        matched_case=matched_case,
        match_relaxed=list(relaxed),
        match_note=match_note,
    )
    # Checked before anything is written: a refused control leaves no entity behind.
    control_match_derive(control)
    entity = entity_save(entity=entity)
    # entity_save gave the entity its case; make it the control.
    case = entity.case
    case.kind = Case.Kind.CONTROL
    case.matched_case = matched_case
    case.match_criteria = control.match_criteria
    case.match_relaxed = control.match_relaxed
    case.match_note = control.match_note
    case.team = team if team is not None else matched_case.team
    case._history_user = actor
    case.save(
        update_fields=[
            "kind",
            "matched_case",
            "match_criteria",
            "match_relaxed",
            "match_note",
            "team",
            "updated_at",
        ]
    )
    case_index_dates_refresh(case_ids=[case.pk])
    case.refresh_from_db()
    return case
