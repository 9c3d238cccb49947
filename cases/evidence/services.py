"""Writes of kept evidence: asking for a capture, running it, attaching a file.

A capture is a row first (pending), so a double click or a confirm beside a click asks
for one fetch; the fetch runs later (cases.tasks.evidence_capture_enqueue) and claims
the row with a conditional UPDATE, so a second delivery of its task does nothing.
Files are stored before their row says kept, and removed again if that write fails:
nothing is half-kept.
"""

import contextlib
import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format

from cases.checks.http import HttpClient
from cases.evidence import capture, storage, text, uploads
from cases.models import Evidence, Finding

logger = logging.getLogger(__name__)

# A capture pending longer than this was lost (its worker or thread died): a new one may
# be asked, and the lost one is marked failed.
CAPTURE_LOST_AFTER = timedelta(minutes=15)


class CaptureBusy(Exception):
    """A capture of this finding's page is on its way already."""


def evidence_capture_request(
    *, finding: Finding, actor: AbstractBaseUser | None, enqueue: bool = True
) -> Evidence:
    """Record a capture of the finding's page to make, sent to the workers once the
    transaction commits; raise CaptureBusy if one is on its way."""
    if not finding.source_url:
        raise ValidationError("This finding has no web address to capture.")
    now = timezone.now()
    with transaction.atomic():
        Evidence.objects.filter(
            finding=finding,
            kind=Evidence.Kind.CAPTURE,
            state=Evidence.State.PENDING,
            created_at__lt=now - CAPTURE_LOST_AFTER,
        ).update(
            state=Evidence.State.FAILED,
            error="the capture never finished (its worker stopped); asked again",
        )
        try:
            with transaction.atomic():
                evidence = Evidence.objects.create(
                    finding=finding,
                    kind=Evidence.Kind.CAPTURE,
                    url=finding.source_url,
                    added_by=actor,
                )
        except IntegrityError:  # evidence_one_pending_capture
            raise CaptureBusy("A capture of this page is on its way already.") from None
        if enqueue:
            from cases import tasks  # the tasks import the services; not the other way up

            tasks.evidence_capture_enqueue(evidence.pk)
    return evidence


def evidence_capture_on_confirm(*, finding: Finding, actor: AbstractBaseUser | None) -> None:
    """Capture a confirmed finding's page, unless it has a web address no longer, or
    its page is kept or being captured already (confirming again after a reopen must not
    fetch it twice)."""
    if not settings.WISHLIST_CAPTURE_ON_CONFIRM or not finding.source_url:
        return
    if Evidence.objects.filter(
        finding=finding,
        kind=Evidence.Kind.CAPTURE,
        state__in=[Evidence.State.OK, Evidence.State.PENDING],
    ).exists():
        return
    with contextlib.suppress(CaptureBusy):
        evidence_capture_request(finding=finding, actor=actor)


def _client(url: str) -> HttpClient:
    # One breaker per host: a dead news site must not stop the captures of others.
    host = url.split("//", 1)[-1].split("/", 1)[0]
    return HttpClient(
        source=f"capture:{host}",
        max_bytes=settings.WISHLIST_CAPTURE_MAX_BYTES,
        max_attempts=2,
    )


def evidence_capture_run(
    *, evidence_id: int, client: HttpClient | None = None, resolve=capture.resolve_host
) -> Evidence | None:
    """Fetch, keep and record a pending capture; None if another run claimed it."""
    claimed = Evidence.objects.filter(
        pk=evidence_id, state=Evidence.State.PENDING, started_at__isnull=True
    ).update(started_at=timezone.now())
    if not claimed:
        return None
    evidence = Evidence.objects.select_related("finding").get(pk=evidence_id)
    try:
        page = capture.fetch_page(
            evidence.url,
            client=client or _client(evidence.url),
            allow_private=settings.WISHLIST_CAPTURE_ALLOW_PRIVATE,
            max_redirects=settings.WISHLIST_CAPTURE_MAX_REDIRECTS,
            resolve=resolve,
        )
    except capture.CaptureRefused as exc:
        return _capture_fail(evidence, str(exc))
    except Exception as exc:
        # Said on the case page, not left pending for ever; the traceback goes to the log.
        _capture_fail(
            evidence, f"the capture stopped on an unexpected error ({type(exc).__name__})"
        )
        raise
    return _capture_keep(evidence, page)


