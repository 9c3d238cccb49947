"""Admin actions run on a selection (a bulk delete, "Move to a team…", "Assign to…") write
no LogEntry of their own, or write them in bulk where no signal is sent: this records each
one that completed, with its name and how many rows it was run on."""

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from cases.audit.services import audit_record
from cases.models import AuditEvent


class AdminActionAuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.method == "POST"
            # A completed action redirects back to the list; a confirmation page answers 200.
            and response.status_code == 302
            and request.path.startswith(reverse("admin:index"))
            and request.POST.get("action")
            and request.user.is_authenticated
        ):
            selected = request.POST.getlist("_selected_action")
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.ADMIN_ACTION,
                target=request.path,
                detail={"admin_action": request.POST["action"], "rows": len(selected)},
                request=request,
            )
        return response
