"""The test client of the suite: Django's, whose force_login signs in with both factors."""

import django.test
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice

from cases.accounts.policy import otp_required


def otp_verify(client: django.test.Client, user) -> StaticDevice:
    """Mark the client's session as having given a second factor, as django_otp.login does
    after a right code, with a backup-code device made for the user if need be."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name="tests", defaults={"confirmed": True}
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


class Client(django.test.Client):
    """force_login(user) is signed in as far as the user's role needs: with the second
    factor given for staff and supervisors. `otp=False` stops after the password, for the
    tests of the second step itself."""

    def force_login(self, user, backend=None, *, otp: bool = True):
        super().force_login(user, backend)
        # A fresh copy: the roles cached on the test's own object must not go stale.
        if otp and otp_required(type(user)._default_manager.get(pk=user.pk)):
            otp_verify(self, user)
