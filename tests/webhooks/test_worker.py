"""A delivery sent by a real Celery worker on the real Redis and PostgreSQL (CI's second
pass sets REDIS_URL and DATABASE_URL)."""

import uuid

import pytest
from django.conf import settings

from cases.models import TeamWebhook, WebhookDelivery
from cases.tasks import deliver_webhook
from cases.webhooks import services
from tests.checks.workers import start_worker, stop, wait_for
from tests.factories import TeamFactory
from tests.stub_server import StubSource
from tests.webhooks.receiver import Receiver

pytestmark = [
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (CI sets it)"),
    pytest.mark.django_db(transaction=True),
]


def test_a_worker_delivers_and_a_duplicate_message_sends_nothing_more(monkeypatch):
    monkeypatch.setenv("WISHLIST_WEBHOOK_ALLOW_PRIVATE", "1")
    team = TeamFactory(name="Team W")
    name = f"ci-{uuid.uuid4().hex[:10]}"
    with Receiver() as receiver, StubSource(lambda path: (404, b"")) as unused:
        webhook = TeamWebhook.objects.create(team=team, url=receiver.url, secret="s3cret")
        # Written as an event would be, but sent to this test's own queue.
        monkeypatch.setattr(services, "dispatch", lambda ids: None)
        delivery = services.ping(webhook)
        worker = start_worker(name, unused, "--pool=solo")
        try:
            deliver_webhook.apply_async(args=[delivery.pk], queue=name)
            deliver_webhook.apply_async(args=[delivery.pk], queue=name)
            wait_for(
                lambda: WebhookDelivery.objects.get(pk=delivery.pk).state == "delivered",
                60,
                "the worker's delivery",
            )
            # The second message is taken too, and finds the row already delivered.
            wait_for(lambda: worker_idle(name), 30, "the second message")
        finally:
            logs = stop(worker)
    assert len(receiver.received) == 1, logs
    assert WebhookDelivery.objects.get(pk=delivery.pk).attempts == 1


def worker_idle(queue: str) -> bool:
    from cases.tasks import check_queue_idle

    return check_queue_idle(queue)
