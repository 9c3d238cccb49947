"""The check outbox: runs the broker refused wait for the relay, which sends each once;
the reaper sends again the runs a worker or the broker lost, and gives up after a
bounded number of attempts. Brokers here are a closed port or a Redis of the test's own
(tests.checks.redis_server); no worker runs (see test_broker_outage.py for that)."""

import base64
import datetime
import json

import pytest
from django.utils import timezone

from cases import derived, tasks
from cases.checks import outbox, selectors
from cases.checks import services as checks_services
from cases.models import CheckRun, Finding
from tests.checks.redis_server import free_port
from tests.factories import CaseFactory, ReferralFactory

pytestmark = pytest.mark.django_db

STALE = datetime.timedelta(minutes=10)


@pytest.fixture(autouse=True)
def _deadlines(settings):
    settings.WISHLIST_CHECK_STALE_AFTER = STALE
    settings.WISHLIST_CHECK_MAX_ATTEMPTS = 3


def referred_cases(n: int) -> list[int]:
    ids = []
    for _ in range(n):
        referral = ReferralFactory(date=datetime.date(2017, 5, 1), date_precision="month")
        ids.append(CaseFactory(entity=referral.entity).id)
    derived.case_index_dates_refresh(case_ids=ids)
    return ids


def closed_port() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


def sent_ids(server, queue: str = "celery") -> list[int]:
    """The check run ids of the task messages waiting in the server's queue."""
    ids = []
    for raw in server.client().lrange(queue, 0, -1):
        args, _kwargs, _embed = json.loads(base64.b64decode(json.loads(raw)["body"]))
        ids.extend(args)
    return sorted(ids)


def stranded(check_run_id: int, *, status: str, since: datetime.datetime, **values) -> None:
    """Make the run look as a worker or the broker left it at `since`."""
    CheckRun.objects.filter(id=check_run_id).update(
        status=status,
        published_at=since,
        claimed_at=since if status == CheckRun.Status.RUNNING else None,
        started_at=since if status == CheckRun.Status.RUNNING else None,
        **values,
    )


# ------------------------------------------------------------------ the relay


@pytest.mark.django_db(transaction=True)
def test_a_run_queued_while_the_broker_is_down_waits_for_the_relay_and_nothing_raises(
    fake, case, broker_at
):
    broker_at(closed_port())

    enqueued = tasks.checks_enqueue([(case.id, "fake")])

    assert "OperationalError" in enqueued.unreachable
    assert enqueued.published.unsent == 1
    run = CheckRun.objects.get(case=case)
    assert run.status == CheckRun.Status.QUEUED and run.published_at is None
    assert tasks.relay_checks() == 0  # still down: reported, not raised
    assert CheckRun.objects.get(case=case).published_at is None
    assert fake.calls == 0


@pytest.mark.django_db(transaction=True)
def test_the_relay_sends_each_waiting_run_exactly_once_when_the_broker_is_back(
    fake, broker_at, own_redis
):
    case_ids = referred_cases(3)
    broker_at(closed_port())
    enqueued = tasks.checks_enqueue([(case_id, "fake") for case_id in case_ids])
    assert enqueued.published.unsent == 3

    broker_at(own_redis.url)
    assert tasks.relay_checks() == 3
    assert tasks.relay_checks() == 0

    assert sent_ids(own_redis) == sorted(enqueued.ids)
    assert not CheckRun.objects.filter(published_at__isnull=True).exists()
    assert set(CheckRun.objects.values_list("status", flat=True)) == {CheckRun.Status.QUEUED}


@pytest.mark.django_db(transaction=True)
def test_runs_are_sent_once_committed_when_the_broker_answers(fake, case, broker_at, own_redis):
    broker_at(own_redis.url)

    enqueued = tasks.checks_enqueue([(case.id, "fake")])

    assert enqueued.unreachable == "" and enqueued.published.sent == 1
    assert sent_ids(own_redis) == enqueued.ids
    assert tasks.relay_checks() == 0
    assert sent_ids(own_redis) == enqueued.ids


def test_in_a_transaction_the_runs_are_sent_when_it_commits(
    fake, case, broker_at, own_redis, django_capture_on_commit_callbacks
):
    broker_at(own_redis.url)
    with django_capture_on_commit_callbacks(execute=True):
        enqueued = tasks.checks_enqueue([(case.id, "fake")])
        assert enqueued.published is None
        assert sent_ids(own_redis) == []
    assert sent_ids(own_redis) == enqueued.ids


def test_whether_a_check_waits_in_the_broker(fake, case, broker_at, own_redis):
    broker_at(closed_port())
    assert tasks.check_queue_idle() is False  # cannot tell: the reaper leaves queued runs
    broker_at(own_redis.url)
    assert tasks.check_queue_idle() is True
    [check_run_id] = checks_services.checks_queue(pairs=[(case.id, "fake")])
    tasks.checks_publish([check_run_id])
    assert tasks.check_queue_idle() is False


# ------------------------------------------------------------------ the reaper


