"""Reads of the research pages: case lists with their outcome, the case export, a case's
findings, referrals and change history, the review queue and my work.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from cases import access, rules
from cases.casework import history
from cases.casework.tags import tags_prefetch
from cases.models import (
    Case,
    Entity,
    Finding,
    Referral,
    SecondCoding,
    Team,
)

# The case list's order unless the user sorts it: most urgent first, then earliest referred.
CASE_LIST_ORDER = ("-priority", "index_date", "id")


def case_export_queryset(cases: QuerySet[Case] | None = None) -> QuerySet[Case]:
    """The cases (every case unless given) with their entity, team, referral count,
    positive findings per kind and whether they are reviewed, in id order.

    The confirmed_* counts are of findings that make the case positive (rules.py): a
    confirmed finding dated before the referral, or with a Taiwanese counterparty, is
    context and not counted, as in every other figure. Counted by correlated subqueries,
    so a filtered admin list with joins of its own never multiplies them.
    """
    cases = Case.objects.all() if cases is None else cases
    per_kind = {
        f"confirmed_{kind}": _count_of(rules.positive_findings(kind).filter(case=OuterRef("pk")))
        for kind in Finding.Kind.values
    }
    referrals = (
        Referral.objects.filter(entity=OuterRef("entity"))
        .order_by()
        .values("entity")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        cases.select_related("entity", "assignee", "team")
        .annotate(
            referral_count=Coalesce(Subquery(referrals, output_field=IntegerField()), Value(0)),
            confirmed_total=_count_of(rules.positive_findings().filter(case=OuterRef("pk"))),
            reviewed=ExpressionWrapper(rules.reviewed_case_q(), output_field=BooleanField()),
            **per_kind,
        )
        .order_by("id")
    )


EXPORT_FIELDS = (
    "case_id",
    "entity_name",
    "entity_name_native",
    "entity_type",
    "country",
    "index_date",
    "kind",
    "status",
    "priority",
    "team",
    "assignee",
    "referral_count",
    "outcome",
    "confirmed_total",
    *(f"confirmed_{kind}" for kind in Finding.Kind.values),
)


def export_outcome(*, positive: bool, reviewed: bool) -> str:
    """A case's outcome in words: positive, negative (reviewed, nothing positive) or not
    reviewed (no conclusion yet: not a negative)."""
    if positive:
        return "positive"
    return "negative" if reviewed else "not reviewed"


def case_export_rows(cases: QuerySet[Case] | None = None) -> Iterator[dict]:
    for case in case_export_queryset(cases).iterator(chunk_size=2000):
        entity = case.entity
        row = {
            "case_id": case.id,
            "entity_name": entity.name,
            "entity_name_native": entity.name_native,
            "entity_type": entity.kind,
            "country": entity.country,
            "index_date": case.index_date_display,
            "kind": case.kind,
            "status": case.status,
            "priority": case.get_priority_display(),
            "team": case.team.name if case.team else "",
            "assignee": case.assignee.get_username() if case.assignee else "",
            "referral_count": case.referral_count,
            "outcome": export_outcome(positive=case.confirmed_total > 0, reviewed=case.reviewed),
            "confirmed_total": case.confirmed_total,
        }
        for kind in Finding.Kind.values:
            row[f"confirmed_{kind}"] = getattr(case, f"confirmed_{kind}")
        yield row


def _count_of(queryset: QuerySet) -> Coalesce:
    """A correlated COUNT(*) of the queryset's rows for the outer case, 0 when none."""
    counted = queryset.order_by().values("case").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _any_of(queryset: QuerySet) -> Coalesce:
    """Whether the queryset has a row for the outer case, as a scalar subquery (LIMIT 1).
    Not EXISTS: PostgreSQL plans an EXISTS in the select list for every row the filter
    lets through and may hash the whole subquery (every positive finding, on each page),
    where a scalar subquery is run for the rows of the page only."""
    first = queryset.order_by().values(flag=Value(True, output_field=BooleanField()))[:1]
    return Coalesce(Subquery(first, output_field=BooleanField()), Value(False))


def cases_with_outcome(cases: QuerySet[Case]) -> QuerySet[Case]:
    """The cases with their waiting leads counted and whether they are positive, and the
    entity, team and assignee a list row shows, in a fixed number of queries per page."""
    return (
        cases.select_related("entity", "team", "assignee")
        .annotate(
            lead_count=_count_of(rules.waiting_leads()),
            is_positive=_any_of(rules.positive_findings().filter(case=OuterRef("pk"))),
        )
        .prefetch_related(tags_prefetch())
    )


