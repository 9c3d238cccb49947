"""Kept evidence on the case page: capture a finding's page, attach a file, and read
either back, read-only and sandboxed.

Every view checks access through cases.access (evidence of a case outside the user's
teams is a 404) and calls one service or selector.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from cases import access
from cases.audit.services import audit_record
from cases.casework import selectors as casework_selectors
from cases.casework.history import finding_name
from cases.evidence import selectors, services, storage
from cases.evidence.forms import AttachForm
from cases.models import AuditEvent

# Whatever a stored file holds, a browser shows it as inert: no script, no plugin, no
# request to anywhere, and never its type guessed from the content.
SANDBOX_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Referrer-Policy": "no-referrer",
}  # and, as on every page a signed-in person reads, Cache-Control: no-store


def _require_edit(request: HttpRequest) -> None:
    if not access.can_edit(request.user):
        raise PermissionDenied("Your role does not allow this change.")


def _back(finding) -> HttpResponse:
    return redirect(finding.case.get_absolute_url() + f"#evidence-{finding.pk}")


@require_GET
@login_required
def case_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    """The case page's Kept evidence panel alone: its script asks for it while a capture
    is on its way."""
    case = access.case_or_404(request.user, pk)
    entries = selectors.case_evidence(casework_selectors.case_findings(case).by_date)
    context = {
        "case": case,
        "evidence": entries,
        "evidence_pending": selectors.evidence_pending(entries),
        "can_edit": access.can_edit(request.user),
    }
    return render(request, "cases/_evidence.html", context)


@require_POST
@login_required
def finding_capture(request: HttpRequest, pk: int) -> HttpResponse:
    finding = access.finding_or_404(request.user, pk)
    _require_edit(request)
    name = finding_name(finding.kind, finding.counterparty_name)
    try:
        services.evidence_capture_request(finding=finding, actor=request.user)
    except services.CaptureBusy as exc:
        messages.info(request, str(exc))
    except ValidationError as exc:
        messages.error(request, f"The {name}: {' '.join(exc.messages)}")
    else:
        messages.success(
            request,
            f"Capturing the page of the {name}; it shows under Kept evidence when done.",
        )
    return _back(finding)


@require_POST
@login_required
def finding_attach(request: HttpRequest, pk: int) -> HttpResponse:
    finding = access.finding_or_404(request.user, pk)
    _require_edit(request)
    name = finding_name(finding.kind, finding.counterparty_name)
    form = AttachForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, f"The {name}: {' '.join(errors)}")
        return _back(finding)
    try:
        evidence = services.evidence_attach(
            finding=finding, upload=form.cleaned_data["file"], actor=request.user
        )
    except ValidationError as exc:
        messages.error(request, f"The {name}: {' '.join(exc.messages)}")
        return _back(finding)
    messages.success(request, f"Attached {evidence.original_filename} to the {name}.")
    return _back(finding)


@require_GET
@login_required
def evidence_file(request: HttpRequest, pk: int, part: str) -> HttpResponse:
    """Stream one stored file, as a download (images and our text may show inline)."""
    evidence = selectors.evidence_or_404(request.user, pk)
    served = selectors.served_file(evidence, part)
    if served is None:
        raise Http404("No such file.")
    try:
        handle = storage.evidence_open(served.name)
    except FileNotFoundError:
        raise Http404("The stored file is missing.") from None
    response = FileResponse(
        handle,
        as_attachment=not served.inline,
        filename=served.filename,
        content_type=served.content_type,
    )
    for header, value in SANDBOX_HEADERS.items():
        response[header] = value
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.DOWNLOAD,
        target=served.filename,
        detail={"evidence": evidence.pk, "part": part, "finding": evidence.finding_id},
        request=request,
    )
    return response
