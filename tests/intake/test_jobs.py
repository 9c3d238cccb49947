"""Imports as recorded jobs (`cases.intake.jobs`): every import has an ImportRecord with
its file, counts and outcome, progress is reported while rows are checked, history rows
name the import, imports are serialised, failures and expired uploads leave no file."""

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from cases import tasks
from cases.intake import jobs
from cases.intake.services import referrals_import_file
from cases.models import AuditEvent, Case, Entity, ImportRecord, Post, Referral
from tests.factories import UserFactory
from tests.intake.conftest import (
    GOOD_ROWS,
    another_import_running,
    refused,
    row,
    run_import,
    snapshot,
    write_csv,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _uploads(settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "imports"


def stored(tmp_path, rows=GOOD_ROWS, *, dry_run=False, user=None) -> ImportRecord:
    """A file stored and queued, as the command (no user) or an admin upload records it."""
    data = write_csv(tmp_path, rows).read_bytes()
    return jobs.import_record_create(
        data=data,
        file_name="referrals.csv",
        user=user,
        dry_run=dry_run,
        origin=ImportRecord.Origin.ADMIN if user else ImportRecord.Origin.COMMAND,
    )


def test_every_command_import_is_recorded_with_its_file_and_counts(tmp_path):
    path = write_csv(tmp_path, [*GOOD_ROWS, GOOD_ROWS[0]])

    out = run_import(path)

    record = ImportRecord.objects.get()
    assert f"Recorded as import #{record.pk}." in out
    assert (record.origin, record.user, record.dry_run, record.state) == (
        "command",
        None,
        False,
        "done",
    )
    assert record.file_name == "referrals.csv"
    assert record.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert record.size == path.stat().st_size
    assert (record.rows_read, record.rows_done, record.rows_total) == (6, 6, 6)
    assert (record.referrals_created, record.entities_created, record.cases_created) == (5, 5, 5)
    assert (record.posts_created, record.rows_skipped, record.errors) == (4, 1, 0)
    assert record.started_at <= record.finished_at
    assert record.report.startswith("Read 6 row(s); created 5 referral(s)")


def test_a_refused_import_is_recorded_with_its_errors_and_writes_nothing(tmp_path, existing):
    path = write_csv(tmp_path, [row(host_country="Atlantis"), row(referral_id="")])
    before = snapshot()

    refused(path)

    assert snapshot() == before
    record = ImportRecord.objects.get()
    assert (record.state, record.errors, record.referrals_created) == ("refused", 2, 0)
    assert "unknown country 'Atlantis'" in record.report


def test_every_import_that_ends_is_in_the_audit_log_with_its_file(tmp_path):
    alice = UserFactory(username="alice")
    done = jobs.import_run(record_id=stored(tmp_path, user=alice).pk)
    path = write_csv(tmp_path, [row(host_country="Atlantis")])
    refused(path)

    events = list(AuditEvent.objects.filter(action="import").order_by("id"))
    assert [(e.actor, e.target, e.detail["state"]) for e in events] == [
        (alice, "referrals.csv", "done"),
        (None, "referrals.csv", "refused"),
    ]
    assert events[0].detail["sha256"] == done.sha256
    assert events[0].detail["import"] == done.pk
    assert (events[0].detail["referrals_created"], events[1].detail["errors"]) == (5, 1)


def test_a_dry_run_is_recorded_as_one(tmp_path):
    run_import(write_csv(tmp_path, GOOD_ROWS), "--dry-run")

    record = ImportRecord.objects.get()
    assert (record.dry_run, record.state, record.referrals_created) == (True, "done", 5)
    assert Referral.objects.count() == 0


def test_the_service_reports_progress_every_n_rows(tmp_path):
    data = write_csv(tmp_path, [row(referral_id=f"R-{n}") for n in range(5)]).read_bytes()
    seen = []

    referrals_import_file(data=data, file_name="r.csv", on_progress=seen.append, progress_every=2)

    assert seen == [2, 4, 5]


def test_the_job_writes_its_progress_to_the_record_while_it_checks(tmp_path, monkeypatch):
    monkeypatch.setattr(jobs, "PROGRESS_EVERY", 2)
    record = stored(tmp_path, [row(referral_id=f"R-{n}") for n in range(5)])
    assert record.rows_total == 5
    seen = []

    def watch(rows):
        for item in rows:
            seen.append(ImportRecord.objects.get(pk=record.pk).rows_done)
            yield item

    jobs.import_run(record_id=record.pk, wrap_rows=watch)

    assert seen == [0, 0, 2, 2, 4]
    assert ImportRecord.objects.get(pk=record.pk).rows_done == 5


def test_history_rows_name_the_import_and_its_user(tmp_path):
    user = UserFactory(username="root")
    record = jobs.import_run(record_id=stored(tmp_path, user=user).pk)

    reason = f"import #{record.pk}: referrals.csv"
    for model, count in ((Referral, 5), (Entity, 5), (Case, 5), (Post, 4)):
        history = model.history.all()
        assert history.count() == count, model
        assert {(h.history_change_reason, h.history_type, h.history_user) for h in history} == {
            (reason, "+", user)
        }
    stored_case = Case.objects.get(entity__name="Acme Robotics Ltd.")
    as_recorded = Case.history.get(id=stored_case.pk)
    assert (as_recorded.index_date, as_recorded.index_referral_id) == (
        stored_case.index_date,
        stored_case.index_referral_id,
    )
    assert as_recorded.entity_id == stored_case.entity_id
    as_referral = Referral.history.get(external_id="R-001")
    assert as_referral.cooperation_methods == ["joint_venture", "investment"]


def test_a_new_spelling_of_a_stored_entity_is_a_change_in_its_history(tmp_path, existing):
    path = write_csv(
        tmp_path, [row(referral_id="N-1", entity_name="ACME ROBOTICS LTD", host_country="GB")]
    )
    run_import(path)

    record = ImportRecord.objects.get()
    changed = Entity.history.get(id=existing.entity_id, history_type="~")
    assert changed.history_change_reason == record.history_reason
    assert "ACME ROBOTICS LTD" in changed.aliases
    assert Case.history.get(id=existing.pk, history_type="~").index_date.year == 2017


def test_a_second_import_while_one_runs_is_refused_saying_who_and_when(tmp_path):
    alice = UserFactory(username="alice")
    path = write_csv(tmp_path, GOOD_ROWS)
    before = snapshot()

    with another_import_running("big.csv", user=alice) as other:
        report = refused(path)

    assert f"Another import is running (#{other.pk}, big.csv, started by alice at " in report
    assert "try again when it finishes" in report
    assert "IntegrityError" not in report
    assert snapshot() == before
    mine = ImportRecord.objects.exclude(pk=other.pk).get()
    assert mine.state == "refused"


def test_an_import_left_running_by_a_dead_process_does_not_block_the_next(tmp_path, settings):
    # PostgreSQL knows at once (no one holds the advisory lock); SQLite after a deadline.
    settings.WISHLIST_IMPORT_STALE_AFTER = 3600
    dead = ImportRecord.objects.create(
        file_name="dead.csv",
        sha256="0" * 64,
        size=1,
        state="running",
        started_at=timezone.now() - timedelta(hours=2),
    )

    record = jobs.import_run(record_id=stored(tmp_path).pk)

    assert record.state == "done"
    dead.refresh_from_db()
    assert dead.state == "failed"
    assert "stopped without finishing" in dead.report


def test_the_lock_is_a_constraint_on_both_databases():
    from django.db import IntegrityError, transaction

    ImportRecord.objects.create(file_name="a", sha256="0" * 64, size=1, state="running")
    with pytest.raises(IntegrityError), transaction.atomic():
        ImportRecord.objects.create(file_name="b", sha256="0" * 64, size=1, state="running")


def test_a_failed_job_is_marked_failed_and_its_upload_deleted(tmp_path):
    record = stored(tmp_path, dry_run=True)
    path = jobs.upload_path(record.stored_file)
    before = snapshot()

    def broken(rows):
        yield next(iter(rows))
        raise RuntimeError("the disk went away")

    record = jobs.import_run(record_id=record.pk, wrap_rows=broken)

    assert record.state == "failed"
    assert record.report == (
        "The import failed (RuntimeError: the disk went away); nothing was written."
    )
    assert not path.exists()
    assert record.stored_file == ""
    assert snapshot() == before


def test_a_job_delivered_twice_runs_once(tmp_path):
    record = jobs.import_run(record_id=stored(tmp_path).pk)

    again = jobs.import_run(record_id=record.pk)

    assert (again.state, again.finished_at) == ("done", record.finished_at)
    assert Referral.objects.count() == 5


def test_a_stored_upload_that_changed_is_refused(tmp_path):
    record = stored(tmp_path)
    jobs.upload_path(record.stored_file).write_bytes(b"referral_id\nX\n")

    record = jobs.import_run(record_id=record.pk)

    assert record.state == "refused"
    assert "changed since it was uploaded" in record.report
    assert Referral.objects.count() == 0


def test_unconfirmed_uploads_expire_after_the_ttl(tmp_path, settings):
    settings.WISHLIST_UPLOAD_TTL = 3600
    old = jobs.import_run(record_id=stored(tmp_path, dry_run=True).pk)
    fresh = jobs.import_run(record_id=stored(tmp_path, dry_run=True).pk)
    waiting = jobs.import_run(record_id=stored(tmp_path, dry_run=True).pk)
    ImportRecord.objects.create(
        preview=waiting, file_name="x", sha256="0" * 64, size=1, stored_file=waiting.stored_file
    )  # its confirmation is queued
    two_hours_ago = timezone.now() - timedelta(hours=2)
    ImportRecord.objects.filter(pk__in=[old.pk, waiting.pk]).update(created_at=two_hours_ago)
    folder = jobs.upload_path("")
    stray_old, stray_new = folder / "stray-old.csv", folder / "stray-new.csv"
    stray_old.write_bytes(b"x")
    stray_new.write_bytes(b"x")
    os.utime(stray_old, (two_hours_ago.timestamp(), two_hours_ago.timestamp()))

    assert tasks.expire_uploads() == 1

    old_file = jobs.upload_path(old.stored_file)
    old.refresh_from_db()
    assert (old.state, old.stored_file) == ("expired", "")
    assert not old_file.exists()
    for kept in (fresh, waiting):
        kept.refresh_from_db()
        assert kept.state == "done"
        assert jobs.upload_path(kept.stored_file).exists()
    assert not stray_old.exists()
    assert stray_new.exists()
    with pytest.raises(jobs.ImportNotConfirmable, match="This upload expired"):
        jobs.import_confirm(preview_id=old.pk, user=None)


def test_an_import_that_never_started_is_failed_and_its_upload_deleted(tmp_path, settings):
    settings.WISHLIST_UPLOAD_TTL = 3600
    record = stored(tmp_path, dry_run=True)
    path = jobs.upload_path(record.stored_file)
    ImportRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(hours=2))

    jobs.uploads_expire()

    record.refresh_from_db()
    assert (record.state, record.stored_file) == ("failed", "")
    assert record.report == "The import never started; nothing was written."
    assert not path.exists()


def test_the_beat_schedule_expires_uploads(settings):
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "cases.expire_uploads" in schedule
    assert settings.WISHLIST_UPLOAD_TTL == 86400


@pytest.mark.django_db(transaction=True)
def test_two_imports_at_the_same_moment_one_is_refused_clearly(tmp_path, settings):
    """Two connections: the first import is stopped mid-check, holding the lock, while
    the second one starts."""
    first = stored(tmp_path, [row(referral_id=f"A-{n}") for n in range(3)])
    second = stored(tmp_path, [row(referral_id=f"B-{n}") for n in range(3)])
    checking, go_on = threading.Event(), threading.Event()
    outcome = {}

    def paused(rows):
        for item in rows:
            checking.set()
            go_on.wait(timeout=60)
            yield item

    def run_first():
        try:
            outcome["first"] = jobs.import_run(record_id=first.pk, wrap_rows=paused)
        finally:
            connection.close()

    thread = threading.Thread(target=run_first)
    thread.start()
    assert checking.wait(timeout=60)
    try:
        outcome["second"] = jobs.import_run(record_id=second.pk)
    finally:
        go_on.set()
        thread.join(timeout=60)

    assert outcome["second"].state == "refused"
    assert outcome["second"].report.startswith(
        f"Another import is running (#{first.pk}, referrals.csv, started by the "
        "import_referrals command at "
    )
    assert outcome["first"].state == "done"
    assert sorted(Referral.objects.values_list("external_id", flat=True)) == [
        "A-0",
        "A-1",
        "A-2",
    ]


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (CI sets it)")
@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_runs_a_queued_import_with_its_history(tmp_path, settings):
    """End to end through a real worker on the real Redis and PostgreSQL: the upload
    stored, the task queued, the record followed to its end."""
    data_dir = tmp_path / "data"
    settings.IMPORT_UPLOAD_DIR = data_dir / "imports"
    user = UserFactory(username="root")
    record = stored(tmp_path, user=user)
    upload = jobs.upload_path(record.stored_file)
    assert upload.exists()
    queue = f"ci-import-{uuid.uuid4().hex[:10]}"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db.get('USER') or ''}@{db.get('HOST') or '127.0.0.1'}:"
        f"{db.get('PORT') or 5432}/{db['NAME']}",
        "WISHLIST_DATA_DIR": str(data_dir),
    }
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    worker = subprocess.Popen(
        [celery, "-A", "wishlist", "worker", "-Q", queue, "-l", "warning", "--pool=solo"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        tasks.run_import.apply_async(args=[record.pk], queue=queue)
        deadline = timezone.now() + timedelta(seconds=90)
        while not ImportRecord.objects.get(pk=record.pk).finished and timezone.now() < deadline:
            time.sleep(0.2)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        logs = worker.communicate(timeout=30)[0].decode(errors="replace")

    record.refresh_from_db()
    assert (record.state, record.referrals_created) == ("done", 5), (record.report, logs)
    assert Referral.history.filter(history_change_reason=record.history_reason).count() == 5
    assert not upload.exists()
