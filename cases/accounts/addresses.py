"""The client's address, as throttling and the audit log see it."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """Return REMOTE_ADDR, or behind a TLS-terminating proxy (SECURE_PROXY_SSL_HEADER set)
    the last X-Forwarded-For entry: the one the proxy itself appended, which a client
    cannot forge (the entries before it are whatever the client sent). None when it is not
    an address at all, which PostgreSQL's inet columns would refuse."""
    address = request.META.get("REMOTE_ADDR", "")
    if settings.SECURE_PROXY_SSL_HEADER:
        address = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip() or address
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None
