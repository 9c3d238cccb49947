"""Admin pages for the referral import (upload, preview, confirm) and the case export.

The uploaded file waits in IMPORT_UPLOAD_DIR between the preview and the confirmation,
named by a random token kept in the session, so one user cannot confirm another's file.
The import itself is re-checked on confirmation: the database may have changed.
"""

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone

from cases.admin.forms import ReferralImportForm
from cases.audit.services import audit_record, query_detail
from cases.exports import WRITERS
from cases.intake.files import ImportFileError, read_table
from cases.intake.report import format_report
from cases.intake.rows import check_rows
from cases.intake.services import referrals_import

SESSION_KEY = "referral_import_uploads"
TEMPLATE = "admin/cases/referral_import.html"


def _upload_path(token: str, suffix: str) -> Path:
    return Path(settings.IMPORT_UPLOAD_DIR) / f"{token}{suffix}"


def _run(data: bytes, name: str, *, dry_run: bool):
    try:
        checked = check_rows(read_table(data, name))
    except ImportFileError as exc:
        return None, [f"{name}: {exc}; nothing was written."]
    result = referrals_import(checked=checked, dry_run=dry_run)
    return result, format_report(result)


def referral_import_view(model_admin, request):
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Import referrals",
    }
    if request.method == "POST" and "token" in request.POST:
        return _import_confirmed(request, context)
    return _import_previewed(request, context)


def _import_confirmed(request, context: dict):
    """Import the file previewed under the posted token, once."""
    uploads = request.session.get(SESSION_KEY, {})
    token = request.POST["token"]
    entry = uploads.pop(token, None)
    request.session[SESSION_KEY] = uploads
    if entry is None:
        messages.error(request, "That upload has expired or was already imported.")
        return redirect(request.path)
    path = _upload_path(token, entry["suffix"])
    try:
        data = path.read_bytes()
    except OSError:
        messages.error(request, "The uploaded file is gone; upload it again.")
        return redirect(request.path)
    result, lines = _run(data, entry["name"], dry_run=False)
    path.unlink(missing_ok=True)
    if result is None or not result.ok:
        context.update(form=ReferralImportForm(), report=lines, failed=True)
        return TemplateResponse(request, TEMPLATE, context)
    messages.success(request, lines[0])
    for line in lines[1:]:
        messages.info(request, line)
    return redirect("admin:cases_referral_changelist")


def _import_previewed(request, context: dict):
    """Show the upload form or, for an uploaded file, what importing it would do; keep
    the file for confirmation when it would change anything."""
    form = ReferralImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        result, lines = _run(data, upload.name, dry_run=True)
        context.update(report=lines, failed=result is None or not result.ok)
        if result is not None and result.ok and result.changed_anything:
            token = secrets.token_urlsafe(24)
            suffix = Path(upload.name).suffix.casefold()
            path = _upload_path(token, suffix)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            uploads = request.session.get(SESSION_KEY, {})
            uploads[token] = {"name": upload.name, "suffix": suffix}
            request.session[SESSION_KEY] = uploads
            context.update(token=token, file_name=upload.name)
    context["form"] = form
    return TemplateResponse(request, TEMPLATE, context)


def case_export_view(model_admin, request, format: str):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    writer = WRITERS[format]
    content_type = "text/csv" if format == "csv" else "application/json"
    response = HttpResponse(content_type=f"{content_type}; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    name = f"wishlist-cases-{stamp}.{format}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    rows = writer(response)
    audit_record(
        actor=request.user,
        action="export",
        target=name,
        detail=query_detail(request, rows=rows, format=format),
        request=request,
    )
    return response
