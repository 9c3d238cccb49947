"""Admin actions run on a selection (a bulk delete, "Move to a team…", "Assign to…") write
no LogEntry of their own, or write them in bulk where no signal is sent: this records each
one that ran, with its name and how many rows it was run on."""

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
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
            and self._action_ran(request)
        ):
            selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.ADMIN_ACTION,
                target=request.path,
                detail={"admin_action": request.POST["action"], "rows": len(selected)},
                request=request,
            )
        return response

    @staticmethod
    def _action_ran(request: HttpRequest) -> bool:
        """Whether the admin would have run the action: one of the list's, on a selection.

        A refused one (nothing selected, not allowed) redirects back to the list too.
        """
        match = request.resolver_match
        model_admin = getattr(match.func, "model_admin", None) if match else None
        if (
            model_admin is None
            or match.url_name
            != f"{model_admin.opts.app_label}_{model_admin.opts.model_name}_changelist"
        ):
            return False
        selected = (
            request.POST.getlist(ACTION_CHECKBOX_NAME) or request.POST.get("select_across") == "1"
        )
        return bool(selected) and request.POST["action"] in model_admin.get_actions(request)
