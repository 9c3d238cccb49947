"""Which follow-up checks are due: by each source's interval, never twice while queued,
failed ones after a pause."""

import datetime

import pytest
from django.utils import timezone

from cases.checks import selectors
from cases.checks import services as checks_services
from cases.models import Case, CheckRun
from tests.factories import CaseFactory, CheckRunFactory

pytestmark = pytest.mark.django_db


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
