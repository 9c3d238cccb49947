"""Referral imports as recorded jobs: every import (admin upload or command) has an
ImportRecord saying who imported which file, how far it got and what it did.

An admin upload is stored in IMPORT_UPLOAD_DIR and run by a task (`cases.run_import`) that
reports its progress on the record; the upload page follows the record. Imports are
serialised (`import_lock`): a second one at the same moment is refused with who is
running the first. Uploads never confirmed are deleted after WISHLIST_UPLOAD_TTL seconds.
"""

import hashlib
import logging
import secrets
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cases.audit.services import audit_record
from cases.intake.files import ImportFileError
from cases.intake.report import format_report
from cases.intake.services import HistoryStamp, ImportResult, referrals_import_file
from cases.models import AuditEvent, ImportRecord

logger = logging.getLogger(__name__)

State = ImportRecord.State

# The key of the PostgreSQL advisory lock that serialises imports (any constant the app
# uses for nothing else).
LOCK_KEY = 0x5749_4D50  # "WIMP"

# Rows between two progress updates of the record.
PROGRESS_EVERY = 5000


class ImportBusy(Exception):
    """Another import is running."""


class ImportNotConfirmable(Exception):
    """The preview cannot be confirmed (expired, already confirmed, refused...)."""


def upload_path(stored_file: str) -> Path:
    return Path(settings.IMPORT_UPLOAD_DIR) / stored_file


