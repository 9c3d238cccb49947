"""Deliveries: written with their event, signed, sent once, retried with a doubling wait,
given up in the end; refused addresses and rolled-back events send nothing."""

import datetime
import json
import socket
import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from cases.casework import services as casework_services
from cases.checks import services as checks_services
from cases.models import Finding, TeamWebhook, WebhookDelivery
from cases.webhooks import services, signing
from tests.checks.fakes import hit
from tests.factories import CaseFactory, FindingFactory, TeamFactory, UserFactory
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.django_db

State = WebhookDelivery.State


@pytest.fixture
def team():
    return TeamFactory(name="Team A")


@pytest.fixture
def case(team):
    return CaseFactory(team=team, entity__name="Acme Robotics Ltd")


@pytest.fixture
def alice(team):
    return UserFactory(username="alice")


def lead(case, **values):
    return FindingFactory(
        case=case, source="gdelt", review_state=Finding.ReviewState.LEAD, **values
    )


def hook(team, url, **values):
    return TeamWebhook.objects.create(team=team, url=url, secret="s3cret", **values)


def verified(received: dict) -> dict:
    """The receiver's check: a fresh timestamp and a signature over it and the body."""
    headers = {k.lower(): v for k, v in received["headers"].items()}
    stamp = int(headers["x-wishlist-timestamp"])
    assert signing.verify(
        "s3cret",
        stamp,
        received["body"],
        headers["x-wishlist-signature"],
        now=int(timezone.now().timestamp()),
    )
    return json.loads(received["body"])


def test_confirming_a_lead_delivers_a_signed_event_once_committed(
    case, alice, django_capture_on_commit_callbacks
):
    finding = lead(case, counterparty_name="Shenzhen Example Co")
    with Receiver() as receiver:
        hook(case.team, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            casework_services.finding_review(
                finding=finding, state=Finding.ReviewState.CONFIRMED, reviewer=alice
            )
    assert len(receiver.received) == 1
    sent = receiver.received[0]
    body = verified(sent)
    assert sent["headers"]["X-Wishlist-Event"] == "finding_confirmed"
    assert body["text"] == (
        "alice confirmed a joint venture finding on Acme Robotics Ltd with Shenzhen Example Co"
    )
    assert body["case"]["url"] == f"https://wishlist.example/cases/{case.pk}/"
    assert body["finding"]["id"] == finding.pk
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status) == (State.DELIVERED, 1, 200)
    assert sent["headers"]["X-Wishlist-Delivery"] == str(delivery.pk)


