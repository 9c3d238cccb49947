"""The Django admin for the case store, one module per domain; importing them registers them."""

from cases.admin import (  # noqa: F401
    analytics,
    audit,
    candidates,
    cases,
    checks,
    entities,
    evidence,
    findings,
    identity,
    notifications,
    preferences,
    referrals,
    site,
    tags,
    teams,
    webhooks,
)
