"""Shared fixtures. Tests run on whatever DATABASE_URL names (SQLite when unset)."""

import pytest
from django.test import override_settings

from tests.factories import UserFactory


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Hash test passwords with MD5: the default hasher is slow by design, and every
    factory-made user pays for it."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


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
