"""Fixtures of the sign-in tests: the throttle on, and signing in through the form."""

import pytest
from django.test import override_settings
from django.urls import reverse

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's


@pytest.fixture
def throttle():
    """Axes as configured, which the rest of the suite runs without (tests/conftest.py)."""
    with override_settings(AXES_ENABLED=True):
        yield


def sign_in(client, username: str, password: str = PASSWORD, *, address: str = "10.0.0.7"):
    """POST the sign-in form from `address`, as a browser would."""
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session
