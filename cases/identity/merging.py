"""Merging one entity into another, undoing a merge, and judging two entities distinct.

A merge moves everything of the merged entity and its case to the survivor and its case,
then deletes the merged pair. Every row it changes or deletes is kept first, column by
column, in the merge record (EntityMerge.snapshot), so an undo writes them back with
their primary keys and the database is as it was. Derived values (index dates, finding
timings, blocs) are recomputed by cases.derived after both.
"""

import datetime
import decimal
import uuid
from dataclasses import dataclass, field
from functools import cache

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError, Q, RestrictedError
from django.http import HttpRequest
from django.utils import timezone

from cases import derived
from cases.audit.services import audit_record
from cases.casework import history
from cases.models import (
    ENTITY_IDENTIFIERS,
    AuditEvent,
    Case,
    CaseStatusChange,
    CheckRun,
    Cohort,
    DistinctPair,
    Entity,
    EntityMerge,
    Finding,
    Referral,
    SecondCoding,
)

CohortMembership = Cohort.cases.through


class MergeRefused(Exception):
    """A merge or an undo that cannot be done; the message says why, for the person."""


# ------------------------------------------------------------------------- page stamps


def merge_stamp(entity: Entity) -> str:
    """What a merge page was shown with: an edit of the entity or its case since then
    changes it, so a merge from a stale page is refused."""
    case = entity.case
    return f"{case.version}.{case.updated_at.isoformat()}.{entity.updated_at.isoformat()}"


# ------------------------------------------------------------------------- rows as JSON


def _encoded(value):
    # Full precision: DjangoJSONEncoder drops microseconds, and an undo must be exact.
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def _row(obj: models.Model) -> dict:
    return {
        "model": obj._meta.label,
        "pk": obj.pk,
        "fields": {f.attname: _encoded(getattr(obj, f.attname)) for f in obj._meta.concrete_fields},
    }


def _instance(row: dict) -> models.Model:
    model = apps.get_model(row["model"])
    values = {}
    for f in model._meta.concrete_fields:
        value = row["fields"][f.attname]
        values[f.attname] = None if value is None else f.to_python(value)
    return model(**values)


def _key(row: dict) -> tuple[str, object]:
    return (row["model"], row["pk"])


def _current_rows(rows: list[dict]) -> dict[tuple[str, object], dict]:
    """The rows with these keys as they are now (missing ones left out)."""
    found = {}
    by_model: dict[str, list] = {}
    for row in rows:
        by_model.setdefault(row["model"], []).append(row["pk"])
    for label, pks in by_model.items():
        model = apps.get_model(label)
        for obj in model._base_manager.filter(pk__in=pks):
            found[(label, obj.pk)] = _row(obj)
    return found


# ------------------------------------------------------------------------- history


@cache
def _tracked(label: str) -> bool:
    """Whether simple_history keeps the history of this model (asked once per model: the
    `history` descriptor builds a manager on every access)."""
    return hasattr(apps.get_model(label), "history")


def _history_write(
    objs: list[models.Model], history_type: str, *, actor, reason: str, when
) -> None:
    """Write simple_history rows for rows written in bulk (no signal tells it)."""
    by_model: dict[type, list] = {}
    for obj in objs:
        by_model.setdefault(type(obj), []).append(obj)
    for model, rows in by_model.items():
        if not _tracked(model._meta.label):
            continue
        historical = model.history.model
        historical.objects.bulk_create(
            historical(
                history_date=when,
                history_user=actor if actor is not None and actor.is_authenticated else None,
                history_change_reason=reason[:100],
                history_type=history_type,
                **{f.attname: getattr(obj, f.attname) for f in historical.tracked_fields},
            )
            for obj in rows
        )


def _history_of_changes(
    before: dict[tuple, dict], after: dict[tuple, dict], *, actor, reason: str, when
) -> None:
    """History rows for every tracked row added ("+") or changed ("~"); a row deleted
    through its instance gets its "-" row from simple_history itself."""
    added, changed = [], []
    for key, row in after.items():
        if key not in before:
            added.append(_instance(row))
        elif row != before[key]:
            changed.append(_instance(row))
    for objs, kind in ((added, "+"), (changed, "~")):
        _history_write(objs, kind, actor=actor, reason=reason, when=when)


# ------------------------------------------------------------------------- the plan


