"""Running follow-up checks: runs recorded, leads filed once, errors recorded cleanly,
due checks chosen by each source's interval. A fake source stands in for the real ones,
whose own tests live in tests/checks/sources/."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from cases import derived
from cases.casework import services as casework_services
from cases.checks import selectors
from cases.checks import services as checks_services
from cases.checks.http import PermanentHttpError, RateLimitedError, TransientHttpError
from cases.checks.sources import Hit, SearchResult, Source
from cases.models import Case, CheckRun, Finding
from tests.factories import CaseFactory, CheckRunFactory, ReferralFactory

pytestmark = pytest.mark.django_db


def hit(external_id="ev-1", score=100.0, event=datetime.date(2019, 6, 1), precision="day"):
    return Hit(
        kind="joint_venture",
        counterparty_name="Shenzhen Example Technology Co., Ltd.",
        counterparty_country="CN",
        event_date=event,
        event_date_precision=precision,
        url="https://example.org/news/1",
        excerpt="Acme forms joint venture with Shenzhen Example",
        external_id=external_id,
        score=score,
        explanation="the text names 'Acme'",
        evidence_sha256="a" * 64,
        flags=("dod_1260h: Example Listed Co",),
    )


class FakeSource(Source):
    name = "fake"

    def __init__(self):
        self.hits = [hit()]
        self.error = None
        self.calls = 0
        self.skip = ""

    def skip_reason(self, entity):
        return self.skip

    def client(self):
        return None

    def search(self, entity, since, client):
        self.calls += 1
        if self.error:
            raise self.error
        return SearchResult(hits=list(self.hits), query=f"name={entity.name} since={since}")


@pytest.fixture
def fake(use_sources, settings):
    source = FakeSource()
    use_sources(source)
    settings.WISHLIST_CHECK_INTERVAL_DAYS = {"fake": 7}
    return source


@pytest.fixture
def case():
    referral = ReferralFactory(date=datetime.date(2017, 5, 1), date_precision="month")
    case = CaseFactory(entity=referral.entity)
    derived.case_index_dates_refresh(case_ids=[case.id])
    case.refresh_from_db()
    return case


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


def test_checks_are_due_by_each_sources_interval(fake, case):
    now = timezone.now()
    closed = CaseFactory(status=Case.Status.CLOSED)
    assert selectors.checks_due(now=now, sources=["fake"]) == [(case.id, "fake")]

    three_days_ago = now - datetime.timedelta(days=3)
    recent = CheckRunFactory(case=case, source="fake", queued_at=three_days_ago)
    assert selectors.checks_due(now=now, sources=["fake"]) == []

    nine_days_ago = now - datetime.timedelta(days=9)
    CheckRun.objects.filter(id=recent.id).update(
        queued_at=nine_days_ago, started_at=nine_days_ago, finished_at=nine_days_ago
    )
    assert selectors.checks_due(now=now, sources=["fake"]) == [(case.id, "fake")]
    assert closed.id not in {
        case_id for case_id, _ in selectors.checks_due(now=now, sources=["fake"])
    }


def test_a_queued_check_is_not_due_again(fake, case):
    checks_services.checks_queue(pairs=[(case.id, "fake")])
    assert selectors.checks_due(now=timezone.now(), sources=["fake"]) == []


def test_a_failed_check_is_retried_after_a_pause_not_at_once(fake, case):
    now = timezone.now()
    failed = CheckRunFactory(case=case, source="fake", status="error")
    CheckRun.objects.filter(id=failed.id).update(
        queued_at=now - datetime.timedelta(hours=1),
        started_at=now - datetime.timedelta(hours=1),
        finished_at=now - datetime.timedelta(hours=1),
    )
    assert selectors.checks_due(now=now, sources=["fake"]) == []
    later = now + datetime.timedelta(hours=7)
    assert selectors.checks_due(now=later, sources=["fake"]) == [(case.id, "fake")]


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
