"""Checks through real Celery workers on the real Redis and PostgreSQL (CI sets
REDIS_URL and DATABASE_URL), against a local HTTP server standing in for GLEIF.

Shows a check run end to end by a worker, a worker killed in the middle of a request
whose check is delivered again and recorded once, and two workers together keeping the
source's rate limit.
"""

import datetime
import signal
import uuid

import pytest
from django.conf import settings

from cases.checks import services as checks_services
from cases.models import CheckRun, Finding
from cases.tasks import run_check
from tests.checks.workers import gleif_route, referred_case, start_worker, stop, wait_for
from tests.stub_server import StubSource

pytestmark = [
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (CI sets it)"),
    pytest.mark.django_db(transaction=True),
]


def queue(case_ids: list[int], name: str) -> list[int]:
    ids = checks_services.checks_queue(pairs=[(case_id, "gleif") for case_id in case_ids])
    for check_run_id in ids:
        run_check.apply_async(args=[check_run_id], queue=name)
    return ids


def test_a_killed_worker_check_is_delivered_again_and_recorded_once():
    case = referred_case()
    name = f"ci-{uuid.uuid4().hex[:10]}"
    with StubSource(gleif_route) as stub:
        stub.hang.set()  # the first request waits: the worker is killed in the middle
        first = start_worker(name, stub, "--pool=solo")
        second = None
        try:
            [check_run_id] = queue([case.id], name)
            wait_for(lambda: stub.hits, 60, "the first worker's request")
            stop(first, signal.SIGKILL)
            stub.hang.clear()
            stub.release.set()
            second = start_worker(name, stub, "--pool=solo")
            wait_for(
                lambda: CheckRun.objects.get(id=check_run_id).finished_at is not None,
                90,
                "the re-delivered check to finish",
            )
        finally:
            logs = stop(second) if second else ""
    check = CheckRun.objects.get(id=check_run_id)
    assert check.status == CheckRun.Status.OK, (check.error, logs)
    assert check.attempts == 2
    assert check.leads_created == 1
    lead = Finding.objects.get(case=case)
    assert lead.counterparty_name == "Shenzhen Stub Robotics Co., Ltd."
    assert lead.counterparty_country == "CN"
    assert lead.kind == Finding.Kind.SUBSIDIARY
    assert lead.event_date == datetime.date(2019, 3, 1)
    assert lead.timing == Finding.Timing.AFTER

    # Checked again: nothing new.
    with StubSource(gleif_route) as stub:
        worker = start_worker(name, stub, "--pool=solo")
        try:
            [again] = queue([case.id], name)
            wait_for(
                lambda: CheckRun.objects.get(id=again).finished_at is not None, 60, "the re-check"
            )
        finally:
            stop(worker)
    assert CheckRun.objects.get(id=again).leads_created == 0
    assert Finding.objects.filter(case=case).count() == 1


def test_two_workers_together_keep_the_sources_rate_limit():
    cases = [referred_case(lei=f"{n:018d}{n % 90 + 10:02d}") for n in range(1, 13)]
    name = f"ci-{uuid.uuid4().hex[:10]}"
    rate = 5
    with StubSource(gleif_route, latency=0.02) as stub:
        workers = [
            start_worker(name, stub, "--pool=threads", "--concurrency=4", rate=rate)
            for _ in range(2)
        ]
        try:
            ids = queue([case.id for case in cases], name)
            wait_for(
                lambda: (
                    CheckRun.objects.filter(id__in=ids, finished_at__isnull=False).count()
                    == len(ids)
                ),
                120,
                "every check to finish",
            )
        finally:
            logs = "".join(stop(worker) for worker in workers)
        assert set(CheckRun.objects.filter(id__in=ids).values_list("status", flat=True)) == {
            "ok"
        }, logs
        # Each check makes several requests; the server saw them no faster than the limit.
        assert len(stub.hits) >= 4 * len(cases)
        assert stub.max_in_any_window(1.0) <= rate
