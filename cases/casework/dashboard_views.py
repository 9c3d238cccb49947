"""The supervisors' backlog and a person's settings (the email digest). My work is in
cases.casework.views with the other research pages."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from cases import access
from cases.casework import dashboard, preferences
from cases.casework.dashboard_forms import DigestForm


@require_GET
@login_required
def backlog(request: HttpRequest) -> HttpResponse:
    if not access.is_supervisor(request.user):
        raise PermissionDenied("The backlog is for supervisors.")
    return render(request, "cases/backlog.html", {"backlog": dashboard.backlog(request.user)})


@require_http_methods(["GET", "POST"])
@login_required
def user_settings(request: HttpRequest) -> HttpResponse:
    current = preferences.preferences_of(request.user)
    data = request.POST if request.method == "POST" else None  # an empty POST is refused
    form = DigestForm(data, initial={"digest": current.digest})
    if request.method == "POST":
        if form.is_valid():
            try:
                preferences.preferences_digest_set(
                    user=request.user, digest=form.cleaned_data["digest"]
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Your settings are saved.")
                return redirect("cases:preferences")
        return render(request, "cases/settings.html", {"form": form}, status=400)
    return render(request, "cases/settings.html", {"form": form})
