"""The client's address, as throttling and the audit log see it."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """Return REMOTE_ADDR, or behind a TLS-terminating proxy (SECURE_PROXY_SSL_HEADER set)
    the last X-Forwarded-For entry: the one the proxy itself appended, which a client
    cannot forge (the entries before it are whatever the client sent)."""
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR") or None
