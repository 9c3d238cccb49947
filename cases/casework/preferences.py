"""Writes of a person's preferences: the digest they choose, and the visits to My work
that decide which leads it shows as new."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from cases.models import UserPreferences


def preferences_of(user: AbstractBaseUser) -> UserPreferences:
    """The user's preferences, made with the defaults on first use."""
    return UserPreferences.objects.get_or_create(user_id=user.pk)[0]


def preferences_digest_set(*, user: AbstractBaseUser, digest: str) -> UserPreferences:
    """Choose how often the user is sent the digest: off, daily or weekly."""
    if digest not in UserPreferences.Digest.values:
        raise ValidationError({"digest": f"Choose one of {', '.join(UserPreferences.Digest)}."})
    with transaction.atomic():
        preferences = UserPreferences.objects.select_for_update().get(pk=preferences_of(user).pk)
        preferences.digest = digest
        preferences.save(update_fields=["digest"])
    return preferences


def my_work_visit_record(*, user: AbstractBaseUser, now: datetime) -> datetime | None:
    """Record that the user is looking at My work; return the time after which a lead is
    new to them (None: they have never looked, so every waiting lead is).

    A visit is a run of page views less than WISHLIST_MY_WORK_VISIT_GAP_MINUTES apart:
    a new visit makes the end of the previous one the mark, a reload within a visit keeps
    the mark, so the leads that were new when the visit began stay marked new during it.
    """
    gap = timedelta(minutes=settings.WISHLIST_MY_WORK_VISIT_GAP_MINUTES)
    with transaction.atomic():
        preferences = UserPreferences.objects.select_for_update().filter(user_id=user.pk).first()
        if preferences is None:
            # A first visit; two at once must not fail, and the page costs the same
            # number of queries on the first visit as on any other.
            UserPreferences.objects.bulk_create(
                [UserPreferences(user_id=user.pk, my_work_seen_at=now)], ignore_conflicts=True
            )
            return None
        seen = preferences.my_work_seen_at
        if seen is not None and now - seen >= gap:
            preferences.my_work_new_since = seen
        preferences.my_work_seen_at = max(now, seen) if seen else now
        preferences.save(update_fields=["my_work_seen_at", "my_work_new_since"])
    return preferences.my_work_new_since
