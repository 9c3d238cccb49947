"""Response headers and request limits that hold for every page (the Content-Security-Policy
comes from django-csp, configured in settings)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class PermissionsPolicyMiddleware:
    """Switch off the browser features the app never uses (camera, microphone, location,
    payment, USB...), so a page that had script injected still could not reach them."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(f"{name}=()" for name in settings.PERMISSIONS_POLICY_DISABLED)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.header)
        return response


class NoStoreWhenSignedInMiddleware:
    """Every response to a signed-in person is Cache-Control: no-store: case pages, CSV
    exports and chart downloads hold research data that no browser cache or proxy on a
    shared machine should keep. Static files (served by WhiteNoise, earlier in the chain)
    keep their long cache lifetimes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # The user is read after the view, so a request that signs in or out is judged
        # by who it ends with; the sign-in page itself is never cached (Django's view).
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


class AnonymousBodyLimitMiddleware:
    """Refuse (413) a request body over ANONYMOUS_MAX_BODY_BYTES from someone not signed
    in, from its Content-Length and before any of it is read: the sign-in form needs a few
    hundred bytes, and an anonymous 199 MB POST to it was read whole. Signed-in people keep
    Django's limits (the admin's referral upload is a file upload)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._too_large(request) and not request.user.is_authenticated:
            return HttpResponse(
                "Request body too large: sign in first.",
                status=413,
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)

    @staticmethod
    def _too_large(request: HttpRequest) -> bool:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return False  # Django then reads no body at all
        return length > settings.ANONYMOUS_MAX_BODY_BYTES