@dataclass
class MergePlan:
    """What a merge of `merged` into `survivor` would do, for the confirmation page and
    for the merge itself."""

    survivor: Entity
    merged: Entity
    referrals: int = 0
    findings_moved: int = 0
    findings_dropped: list[Finding] = field(default_factory=list)  # same evidence on both
    check_runs: int = 0
    status_changes: int = 0
    controls: int = 0
    cohorts_moved: int = 0
    cohorts_shared: int = 0
    second_coding: str = ""  # "moved", "kept in the record" or ""
    identifiers: dict[str, str] = field(default_factory=dict)  # filled on the survivor
    aliases: list[str] = field(default_factory=list)  # added to the survivor
    name_native: str = ""  # given to the survivor
    problems: list[str] = field(default_factory=list)  # why it cannot be done

    @property
    def merged_case(self) -> Case:
        return self.merged.case

    @property
    def survivor_case(self) -> Case:
        return self.survivor.case

    @property
    def sides(self) -> list[dict]:
        """The survivor then the merged entity, with their cases and identifiers."""
        return [
            {
                "entity": entity,
                "case": entity.case,
                "identifiers": [getattr(entity, name) for name, _, _ in ENTITY_IDENTIFIERS],
            }
            for entity in (self.survivor, self.merged)
        ]


def _survivor_finding(kept: Finding, other: Finding) -> bool:
    """True when `kept` (the survivor's) stays rather than `other` (the merged case's)
    for one piece of evidence: the reviewed one wins, the survivor's on a tie."""
    lead = Finding.ReviewState.LEAD
    return not (kept.review_state == lead and other.review_state != lead)


def merge_plan(*, survivor: Entity, merged: Entity) -> MergePlan:
    """Return what merging `merged` into `survivor` moves, and what stops it."""
    plan = MergePlan(survivor=survivor, merged=merged)
    if survivor.pk == merged.pk:
        plan.problems.append("An entity cannot be merged with itself.")
        return plan
    a_case, b_case = survivor.case, merged.case
    for name, _, label in ENTITY_IDENTIFIERS:
        mine, theirs = getattr(survivor, name), getattr(merged, name)
        if mine and theirs and mine != theirs:
            plan.problems.append(
                f"The two have different {label}s ({mine} and {theirs}); one of them is "
                "wrong. Correct it on its case first: a merge never drops an identifier."
            )
        elif theirs and not mine:
            plan.identifiers[name] = theirs
    if a_case.kind != b_case.kind:
        plan.problems.append(
            "One is a control case (never referred) and the other a referred one; they "
            "cannot be one entity."
        )
    if a_case.matched_case_id == b_case.pk or b_case.matched_case_id == a_case.pk:
        plan.problems.append("One is the control case matched to the other.")
    earlier = EntityMerge.objects.filter(survivor=merged, undone_at__isnull=True).count()
    if earlier:
        plan.problems.append(
            f"{merged.name} is the survivor of {earlier} earlier merge(s); merge the other "
            "way round, or undo those first."
        )
    known = {survivor.name, *survivor.alias_list}
    for name in [merged.name, *merged.alias_list]:
        if name not in known:
            plan.aliases.append(name)
            known.add(name)
    if merged.name_native and merged.name_native != survivor.name_native:
        if survivor.name_native:
            if merged.name_native not in known:
                plan.aliases.append(merged.name_native)
        else:
            plan.name_native = merged.name_native
    plan.referrals = merged.referrals.count()
    survivor_evidence = {
        (f.source, f.external_id): f for f in a_case.findings.exclude(external_id="")
    }
    for finding in b_case.findings.exclude(external_id=""):
        other = survivor_evidence.get((finding.source, finding.external_id))
        if other is not None:
            plan.findings_dropped.append(finding if _survivor_finding(other, finding) else other)
    dropped_from_b = sum(1 for f in plan.findings_dropped if f.case_id == b_case.pk)
    plan.findings_moved = b_case.findings.count() - dropped_from_b
    plan.check_runs = b_case.check_runs.count()
    plan.status_changes = b_case.status_changes.count()
    plan.controls = b_case.controls.count()
    survivor_cohorts = set(a_case.cohorts.values_list("pk", flat=True))
    for cohort_id in b_case.cohorts.values_list("pk", flat=True):
        if cohort_id in survivor_cohorts:
            plan.cohorts_shared += 1
        else:
            plan.cohorts_moved += 1
    if SecondCoding.objects.filter(case=b_case).exists():
        has_own = SecondCoding.objects.filter(case=a_case).exists()
        plan.second_coding = "kept in the record" if has_own else "moved"
    return plan


