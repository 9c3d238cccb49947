"""Response headers and request limits that hold for every page (the Content-Security-Policy
comes from django-csp, configured in settings), and the site's own error pages."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import Resolver404, get_resolver, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.log import log_response


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


# --- error pages ---
# With DEBUG on (the embedded default, `make run`), Django answers a 404 with its technical
# page: it lists every URL pattern and names the view that refused, which tells a signed-in
# analyst the site's map. The research pages answer with the site's own 404 and 403 pages
# in every mode; a case of another team (404 by design, cases/access.py) reads the same as
# one that does not exist. The Django admin keeps Django's pages: only staff reach it.


def not_found(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "404.html", status=404).render()


def forbidden(request: HttpRequest, reason: str = "") -> HttpResponse:
    return TemplateResponse(request, "403.html", {"exception": reason}, status=403).render()


class ErrorPageMiddleware:
    """Answer a path that matches no route, an Http404 and a PermissionDenied raised by a
    view with templates/404.html or 403.html, before Django's handler (which shows the
    technical 404 page under DEBUG) sees them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A path no route matches never reaches process_exception: Django resolves it
        # outside the view's error handling, so it is looked up here first.
        if not self._exempt(request):
            try:
                get_resolver(getattr(request, "urlconf", settings.ROOT_URLCONF)).resolve(
                    request.path_info
                )
            except Resolver404:
                return self._logged(request, not_found(request), "Not Found")
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if self._exempt(request):
            return None
        if isinstance(exception, Http404):
            return self._logged(request, not_found(request), "Not Found")
        if isinstance(exception, PermissionDenied):
            reason = str(exception) if exception.args else ""
            return self._logged(
                request, forbidden(request, reason), "Forbidden (Permission denied)"
            )
        return None

    @staticmethod
    def _exempt(request: HttpRequest) -> bool:
        return request.path.startswith(reverse("admin:index"))

    @staticmethod
    def _logged(request: HttpRequest, response: HttpResponse, message: str) -> HttpResponse:
        # As Django's own handler logs them (django.request, a warning).
        log_response(f"{message}: %s", request.path, response=response, request=request)
        return response
