"""The idle session timeout, and the second factor required before any page."""

import functools
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from cases.accounts.policy import otp_has_device, otp_required

LAST_SEEN_SESSION_KEY = "wishlist_last_seen"
STARTED_SESSION_KEY = "wishlist_started"


class IdleTimeoutMiddleware:
    """Sign out a session that made no request for WISHLIST_IDLE_TIMEOUT seconds, or that
    began more than SESSION_COOKIE_AGE seconds ago however busy it has been.

    The session keeps both times itself: Django's own expiry moves on every save, so it
    cannot be the hard limit.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            started = session.setdefault(STARTED_SESSION_KEY, now)
            last_seen = session.get(LAST_SEEN_SESSION_KEY, now)
            if now - last_seen > settings.WISHLIST_IDLE_TIMEOUT:
                request.wishlist_sign_out_reason = "idle"
                logout(request)
            elif now - started > settings.SESSION_COOKIE_AGE:
                request.wishlist_sign_out_reason = "session too old"
                logout(request)
            elif now - last_seen >= 60 or LAST_SEEN_SESSION_KEY not in session:
                # At most once a minute, so not every request writes the session.
                session[LAST_SEEN_SESSION_KEY] = now
        return self.get_response(request)


class OTPRequiredMiddleware:
    """Send a signed-in user who needs a second factor and has not given it to the
    verify step (or, with no device yet, to set one up), whatever page they asked for.

    After OTPMiddleware, which tells request.user whether it is verified. The admin is
    covered too: its pages go through here like every other.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()
            and not self._exempt(request.path)
            and otp_required(user)
        ):
            name = "otp_verify" if otp_has_device(user) else "otp_setup"
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse(name)}?{query}")
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        """The second-factor pages themselves, signing out, and static files."""
        return path in _open_paths() or path.startswith(f"/{settings.STATIC_URL.lstrip('/')}")


@functools.cache
def _open_paths() -> frozenset[str]:
    # Reversed once, on the first request (the URLconf is not loaded at import).
    return frozenset(reverse(n) for n in ("otp_verify", "otp_setup", "logout", "login"))
