"""Reads of the notifications: the unread count, a person's list, who sees a case."""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from cases import access
from cases.models import Case, Notification, Watch


def unread_count(user: AbstractBaseUser) -> int:
    """One query, on the partial index of unread notifications."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_for(user: AbstractBaseUser) -> QuerySet[Notification]:
    """The person's notifications, newest first, with what their links need."""
    return Notification.objects.filter(recipient=user).select_related("actor", "case")


def is_watching(user: AbstractBaseUser, case: Case) -> bool:
    return Watch.objects.filter(user=user, case=case).exists()


def case_watchers(case: Case) -> QuerySet:
    return get_user_model().objects.filter(watches__case=case)


def team_analysts(case: Case) -> QuerySet:
    """The analysts of the case's team (nobody for a case without a team)."""
    if case.team_id is None:
        return get_user_model().objects.none()
    return get_user_model().objects.filter(teams=case.team_id, groups__name=access.ANALYST)


def can_see_case(user: AbstractBaseUser, case: Case) -> bool:
    """Whether the case exists for `user`, by the one rule of cases.access (teams, roles,
    admins, blind second readings)."""
    return user.is_active and access.visible_cases(user).filter(pk=case.pk).exists()


def who_sees(case: Case, users: Iterable[AbstractBaseUser]) -> list[AbstractBaseUser]:
    """Those of `users` the case exists for, each once, in the order given."""
    seen, kept = set(), []
    for user in users:
        if user.pk in seen:
            continue
        seen.add(user.pk)
        if can_see_case(user, case):
            kept.append(user)
    return kept
