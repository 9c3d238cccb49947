"""The second step of signing in: give a code, or set up an authenticator app first."""

from base64 import b32encode

import django_otp
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from cases.accounts import services
from cases.accounts.forms import TokenForm
from cases.accounts.policy import otp_has_device, otp_required
from cases.audit.services import audit_record
from cases.models import AuditEvent


def _next_url(request: HttpRequest) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("cases:my_work")


@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    if not otp_has_device(user):
        # Only an analyst with none set up gets here: the middleware sends the others to
        # set one up.
        return render(request, "cases/otp_verify.html", {"no_device": True})
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Each device counts its own failures and makes the next try wait longer.
        device = django_otp.match_token(user, form.cleaned_data["token"])
        if device is not None:
            django_otp.login(request, device)
            audit_record(
                actor=user,
                action=AuditEvent.Action.OTP_VERIFIED,
                detail={"device": device.persistent_id},
                request=request,
            )
            return redirect(_next_url(request))
        audit_record(actor=user, action=AuditEvent.Action.OTP_FAILED, request=request)
        form.add_error("token", "That code is not right, or was used already.")
    return render(request, "cases/otp_verify.html", {"form": form, "next": _next_url(request)})


@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    has_device = otp_has_device(user)
    if has_device and not user.is_verified():
        query = request.GET.urlencode()
        return redirect(reverse("otp_verify") + (f"?{query}" if query else ""))
    context = {"next": _next_url(request), "required": otp_required(user)}
    if has_device:
        if request.method == "POST" and request.POST.get("backup_codes"):
            context["codes"] = services.backup_codes_reset(user=user)
        return render(request, "cases/otp_setup.html", {**context, "has_device": True})
    device = services.totp_device_pending(user=user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.totp_device_confirm(device=device, token=form.cleaned_data["token"]):
            django_otp.login(request, device)
            audit_record(
                actor=user,
                action=AuditEvent.Action.OTP_DEVICE_ADDED,
                detail={"device": device.persistent_id},
                request=request,
            )
            codes = services.backup_codes_reset(user=user)
            return render(
                request, "cases/otp_setup.html", {**context, "has_device": True, "codes": codes}
            )
        form.add_error("token", "That code is not right; check the app's clock and try again.")
    context.update(
        form=form,
        secret=b32encode(device.bin_key).decode(),
        config_url=device.config_url,
    )
    return render(request, "cases/otp_setup.html", context)
