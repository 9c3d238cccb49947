"""Reads of the dashboards: My work's blocks (open cases, leads new since the last visit,
second readings owed, idle cases) and the supervisors' backlog per team.

Every block is a fixed number of queries, whatever the number of cases, leads or teams:
counts and ages are grouped in the database, lists are cut to a few rows.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.db.models import (
    Count,
    DateTimeField,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.functions import Coalesce, Greatest, RowNumber, TruncWeek
from django.utils import timezone

from cases import access
from cases.models import Case, CaseStatusChange, Finding, SecondCoding, Team

# How many rows a block lists; its count says how many there are in all.
LIST_LIMIT = 20
IDLE_DAYS_MAX = 3650
REVIEW_WEEKS = 8


def open_case_q(prefix: str = "") -> Q:
    """A case still being worked: neither concluded nor closed."""
    return ~Q(**{f"{prefix}status__in": [Case.Status.CONCLUDED, Case.Status.CLOSED]})


def my_open_cases(user: access.User) -> QuerySet[Case]:
    """The open cases assigned to the user that they may still see."""
    return access.visible_cases(user).filter(open_case_q(), assignee=user)


def my_open_cases_query(user: access.User) -> str:
    """The case list's query string that lists the user's open cases."""
    statuses = [
        s for s in Case.Status.values if s not in (Case.Status.CONCLUDED, Case.Status.CLOSED)
    ]
    return urlencode({"assignee": user.pk, "status": statuses}, doseq=True)


def _latest(queryset: QuerySet, field: str) -> Subquery:
    """The latest `field` of the outer case's rows of `queryset`, NULL when none."""
    return Subquery(
        queryset.filter(case=OuterRef("pk"))
        .order_by()
        .values("case")
        .annotate(latest=Max(field))
        .values("latest"),
        output_field=DateTimeField(),
    )


def with_last_activity(cases: QuerySet[Case]) -> QuerySet[Case]:
    """The cases with `last_activity`: the latest finding recorded or reviewed, or status
    change, and the case's creation when there is none (a new case is not idle).
    Each part falls back to the creation: SQLite's MAX() of a NULL is NULL."""
    created = F("created_at")
    return cases.annotate(
        last_activity=Greatest(
            created,
            Coalesce(_latest(Finding.objects.all(), "created_at"), created),
            Coalesce(_latest(Finding.objects.all(), "reviewed_at"), created),
            Coalesce(_latest(CaseStatusChange.objects.all(), "changed_at"), created),
        )
    )


def _new_lead_q(new_since: datetime | None, prefix: str = "") -> Q:
    """A lead waiting for review, filed after `new_since` (any, when None)."""
    condition = Q(**{f"{prefix}review_state": Finding.ReviewState.LEAD})
    if new_since is not None:
        condition &= Q(**{f"{prefix}created_at__gt": new_since})
    return condition


@dataclass(frozen=True)
class MyWorkSummary:
    open_count: int
    new_since: datetime | None  # None: never seen, so every waiting lead is new
    new_lead_count: int
    new_lead_cases: list[Case]  # with new_lead_count, most new leads first
    reading_count: int
    oldest_reading: datetime | None  # when the longest-pending reading was given
    idle_days: int
    idle_count: int
    idle_cases: list[Case]  # with last_activity, longest idle first

    @property
    def has_news(self) -> bool:
        """Whether a digest has something to say (open cases alone are not news)."""
        return bool(self.new_lead_count or self.reading_count or self.idle_count)


def my_work_summary(
    user: access.User, *, new_since: datetime | None, idle_days: int, now: datetime
) -> MyWorkSummary:
    """The numbers of My work: the user's open cases, the leads waiting on them filed
    after `new_since`, the second readings they owe, and their open cases with nothing
    recorded, reviewed or moved for `idle_days`."""
    mine = my_open_cases(user)
    new_leads = Finding.objects.filter(_new_lead_q(new_since), case__in=mine.values("id"))
    new_lead_cases = (
        Case.objects.filter(pk__in=new_leads.values("case_id"))
        .select_related("entity")
        .annotate(new_lead_count=Count("findings", filter=_new_lead_q(new_since, "findings__")))
        .order_by("-new_lead_count", "id")
    )
    # Counted, not listed: a pending reading's case is hidden from its coder everywhere
    # but the blind coding page (cases/access.py), so My work names none of them.
    readings = SecondCoding.objects.filter(
        coder_id=user.pk, recorded_at__isnull=True, case__in=access.team_cases(user)
    ).aggregate(n=Count("id"), oldest=Min("assigned_at"))
    idle = (
        with_last_activity(mine)
        .filter(last_activity__lt=now - timedelta(days=idle_days))
        .select_related("entity")
        .order_by("last_activity", "id")
    )
    return MyWorkSummary(
        open_count=mine.count(),
        new_since=new_since,
        new_lead_count=new_leads.count(),
        new_lead_cases=list(new_lead_cases[:LIST_LIMIT]),
        reading_count=readings["n"],
        oldest_reading=readings["oldest"],
        idle_days=idle_days,
        idle_count=idle.count(),
        idle_cases=list(idle[:LIST_LIMIT]),
    )


