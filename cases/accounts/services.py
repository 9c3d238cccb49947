"""Second-factor devices: a TOTP app set up by its owner, static backup codes."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

TOTP_NAME = "Authenticator app"
BACKUP_NAME = "Backup codes"
BACKUP_CODES = 10


def totp_device_pending(*, user: AbstractBaseUser) -> TOTPDevice:
    """The user's TOTP device waiting to be confirmed, made if there is none.

    Kept until confirmed, so reloading the set-up page shows the same secret the user may
    already have typed into their app.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Confirm the device if `token` is its current code; return whether it was."""
    if not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return True


@transaction.atomic
def backup_codes_reset(*, user: AbstractBaseUser, count: int = BACKUP_CODES) -> list[str]:
    """Give the user `count` new single-use backup codes, replacing any old ones."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_NAME, defaults={"confirmed": True}
    )
    device.confirmed = True
    device.save()
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(count)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes
