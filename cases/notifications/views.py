"""The notifications page (newest first, marking one or all read) and the case page's
"Watch this case" toggle."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from cases import access
from cases.models import Notification
from cases.notifications import selectors, services

PAGE_SIZE = 50


@require_GET
@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notifications_for(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "cases/notifications.html", {"page": page})


@require_POST
@login_required
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one read; with "open", go on to what it is about."""
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    services.notification_mark_read(user=request.user, pk=notification.pk)
    if request.POST.get("open"):
        if not selectors.can_see_case(request.user, notification.case):
            raise Http404("No such case.")
        return redirect(notification.get_absolute_url())
    return redirect(reverse("cases:notification_list"))


@require_POST
@login_required
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(user=request.user)
    messages.success(request, f"Marked {count} notification(s) read.")
    return redirect(reverse("cases:notification_list"))


@require_POST
@login_required
def case_watch(request: HttpRequest, pk: int) -> HttpResponse:
    """Start or stop watching a case the user sees ("watch": "1" or "0")."""
    case = access.case_or_404(request.user, pk)
    if request.POST.get("watch") == "0":
        services.watch_stop(user=request.user, case=case)
        messages.success(request, "You no longer watch this case.")
    else:
        services.watch_start(user=request.user, case=case)
        messages.success(
            request, "You watch this case: you are told of its new leads and comments."
        )
    return redirect(case.get_absolute_url())
