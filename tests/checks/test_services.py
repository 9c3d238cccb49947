"""Running follow-up checks: runs recorded, leads filed once, errors recorded cleanly,
due checks chosen by each source's interval. A fake source stands in for the real ones,
whose own tests live in tests/checks/sources/."""

import datetime
from dataclasses import replace
from io import StringIO

import pytest
import redis
from celery.exceptions import SoftTimeLimitExceeded
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from cases.casework import services as casework_services
from cases.checks import selectors
from cases.checks import services as checks_services
from cases.checks.http import PermanentHttpError, RateLimitedError, TransientHttpError
from cases.models import CheckRun, Finding
from tests.checks.fakes import hit
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def run(case, source="fake"):
    [check_run_id] = checks_services.checks_queue(pairs=[(case.id, source)])
    return checks_services.check_execute(check_run_id=check_run_id)


def test_a_check_files_matching_hits_as_leads_with_derived_timing(fake, case):
    fake.hits = [
        hit("after"),
        hit("before", event=datetime.date(2016, 1, 1)),
        hit("same-year", event=datetime.date(2017, 1, 1), precision="year"),
        hit("weak", score=40),
    ]
    check = run(case)
    assert check.status == CheckRun.Status.OK
    assert check.leads_created == 3
    assert check.query.startswith("name=")
    timings = dict(case.findings.values_list("external_id", "timing"))
    assert timings == {"after": "after", "before": "before", "same-year": "unknown"}
    lead = case.findings.get(external_id="after")
    assert lead.review_state == Finding.ReviewState.LEAD
    assert lead.source == "fake" and lead.match_score == 100
    assert lead.flags.startswith("dod_1260h") and lead.retrieved_at is not None


def test_running_the_same_check_again_adds_nothing(fake, case):
    assert run(case).leads_created == 1
    second = run(case)
    assert second.status == CheckRun.Status.OK and second.leads_created == 0
    assert case.findings.count() == 1
    assert CheckRun.objects.filter(case=case).count() == 2


def test_a_rejected_lead_is_never_raised_again(fake, case):
    run(case)
    lead = case.findings.get()
    casework_services.finding_review(finding=lead, state="rejected", reviewer=None, note="not them")
    assert run(case).leads_created == 0
    assert case.findings.get().review_state == "rejected"


def test_checked_and_nothing_found_is_recorded(fake, case):
    fake.hits = []
    check = run(case)
    assert check.status == CheckRun.Status.NO_RESULTS
    assert check.finished_at >= check.started_at


@pytest.mark.parametrize(
    "error, status, text",
    [
        (TransientHttpError("ConnectionError: offline after 4 tries"), "error", "transient"),
        (PermanentHttpError("HTTP 404 from x", status=404), "error", "permanent"),
        (RateLimitedError("still rate limited"), "rate_limited", "rate limited"),
    ],
)
def test_network_errors_are_recorded_not_raised(fake, case, error, status, text):
    fake.error = error
    check = run(case)
    assert check.status == status
    assert text in check.error
    assert case.findings.count() == 0


@pytest.mark.parametrize(
    "error, reason",
    [
        (KeyError("data"), "failed: KeyError: 'data'"),
        (redis.exceptions.ConnectionError("Error 111 connecting"), "failed: ConnectionError"),
        (SoftTimeLimitExceeded(), "failed: SoftTimeLimitExceeded"),
        (RuntimeError("line one\n  line two"), "failed: RuntimeError: line one line two"),
    ],
)
def test_any_other_failure_finishes_the_run_with_a_readable_reason(fake, case, error, reason):
    fake.error = error
    before = list(Finding.objects.values_list("id", flat=True))

    check = run(case)

    assert check.status == CheckRun.Status.ERROR
    assert check.error.startswith(reason)
    assert "Traceback" not in check.error and "\n" not in check.error
    assert check.finished_at is not None
    stored = CheckRun.objects.get(pk=check.pk)
    assert (stored.status, stored.error) == (check.status, check.error)
    assert list(Finding.objects.values_list("id", flat=True)) == before


def test_a_run_that_failed_unexpectedly_is_due_again_after_the_pause(fake, case):
    fake.error = KeyError("data")
    failed = run(case)
    assert selectors.checks_due(now=timezone.now(), sources=["fake"]) == []

    later = failed.finished_at + selectors.RETRY_FAILED_AFTER + datetime.timedelta(minutes=1)

    assert selectors.checks_due(now=later, sources=["fake"]) == [(case.id, "fake")]


