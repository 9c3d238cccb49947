"""Writing the audit log. Events are only ever added (AuditEvent refuses changes)."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest

from cases.accounts.addresses import client_ip
from cases.models import AuditEvent

TARGET_MAX = AuditEvent._meta.get_field("target").max_length


def audit_record(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Record that `actor` did `action` (an AuditEvent.Action) to `target`.

    `detail` holds what makes the event answerable later (the filter, the number of rows,
    the file name) and must be JSON. With `request`, the client's address is kept too.
    An anonymous actor is recorded as nobody; name the account tried in `target`.
    """
    user = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.create(
        actor=user,
        actor_name=user.get_username() if user is not None else "",
        action=AuditEvent.Action(action),
        target=str(target)[:TARGET_MAX],
        detail=detail or {},
        ip=client_ip(request) if request is not None else None,
    )


def query_detail(request: HttpRequest, *, rows: int, **extra: Any) -> dict[str, Any]:
    """The detail of an export or download: its filter (the query string) and row count."""
    return {"path": request.path, "query": request.GET.urlencode(), "rows": rows, **extra}
