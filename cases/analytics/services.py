"""Writes of the analytics: named cohorts and seeded samples, blind second codings, control
cases.
"""

import random
import secrets
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from cases import access, rules
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
    """Give a concluded case to a second analyst for a blind reading of its outcome."""
    # An open case's first reading is still moving: agreement with it would measure
    # how far the first analyst had got, not how two readers read the same evidence.
    if case.status != Case.Status.CONCLUDED:
        raise ValidationError(
            {
                "case": f"{case.entity.name} is {case.get_status_display()}: only a concluded "
                "case can be read a second time."
            }
        )
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
    """Record the second coder's reading: the outcome kinds the evidence shows (or none),
    and freeze the first reading beside it (the case's positive kinds at this moment)."""
    locked = SecondCoding.objects.select_for_update().get(pk=coding.pk)
    if locked.coder_id != actor.pk:
        raise ValidationError("Only the assigned second coder records this reading.")
    unknown = set(positive_kinds) - set(Finding.Kind.values)
    if unknown:
        raise ValidationError({"positive_kinds": f"Unknown kinds: {', '.join(sorted(unknown))}"})
    locked.positive_kinds = sorted(set(positive_kinds))
    locked.note = note.strip()
    locked.recorded_at = timezone.now()
    locked.first_positive_kinds = _first_reading(locked.case_id)
    locked.first_read_at = locked.recorded_at
    locked.save()
    return locked


def _first_reading(case_id: int) -> list[str]:
    """The outcome kinds the case is positive for under the outcome rule, now."""
    kinds = rules.positive_findings().filter(case_id=case_id).values_list("kind", flat=True)
    return sorted(set(kinds))


def stratified_sample(strata: dict[str, Iterable[int]], *, size: int, seed: int) -> list[int]:
    """`size` ids drawn from the strata with proportional allocation: each stratum gives
    its share of the frame, rounded by largest remainder (a tie to the stratum named
    first). The same ids for the same seed and strata, whatever the order of the ids.

    Proportional rather than equal: kappa and the prevalence index depend on how common
    the outcome is, so a sample that keeps the frame's share of positives measures the
    agreement of the frame's cases; equal allocation would sharpen the positive-specific
    agreement but measure kappa at a prevalence the cases do not have.
    """
    if size < 1:
        raise ValidationError({"size": "Draw at least one case."})
    frames = {name: sorted(set(ids)) for name, ids in strata.items()}
    total = sum(len(ids) for ids in frames.values())
    if size > total:
        raise ValidationError(
            {"size": f"Only {total} case(s) can be drawn; a draw of {size} cannot be made."}
        )
    quotas = {name: size * len(ids) // total for name, ids in frames.items()}
    # sorted() is stable: of equal remainders, the stratum named first gets the case.
    remainders = sorted(frames, key=lambda name: -(size * len(frames[name]) % total))
    for name in remainders[: size - sum(quotas.values())]:
        quotas[name] += 1
    rng = random.Random(seed)
    picked: list[int] = []
    for name, ids in frames.items():
        picked += rng.sample(ids, quotas[name])
    return sorted(picked)


@transaction.atomic
def second_coding_draw(
    *,
    cases: QuerySet[Case],
    size: int,
    coder: AbstractBaseUser,
    actor: AbstractBaseUser | None,
    seed: int | None = None,
) -> list[SecondCoding]:
    """Give `coder` a stratified random draw of `size` cases of `cases` for second readings.

    The frame is the concluded cases not yet given for a second reading that `coder` may
    read blind (on the case's team, neither its analyst nor a reviewer of its findings);
    the strata are the first reading, positive (for any kind) or negative, at the draw
    (stratified_sample). The seed (a fresh one when none is given) is stored on every
    coding it gave, so the same seed over the same frame draws the same cases.
    """
    if not access.is_analyst(coder):
        raise ValidationError({"coder": f"{coder.get_username()} is not an analyst."})
    if seed is None:
        seed = secrets.randbelow(2**31)
    frame = (
        cases.filter(status=Case.Status.CONCLUDED, second_coding__isnull=True)
        .filter(Q(team__isnull=True) | Q(team__in=coder.teams.all()))
        .exclude(assignee=coder)
        .exclude(findings__reviewed_by=coder)
    )
    positive = set(
        frame.filter(Exists(rules.positive_findings().filter(case=OuterRef("pk")))).values_list(
            "pk", flat=True
        )
    )
    every = set(frame.values_list("pk", flat=True))
    picked = stratified_sample(
        {"positive": positive, "negative": every - positive}, size=size, seed=seed
    )
    codings = [
        second_coding_assign(case=case, coder=coder, actor=actor)
        for case in Case.objects.filter(pk__in=picked).order_by("pk")
    ]
    SecondCoding.objects.filter(pk__in=[c.pk for c in codings]).update(draw_seed=seed)
    for coding in codings:
        coding.draw_seed = seed
    return codings


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
