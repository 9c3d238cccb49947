""" "Check now" never holds the page: in the embedded default the case's checks run in a
thread of the web process, and the case page's Checks panel follows each source until it
has finished, saying what it found, or why it skipped or failed, in words."""

import socket
import threading

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from cases import derived, tasks
from cases.checks import sources
from cases.checks.http import HttpClient
from cases.models import CheckRun
from tests.checks.fakes import FakeSource
from tests.factories import CaseFactory, ReferralFactory

# The thread reads what the request committed: those tests need real transactions.
in_thread = pytest.mark.django_db(transaction=True)


class HeldSource(FakeSource):
    """A source whose search waits until the test lets it answer."""

    name = "held"

    def __init__(self):
        super().__init__()
        self.asked = threading.Event()
        self.answer = threading.Event()

    def search(self, entity, since, client, *, until=None):
        self.asked.set()
        assert self.answer.wait(timeout=30), "the test never let the source answer"
        return super().search(entity, since, client, until=until)


class UnconfiguredSource(FakeSource):
    """A source that needs a setting nobody set: the real skip reason of Source."""

    name = "needs_key"
    required_settings = ("WISHLIST_TEST_SOURCE_KEY",)
    skip_reason = sources.Source.skip_reason


class OfflineSource(FakeSource):
    """A source whose host refuses connections: the real HTTP client's error."""

    name = "offline"

    def __init__(self, port: int):
        super().__init__()
        self.port = port

    def client(self):
        return HttpClient(source=self.name, max_attempts=2, backoff=0)

    def search(self, entity, since, client, *, until=None):
        client.get_json(f"http://127.0.0.1:{self.port}/search")
        raise AssertionError("the closed port answered")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def embedded(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.WISHLIST_CHECK_IN_THREAD = True
    from wishlist.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


@pytest.fixture
def case(team):
    referral = ReferralFactory()
    case = CaseFactory(entity=referral.entity, team=team)
    derived.case_index_dates_refresh(case_ids=[case.id])
    case.refresh_from_db()
    return case


def check_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("checks-")]


def join_checks() -> None:
    for thread in check_threads():
        thread.join(timeout=60)
        assert not thread.is_alive(), "the checks' thread did not finish"


