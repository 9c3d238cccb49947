"""Admins set up a team's webhooks in the Django admin and read the delivery log; bad
addresses are refused with a reason and nothing saved."""

import pytest

from cases.models import TeamWebhook, WebhookDelivery
from tests.admin.helpers import HOSTILE, HOSTILE_ESCAPED, url
from tests.factories import TeamFactory
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return TeamFactory(name="Team A")


def add(admin_client, team, address, **extra):
    form = {
        "team": team.pk,
        "url": address,
        "description": "",
        "on_leads_filed": "on",
        "on_finding_confirmed": "on",
        "active": "on",
        "deliveries-TOTAL_FORMS": "0",
        "deliveries-INITIAL_FORMS": "0",
    } | extra
    return admin_client.post(url("teamwebhook", "add"), form)


def test_an_admin_adds_a_webhook_with_a_secret_made_for_it(admin_client, team, settings):
    settings.WISHLIST_WEBHOOK_ALLOW_PRIVATE = False
    response = add(admin_client, team, "https://chat.example.org/hooks/abc")
    assert response.status_code == 302
    hook = TeamWebhook.objects.get()
    assert len(hook.secret) == 64 and hook.created_by.is_superuser
    page = admin_client.get(url("teamwebhook", "change", hook.pk)).content.decode()
    assert hook.secret in page  # shown, to be copied to the receiver


@pytest.mark.parametrize(
    "address, why",
    [
        ("ftp://example.org/x", "must start with https:// or http://"),
        ("javascript:alert(1)", "Enter a valid URL"),
        ("not a url", "Enter a valid URL"),
        ("http://127.0.0.1:9000/x", "private, loopback or reserved"),
        ("http://169.254.169.254/latest/meta-data", "private, loopback or reserved"),
        ("http://[::1]/x", "private, loopback or reserved"),
        ("https://example.org/" + "a" * 600, "at most 500 characters"),
    ],
)
def test_bad_and_private_addresses_are_refused_and_nothing_saved(
    admin_client, team, settings, address, why
):
    settings.WISHLIST_WEBHOOK_ALLOW_PRIVATE = False
    response = add(admin_client, team, address)
    assert response.status_code == 200
    assert why in response.content.decode()
    assert not TeamWebhook.objects.exists()


def test_the_same_address_twice_for_a_team_is_refused(admin_client, team):
    assert add(admin_client, team, "https://chat.example.org/h").status_code == 302
    response = add(admin_client, team, "https://chat.example.org/h")
    assert response.status_code == 200
    assert TeamWebhook.objects.count() == 1


def test_a_test_delivery_from_the_admin_reaches_the_receiver_and_is_logged(
    admin_client, team, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.WISHLIST_WEBHOOK_IN_THREAD = False
    settings.WISHLIST_WEBHOOK_ALLOW_PRIVATE = True
    with Receiver() as receiver:
        hook = TeamWebhook.objects.create(team=team, url=receiver.url, description=HOSTILE)
        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post(
                url("teamwebhook", "changelist"),
                {"action": "send_ping", "_selected_action": [hook.pk]},
            )
    assert len(receiver.received) == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "delivered"
    log = admin_client.get(url("webhookdelivery", "changelist")).content.decode()
    assert "test ping" in log and "delivered" in log
    page = admin_client.get(url("teamwebhook", "change", hook.pk)).content.decode()
    assert HOSTILE not in page and HOSTILE_ESCAPED in page


def test_the_log_is_read_only_but_a_given_up_delivery_can_be_sent_again(
    admin_client, team, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.WISHLIST_WEBHOOK_IN_THREAD = False
    settings.WISHLIST_WEBHOOK_ALLOW_PRIVATE = True
    with Receiver() as receiver:
        hook = TeamWebhook.objects.create(team=team, url=receiver.url)
        gone = WebhookDelivery.objects.create(
            webhook=hook, event="ping", payload={}, state="gave_up", attempts=8
        )
        assert admin_client.get(url("webhookdelivery", "add")).status_code == 403
        assert admin_client.post(url("webhookdelivery", "delete", gone.pk)).status_code == 403
        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post(
                url("webhookdelivery", "changelist"),
                {"action": "retry_now", "_selected_action": [gone.pk]},
            )
    gone.refresh_from_db()
    assert gone.state == "delivered" and len(receiver.received) == 1


def test_rotating_the_secret_signs_what_follows_with_the_new_one(admin_client, team):
    hook = TeamWebhook.objects.create(team=team, url="https://chat.example.org/h", secret="old")
    admin_client.post(
        url("teamwebhook", "changelist"),
        {"action": "rotate_secret", "_selected_action": [hook.pk]},
    )
    hook.refresh_from_db()
    assert hook.secret != "old" and len(hook.secret) == 64
