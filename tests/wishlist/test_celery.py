"""The Celery wiring: in embedded mode tasks run in-process; with REDIS_URL set (as in CI)
a real worker process takes the task from Redis and writes to the real database."""

import datetime
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from cases.models import Case
from cases.tasks import refresh_index_dates
from tests.factories import ReferralFactory

ROOT = Path(__file__).resolve().parents[2]


def _case_without_index_date() -> Case:
    referral = ReferralFactory(date=datetime.date(2016, 3, 1), date_precision="month")
    case = Case.objects.create(entity=referral.entity)
    assert case.index_date is None
    return case


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


@pytest.mark.skipif(bool(settings.REDIS_URL), reason="embedded mode only: REDIS_URL is set")
@pytest.mark.django_db
def test_it_runs_tasks_in_process_without_a_broker():
    case = _case_without_index_date()
    refresh_index_dates.delay([case.id])
    case.refresh_from_db()
    assert case.index_date == datetime.date(2016, 3, 1)
    assert case.index_date_precision == "month"


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (CI sets it)")
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_queued_task():
    assert connection.vendor == "postgresql", "the worker needs a database it can share"
    case = _case_without_index_date()
    queue = f"ci-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "wishlist.settings",
    }
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    worker = subprocess.Popen(
        [celery, "-A", "wishlist", "worker", "--pool=solo", "-Q", queue, "-l", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        refresh_index_dates.apply_async(args=[[case.id]], queue=queue)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            case.refresh_from_db()
            if case.index_date is not None or worker.poll() is not None:
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0].decode(errors="replace")
    assert case.index_date == datetime.date(2016, 3, 1), output
    assert case.index_date_precision == "month"
