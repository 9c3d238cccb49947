"""Writing deliveries and sending them.

A delivery row is written in the same transaction as its event, then sent once that
commits: on a worker when there is a broker, in a thread of the web process in embedded
mode, so the page that confirmed a finding never waits for a team's receiver. Each send
is one HTTP attempt; a failed one is tried again later with a doubling wait, from the
every-minute sweep (`cases.deliver_due_webhooks`), until WISHLIST_WEBHOOK_MAX_ATTEMPTS.
"""

import logging
import threading
import time
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from cases.checks import http
from cases.models import Case, Finding, TeamWebhook, WebhookDelivery
from cases.webhooks import addresses, payloads, signing

logger = logging.getLogger(__name__)

Event = TeamWebhook.Event
State = WebhookDelivery.State


def _record(team_id: int | None, event: str, payload: dict) -> list[int]:
    """Write one pending delivery per active webhook of the team that wants the event,
    and send them once the transaction commits."""
    if team_id is None:
        return []
    hooks = [h for h in TeamWebhook.objects.filter(team_id=team_id, active=True) if h.wants(event)]
    if not hooks:
        return []
    now = timezone.now()
    rows = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(webhook=hook, event=event, payload=payload, next_attempt_at=now)
        for hook in hooks
    )
    ids = [row.pk for row in rows]
    transaction.on_commit(lambda: dispatch(ids))
    return ids


def leads_filed(case: Case, findings: list[Finding]) -> list[int]:
    """A check filed new leads on the case."""
    if not findings or case.team_id is None:
        return []
    return _record(
        case.team_id,
        Event.LEADS_FILED,
        payloads.leads_filed(case, findings, base_url=settings.WISHLIST_BASE_URL),
    )


def finding_confirmed(finding: Finding, actor) -> list[int]:
    """A person confirmed a lead, or recorded a finding by hand (confirmed at once)."""
    name = getattr(actor, "username", "") if actor else ""
    payload = payloads.finding_confirmed(finding, actor=name, base_url=settings.WISHLIST_BASE_URL)
    return _record(finding.case.team_id, Event.FINDING_CONFIRMED, payload)