def test_a_run_left_running_past_the_deadline_is_sent_again_and_runs_once(fake, case):
    [check_run_id] = checks_services.checks_queue(pairs=[(case.id, "fake")])
    started = timezone.now() - STALE - datetime.timedelta(minutes=1)
    stranded(check_run_id, status="running", since=started, attempts=1, delivery="lost")

    reaped = outbox.check_runs_reap(now=timezone.now(), queue_idle=False)

    assert reaped == outbox.Reaped(requeued=1, gave_up=0)
    run = CheckRun.objects.get(id=check_run_id)
    assert run.status == CheckRun.Status.QUEUED and run.published_at is None
    assert run.attempts == 1  # the next delivery counts its own
    # The relay hands it to a worker, which takes it with a message of its own.
    published = outbox.check_runs_publish(
        send=lambda run_id: checks_services.check_execute(check_run_id=run_id, delivery="new")
    )
    assert published == outbox.Published(sent=1, unsent=0)
    run.refresh_from_db()
    assert run.status == CheckRun.Status.OK and run.attempts == 2 and run.leads_created == 1
    # The lost message turning up after all changes nothing.
    checks_services.check_execute(check_run_id=check_run_id, delivery="lost")
    assert fake.calls == 1
    assert Finding.objects.filter(case=case).count() == 1
    assert CheckRun.objects.get(id=check_run_id).attempts == 2


def test_a_run_running_within_the_deadline_is_left_to_its_worker(fake, case):
    [check_run_id] = checks_services.checks_queue(pairs=[(case.id, "fake")])
    started = timezone.now() - STALE + datetime.timedelta(minutes=1)
    stranded(check_run_id, status="running", since=started, attempts=1)

    assert outbox.check_runs_reap(now=timezone.now(), queue_idle=True) == outbox.Reaped(0, 0)
    assert CheckRun.objects.get(id=check_run_id).status == CheckRun.Status.RUNNING


def test_a_run_sent_and_never_taken_is_sent_again_only_when_no_message_waits(fake, case):
    [check_run_id] = checks_services.checks_queue(pairs=[(case.id, "fake")])
    sent = timezone.now() - STALE - datetime.timedelta(minutes=1)
    stranded(check_run_id, status="queued", since=sent)

    # A backlog in the broker: the run is waiting its turn.
    assert outbox.check_runs_reap(now=timezone.now(), queue_idle=False) == outbox.Reaped(0, 0)
    assert CheckRun.objects.get(id=check_run_id).published_at == sent

    assert outbox.check_runs_reap(now=timezone.now(), queue_idle=True) == outbox.Reaped(1, 0)
    run = CheckRun.objects.get(id=check_run_id)
    assert run.status == CheckRun.Status.QUEUED and run.published_at is None
    assert run.attempts == 1  # the lost send counts


@pytest.mark.parametrize(("status", "attempts"), [("running", 3), ("queued", 2)])
def test_after_the_last_attempt_the_run_ends_as_error_and_the_check_is_due_again(
    fake, case, status, attempts
):
    [check_run_id] = checks_services.checks_queue(pairs=[(case.id, "fake")])
    since = timezone.now() - STALE - datetime.timedelta(minutes=1)
    stranded(check_run_id, status=status, since=since, attempts=attempts)
    now = timezone.now()

    assert outbox.check_runs_reap(now=now, queue_idle=True) == outbox.Reaped(0, 1)

    run = CheckRun.objects.get(id=check_run_id)
    assert run.status == CheckRun.Status.ERROR and run.finished_at == now
    assert run.error.startswith("gave up after 3 attempts: the check never finished")
    assert outbox.check_runs_reap(now=now, queue_idle=True) == outbox.Reaped(0, 0)
    # Tried again after the pause of any failed check, like any other error.
    assert selectors.checks_due(now=now, sources=["fake"]) == []
    later = now + selectors.RETRY_FAILED_AFTER + datetime.timedelta(seconds=1)
    assert selectors.checks_due(now=later, sources=["fake"]) == [(case.id, "fake")]


def test_a_second_message_for_a_run_another_one_holds_does_nothing(fake, case):
    [check_run_id] = checks_services.checks_queue(pairs=[(case.id, "fake")])
    CheckRun.objects.filter(id=check_run_id).update(
        status="running", attempts=1, started_at=timezone.now(), delivery="first"
    )

    run = checks_services.check_execute(check_run_id=check_run_id, delivery="second")

    assert run.status == CheckRun.Status.RUNNING and run.attempts == 1
    assert fake.calls == 0
    # The first message delivered again (its worker died) takes it back.
    run = checks_services.check_execute(check_run_id=check_run_id, delivery="first")
    assert run.status == CheckRun.Status.OK and run.attempts == 2


def test_beat_relays_and_reaps_every_minute():
    from wishlist.celery import app

    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule["cases.relay_checks"] == 60
    assert schedule["cases.reap_checks"] == 60


def test_a_deadline_a_running_check_could_outlive_is_refused_at_start_up(tmp_path):
    from tests.wishlist.test_settings import manage

    env = {"DEBUG": "1", "CELERY_TASK_TIME_LIMIT": "360", "WISHLIST_CHECK_STALE_AFTER_MINUTES": "5"}
    result = manage("check", env=env, tmp_path=tmp_path)

    assert result.returncode != 0
    assert "WISHLIST_CHECK_STALE_AFTER_MINUTES must exceed CELERY_TASK_TIME_LIMIT" in (
        result.stderr
    )
