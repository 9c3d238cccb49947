"""Checks survive the broker going away: "Check now" and `run_checks` with the broker
down say so and leave the runs for the relay, and a Redis killed with checks queued
and started again empty loses none of them, each ending exactly once.

Brokers are a closed port or a Redis of the test's own (tests.checks.redis_server),
never the machine's shared one. The last test runs a real worker on PostgreSQL.
"""

import datetime
import uuid
from collections import Counter
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from cases import tasks
from cases.checks import outbox
from cases.checks import services as checks_services
from cases.models import Case, CheckRun, Finding
from cases.tasks import run_check
from tests.checks.redis_server import free_port
from tests.checks.test_outbox import closed_port, sent_ids
from tests.checks.workers import gleif_route, referred_case, start_worker, stop, wait_for
from tests.stub_server import StubSource

PENDING = [CheckRun.Status.QUEUED, CheckRun.Status.RUNNING]


@pytest.mark.django_db(transaction=True)
def test_check_now_with_the_broker_down_says_so_and_the_relay_sends_the_runs_later(
    fake, case, team, analyst, client, broker_at, own_redis
):
    Case.objects.filter(id=case.id).update(team=team)
    client.force_login(analyst)
    broker_at(closed_port())

    response = client.post(reverse("cases:case_check_now", args=[case.pk]))

    assert response.status_code == 302
    assert response.url == case.get_absolute_url() + "#checks"
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith("The check queue is unreachable just now: 1 check(s) are recorded")
    run = CheckRun.objects.get(case=case)
    assert run.status == CheckRun.Status.QUEUED and run.published_at is None
    page = client.get(case.get_absolute_url()).content.decode()
    assert "waiting for the queue" in page

    broker_at(own_redis.url)
    assert tasks.relay_checks() == 1
    assert sent_ids(own_redis) == [run.id]
    assert "waiting for the queue" not in client.get(case.get_absolute_url()).content.decode()


@pytest.mark.django_db(transaction=True)
def test_run_checks_with_the_broker_down_says_so_and_the_relay_sends_the_runs_later(
    fake, case, settings, broker_at, own_redis
):
    settings.REDIS_URL = own_redis.url  # a broker is configured...
    broker_at(f"redis://127.0.0.1:{free_port()}/0")  # ...and down
    out, err = StringIO(), StringIO()

    call_command("run_checks", stdout=out, stderr=err)

    assert out.getvalue() == ""
    assert "The check queue is unreachable (OperationalError" in err.getvalue()
    assert "1 check(s) are recorded and will be sent to the workers when it is back" in (
        err.getvalue()
    )
    run = CheckRun.objects.get(case=case)
    assert run.status == CheckRun.Status.QUEUED and run.published_at is None
    # Recorded once: not due again while it waits.
    out = StringIO()
    call_command("run_checks", "--due", stdout=out, stderr=err)
    assert out.getvalue() == "Nothing to check.\n"
    assert CheckRun.objects.count() == 1

    broker_at(own_redis.url)
    assert tasks.relay_checks() == 1
    assert sent_ids(own_redis) == [run.id]
    out = StringIO()
    call_command("run_checks", "--case", str(case.id), stdout=out, stderr=err)
    assert out.getvalue() == "Queued 1 check(s) for the workers.\n"


@pytest.mark.skipif(
    not settings.REDIS_URL or connection.vendor != "postgresql",
    reason="needs a worker sharing the database: PostgreSQL and REDIS_URL (CI sets them)",
)
@pytest.mark.django_db(transaction=True)
def test_redis_killed_with_checks_queued_and_started_empty_loses_none(
    settings, broker_at, own_redis
):
    # Short deadlines: a check of the stub source takes well under a second.
    settings.WISHLIST_CHECK_STALE_AFTER = datetime.timedelta(seconds=5)
    settings.WISHLIST_CHECK_MAX_ATTEMPTS = 5
    cases = [referred_case(lei=f"{n:018d}{n % 90 + 10:02d}") for n in range(1, 31)]
    name = f"outage-{uuid.uuid4().hex[:10]}"
    broker_at(own_redis.url)

    def send(check_run_id: int) -> None:
        run_check.apply_async(args=[check_run_id], queue=name)

    def settled() -> bool:
        """One pass of what beat runs every minute: reap, then relay."""
        outbox.check_runs_reap(now=timezone.now(), queue_idle=tasks.check_queue_idle(name))
        outbox.check_runs_publish(send=send)
        return not CheckRun.objects.filter(status__in=PENDING).exists()

    with StubSource(gleif_route) as stub:
        stub.hang.set()  # the first check waits in its request while Redis dies
        worker = start_worker(name, stub, "--pool=solo", redis_url=own_redis.url)
        try:
            ids = checks_services.checks_queue(pairs=[(case.id, "gleif") for case in cases])
            assert outbox.check_runs_publish(send=send, ids=ids).sent == len(ids)
            wait_for(lambda: stub.hits, 60, "the first check's request")
            own_redis.kill()
            own_redis.start()
            assert own_redis.client().dbsize() == 0  # every message waiting was lost
            stub.hang.clear()
            stub.release.set()
            wait_for(
                lambda: CheckRun.objects.filter(finished_at__isnull=False).exists(),
                60,
                "the check in flight to finish",
            )
            wait_for(settled, 180, "every check to end")
        finally:
            logs = stop(worker)

    runs = CheckRun.objects.filter(id__in=ids)
    assert Counter(runs.values_list("status", flat=True)) == {"ok": len(cases)}, logs
    assert CheckRun.objects.count() == len(cases)  # one run per check, none added
    per_case = Finding.objects.values("case").annotate(n=Count("id"))
    assert sorted(row["n"] for row in per_case) == [1] * len(cases)  # one lead each
    # The check in flight ran once; each lost one was sent again and run once.
    attempts = Counter(runs.values_list("attempts", flat=True))
    assert attempts[1] == 1 and sum(attempts.values()) == len(cases), attempts
    assert all(2 <= n <= settings.WISHLIST_CHECK_MAX_ATTEMPTS for n in attempts if n != 1)
