"""The Django admin for the case store, one module per domain; importing them registers them."""

from cases.admin import (  # noqa: F401
    analytics,
    cases,
    checks,
    entities,
    findings,
    referrals,
    site,
    teams,
)
