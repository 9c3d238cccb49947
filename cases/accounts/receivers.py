"""Start the idle and maximum-age clocks of a session when its user signs in."""

import time

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from cases.accounts.middleware import LAST_SEEN_SESSION_KEY, STARTED_SESSION_KEY


@receiver(user_logged_in, dispatch_uid="session_clocks_start")
def session_clocks_start(sender, request, user, **kwargs):
    session = getattr(request, "session", None)
    if session is not None:
        now = int(time.time())
        session[STARTED_SESSION_KEY] = now
        session[LAST_SEEN_SESSION_KEY] = now
