"""Who must sign in with a second factor."""

from django.contrib.auth.models import AbstractBaseUser
from django_otp import user_has_device

from cases import access


def otp_required(user: AbstractBaseUser) -> bool:
    """Staff, whoever sees every team's cases (superusers included) and supervisors must;
    an analyst must once they have set one up (a second factor that could be skipped
    would protect nothing)."""
    if not user.is_authenticated:
        return False
    return user.is_staff or access.is_supervisor(user) or otp_has_device(user)


def otp_has_device(user: AbstractBaseUser) -> bool:
    return user_has_device(user, confirmed=True)