# ------------------------------------------------------------------------- rows a merge touches

# Relations a merge handles by name; any other relation to an entity or a case (a model
# added later) is moved to the survivor as it is.
_HANDLED = {
    (Referral, "entity"),
    (Case, "entity"),
    (Finding, "case"),
    (CheckRun, "case"),
    (CaseStatusChange, "case"),
    (SecondCoding, "case"),
    (Case, "matched_case"),
    (Case, "index_referral"),
    (EntityMerge, "survivor"),
    (DistinctPair, "low"),
    (DistinctPair, "high"),
    (CohortMembership, "case"),
}


def _other_relations(model: type[models.Model]) -> list[models.ForeignObjectRel]:
    """Reverse relations to `model` not handled by name; history tables, which point
    with DO_NOTHING and no constraint, are left out: they keep their rows."""
    relations = []
    for rel in model._meta.get_fields(include_hidden=True):
        if not rel.auto_created or rel.concrete or not isinstance(rel, models.ForeignObjectRel):
            continue
        if rel.many_to_many:
            continue  # Cohort.cases, through CohortMembership, is handled
        if rel.on_delete is models.DO_NOTHING or (rel.related_model, rel.field.name) in _HANDLED:
            continue
        relations.append(rel)
    return relations


def _touched_rows(survivor: Entity, merged: Entity) -> list[models.Model]:
    """Every row the merge may change or delete, as it is now."""
    a_case, b_case = survivor.case, merged.case
    cases = [a_case, b_case]
    controls = list(Case.objects.filter(matched_case__in=cases))
    case_ids = [c.pk for c in cases + controls]
    rows: list[models.Model] = [survivor, merged, *cases, *controls]
    rows += Referral.objects.filter(entity__in=[survivor, merged]).order_by("pk")
    rows += Finding.objects.filter(case_id__in=case_ids).order_by("pk")
    rows += CheckRun.objects.filter(case=b_case).order_by("pk")
    rows += CaseStatusChange.objects.filter(case=b_case).order_by("pk")
    rows += SecondCoding.objects.filter(case__in=cases).order_by("pk")
    rows += CohortMembership.objects.filter(case__in=cases).order_by("pk")
    rows += DistinctPair.objects.filter(
        Q(low__in=[survivor, merged]) | Q(high__in=[survivor, merged])
    ).order_by("pk")
    for target, model in ((merged, Entity), (b_case, Case)):
        for rel in _other_relations(model):
            rows += rel.related_model._base_manager.filter(**{rel.field.name: target})
    return rows


# ------------------------------------------------------------------------- merge


def _locked_pair(survivor_id: int, merged_id: int) -> tuple[Entity, Entity]:
    # Locked in id order, so two merges of the same pair wait rather than deadlock.
    entities = {
        e.pk: e
        for e in Entity.objects.select_for_update()
        .filter(pk__in=[survivor_id, merged_id])
        .order_by("pk")
    }
    list(Case.objects.select_for_update().filter(entity_id__in=entities).order_by("pk"))
    for entity_id in (merged_id, survivor_id):
        # Checked again once locked: a merge of the same pair that committed while this
        # one waited for the lock has removed one of them.
        if refusal := merge_refusal_if_merged(entity_id):
            raise MergeRefused(refusal)
    if survivor_id not in entities or merged_id not in entities:
        raise MergeRefused("One of the two entities no longer exists; nothing was merged.")
    return entities[survivor_id], entities[merged_id]


def merge_refusal_if_merged(entity_id: int, *, survivor_id: int | None = None) -> str:
    """Why `entity_id` cannot be merged because it was merged already ("" if it was not);
    with `survivor_id`, only a merge into that survivor counts."""
    records = EntityMerge.objects.filter(merged_entity_id=entity_id, undone_at__isnull=True)
    if survivor_id is not None:
        records = records.filter(survivor_id=survivor_id)
    record = records.select_related("merged_by", "survivor").first()
    if record is None:
        return ""
    who = record.merged_by.get_username() if record.merged_by else "someone"
    return (
        f"{record.merged_name} was already merged into {record.survivor.name} by {who} "
        f"on {record.merged_at:%Y-%m-%d %H:%M}; nothing was merged."
    )


