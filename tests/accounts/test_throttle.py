"""Sign-in throttling (axes, cases/accounts/throttle.py): a wrong password five times for
one account from one address locks that pair for 15 minutes; 25 from one address lock the
address; nothing locks an account everywhere."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import F

from cases.models import AuditEvent
from tests.accounts.conftest import sign_in, signed_in
from tests.factories import AnalystFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("throttle")]

ATTACKER = "203.0.113.66"


def cool_off_passes(minutes: int = 16) -> None:
    """Age every recorded failure, as if `minutes` had gone by since the last one."""
    AccessAttempt.objects.update(
        attempt_time=F("attempt_time") - datetime.timedelta(minutes=minutes)
    )


def test_200_wrong_passwords_then_the_right_one_does_not_sign_in(client, analyst):
    for _ in range(200):
        sign_in(client, "alice", "wrong password guess", address=ATTACKER)

    response = sign_in(client, "alice", address=ATTACKER)

    assert not signed_in(client)
    assert response.status_code == 429
    body = response.content.decode()
    assert "Sign-in locked" in body
    assert "axes_reset_username alice" in body


def test_the_right_password_signs_in_again_after_the_cool_off(client, analyst):
    for _ in range(20):
        sign_in(client, "alice", "wrong password guess", address=ATTACKER)
    cool_off_passes()

    response = sign_in(client, "alice", address=ATTACKER)

    assert response.status_code == 302
    assert signed_in(client)


def test_a_try_during_the_lockout_starts_the_wait_again(client, analyst):
    for _ in range(5):
        sign_in(client, "alice", "wrong password guess", address=ATTACKER)
    cool_off_passes(minutes=10)
    sign_in(client, "alice", "wrong password guess", address=ATTACKER)
    cool_off_passes(minutes=10)

    sign_in(client, "alice", address=ATTACKER)

    assert not signed_in(client)


def test_four_wrong_passwords_do_not_lock(client, analyst):
    for _ in range(4):
        sign_in(client, "alice", "wrong password guess", address=ATTACKER)

    sign_in(client, "alice", address=ATTACKER)

    assert signed_in(client)


def test_a_flood_from_one_address_does_not_lock_the_account_elsewhere(client, analyst):
    for _ in range(50):
        sign_in(client, "alice", "wrong password guess", address=ATTACKER)

    sign_in(client, "alice", address="10.0.0.7")

    assert signed_in(client)


def test_an_address_trying_many_accounts_is_locked_for_every_account(client, analyst):
    AnalystFactory(username="bob")
    for n in range(25):
        sign_in(client, f"guess{n}", "wrong password guess", address=ATTACKER)

    response = sign_in(client, "bob", address=ATTACKER)

    assert response.status_code == 429
    assert not signed_in(client)
    sign_in(client, "bob", address="10.0.0.7")
    assert signed_in(client)


def test_a_few_typos_of_several_people_behind_one_address_lock_no_one(client, analyst):
    """An office behind one NAT: four people mistype twice each."""
    for name in ("bob", "carol", "dave", "erin"):
        AnalystFactory(username=name)
        for _ in range(2):
            sign_in(client, name, "typo", address=ATTACKER)

    sign_in(client, "alice", address=ATTACKER)

    assert signed_in(client)


def test_a_locked_out_sign_in_hashes_no_password(client, analyst, monkeypatch):
    """The flood that slowed every page: once locked, a try costs no password hash."""
    for _ in range(5):
        sign_in(client, "alice", "wrong password guess", address=ATTACKER)
    hashed = []
    user_model = get_user_model()
    original = user_model.check_password
    monkeypatch.setattr(
        user_model, "check_password", lambda self, raw: hashed.append(raw) or original(self, raw)
    )

    for _ in range(20):
        sign_in(client, "alice", "wrong password guess", address=ATTACKER)

    assert hashed == []


def test_failures_and_the_lockout_are_logged(client, analyst):
    for _ in range(6):
        sign_in(client, "alice", "wrong password guess", address=ATTACKER)

    attempt = AccessAttempt.objects.get(username="alice", ip_address=ATTACKER)
    assert attempt.failures_since_start == 6
    failed = AuditEvent.objects.filter(action="sign_in_failed", target="alice", ip=ATTACKER)
    assert failed.count() == 6
    assert AuditEvent.objects.filter(action="locked_out", target="alice", ip=ATTACKER).exists()
    assert "wrong password guess" not in str(list(AuditEvent.objects.values()))
    assert "wrong password guess" not in attempt.post_data


def test_axes_reset_unlocks(client, analyst):
    for _ in range(5):
        sign_in(client, "alice", "wrong password guess", address=ATTACKER)

    call_command("axes_reset_username", "alice")

    sign_in(client, "alice", address=ATTACKER)
    assert signed_in(client)


def test_the_admin_sign_in_is_throttled_too(client, superuser):
    for _ in range(5):
        client.post(
            "/admin/login/",
            {"username": "admin", "password": "wrong password guess"},
            REMOTE_ADDR=ATTACKER,
        )

    response = client.post(
        "/admin/login/",
        {"username": "admin", "password": "correct horse battery staple"},
        REMOTE_ADDR=ATTACKER,
    )

    assert response.status_code == 429
    assert not signed_in(client)