# --- the supervisors' backlog ---


@dataclass
class TeamBacklog:
    team: Team
    unassigned: int = 0  # open cases with nobody assigned
    leads: int = 0  # leads waiting for review
    oldest_lead: datetime | None = None
    median_lead: datetime | None = None  # when the median waiting lead was filed
    # (reviewer's name, reviews in each of the weeks of Backlog.weeks), by name
    reviews: list[tuple[str, list[int]]] = field(default_factory=list)

    def age_days(self, when: datetime | None, now: datetime) -> int | None:
        return None if when is None else (now - when).days


@dataclass(frozen=True)
class Backlog:
    now: datetime
    weeks: list[date]  # the Mondays of the weeks counted, oldest first
    teams: list[TeamBacklog]
    no_team_open: int | None  # open cases on no team; None unless the user is an admin
    no_team_total: int | None

    def rows(self):
        """Each team with the ages of its oldest and median lead in days."""
        for row in self.teams:
            yield (
                row,
                row.age_days(row.oldest_lead, self.now),
                row.age_days(row.median_lead, self.now),
            )


def _median_lead_times(leads: QuerySet[Finding]) -> dict[int, datetime]:
    """When each team's median waiting lead was filed, in one query: the leads numbered
    by age within their team, the middle one kept (the older of two middles)."""
    ranked = leads.annotate(
        team_id=F("case__team_id"),
        rank=Window(RowNumber(), partition_by=F("case__team_id"), order_by=F("created_at").asc()),
        team_total=Window(Count("id"), partition_by=F("case__team_id")),
    )
    middles = ranked.filter(rank=(F("team_total") + 1) / 2).values_list("team_id", "created_at")
    return dict(middles)


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _unassigned_counts(team_ids: list[int]) -> dict[int, int]:
    return dict(
        Case.objects.filter(open_case_q(), team_id__in=team_ids, assignee__isnull=True)
        .order_by()
        .values("team_id")
        .annotate(n=Count("id"))
        .values_list("team_id", "n")
    )


def _reviews_per_week(team_ids: list[int], weeks: list[date]) -> dict[int, list]:
    """Per team, each reviewer's name and reviews in each of `weeks`, by name. A lead's
    latest review counts (its reviewer and time): a reopened lead's is gone."""
    counts: dict[tuple[int, str], dict[date, int]] = {}
    for team_id, name, week, n in (
        Finding.objects.filter(
            case__team_id__in=team_ids,
            reviewed_by__isnull=False,
            reviewed_at__gte=timezone.make_aware(datetime.combine(weeks[0], time.min)),
        )
        .annotate(week=TruncWeek("reviewed_at"))
        .order_by()
        .values("case__team_id", "reviewed_by__username", "week")
        .annotate(n=Count("id"))
        .values_list("case__team_id", "reviewed_by__username", "week", "n")
    ):
        day = week.date() if isinstance(week, datetime) else week
        counts.setdefault((team_id, name), {})[day] = n
    per_team: dict[int, list] = {}
    for (team_id, name), by_week in sorted(counts.items(), key=lambda item: item[0][1]):
        per_team.setdefault(team_id, []).append((name, [by_week.get(w, 0) for w in weeks]))
    return per_team


def backlog(user: access.User, *, now: datetime | None = None) -> Backlog:
    """The backlog of each team the user supervises (every team for an admin), and for an
    admin the cases on no team, which imports leave there and only admins see."""
    now = now or timezone.now()
    teams = list(access.visible_teams(user).order_by("name"))
    rows = {team.pk: TeamBacklog(team=team) for team in teams}
    team_ids = list(rows)

    for team_id, n in _unassigned_counts(team_ids).items():
        rows[team_id].unassigned = n
    leads = Finding.objects.filter(
        case__team_id__in=team_ids, review_state=Finding.ReviewState.LEAD
    ).order_by()
    for team_id, n, oldest in (
        leads.values("case__team_id")
        .annotate(n=Count("id"), oldest=Min("created_at"))
        .values_list("case__team_id", "n", "oldest")
    ):
        rows[team_id].leads, rows[team_id].oldest_lead = n, oldest
    for team_id, median in _median_lead_times(leads).items():
        rows[team_id].median_lead = median
    this_week = _week_start(timezone.localdate(now))
    weeks = [this_week - timedelta(weeks=n) for n in range(REVIEW_WEEKS - 1, -1, -1)]
    for team_id, reviews in _reviews_per_week(team_ids, weeks).items():
        rows[team_id].reviews = reviews

    no_team_open = no_team_total = None
    if access.is_admin(user):
        no_team = Case.objects.filter(team__isnull=True).aggregate(
            open=Count("id", filter=open_case_q()), total=Count("id")
        )
        no_team_open, no_team_total = no_team["open"], no_team["total"]
    return Backlog(
        now=now,
        weeks=weeks,
        teams=[rows[team.pk] for team in teams],
        no_team_open=no_team_open,
        no_team_total=no_team_total,
    )