def test_a_rejection_and_a_team_without_webhooks_send_nothing(
    case, alice, django_capture_on_commit_callbacks
):
    other = CaseFactory(team=TeamFactory(name="Team B"))
    with Receiver() as receiver:
        hook(case.team, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            casework_services.finding_review(
                finding=lead(case), state=Finding.ReviewState.REJECTED, reviewer=alice, note="no"
            )
            casework_services.finding_review(
                finding=lead(other), state=Finding.ReviewState.CONFIRMED, reviewer=alice
            )
    assert receiver.received == []
    assert not WebhookDelivery.objects.exists()


def test_an_event_rolled_back_is_never_sent(case, alice, django_capture_on_commit_callbacks):
    finding = lead(case)
    with Receiver() as receiver:
        hook(case.team, receiver.url)
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            casework_services.finding_review(
                finding=finding, state=Finding.ReviewState.CONFIRMED, reviewer=alice
            )
            raise RuntimeError("the rest of the request failed")
    assert receiver.received == []
    assert not WebhookDelivery.objects.exists()
    finding.refresh_from_db()
    assert finding.review_state == Finding.ReviewState.LEAD


def test_a_finding_recorded_by_hand_is_a_confirmed_finding(
    case, alice, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        hook(case.team, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            casework_services.finding_record_by_hand(
                case=case,
                actor=alice,
                kind=Finding.Kind.ACQUISITION,
                counterparty_name="Beijing Buyer Co",
                counterparty_country="CN",
                event_date=datetime.date(2020, 1, 2),
                event_date_precision="day",
                source_url="https://example.org/a",
                excerpt="",
            )
    assert verified(receiver.received[0])["finding"]["counterparty"] == "Beijing Buyer Co"


def test_new_leads_go_out_as_one_delivery_per_check_and_only_to_hooks_that_want_them(
    case, django_capture_on_commit_callbacks
):
    with Receiver() as wants, Receiver() as does_not:
        hook(case.team, wants.url)
        hook(case.team, does_not.url, on_leads_filed=False)
        with django_capture_on_commit_callbacks(execute=True):
            filed = checks_services.leads_file(
                case=case, source="fake", hits=[hit("ev-1"), hit("ev-2"), hit("low", score=1)]
            )
            again = checks_services.leads_file(case=case, source="fake", hits=[hit("ev-1")])
    assert (filed, again) == (2, 0)
    assert does_not.received == []
    assert len(wants.received) == 1  # the second call filed nothing new
    body = verified(wants.received[0])
    assert body["text"] == "2 new leads on Acme Robotics Ltd"
    ids = {f["id"] for f in body["findings"]}
    assert ids == set(Finding.objects.filter(case=case).values_list("pk", flat=True))
    assert None not in ids


def test_a_failing_receiver_is_retried_with_a_doubling_wait_then_given_up(
    case, settings, django_capture_on_commit_callbacks
):
    settings.WISHLIST_WEBHOOK_MAX_ATTEMPTS = 3
    with Receiver(statuses=[503]) as receiver:
        webhook = hook(case.team, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            delivery = services.ping(webhook)
        delivery.refresh_from_db()
        assert (delivery.state, delivery.attempts, delivery.last_status) == (State.PENDING, 1, 503)
        assert delivery.last_error == "the receiver answered HTTP 503"
        first_wait = delivery.next_attempt_at - timezone.now()
        assert timedelta(seconds=50) < first_wait <= timedelta(seconds=60)

        assert services.sweep() == 0  # not due yet
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert services.sweep() == 1
        delivery.refresh_from_db()
        second_wait = delivery.next_attempt_at - timezone.now()
        assert timedelta(seconds=110) < second_wait <= timedelta(seconds=120)

        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        services.sweep()
        delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (State.GAVE_UP, 3, None)
    assert len(receiver.received) == 3
    assert services.sweep() == 0


def test_the_wait_is_capped(settings):
    settings.WISHLIST_WEBHOOK_BACKOFF_SECONDS = 60
    settings.WISHLIST_WEBHOOK_BACKOFF_MAX_SECONDS = 600
    assert [services.backoff(n).total_seconds() for n in (1, 2, 3, 4, 5, 9)] == [
        60, 120, 240, 480, 600, 600
    ]  # fmt: skip


def test_a_receiver_that_recovers_gets_the_same_body(case, django_capture_on_commit_callbacks):
    with Receiver(statuses=[500, 200]) as receiver:
        with django_capture_on_commit_callbacks(execute=True):
            delivery = services.ping(hook(case.team, receiver.url))
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        services.sweep()
    delivery.refresh_from_db()
    assert delivery.state == State.DELIVERED and delivery.delivered_at
    first, second = receiver.received
    assert first["body"] == second["body"]
    verified(second)


def test_a_closed_port_and_a_redirect_are_failures_in_words(
    case, django_capture_on_commit_callbacks
):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with (
        Receiver(statuses=[302], location="https://elsewhere.example/") as moved,
        django_capture_on_commit_callbacks(execute=True),
    ):
        nobody = services.ping(hook(case.team, f"http://127.0.0.1:{port}/hook"))
        redirected = services.ping(hook(case.team, moved.url))
    nobody.refresh_from_db()
    redirected.refresh_from_db()
    assert nobody.last_error == "could not connect to the receiver"
    assert nobody.state == State.PENDING
    assert "redirect" in redirected.last_error
    assert redirected.state == State.PENDING
    assert len(moved.received) == 1  # the redirect was not followed


def test_a_private_address_is_refused_without_a_request_unless_allowed(
    case, settings, django_capture_on_commit_callbacks
):
    settings.WISHLIST_WEBHOOK_ALLOW_PRIVATE = False
    with Receiver() as receiver, django_capture_on_commit_callbacks(execute=True):
        delivery = services.ping(hook(case.team, receiver.url))
    delivery.refresh_from_db()
    assert receiver.received == []
    assert "127.0.0.1 is private, loopback or reserved" in delivery.last_error
    assert delivery.state == State.PENDING


def test_a_delivery_is_sent_once_however_often_it_is_asked(
    case, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        webhook = hook(case.team, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            delivery = services.ping(webhook)
        # A second message for it (a broker redelivery), and the sweep: nothing more.
        assert services.attempt(delivery.pk) is None
        assert services.sweep() == 0
    assert len(receiver.received) == 1


def test_a_sender_that_died_mid_send_is_picked_up_by_the_sweep(case):
    with Receiver() as receiver:
        webhook = hook(case.team, receiver.url)
        long_ago = timezone.now() - timedelta(hours=1)
        delivery = WebhookDelivery.objects.create(
            webhook=webhook,
            event="ping",
            payload={"event": "ping"},
            state=State.SENDING,
            attempts=1,
            claimed_at=long_ago,
            next_attempt_at=long_ago,
        )
        recent = WebhookDelivery.objects.create(
            webhook=webhook,
            event="ping",
            payload={"event": "ping"},
            state=State.SENDING,
            attempts=1,
            claimed_at=timezone.now(),
        )
        assert services.sweep() == 1
    delivery.refresh_from_db()
    recent.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (State.DELIVERED, 2)
    assert recent.state == State.SENDING  # still within its sender's time
    assert len(receiver.received) == 1


def test_a_switched_off_webhook_gets_nothing_new_and_gives_up_what_waits(
    case, alice, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        webhook = hook(case.team, receiver.url)
        waiting = WebhookDelivery.objects.create(
            webhook=webhook, event="ping", payload={}, next_attempt_at=timezone.now()
        )
        webhook.active = False
        webhook.save()
        with django_capture_on_commit_callbacks(execute=True):
            casework_services.finding_review(
                finding=lead(case), state=Finding.ReviewState.CONFIRMED, reviewer=alice
            )
        services.sweep()
    waiting.refresh_from_db()
    assert receiver.received == []
    assert WebhookDelivery.objects.count() == 1
    assert (waiting.state, waiting.last_error) == (State.GAVE_UP, "the webhook was switched off")


def test_retry_now_gives_a_given_up_delivery_a_fresh_budget(
    case, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        webhook = hook(case.team, receiver.url)
        gone = WebhookDelivery.objects.create(
            webhook=webhook, event="ping", payload={"event": "ping"}, state=State.GAVE_UP,
            attempts=8, last_error="the receiver answered HTTP 500",
        )  # fmt: skip
        with django_capture_on_commit_callbacks(execute=True):
            assert services.retry_now([gone.pk]) == 1
    gone.refresh_from_db()
    assert (gone.state, gone.attempts, gone.last_error) == (State.DELIVERED, 1, "")
    assert len(receiver.received) == 1


@pytest.mark.django_db(transaction=True)
def test_in_embedded_mode_the_request_does_not_wait_for_the_receiver(case, settings, monkeypatch):
    """The default: a thread sends it once the transaction commits; the caller goes on."""
    settings.WISHLIST_WEBHOOK_IN_THREAD = True
    senders = []
    done = threading.Event()
    attempt = services.attempt

    def recorded(pk):
        senders.append(threading.current_thread())
        try:
            return attempt(pk)
        finally:
            done.set()

    monkeypatch.setattr(services, "attempt", recorded)
    with Receiver() as receiver:
        delivery = services.ping(hook(case.team, receiver.url))
        assert done.wait(timeout=30)
        assert senders[0] is not threading.current_thread()
        senders[0].join(timeout=30)
    delivery.refresh_from_db()
    assert delivery.state == State.DELIVERED
    assert len(receiver.received) == 1


def test_the_command_sends_what_is_due_and_says_so(case):
    from io import StringIO

    from django.core.management import call_command

    with Receiver(statuses=[200]) as receiver:
        webhook = hook(case.team, receiver.url)
        WebhookDelivery.objects.create(
            webhook=webhook, event="ping", payload={"event": "ping"}, next_attempt_at=timezone.now()
        )
        out = StringIO()
        call_command("deliver_webhooks", stdout=out)
    assert out.getvalue().startswith("Attempted 1 delivery(ies); 0 wait for a retry")
    assert len(receiver.received) == 1
