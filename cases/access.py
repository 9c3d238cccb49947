"""Who may see and change what: teams decide which cases a person sees, roles what they
may do with them.

Roles are groups made by a data migration: analysts see and edit their teams' cases;
supervisors see their teams' cases read-only, assign work and read analytics. Admins are
the people granted the permission "cases.view_all_teams" (superusers have every
permission): they see and work every team's cases. The staff flag alone grants nothing
here: it only lets a person into the Django admin, where model permissions decide the
rest, so a staff account made for one admin task cannot read or change every case. A case
outside a person's teams does not exist for them: the pages answer 404, not 403, so case
ids leak nothing.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from cases.models import Case, Cohort, Finding, SecondCoding, Team

ANALYST = "analyst"
SUPERVISOR = "supervisor"
ROLES = (ANALYST, SUPERVISOR)
# Granted in the admin (Users or Groups: "Can see and work every team's cases").
VIEW_ALL_TEAMS = "cases.view_all_teams"

User = AbstractBaseUser | AnonymousUser


def roles(user: User) -> frozenset[str]:
    """The user's roles, read once per request object."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_wishlist_roles", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._wishlist_roles = cached
    return cached


def is_admin(user: User) -> bool:
    """Sees and works every team's cases: granted the permission, or a superuser."""
    return bool(user.is_authenticated and user.is_active and user.has_perm(VIEW_ALL_TEAMS))


def is_analyst(user: User) -> bool:
    return is_admin(user) or ANALYST in roles(user)


def is_supervisor(user: User) -> bool:
    return is_admin(user) or SUPERVISOR in roles(user)


def can_edit(user: User) -> bool:
    """Review leads, record findings, change status and identifiers, queue checks."""
    return is_analyst(user)


def can_assign(user: User) -> bool:
    return is_analyst(user) or is_supervisor(user)


def can_see_analytics(user: User) -> bool:
    return is_supervisor(user)


def visible_teams(user: User) -> QuerySet[Team]:
    if is_admin(user):
        return Team.objects.all()
    if not roles(user):
        return Team.objects.none()
    return Team.objects.filter(members=user)


def team_cases(user: User) -> QuerySet[Case]:
    """Their teams' cases, or every case for an admin, blind readings included: only for
    the second coder's own pages."""
    if is_admin(user):
        return Case.objects.all()
    if not roles(user):
        return Case.objects.none()
    return Case.objects.filter(team__in=Team.objects.filter(members=user).values("id"))


def blinded_case_ids(user: User) -> QuerySet[SecondCoding]:
    """Cases whose second reading is given to `user` and not recorded yet."""
    return SecondCoding.objects.filter(coder_id=user.pk, recorded_at__isnull=True).values("case_id")


def visible_cases(user: User) -> QuerySet[Case]:
    """Every case the user may see: their teams' cases, or every case for an admin, less
    the cases whose second reading they owe. A blind coder must not see the first
    analyst's review states and notes, nor find the case by an outcome filter or in an
    export, so those cases do not exist for them (404) until the reading is recorded;
    they read them on the blind coding page only."""
    cases = team_cases(user)
    if not user.is_authenticated:
        return cases
    return cases.exclude(pk__in=blinded_case_ids(user))


def coding_case_or_404(user: User, pk: int) -> Case:
    """A case for its second coder's blind page, pending or recorded."""
    return get_object_or_404(team_cases(user).select_related("entity", "team"), pk=pk)


def visible_cohorts(user: User, *, cases: QuerySet[Case] | None = None) -> QuerySet[Cohort]:
    """Cohorts the user made or that hold at least one of their visible cases (`cases`,
    when the caller has narrowed them already)."""
    if cases is None:
        cases = visible_cases(user)
    return Cohort.objects.filter(
        pk__in=Cohort.objects.filter(Q(created_by=user) | Q(cases__in=cases.values("pk"))).values(
            "pk"
        )
    )


def visible_findings(user: User) -> QuerySet[Finding]:
    if is_admin(user):
        return Finding.objects.all()
    return Finding.objects.filter(case__in=visible_cases(user).values("id"))


def case_or_404(user: User, pk: int) -> Case:
    return get_object_or_404(
        visible_cases(user).select_related("entity", "team", "assignee"), pk=pk
    )


def finding_or_404(user: User, pk: int) -> Finding:
    return get_object_or_404(visible_findings(user).select_related("case"), pk=pk)
