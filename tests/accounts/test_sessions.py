"""Sessions end after WISHLIST_IDLE_TIMEOUT without a request, and after
SESSION_COOKIE_AGE however busy; passwords have at least 12 characters."""

import time

import pytest
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases.accounts.middleware import LAST_SEEN_SESSION_KEY, STARTED_SESSION_KEY
from cases.models import AuditEvent
from tests.accounts.conftest import sign_in, signed_in

pytestmark = pytest.mark.django_db


def age_session(client, **seconds_ago: int) -> None:
    session = client.session
    now = int(time.time())
    if "idle" in seconds_ago:
        session[LAST_SEEN_SESSION_KEY] = now - seconds_ago["idle"]
    if "started" in seconds_ago:
        session[STARTED_SESSION_KEY] = now - seconds_ago["started"]
    session.save()


def test_the_defaults_are_thirty_minutes_idle_and_twelve_hours_at_most():
    assert settings.WISHLIST_IDLE_TIMEOUT == 30 * 60
    assert settings.SESSION_COOKIE_AGE == 12 * 60 * 60


def test_a_session_idle_past_the_timeout_is_signed_out(client, analyst):
    sign_in(client, "alice")
    age_session(client, idle=settings.WISHLIST_IDLE_TIMEOUT + 5)

    response = client.get(reverse("cases:case_list"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not signed_in(client)
    event = AuditEvent.objects.get(action="sign_out", actor_name="alice")
    assert event.detail == {"reason": "idle"}


def test_a_session_used_within_the_timeout_stays(client, analyst):
    sign_in(client, "alice")
    age_session(client, idle=settings.WISHLIST_IDLE_TIMEOUT - 60)

    assert client.get(reverse("cases:case_list")).status_code == 200
    assert client.session[LAST_SEEN_SESSION_KEY] >= int(time.time()) - 5


def test_a_busy_session_ends_at_its_maximum_age(client, analyst):
    sign_in(client, "alice")
    age_session(client, idle=10, started=settings.SESSION_COOKIE_AGE + 5)

    response = client.get(reverse("cases:case_list"))

    assert response.status_code == 302
    assert not signed_in(client)


def test_signing_in_starts_both_clocks(client, analyst):
    before = int(time.time())

    sign_in(client, "alice")

    assert client.session[STARTED_SESSION_KEY] >= before
    assert client.session[LAST_SEEN_SESSION_KEY] >= before


@pytest.mark.parametrize("password", ["Xk3!qz9#Lm2", "short"])
def test_a_password_under_twelve_characters_is_refused(password):
    with pytest.raises(ValidationError) as refused:
        password_validation.validate_password(password)

    assert "password_too_short" in [e.code for e in refused.value.error_list]


def test_a_password_of_twelve_characters_is_accepted():
    password_validation.validate_password("Xk3!qz9#Lm2w")
