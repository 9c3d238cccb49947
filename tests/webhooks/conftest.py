import pytest


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    """Send as embedded mode does, in the test's own thread (so it can read the result),
    to the loopback receivers the tests start; the worker test sends through the broker."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.WISHLIST_WEBHOOK_IN_THREAD = False
    settings.WISHLIST_WEBHOOK_ALLOW_PRIVATE = True
    settings.WISHLIST_WEBHOOK_TIMEOUT = 5
    settings.WISHLIST_BASE_URL = "https://wishlist.example"
    from cases.checks import http

    http.reset_breakers()