def test_leads_the_database_refuses_are_rolled_back_with_the_run_failed(fake, case, monkeypatch):
    fake.hits = [hit("first"), hit("second")]

    def refuse(**kwargs):
        Finding.objects.create(case=case, kind="joint_venture", source="fake", external_id="x")
        raise ValueError("A string literal cannot contain NUL (0x00) characters.")

    monkeypatch.setattr(checks_services, "leads_file", refuse)

    check = run(case)

    assert check.status == CheckRun.Status.ERROR
    assert check.error == (
        "failed: ValueError: A string literal cannot contain NUL (0x00) characters."
    )
    assert case.findings.count() == 0  # the half-filed lead went with the transaction


@pytest.mark.postgres
def test_a_nul_byte_in_a_hit_fails_the_run_on_postgresql_and_files_nothing(fake, case):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite stores NUL bytes")
    fake.hits = [hit("clean"), replace(hit("dirty"), excerpt="Acme\x00 joint venture")]

    check = run(case)

    assert check.status == CheckRun.Status.ERROR
    assert "NUL" in check.error
    assert case.findings.count() == 0


def test_a_failed_check_records_what_it_had_asked(fake, case):
    class Client:
        asked = ["https://registry.example.org/a?q=Acme", "https://registry.example.org/b"]

    fake.error = TransientHttpError("ConnectionError: offline after 4 tries")
    [check_run_id] = checks_services.checks_queue(pairs=[(case.id, "fake")])
    check = checks_services.check_execute(check_run_id=check_run_id, client=Client())
    assert check.status == "error"
    assert check.query.splitlines() == Client.asked


def test_an_unconfigured_source_is_skipped_with_its_reason(fake, case):
    fake.skip = "not configured: set FAKE_API_KEY"
    check = run(case)
    assert check.status == CheckRun.Status.SKIPPED
    assert check.error == "not configured: set FAKE_API_KEY"
    assert fake.calls == 0


def test_a_case_without_a_referral_date_is_skipped(fake):
    case = CaseFactory()
    check = run(case)
    assert check.status == CheckRun.Status.SKIPPED and "no referral date" in check.error


def test_a_second_delivery_of_a_finished_check_does_nothing(fake, case):
    [check_run_id] = checks_services.checks_queue(pairs=[(case.id, "fake")])
    checks_services.check_execute(check_run_id=check_run_id)
    again = checks_services.check_execute(check_run_id=check_run_id)
    assert fake.calls == 1
    assert again.attempts == 1 and again.status == "ok"


def test_a_check_interrupted_mid_run_is_finished_once_on_redelivery(fake, case):
    [check_run_id] = checks_services.checks_queue(pairs=[(case.id, "fake")])
    # The first delivery claimed the run and died before finishing.
    CheckRun.objects.filter(id=check_run_id).update(
        status="running", attempts=1, started_at=timezone.now()
    )
    check = checks_services.check_execute(check_run_id=check_run_id)
    assert check.status == "ok" and check.attempts == 2
    assert case.findings.count() == 1


def test_run_checks_sync_prints_a_summary_per_source(fake, case):
    out = StringIO()
    call_command("run_checks", "--sync", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == [
        "source",
        "ok",
        "no_results",
        "skipped",
        "error",
        "rate_limited",
        "leads",
    ]
    assert lines[1].split() == ["fake", "1", "0", "0", "0", "0", "1"]
    out = StringIO()
    call_command("run_checks", "--sync", "--due", stdout=out)
    assert "Nothing to check." in out.getvalue()


def test_run_checks_refuses_unknown_cases(fake, case):
    with pytest.raises(CommandError, match="no case with id 999999"):
        call_command("run_checks", "--sync", "--case", "999999")


def test_run_checks_refuses_unknown_sources():
    with pytest.raises(CommandError):
        call_command("run_checks", "--sync", "--source", "myspace")


def test_beat_queues_the_due_checks_which_run_in_process_without_a_broker(
    fake, case, settings, django_capture_on_commit_callbacks
):
    from cases import tasks
    from wishlist.celery import app

    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "cases.queue_due_checks" in scheduled
    if settings.REDIS_URL:
        pytest.skip("with a broker the queued checks go to workers (see the integration tests)")
    # The tasks are sent when the runs' rows are committed, never before.
    with django_capture_on_commit_callbacks(execute=True) as sent:
        assert tasks.queue_due_checks() == 1
    assert len(sent) == 1
    check = CheckRun.objects.get(case=case)
    assert check.status == "ok" and check.leads_created == 1
    assert tasks.queue_due_checks() == 0
