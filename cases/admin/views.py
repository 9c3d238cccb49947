"""Admin pages for the referral import (upload, preview, confirm) and the case export.

An upload is stored in IMPORT_UPLOAD_DIR and previewed by a job (a dry run); its page
follows the job's ImportRecord until it is done. Confirming queues the real import as a
second job, re-checked: the database may have changed since the preview. Only the user
who uploaded a file sees its page and can confirm it.
"""

from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from cases import tasks
from cases.admin.forms import ReferralImportForm
from cases.audit.services import audit_record, query_detail
from cases.exports import BOM, WRITERS
from cases.intake import jobs
from cases.models import Case, ImportRecord

TEMPLATE = "admin/cases/referral_import.html"
STATUS_TEMPLATE = "admin/cases/referral_import_status.html"


def _context(model_admin, request, title: str) -> dict:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
    }


def referral_import_view(model_admin, request):
    """The upload form; an upload is stored, its preview queued, and its page shown."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    form = ReferralImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        with transaction.atomic():
            record = jobs.import_record_create(
                data=upload.read(), file_name=upload.name, user=request.user, dry_run=True
            )
            tasks.import_enqueue(record.pk)
        return redirect("admin:cases_referral_import_status", record_id=record.pk)
    context = _context(model_admin, request, "Import referrals")
    context["form"] = form
    return TemplateResponse(request, TEMPLATE, context)


def referral_import_status_view(model_admin, request, record_id: int):
    """Follow an import: progress until it ends, then its report and, for a preview that
    would change anything, the confirmation; a POST confirms."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    record = ImportRecord.objects.filter(pk=record_id, user=request.user).first()
    if record is None:
        raise Http404("No such import of yours.")
    if request.method == "POST":
        try:
            with transaction.atomic():
                confirmed = jobs.import_confirm(preview_id=record.pk, user=request.user)
                tasks.import_enqueue(confirmed.pk)
        except jobs.ImportNotConfirmable as exc:
            messages.error(request, str(exc))
            return redirect("admin:cases_referral_import_status", record_id=record.pk)
        return redirect("admin:cases_referral_import_status", record_id=confirmed.pk)
    context = _context(model_admin, request, f"Import of {record.file_name}")
    context.update(
        record=record,
        report=report_blocks(record.report),
        counts=_counts(record),
        confirmable=_confirmable(record),
        expired=record.state == ImportRecord.State.EXPIRED,
    )
    return TemplateResponse(request, STATUS_TEMPLATE, context)


def report_blocks(report: str) -> list[tuple[str, list[str]]]:
    """The report's lines as (line, the indented lines under it): a summary line with its
    bad rows or possible duplicates listed under it (cases/intake/report.py)."""
    blocks: list[tuple[str, list[str]]] = []
    for line in report.splitlines():
        if line.startswith("  ") and blocks:
            blocks[-1][1].append(line.strip())
        elif line.strip():
            blocks.append((line.strip(), []))
    return blocks


def _counts(record: ImportRecord) -> list[tuple[str, int]]:
    """What the import would write (a preview) or wrote, row by row of a table."""
    verb = "to create" if record.dry_run else "created"
    return [
        ("Rows read", record.rows_read),
        (f"Referrals {verb}", record.referrals_created),
        (f"Entities {verb}", record.entities_created),
        (f"Cases {verb}", record.cases_created),
        (f"Posts {verb}", record.posts_created),
        ("Rows skipped (already stored unchanged, or repeated)", record.rows_skipped),
    ]


def _confirmable(record: ImportRecord) -> bool:
    return (
        record.dry_run
        and record.state == ImportRecord.State.DONE
        and record.changed_anything
        and bool(record.stored_file)
        and not record.confirmations.filter(
            state__in=[
                ImportRecord.State.QUEUED,
                ImportRecord.State.RUNNING,
                ImportRecord.State.DONE,
            ]
        ).exists()
    )


def case_export_view(model_admin, request, format: str):
    """The cases of the changelist as the user filtered and searched it, as a file."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    try:
        changelist = model_admin.get_changelist_instance(request)
    except IncorrectLookupParameters:
        # As the changelist itself answers a filter it cannot apply.
        return redirect(reverse("admin:cases_case_changelist") + f"?{ERROR_FLAG}=1")
    # The changelist's own query aggregates its columns; the export counts its own, so it
    # takes only which cases are listed.
    cases = Case.objects.filter(pk__in=changelist.queryset.order_by().values("pk"))
    writer = WRITERS[format]
    content_type = "text/csv" if format == "csv" else "application/json"
    response = HttpResponse(content_type=f"{content_type}; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    name = f"wishlist-cases-{stamp}.{format}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    if format == "csv":
        response.write(BOM)
    rows = writer(response, cases)
    audit_record(
        actor=request.user,
        action="export",
        target=name,
        detail=query_detail(request, rows=rows, format=format),
        request=request,
    )
    return response
