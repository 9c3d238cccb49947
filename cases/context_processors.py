"""What every page's navigation needs to know about the signed-in user: roles, unread
notifications."""

from cases import access
from cases.notifications.selectors import unread_count


def roles(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "user_can_edit": access.can_edit(user),
        "user_is_supervisor": access.is_supervisor(user),
        "user_is_admin": access.is_admin(user),
    }


def notifications(request):
    """The unread count in the navigation: one query per page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": unread_count(user)}