def ping(webhook: TeamWebhook) -> WebhookDelivery:
    """A test delivery an admin sends to check the receiver and its secret."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            webhook=webhook,
            event=Event.PING,
            payload=payloads.ping(webhook.team.name),
            next_attempt_at=timezone.now(),
        )
        transaction.on_commit(lambda: dispatch([delivery.pk]))
    return delivery


def retry_now(ids: list[int]) -> int:
    """Send given-up or waiting deliveries again now (an admin's action), with a fresh
    budget of attempts."""
    count = WebhookDelivery.objects.filter(
        pk__in=ids, state__in=[State.GAVE_UP, State.PENDING]
    ).update(state=State.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error="")
    transaction.on_commit(lambda: dispatch(list(ids)))
    return count


# Sending ------------------------------------------------------------------------------


def dispatch(ids: list[int]) -> None:
    """Send the deliveries: as tasks when there is a broker (by name, so this module does
    not import the task module that imports it); in embedded mode in a thread, or in
    the caller with WISHLIST_WEBHOOK_IN_THREAD off. A broker that refuses leaves them
    pending: the sweep sends them."""
    if not ids:
        return
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        from celery import current_app

        from cases.checks.outbox import BROKER_ERRORS, broker_failure

        try:
            for pk in ids:
                current_app.send_task("cases.deliver_webhook", args=[pk])
        except BROKER_ERRORS as exc:
            logger.warning("Webhook deliveries wait for the sweep: %s", broker_failure(exc))
        return
    if not settings.WISHLIST_WEBHOOK_IN_THREAD:
        for pk in ids:
            attempt(pk)
        return

    def target():
        try:
            for pk in ids:
                attempt(pk)
        finally:
            connection.close()

    threading.Thread(target=target, name="webhook-deliveries", daemon=True).start()


def backoff(attempts: int) -> timedelta:
    """The wait after the given number of failed attempts: 1, 2, 4 ... minutes, capped."""
    seconds = settings.WISHLIST_WEBHOOK_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.WISHLIST_WEBHOOK_BACKOFF_MAX_SECONDS))


def failure_words(exc: http.HttpError) -> tuple[int | None, str]:
    """The HTTP status (if any) and a sentence for the delivery log."""
    text = str(exc)
    status = exc.status  # the client records the last answer's status on every error
    if status:
        return status, f"the receiver answered HTTP {status}"
    if "TooManyRedirects" in text:
        return None, "the receiver answered with a redirect; deliveries do not follow redirects"
    if "timed out" in text:
        return None, "the receiver did not answer in time"
    if "unreachable" in text:
        return None, "the receiver has failed several times in a row; not tried for a minute"
    if "too large" in text or "larger than" in text:
        return None, "the receiver's answer was too large"
    return None, "could not connect to the receiver"


def _client(host: str) -> http.HttpClient:
    session = http._Session()
    # A POST redirected becomes a GET in requests; a receiver that redirects has moved,
    # and a 200 from wherever it points is not a delivery.
    session.max_redirects = 0
    return http.HttpClient(
        source=f"webhook {host}",
        session=session,
        max_attempts=1,
        read_timeout=settings.WISHLIST_WEBHOOK_TIMEOUT,
        max_bytes=1024 * 1024,
    )


def attempt(delivery_id: int) -> str | None:
    """One attempt at one delivery, if it is due; return its state after, or None when
    it was not due or another sender holds it."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, state=State.PENDING, next_attempt_at__lte=now
    ).update(state=State.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    hook = delivery.webhook
    status, error = _send(hook, delivery)
    done = timezone.now()
    if not error:
        changes = {"state": State.DELIVERED, "delivered_at": done, "next_attempt_at": None}
    elif delivery.attempts >= settings.WISHLIST_WEBHOOK_MAX_ATTEMPTS or not hook.active:
        changes = {"state": State.GAVE_UP, "next_attempt_at": None}
    else:
        changes = {"state": State.PENDING, "next_attempt_at": done + backoff(delivery.attempts)}
    WebhookDelivery.objects.filter(pk=delivery_id, state=State.SENDING).update(
        last_status=status, last_error=error[:300], **changes
    )
    return changes["state"]


def _send(hook: TeamWebhook, delivery: WebhookDelivery) -> tuple[int | None, str]:
    if not hook.active:
        return None, "the webhook was switched off"
    host = urlsplit(hook.url).hostname or ""
    refused = addresses.refusal(
        addresses.resolve(host), allow_private=settings.WISHLIST_WEBHOOK_ALLOW_PRIVATE
    )
    if refused:
        return None, refused
    body = signing.body_bytes(delivery.payload)
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        signing.TIMESTAMP_HEADER: str(stamp),
        signing.SIGNATURE_HEADER: signing.signature(hook.secret, stamp, body),
        signing.EVENT_HEADER: delivery.event,
        signing.DELIVERY_HEADER: str(delivery.pk),
    }
    try:
        response = _client(host).post(hook.url, body=body, headers=headers)
    except http.HttpError as exc:
        return failure_words(exc)
    return response.status_code, ""


def sweep() -> int:
    """The every-minute pass: give back deliveries whose sender died mid-send, then send
    every delivery that is due. Return how many were attempted."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.WISHLIST_WEBHOOK_TIMEOUT * 3 + 60)
    lost = WebhookDelivery.objects.filter(state=State.SENDING, claimed_at__lt=stale)
    lost.filter(attempts__gte=settings.WISHLIST_WEBHOOK_MAX_ATTEMPTS).update(
        state=State.GAVE_UP, next_attempt_at=None, last_error="the sender stopped mid-send"
    )
    lost.update(state=State.PENDING, next_attempt_at=now, last_error="the sender stopped mid-send")
    due = list(
        WebhookDelivery.objects.filter(state=State.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:500]
    )
    for pk in due:
        attempt(pk)
    return len(due)