def _capture_fail(evidence: Evidence, error: str) -> Evidence:
    Evidence.objects.filter(pk=evidence.pk).update(state=Evidence.State.FAILED, error=error[:2000])
    evidence.state, evidence.error = Evidence.State.FAILED, error[:2000]
    return evidence


def _capture_keep(evidence: Evidence, page: capture.Page) -> Evidence:
    final = page.final
    body = final.body
    charset = text.charset_of(body, page.content_type)
    extracted = text.page_text(body, page.content_type)
    shot, note = None, "no screenshot: not an HTML page"
    if page.is_html:
        shot, note = capture.screenshot(
            body,
            charset=charset,
            chromium=settings.WISHLIST_CHROMIUM,
            timeout=settings.WISHLIST_SCREENSHOT_TIMEOUT,
        )
    parts = {"warc": ("page.warc.gz", capture.build_warc(page))}
    if extracted is not None:
        parts["text"] = ("text.txt", extracted.encode("utf-8"))
    if shot is not None:
        parts["screenshot"] = ("screenshot.png", shot)
    stored: list[str] = []
    try:
        for field, (name, content) in parts.items():
            stored.append(storage.evidence_save(storage.capture_name(evidence, name), content))
            setattr(evidence, field, stored[-1])
        evidence.state = Evidence.State.OK
        evidence.sha256 = hashlib.sha256(body).hexdigest()
        evidence.size = len(body)
        evidence.retrieved_at = final.at
        evidence.final_url = final.url[:2000]
        evidence.http_status = final.status
        evidence.content_type = page.content_type[:200]
        evidence.screenshot_note = note
        evidence.save()
    except Exception:
        storage.evidence_delete(stored)
        _capture_fail(evidence, "the capture could not be stored")
        raise
    return evidence


def evidence_attach(
    *, finding: Finding, upload: UploadedFile, actor: AbstractBaseUser | None
) -> Evidence:
    """Keep a file an analyst attaches to a finding: PDF, PNG, JPEG or plain text, told
    by its first bytes, at most WISHLIST_EVIDENCE_MAX_UPLOAD_BYTES, once per finding."""
    limit = settings.WISHLIST_EVIDENCE_MAX_UPLOAD_BYTES
    if upload.size is None or upload.size > limit:
        raise ValidationError(
            {"file": f"The file is larger than the {limit / 1024 / 1024:g} MB kept."}
        )
    if upload.size == 0:
        raise ValidationError({"file": "The file is empty."})
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    whole = upload.read() if not uploads.sniff_type(head) else None
    found = uploads.sniff_type(head, whole)
    if found is None:
        raise ValidationError({"file": f"Only {uploads.ACCEPTED} files are kept; this is not one."})
    content_type, extension = found
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    sha256 = digest.hexdigest()
    _refuse_duplicate(finding, sha256)
    upload.seek(0)
    name = storage.evidence_save(
        storage.attachment_name(
            case_id=finding.case_id, finding_id=finding.pk, sha256=sha256, extension=extension
        ),
        upload,
    )
    try:
        with transaction.atomic():
            return Evidence.objects.create(
                finding=finding,
                kind=Evidence.Kind.ATTACHMENT,
                state=Evidence.State.OK,
                attachment=name,
                sha256=sha256,
                size=upload.size,
                content_type=content_type,
                original_filename=uploads.safe_filename(upload.name or "", extension),
                retrieved_at=timezone.now(),
                added_by=actor,
            )
    except IntegrityError:  # the same file sent twice at the same moment
        storage.evidence_delete([name])
        _refuse_duplicate(finding, sha256)
        raise


def _refuse_duplicate(finding: Finding, sha256: str) -> None:
    same = (
        Evidence.objects.filter(finding=finding, kind=Evidence.Kind.ATTACHMENT, sha256=sha256)
        .select_related("added_by")
        .first()
    )
    if same is not None:
        who = same.added_by.get_username() if same.added_by else "someone"
        when = date_format(timezone.localtime(same.created_at), "Y-m-d H:i")
        raise ValidationError(
            {
                "file": f"This file is attached to the finding already "
                f"({same.original_filename}, by {who} on {when})."
            }
        )
