"""Shared fixtures. Tests run on whatever DATABASE_URL names (SQLite when unset)."""

import pytest

from tests.factories import UserFactory


@pytest.fixture
def superuser(db):
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture(autouse=True)
def _closed_network_breakers():
    """Each test starts with every source reachable (the breaker is per process)."""
    from cases.checks import http

    http.reset_breakers()
    yield
    http.reset_breakers()