class TwoStepPaginator(Paginator):
    """Pages of a list whose rows are costly to read: the page's ids are found first in
    the list's order, then only their rows are read, annotations and related rows
    included. In one query PostgreSQL computes the select list (the counts of a case's
    findings) for every row before the page's offset: page 100 of a team's cases read
    5,000 rows' counts to show 50 (150 ms at 100,000 cases; bench/load_test.py). Two
    queries a page either way.

    A list of few rows (a narrow search or filter) has its ids read whole and sliced
    here. Given a LIMIT, PostgreSQL walks the index of the sort order and tests every
    case against the search, expecting matches to come soon; when only 20 of a team's
    12,500 cases match, it walks all of them (130 ms for "cobalt robotics 4"). Without
    the LIMIT it finds the matches first through the search's index and sorts them
    (10 ms); reading a couple of thousand ids costs a few milliseconds."""

    read_whole_up_to = 2_000

    def page(self, number) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ordered = self.object_list.values_list("pk", flat=True)
        if self.count <= self.read_whole_up_to:
            ids = list(ordered)[bottom:top]
        else:
            ids = list(ordered[bottom:top])
        rows = {row.pk: row for row in self.object_list.order_by().filter(pk__in=ids)}
        return self._get_page([rows[pk] for pk in ids if pk in rows], number, self)


def cases_in_list_order(cases: QuerySet[Case], *, sorted_by_user: bool) -> QuerySet[Case]:
    """The cases in CASE_LIST_ORDER or, when the user sorted them, in their order with the
    id breaking ties, so rows with equal sort keys do not move between pages."""
    if not sorted_by_user:
        return cases.order_by(*CASE_LIST_ORDER)
    return cases.order_by(*cases.query.order_by, "id")


@dataclass(frozen=True)
class CaseFindings:
    by_date: list[Finding]  # every finding, earliest first
    leads: list[Finding]  # those waiting for review, best match first
    reviewed: list[Finding]  # the others, earliest first


def case_findings(case: Case) -> CaseFindings:
    """The case's findings with their reviewer and author, read once."""
    findings = list(
        case.findings.select_related("reviewed_by", "created_by").order_by("event_date", "id")
    )
    leads = sorted(
        (f for f in findings if f.review_state == Finding.ReviewState.LEAD),
        key=lambda f: (-(f.match_score or 0), f.pk),
    )
    reviewed = [f for f in findings if f.review_state != Finding.ReviewState.LEAD]
    return CaseFindings(by_date=findings, leads=leads, reviewed=reviewed)


def case_second_coding(case: Case) -> SecondCoding | None:
    return SecondCoding.objects.filter(case=case).select_related("coder").first()


def entity_for_edit(case: Case) -> Entity:
    """A copy of the case's entity of its own: a form writes what was typed onto its
    instance, and a refused value must not show as the stored one."""
    return Entity.objects.get(pk=case.entity_id)


@dataclass(frozen=True)
class Outcome:
    positive: bool
    firsts: list[Finding]  # the first positive finding of each kind, earliest first
    first: Finding | None  # the earliest dated one


def case_outcome(case: Case) -> Outcome:
    """Which outcome kinds the case is positive for, and the finding that first showed each."""
    first: dict[str, Finding] = {}
    for finding in rules.positive_findings().filter(case=case).order_by("event_date", "id"):
        first.setdefault(finding.kind, finding)
    firsts = list(first.values())
    dated = [f for f in firsts if f.event_date]
    earliest = min(dated, key=lambda f: f.event_date) if dated else None
    return Outcome(positive=bool(firsts), firsts=firsts, first=earliest)


@dataclass(frozen=True)
class HistoryEntry:
    when: datetime
    who: str  # "" when no person made the change
    model: str  # "case", "entity" or "finding"
    text: str  # the change in words (casework.history)


# Bookkeeping columns that change on every save and tell a reader nothing.
_HISTORY_SKIP = {"version", "updated_at", "name_key"}
_USER_FIELDS = {"assignee", "reviewed_by", "created_by", "changed_by", "coder"}
_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


def _changes(record, previous) -> list[history.Change]:
    """The field changes a history record made since `previous`, bookkeeping columns
    left out."""
    if previous is None:
        return []
    delta = record.diff_against(previous)
    return [
        history.Change(change.field, change.old, change.new)
        for change in delta.changes
        if change.field not in _HISTORY_SKIP
    ]


def _with_previous(rows: QuerySet, limit: int) -> list[tuple[object, object]]:
    """The newest `limit` history records of `rows`, each with the record before it of the
    same object (None for the first), in two queries: record.prev_record costs one query
    per record shown."""
    model = rows.model
    before = (
        model.objects.filter(id=OuterRef("id"), history_date__lt=OuterRef("history_date"))
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )
    records = list(
        rows.select_related("history_user")
        .annotate(previous_id=Subquery(before))
        .order_by("-history_date")[:limit]
    )
    previous = model.objects.in_bulk([r.previous_id for r in records if r.previous_id])
    return [(record, previous.get(record.previous_id)) for record in records]


