"""Sign-in throttling: axes' database handler with a second, higher limit per address.

Axes holds one failure count against one limit (AXES_FAILURE_LIMIT). We want two: the
pair (account, address) locks at that limit, and an address alone, whatever usernames it
tries, at WISHLIST_SIGNIN_ADDRESS_FAILURES. Locking the account alone was refused on
purpose: then anyone could lock a colleague out from anywhere by guessing wrong.
"""

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum


class SignInAttemptHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None) -> int:
        # One queryset per AXES_LOCKOUT_PARAMETERS entry, in order: the pair, the address.
        pair, address = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        limit = settings.AXES_FAILURE_LIMIT
        # Scaled so that the address reaches the one limit at its own.
        return max(pair, address * limit // settings.WISHLIST_SIGNIN_ADDRESS_FAILURES)