def panel(client, case) -> str:
    response = client.get(reverse("cases:case_checks", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


@in_thread
def test_check_now_returns_while_the_source_is_still_asked(embedded, client, analyst, case):
    held = HeldSource()
    client.force_login(analyst)
    with sources.override(held):
        response = client.post(reverse("cases:case_check_now", args=[case.pk]))

        # The page came back while the source had not answered: nothing waited on it.
        assert response.status_code == 302
        assert response.url == case.get_absolute_url() + "#checks"
        [message] = [str(m) for m in get_messages(response.wsgi_request)]
        assert message.startswith("Checking held:")
        assert "Queued" not in message
        assert held.asked.wait(timeout=30)
        run = CheckRun.objects.get(case=case)
        assert run.status == CheckRun.Status.RUNNING
        assert run.published_at is not None  # never "waiting for the queue"

        during = panel(client, case)
        assert 'data-poll="' + reverse("cases:case_checks", args=[case.pk]) in during
        assert "running" in during
        page = client.get(case.get_absolute_url()).content.decode()
        assert "live_panel.js" in page
        assert "data-check-now disabled" in page  # nothing left to start

        held.answer.set()
        join_checks()

        after = panel(client, case)
    run.refresh_from_db()
    assert run.status == CheckRun.Status.OK and run.leads_created == 1
    assert "data-poll" not in after
    assert "1 new lead" in after
    assert 'data-latest-leads="1"' in after
    assert case.findings.count() == 1


@in_thread
def test_the_panel_says_why_a_source_skipped_or_failed_in_words(embedded, client, analyst, case):
    client.force_login(analyst)
    with sources.override(UnconfiguredSource(), OfflineSource(closed_port())):
        client.post(reverse("cases:case_check_now", args=[case.pk]))
        join_checks()
        shown = panel(client, case)

    statuses = dict(CheckRun.objects.filter(case=case).values_list("source", "status"))
    assert statuses == {"needs_key": CheckRun.Status.SKIPPED, "offline": CheckRun.Status.ERROR}
    assert (
        "this source is not set up here: an administrator must set WISHLIST_TEST_SOURCE_KEY"
        in shown
    )
    assert "could not reach 127.0.0.1 (2 tries); the next scheduled check tries again" in shown
    # The stored texts keep the detail; the panel never shows them raw.
    assert "transient:" not in shown and "ConnectionError" not in shown
    assert "not configured: set" not in shown


@in_thread
def test_off_the_thread_the_checks_run_in_the_request(embedded, settings, client, analyst, case):
    settings.WISHLIST_CHECK_IN_THREAD = False
    client.force_login(analyst)
    with sources.override(FakeSource()):
        client.post(reverse("cases:case_check_now", args=[case.pk]))

    assert not check_threads()
    assert CheckRun.objects.get(case=case).status == CheckRun.Status.OK


@in_thread
def test_a_check_that_breaks_does_not_strand_the_next(embedded, client, analyst, case):
    broken, fine = FakeSource(), HeldSource()
    broken.name = "broken"
    broken.error = RuntimeError("the parser met something new")
    fine.answer.set()
    client.force_login(analyst)
    with sources.override(broken, fine):
        client.post(reverse("cases:case_check_now", args=[case.pk]))
        join_checks()
        shown = panel(client, case)

    statuses = dict(CheckRun.objects.filter(case=case).values_list("source", "status"))
    assert statuses == {"broken": CheckRun.Status.ERROR, "held": CheckRun.Status.OK}
    assert "an unexpected error (RuntimeError) stopped the check" in shown


@pytest.mark.django_db
def test_another_teams_analyst_cannot_read_the_panel(client, other_analyst, case):
    client.force_login(other_analyst)

    response = client.get(reverse("cases:case_checks", args=[case.pk]))

    assert response.status_code == 404


@pytest.mark.django_db
def test_the_panel_is_read_only(client, analyst, case):
    client.force_login(analyst)
    before = CheckRun.objects.count()

    response = client.post(reverse("cases:case_checks", args=[case.pk]))

    assert response.status_code == 405
    assert CheckRun.objects.count() == before


# A web process that stops (a restart, the development server reloading) takes its
# checks' threads with it; in embedded mode nothing else would ever finish their runs.


def left_by_a_stopped_process(case, source: str, *, status=CheckRun.Status.RUNNING, attempts=None):
    """A run a thread of another web process took (running) or was handed (queued)."""
    now = timezone.now()
    if attempts is None:
        attempts = 1 if status == CheckRun.Status.RUNNING else 0
    return CheckRun.objects.create(
        case=case,
        source=source,
        status=status,
        queued_at=now,
        published_at=now,
        started_at=now if status == CheckRun.Status.RUNNING else None,
        claimed_at=now if status == CheckRun.Status.RUNNING else None,
        attempts=attempts,
        delivery="thread-0123456789ab-7-",
    )


@in_thread
@pytest.mark.parametrize("status", [CheckRun.Status.RUNNING, CheckRun.Status.QUEUED])
def test_opening_the_case_runs_again_the_checks_a_stopped_process_left(
    embedded, client, analyst, case, status
):
    run = left_by_a_stopped_process(case, "held", status=status)
    held = HeldSource()
    client.force_login(analyst)
    with sources.override(held):
        page = client.get(case.get_absolute_url())
        assert held.asked.wait(timeout=30)
        held.answer.set()
        join_checks()
        shown = panel(client, case)

    assert page.status_code == 200
    run.refresh_from_db()
    assert run.status == CheckRun.Status.OK and run.leads_created == 1
    assert run.attempts == 2  # the lost try, then this one
    assert run.delivery.startswith(tasks._thread_delivery())
    assert CheckRun.objects.filter(case=case).count() == 1  # the same run, not a second
    assert "data-poll" not in shown and "1 new lead" in shown


@in_thread
def test_check_now_is_not_refused_for_checks_a_stopped_process_left(
    embedded, client, analyst, case
):
    run = left_by_a_stopped_process(case, "held")
    held = HeldSource()
    held.answer.set()
    client.force_login(analyst)
    with sources.override(held):
        client.post(reverse("cases:case_check_now", args=[case.pk]))
        join_checks()

    run.refresh_from_db()
    assert run.status == CheckRun.Status.OK


@in_thread
def test_a_check_this_process_is_running_is_left_to_it(embedded, client, analyst, case):
    run = left_by_a_stopped_process(case, "fake")
    CheckRun.objects.filter(pk=run.pk).update(delivery=tasks._thread_delivery() + str(run.pk))
    before = list(CheckRun.objects.values())
    client.force_login(analyst)
    with sources.override(FakeSource()):
        client.get(case.get_absolute_url())
        panel(client, case)

    assert not check_threads()
    assert list(CheckRun.objects.values()) == before


@in_thread
def test_a_check_left_too_often_ends_as_a_failure_in_words(embedded, client, analyst, case):
    run = left_by_a_stopped_process(case, "fake", attempts=3)  # WISHLIST_CHECK_MAX_ATTEMPTS
    client.force_login(analyst)
    with sources.override(FakeSource()):
        shown = panel(client, case)

    assert not check_threads()
    run.refresh_from_db()
    assert run.status == CheckRun.Status.ERROR
    assert "the web process running it stopped before it finished" in shown
    assert "data-poll" not in shown


@in_thread
def test_with_a_broker_the_reaper_not_the_page_takes_checks_back(
    embedded, settings, client, analyst, case
):
    settings.WISHLIST_CHECK_IN_THREAD = False
    run = left_by_a_stopped_process(case, "fake")
    before = list(CheckRun.objects.values())
    client.force_login(analyst)
    with sources.override(FakeSource()):
        client.get(case.get_absolute_url())

    assert list(CheckRun.objects.values()) == before
    run.refresh_from_db()
    assert run.status == CheckRun.Status.RUNNING