def _history_records(case: Case, limit: int) -> list[tuple[str, object, object]]:
    """The newest history records of the case, its entity and its findings, newest first,
    each with the record before it."""
    records = []
    sources = [
        ("case", case.history.all()),
        ("entity", case.entity.history.all()),
        ("finding", Finding.history.filter(case_id=case.pk)),
    ]
    for model, rows in sources:
        for record, previous in _with_previous(rows, limit):
            records.append((model, record, previous))
    records.sort(key=lambda item: item[1].history_date, reverse=True)
    return records[:limit]


def _sentence(model: str, record, changes, users: dict, teams: dict) -> str:
    who = record.history_user.get_username() if record.history_user else ""
    action = _ACTIONS[record.history_type]
    if model == "finding":
        values = {
            "kind": record.kind,
            "source": record.source,
            "counterparty_name": record.counterparty_name,
            "review_note": record.review_note,
        }
        return history.finding_sentence(who, action, values, changes, users)
    if model == "case":
        return history.case_sentence(who, action, changes, users, teams)
    return history.entity_sentence(who, action, changes)


def case_change_history(case: Case, *, limit: int = 30) -> list[HistoryEntry]:
    """Edits of the case, its entity and its findings in words, newest first.

    The records before those shown are read with them, a query per model; the users and
    teams they name are read in one query each.
    """
    shown = [
        (model, record, _changes(record, previous))
        for model, record, previous in _history_records(case, limit)
    ]
    named = {
        field: {
            value
            for _, _, changes in shown
            for change in changes
            if change.field in fields
            for value in (change.old, change.new)
            if value is not None
        }
        for field, fields in (("user", _USER_FIELDS), ("team", {"team"}))
    }
    users = dict(
        get_user_model().objects.filter(pk__in=named["user"]).values_list("pk", "username")
    )
    teams = dict(Team.objects.filter(pk__in=named["team"]).values_list("pk", "name"))
    return [
        HistoryEntry(
            when=record.history_date,
            who=record.history_user.get_username() if record.history_user else "",
            model=model,
            text=_sentence(model, record, changes, users, teams),
        )
        for model, record, changes in shown
    ]


@dataclass(frozen=True)
class StatusEntry:
    when: datetime
    text: str


def case_status_changes(case: Case) -> list[StatusEntry]:
    """The case's status changes in words, newest first, with the reason when one was given."""
    changes = case.status_changes.select_related("changed_by").order_by("-changed_at", "-id")
    return [
        StatusEntry(
            change.changed_at,
            history.status_change_sentence(
                change.changed_by.get_username() if change.changed_by else "",
                change.from_status,
                change.to_status,
                change.reason,
            ),
        )
        for change in changes
    ]


def review_queue(findings: QuerySet[Finding]) -> QuerySet[Finding]:
    """Leads waiting for review, best match first, then the oldest; leads that cannot
    change an outcome (rules.cannot_change_outcome_q) last, marked `cannot_change_outcome`."""
    leads = findings.filter(review_state=Finding.ReviewState.LEAD)
    return (
        leads.select_related("case__entity", "case__team")
        .annotate(
            cannot_change_outcome=ExpressionWrapper(
                rules.cannot_change_outcome_q(), output_field=BooleanField()
            )
        )
        .order_by(
            "cannot_change_outcome", F("match_score").desc(nulls_last=True), "created_at", "id"
        )
    )


@dataclass(frozen=True)
class MyWork:
    cases: QuerySet[Case]  # the user's cases not closed, in CASE_LIST_ORDER
    leads: QuerySet[Finding]  # the first 100 leads waiting on them
    lead_total: int
    counts: dict[str, int]  # "open" (not concluded or closed) and "total"


def my_work(user: access.User) -> MyWork:
    """The cases assigned to the user that they may still see, and the leads on them."""
    mine = access.visible_cases(user).filter(assignee=user)
    cases = cases_with_outcome(mine).exclude(status=Case.Status.CLOSED).order_by(*CASE_LIST_ORDER)
    leads = review_queue(Finding.objects.filter(case__in=mine.values("id")))
    counts = mine.aggregate(
        open=Count("id", filter=~Q(status__in=[Case.Status.CONCLUDED, Case.Status.CLOSED])),
        total=Count("id"),
    )
    return MyWork(cases=cases, leads=leads[:100], lead_total=leads.count(), counts=counts)


def case_referrals(case: Case) -> QuerySet[Referral]:
    return Referral.objects.filter(entity_id=case.entity_id).select_related("post").order_by("date")


def matched_case_for(user: access.User, case: Case) -> Case | None:
    """The referred case a control is matched to, if the user may see it (its name is
    shown only then)."""
    if not case.matched_case_id:
        return None
    return (
        access.visible_cases(user).select_related("entity").filter(pk=case.matched_case_id).first()
    )