def import_record_create(
    *,
    data: bytes,
    file_name: str,
    user=None,
    dry_run: bool,
    origin: str = ImportRecord.Origin.ADMIN,
    store: bool = True,
) -> ImportRecord:
    """Record an import of these bytes, queued; with store, keep the file in
    IMPORT_UPLOAD_DIR for the job (named by a random token, never by the user's name)."""
    stored_file = ""
    if store:
        stored_file = secrets.token_urlsafe(24) + Path(file_name).suffix.casefold()[:10]
        path = upload_path(stored_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return ImportRecord.objects.create(
        user=user,
        origin=origin,
        dry_run=dry_run,
        file_name=Path(file_name).name[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        stored_file=stored_file,
        rows_total=_rows_estimate(data, file_name),
    )


def _rows_estimate(data: bytes, file_name: str) -> int | None:
    """The number of data rows of a CSV, for the progress bar: its lines less the header
    (a cell holding a line break makes it high; the check gives the true count)."""
    if Path(file_name).suffix.casefold() == ".xlsx" or data[:4] == b"PK\x03\x04":
        return None
    return max(data.count(b"\n") - 1 + (not data.endswith(b"\n")), 0)


def import_confirm(*, preview_id: int, user) -> ImportRecord:
    """Record the real import of a previewed upload, queued; raise ImportNotConfirmable
    with the reason when it cannot be confirmed.

    A preview is confirmed once: a confirmation queued, running or done blocks another
    (one refused because another import was running does not).
    """
    with transaction.atomic():
        preview = (
            ImportRecord.objects.select_for_update()
            .filter(pk=preview_id, user=user, dry_run=True)
            .first()
        )
        if preview is None:
            raise ImportNotConfirmable("That upload is not yours or does not exist.")
        if preview.state == State.EXPIRED:
            raise ImportNotConfirmable(
                f"This upload expired: uploads not confirmed within "
                f"{_ttl_words()} are deleted. Upload the file again."
            )
        active = preview.confirmations.filter(state__in=[State.QUEUED, State.RUNNING, State.DONE])
        if active.exists():
            raise ImportNotConfirmable("That upload was already imported.")
        if not (preview.state == State.DONE and preview.changed_anything and preview.stored_file):
            raise ImportNotConfirmable("That upload cannot be imported; upload the file again.")
        return ImportRecord.objects.create(
            user=user,
            origin=preview.origin,
            dry_run=False,
            preview=preview,
            file_name=preview.file_name,
            sha256=preview.sha256,
            size=preview.size,
            stored_file=preview.stored_file,
            rows_total=preview.rows_read,
        )


def import_run(*, record_id: int, data: bytes | None = None, wrap_rows=None) -> ImportRecord:
    """Run a queued import and record its outcome; return the record.

    `data` is the file (the command); otherwise the stored upload is read. A record not
    queued (delivered twice, or expired) is left alone. Never raises for a bad file, a
    busy lock or a failure: each ends the record as refused or failed with the reason.
    """
    record = ImportRecord.objects.select_related("user").get(pk=record_id)
    if record.state != State.QUEUED:
        return record
    try:
        with import_lock(record):
            _execute(record, data, wrap_rows)
    except ImportBusy as exc:
        _finish(record, State.REFUSED, str(exc), keep_file=not record.dry_run)
    except _NotQueued:
        pass
    record.refresh_from_db()
    return record


def _execute(record: ImportRecord, data: bytes | None, wrap_rows) -> None:
    try:
        if data is None:
            data = _stored_bytes(record)
        result = referrals_import_file(
            data=data,
            file_name=record.file_name,
            dry_run=record.dry_run,
            stamp=HistoryStamp(reason=record.history_reason, user_id=record.user_id),
            on_progress=lambda done: _progress(record, done),
            progress_every=PROGRESS_EVERY,
            wrap_rows=wrap_rows,
        )
    except ImportFileError as exc:
        _finish(record, State.REFUSED, f"{record.file_name}: {exc}; nothing was written.")
    except Exception as exc:
        # Whatever went wrong, the write was rolled back: say so on the record rather than
        # leave it running, and keep the traceback for the log.
        logger.exception("import #%s failed", record.pk)
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
        _finish(record, State.FAILED, f"The import failed ({reason}); nothing was written.")
    else:
        _finish_with(record, result)


def _stored_bytes(record: ImportRecord) -> bytes:
    if not record.stored_file:
        raise ImportFileError("the uploaded file is gone; upload it again")
    try:
        data = upload_path(record.stored_file).read_bytes()
    except OSError:
        raise ImportFileError("the uploaded file is gone; upload it again") from None
    if hashlib.sha256(data).hexdigest() != record.sha256:
        raise ImportFileError("the stored upload has changed since it was uploaded")
    return data


def _progress(record: ImportRecord, done: int) -> None:
    # Checking runs outside the write's transaction, so each update is seen at once.
    ImportRecord.objects.filter(pk=record.pk).update(rows_done=done)


def _finish_with(record: ImportRecord, result: ImportResult) -> None:
    record.rows_read = record.rows_done = record.rows_total = result.rows_read
    record.referrals_created = result.referrals_created
    record.entities_created = result.entities_created
    record.cases_created = result.cases_created
    record.posts_created = result.posts_created
    record.rows_skipped = result.repeated_rows + result.referrals_unchanged
    record.errors = len(result.errors)
    record.changed_anything = result.ok and result.changed_anything
    keep = record.dry_run and record.changed_anything
    state = State.DONE if result.ok else State.REFUSED
    _finish(record, state, "\n".join(format_report(result)), keep_file=keep, fields=_COUNTS)


_COUNTS = [
    "rows_read", "rows_done", "rows_total", "referrals_created", "entities_created",
    "cases_created", "posts_created", "rows_skipped", "errors", "changed_anything",
]  # fmt: skip


def _finish(
    record: ImportRecord,
    state: str,
    report: str,
    *,
    keep_file: bool = False,
    fields: list[str] = (),
) -> None:
    """End the record; delete its upload unless it is kept for a confirmation or a retry."""
    if record.stored_file and not keep_file:
        upload_path(record.stored_file).unlink(missing_ok=True)
        ImportRecord.objects.filter(stored_file=record.stored_file).update(stored_file="")
        record.stored_file = ""
    record.state = state
    record.report = report
    record.finished_at = timezone.now()
    # Only what this step set: the progress updates went straight to the row.
    record.save(update_fields=["state", "report", "finished_at", "stored_file", *fields])
    record_audit(record)


def import_unqueued(*, record_id: int, reason: str) -> None:
    """End a queued import whose task the broker refused: it was never started, so it
    fails now with the reason, instead of waiting a day for the upload expiry."""
    record = ImportRecord.objects.filter(pk=record_id, state=State.QUEUED).first()
    if record is None:
        return  # a worker took it after all
    report = (
        f"The task queue could not be reached ({reason}), so the import was not started "
        "and nothing was written. Upload the file again once the queue is back."
    )
    _finish(record, State.FAILED, report)


def record_audit(record: ImportRecord) -> None:
    """The one place an import that has finished is reported to the audit log.

    Called once per import, when it ends (done, refused or failed), with the record
    saved: who imported which file (name and SHA-256), whether it was a preview, how it
    ended and what it wrote.
    """
    audit_record(
        actor=record.user,
        action=AuditEvent.Action.IMPORT,
        target=record.file_name,
        detail={
            "import": record.pk,
            "origin": record.origin,
            "preview": record.dry_run,
            "state": record.state,
            "sha256": record.sha256,
            "bytes": record.size,
            "rows": record.rows_read,
            "referrals_created": record.referrals_created,
            "entities_created": record.entities_created,
            "cases_created": record.cases_created,
            "errors": record.errors,
        },
    )


# Serialising imports -----------------------------------------------------------------------


class _NotQueued(Exception):
    """Another delivery of the task claimed the record first."""


@contextmanager
def import_lock(record: ImportRecord):
    """Hold the import lock and mark the record running, or raise ImportBusy.

    PostgreSQL: a session advisory lock, held for the whole import and released by the
    server if the process dies; a record still running when the lock is free was left by
    a process that died, and is marked failed. SQLite (embedded, one process): the
    partial unique constraint "one ImportRecord running" is the lock; a record running
    past WISHLIST_IMPORT_STALE_AFTER seconds is taken as abandoned. Must be entered
    outside a transaction, so the claim is seen by every other connection.
    """
    if connection.vendor != "postgresql":
        stale = timezone.now() - timedelta(seconds=settings.WISHLIST_IMPORT_STALE_AFTER)
        _abandoned_fail(started_before=stale, exclude=record.pk)
        _claim(record)
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise ImportBusy(busy_message())
    try:
        _abandoned_fail(started_before=None, exclude=record.pk)
        _claim(record)
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


def _claim(record: ImportRecord) -> None:
    try:
        with transaction.atomic():
            claimed = ImportRecord.objects.filter(pk=record.pk, state=State.QUEUED).update(
                state=State.RUNNING, started_at=timezone.now()
            )
    except IntegrityError:
        raise ImportBusy(busy_message()) from None
    if not claimed:
        raise _NotQueued
    record.state = State.RUNNING


def _abandoned_fail(*, started_before: datetime | None, exclude: int) -> None:
    running = ImportRecord.objects.filter(state=State.RUNNING).exclude(pk=exclude)
    if started_before is not None:
        running = running.filter(started_at__lt=started_before)
    for record in running:
        _finish(
            record,
            State.FAILED,
            "The import stopped without finishing (its process ended); nothing was written.",
        )


def busy_message() -> str:
    """Say which import is running, by whom and since when."""
    running = ImportRecord.objects.filter(state=State.RUNNING).select_related("user").first()
    if running is None:
        return "Another import is running; try again when it finishes."
    if running.user is not None:
        who = running.user.get_username()
    elif running.origin == ImportRecord.Origin.COMMAND:
        who = "the import_referrals command"
    else:
        who = "a user since deleted"
    when = timezone.localtime(running.started_at).strftime("%Y-%m-%d %H:%M:%S %Z")
    return (
        f"Another import is running (#{running.pk}, {running.file_name}, started by {who} "
        f"at {when}); try again when it finishes."
    )


# Expiry ------------------------------------------------------------------------------------


def _ttl_words() -> str:
    seconds = settings.WISHLIST_UPLOAD_TTL
    return f"{seconds // 3600} hours" if seconds % 3600 == 0 else f"{seconds} seconds"


def uploads_expire(*, now: datetime | None = None) -> int:
    """Delete uploads older than WISHLIST_UPLOAD_TTL that wait for a confirmation no one
    gave, and mark their previews expired; return how many. Imports still queued after
    that are marked failed, and stray files in the upload folder older than that (no
    record names them) are deleted too."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.WISHLIST_UPLOAD_TTL)
    waiting = ImportRecord.objects.filter(
        dry_run=True, created_at__lt=cutoff, state__in=[State.DONE, State.REFUSED, State.FAILED]
    ).exclude(stored_file="")
    expired = 0
    for record in waiting:
        if record.confirmations.filter(state__in=[State.QUEUED, State.RUNNING]).exists():
            continue
        upload_path(record.stored_file).unlink(missing_ok=True)
        ImportRecord.objects.filter(stored_file=record.stored_file).update(stored_file="")
        ImportRecord.objects.filter(pk=record.pk).update(state=State.EXPIRED)
        expired += 1
    # A job that never started (its message lost with the broker) ends here too.
    for record in ImportRecord.objects.filter(state=State.QUEUED, created_at__lt=cutoff):
        _finish(record, State.FAILED, "The import never started; nothing was written.")
    _strays_delete(cutoff)
    return expired


def _strays_delete(cutoff: datetime) -> None:
    folder = Path(settings.IMPORT_UPLOAD_DIR)
    if not folder.is_dir():
        return
    named = set(ImportRecord.objects.exclude(stored_file="").values_list("stored_file", flat=True))
    for path in folder.iterdir():
        if path.is_file() and path.name not in named and path.stat().st_mtime < cutoff.timestamp():
            path.unlink(missing_ok=True)
