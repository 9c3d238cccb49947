"""Who must sign in with a second factor."""

from django.contrib.auth.models import AbstractBaseUser
from django_otp import devices_for_user

from cases import access


def otp_required(user: AbstractBaseUser) -> bool:
    """Staff, superusers, whoever sees every team's cases and supervisors must; an analyst
    must once they have set one up (a second factor that could be skipped would protect
    nothing)."""
    if not user.is_authenticated:
        return False
    if (
        user.is_staff
        or user.is_superuser
        or access.is_admin(user)
        or access.SUPERVISOR in access.roles(user)
    ):
        return True
    return otp_has_device(user)


def otp_has_device(user: AbstractBaseUser) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))