@transaction.atomic
def entity_merge(
    *,
    survivor_id: int,
    merged_id: int,
    actor: AbstractBaseUser | None,
    survivor_stamp: str | None = None,
    merged_stamp: str | None = None,
    request: HttpRequest | None = None,
) -> EntityMerge:
    """Merge entity `merged_id` (and its case) into `survivor_id` (and its case).

    With stamps (merge_stamp, as the page showed them), a merge from a page that is no
    longer current is refused. Raises MergeRefused with the reason; changes nothing then.
    """
    if survivor_id == merged_id:
        raise MergeRefused("An entity cannot be merged with itself.")
    survivor, merged = _locked_pair(survivor_id, merged_id)
    for entity, stamp in ((survivor, survivor_stamp), (merged, merged_stamp)):
        if stamp is not None and merge_stamp(entity) != stamp:
            raise MergeRefused(
                f"{entity.name} or its case was changed after the page was shown; look at "
                "the two again before merging. Nothing was merged."
            )
    plan = merge_plan(survivor=survivor, merged=merged)
    if plan.problems:
        raise MergeRefused(" ".join(plan.problems))

    before_rows = [_row(obj) for obj in _touched_rows(survivor, merged)]
    now = timezone.now()
    record = EntityMerge.objects.create(
        survivor=survivor,
        merged_entity_id=merged.pk,
        merged_name=merged.name,
        merged_country=merged.country,
        merged_by=actor if actor is not None and actor.is_authenticated else None,
        merged_at=now,
        snapshot={"rows": before_rows},
    )
    reason = f"merge #{record.pk}: {merged.name} into {survivor.name}"
    judgements = _judgements_carry(plan)
    _moves_apply(plan, record=record, now=now, actor=actor, reason=reason)
    after = _current_rows(before_rows)
    _history_of_changes(
        {_key(r): r for r in before_rows if _tracked(r["model"])},
        {k: r for k, r in after.items() if _tracked(r["model"])},
        actor=actor,
        reason=reason,
        when=now,
    )
    survivor.refresh_from_db()
    survivor_case = Case.objects.get(entity=survivor)
    record.summary = {
        "referrals": plan.referrals,
        "findings_moved": plan.findings_moved,
        "findings_dropped": [f.pk for f in plan.findings_dropped],
        "check_runs": plan.check_runs,
        "status_changes": plan.status_changes,
        "controls": plan.controls,
        "cohorts_moved": plan.cohorts_moved,
        "cohorts_shared": plan.cohorts_shared,
        "second_coding": plan.second_coding,
        "identifiers": plan.identifiers,
        "aliases": plan.aliases,
        # Made by the merge, so removed by its undo.
        "distinct_pairs_created": judgements,
        "merged_case": plan.merged_case.pk,
        "survivor_case": survivor_case.pk,
        # What the undo checks: the survivor as the merge left it.
        "after": {
            "entity_updated_at": survivor.updated_at.isoformat(),
            "case_version": survivor_case.version,
        },
    }
    record.save(update_fields=["summary"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.MERGE,
        target=f"entity {merged.pk} into {survivor.pk}",
        detail={"merge": record.pk, "merged": merged.name, "survivor": survivor.name},
        request=request,
    )
    return record


def _rows_move(rel: models.ForeignObjectRel, target: models.Model, to: models.Model) -> None:
    """Point the rows of a relation not handled by name at the survivor, one by one: a row
    the survivor has its own of (a unique constraint) stays, and goes with the merged
    entity if it cascades (it is in the record either way)."""
    manager = rel.related_model._base_manager
    name = rel.field.name
    for pk in list(manager.filter(**{name: target}).values_list("pk", flat=True)):
        try:
            with transaction.atomic():
                manager.filter(pk=pk).update(**{name: to})
        except IntegrityError:
            pass


def _deleted(obj: models.Model, *, actor, reason: str) -> None:
    """Delete through the instance, so simple_history's "-" row names who and why."""
    obj._history_user = actor if actor is not None and actor.is_authenticated else None
    obj._change_reason = reason
    obj.delete()


def _judgements_carry(plan: MergePlan) -> list[int]:
    """Give the survivor the merged entity's "not the same" judgements (what was judged
    different from it is different from the survivor); return the ids of the new ones."""
    survivor_id, merged_id = plan.survivor.pk, plan.merged.pk
    created = []
    pairs = DistinctPair.objects.filter(Q(low_id=merged_id) | Q(high_id=merged_id))
    for pair in pairs.order_by("pk"):
        other = pair.high_id if pair.low_id == merged_id else pair.low_id
        if other == survivor_id:
            continue
        carried, made = DistinctPair.objects.get_or_create(
            low_id=min(other, survivor_id),
            high_id=max(other, survivor_id),
            defaults={"judged_by_id": pair.judged_by_id, "judged_at": pair.judged_at},
        )
        if made:
            created.append(carried.pk)
    return created


def _moves_apply(plan: MergePlan, *, record: EntityMerge, now, actor, reason: str) -> None:
    survivor, merged = plan.survivor, plan.merged
    a_case, b_case = plan.survivor_case, plan.merged_case
    for finding in plan.findings_dropped:
        _deleted(finding, actor=actor, reason=reason)
    Finding.objects.filter(case=b_case).update(case=a_case)
    Referral.objects.filter(entity=merged).update(entity=survivor)
    CheckRun.objects.filter(case=b_case).update(case=a_case)
    CaseStatusChange.objects.filter(case=b_case).update(case=a_case)
    if plan.second_coding == "moved":
        SecondCoding.objects.filter(case=b_case).update(case=a_case)
    Case.objects.filter(matched_case=b_case).update(matched_case=a_case)
    shared = a_case.cohorts.values("pk")
    CohortMembership.objects.filter(case=b_case).exclude(cohort__in=shared).update(case=a_case)
    for target, to, model in ((merged, survivor, Entity), (b_case, a_case, Case)):
        for rel in _other_relations(model):
            _rows_move(rel, target, to)
    # What is left of the merged case (a second reading the survivor has its own of,
    # cohort memberships both had, judgements on the merged entity) goes with it; it is
    # all in the record.
    try:
        _deleted(Case.objects.get(pk=b_case.pk), actor=actor, reason=reason)
        _deleted(Entity.objects.get(pk=merged.pk), actor=actor, reason=reason)
    except (ProtectedError, RestrictedError) as exc:
        held = getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", ())
        kinds = sorted({str(obj._meta.verbose_name_plural) for obj in held})
        raise MergeRefused(
            f"{merged.name} still has {', '.join(kinds)} that cannot move to the survivor; "
            "nothing was merged."
        ) from None
    entity_values = {**plan.identifiers, "updated_at": now}
    if plan.aliases:
        entity_values["aliases"] = "\n".join([*survivor.alias_list, *plan.aliases])
    if plan.name_native:
        entity_values["name_native"] = plan.name_native
    Entity.objects.filter(pk=survivor.pk).update(**entity_values)
    case_values = {"version": a_case.version + 1, "updated_at": now}
    if b_case.notes.strip():
        note = f"From case {b_case.pk} ({merged.name}), merged by merge #{record.pk}:\n"
        case_values["notes"] = "\n\n".join(p for p in (a_case.notes, note + b_case.notes) if p)
    Case.objects.filter(pk=a_case.pk).update(**case_values)
    derived.case_index_dates_refresh(case_ids=[a_case.pk])


# ------------------------------------------------------------------------- undo

# Written back in this order: an entity before the case that names it (unique keys, not
# foreign keys, which are checked at commit), the survivor first (it gives back the
# identifiers the merged one takes again).
_RESTORE_ORDER = [Entity._meta.label, Case._meta.label]


def _restore(rows: list[dict], current: dict[tuple, dict]) -> None:
    """Write the rows back: per model (entities, then cases, then the rest), the rows
    still there are updated where they differ, then the missing ones inserted."""
    by_model: dict[str, list[dict]] = {}
    for row in rows:
        by_model.setdefault(row["model"], []).append(row)
    labels = sorted(
        by_model,
        key=lambda label: _RESTORE_ORDER.index(label) if label in _RESTORE_ORDER else 2,
    )
    for label in labels:
        model = apps.get_model(label)
        changed, fields, missing = [], set(), []
        for row in by_model[label]:
            now = current.get(_key(row))
            if now is None:
                missing.append(row)
            elif now != row:
                changed.append(_instance(row))
                fields.update(k for k, v in row["fields"].items() if now["fields"][k] != v)
        if changed:
            pk_name = model._meta.pk.attname
            names = [f.name for f in model._meta.concrete_fields if f.attname in fields - {pk_name}]
            # bulk_update writes the values as given: auto_now fields keep theirs.
            model._base_manager.bulk_update(changed, names, batch_size=500)
        for row in missing:
            # Raw: auto_now fields keep the values they had.
            _instance(row).save_base(raw=True, force_insert=True)


@transaction.atomic
def merge_undo(
    *, merge: EntityMerge, actor: AbstractBaseUser | None, request: HttpRequest | None = None
) -> EntityMerge:
    """Undo a merge: write back every row it changed or deleted, as it was.

    Refused (MergeRefused) when it was undone already, or when the survivor or a moved
    finding changed since (undo later merges and edits first, or edit by hand).
    """
    record = EntityMerge.objects.select_for_update().get(pk=merge.pk)
    if record.undone_at is not None:
        who = record.undone_by.get_username() if record.undone_by else "someone"
        raise MergeRefused(
            f"This merge was already undone by {who} on {record.undone_at:%Y-%m-%d %H:%M}."
        )
    survivor = Entity.objects.select_for_update().get(pk=record.survivor_id)
    survivor_case = Case.objects.select_for_update().get(entity=survivor)
    after = record.summary.get("after", {})
    if survivor.updated_at.isoformat() != after.get(
        "entity_updated_at"
    ) or survivor_case.version != after.get("case_version"):
        raise MergeRefused(
            f"{survivor.name} or its case was changed after the merge (by a later merge or "
            "an edit); undo that first, or correct the entities by hand. Nothing was undone."
        )
    rows = record.snapshot["rows"]
    merged_case = record.summary["merged_case"]
    versions = {
        r["pk"]: r["fields"]["version"]
        for r in rows
        if r["model"] == Finding._meta.label and r["fields"]["case_id"] == merged_case
    }
    moved = Finding.objects.filter(pk__in=versions).values_list(
        "pk", "version", "kind", "counterparty_name"
    )
    for pk, version, kind, counterparty in moved:
        if versions[pk] != version:
            raise MergeRefused(
                f"A finding the merge moved ({history.finding_name(kind, counterparty)}) was "
                "reviewed since; nothing was undone."
            )
    DistinctPair.objects.filter(pk__in=record.summary.get("distinct_pairs_created", [])).delete()
    current = _current_rows(rows)
    try:
        with transaction.atomic():
            _restore(rows, current)
    except IntegrityError:
        raise MergeRefused(
            f"{record.merged_name} cannot be restored: an entity of its name or one of its "
            "identifiers was recorded since. Nothing was undone."
        ) from None
    case_ids = [r["pk"] for r in rows if r["model"] == Case._meta.label]
    derived.case_index_dates_refresh(case_ids=case_ids)
    now = timezone.now()
    tracked = [r for r in rows if _tracked(r["model"])]
    _history_of_changes(
        {k: r for k, r in current.items() if _tracked(k[0])},
        _current_rows(tracked),
        actor=actor,
        reason=f"undo of merge #{record.pk}",
        when=now,
    )
    record.undone_by = actor if actor is not None and actor.is_authenticated else None
    record.undone_at = now
    record.save(update_fields=["undone_by", "undone_at"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.MERGE_UNDO,
        target=f"entity {record.merged_entity_id} out of {record.survivor_id}",
        detail={"merge": record.pk, "merged": record.merged_name, "survivor": survivor.name},
        request=request,
    )
    return record


# ------------------------------------------------------------------------- not the same


@transaction.atomic
def entities_judged_distinct(
    *, entity_ids: tuple[int, int], actor: AbstractBaseUser | None
) -> DistinctPair:
    """Record that two entities are not the same, so the pair is not reported again.
    Judging a pair again keeps the first judgement."""
    low, high = sorted(entity_ids)
    if low == high:
        raise MergeRefused("An entity is always the same as itself.")
    pair, _ = DistinctPair.objects.get_or_create(
        low_id=low,
        high_id=high,
        defaults={"judged_by": actor if actor is not None and actor.is_authenticated else None},
    )
    return pair
