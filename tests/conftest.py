"""Shared fixtures. Tests run on whatever DATABASE_URL names (SQLite when unset)."""

import os

import kombu.pools
import pytest
from django.test import TransactionTestCase, override_settings

from tests.clients import Client
from tests.factories import (
    AdminFactory,
    AnalystFactory,
    SupervisorFactory,
    TeamFactory,
    UserFactory,
)

# The fixtures through which a test reaches the database (pytest-django's).
DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
}


def needs_services(item: pytest.Item) -> bool:
    """Whether the test can behave differently on PostgreSQL and Redis than on SQLite
    with tasks in-process: it reaches the database, or it is marked `services` (it reads
    REDIS_URL or the database's kind without a database fixture)."""
    if any(item.get_closest_marker(name) for name in ("django_db", "postgres", "services")):
        return True
    if DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return True
    cls = getattr(item, "cls", None)
    return cls is not None and issubclass(cls, TransactionTestCase)


def pytest_collection_modifyitems(config, items):
    """WISHLIST_TESTS=services runs only the tests of needs_services(): .ci/run's second
    pass, on PostgreSQL and Redis, skips the parsers, rules and other pure tests the
    first pass ran already, as their outcome cannot depend on the database kind."""
    if os.environ.get("WISHLIST_TESTS", "all") != "services":
        return
    kept = [item for item in items if needs_services(item)]
    config.hook.pytest_deselected(items=[item for item in items if not needs_services(item)])
    items[:] = kept


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Hash test passwords with MD5: the default hasher is slow by design, and every
    factory-made user pays for it."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True, scope="session")
def _sign_in_throttle_off():
    """Axes refuses client.login() and authenticate() without a request, which tests use
    to check passwords; the sign-in tests (tests/accounts/) turn it back on."""
    with override_settings(AXES_ENABLED=False):
        yield


@pytest.fixture
def client():
    """The test client; its force_login gives the second factor too (tests/clients.py)."""
    return Client()


# The people of the permission tables, on two teams. Each role has one person, so a
# username in a page or a history entry says who acted.


@pytest.fixture
def team(db):
    return TeamFactory(name="Team A")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="Team B")


@pytest.fixture
def analyst(team):
    """alice, an analyst of the team."""
    return AnalystFactory(username="alice", teams=[team])


@pytest.fixture
def colleague(team):
    """bob, a second analyst of the team (its second coder in the analytics tests)."""
    return AnalystFactory(username="bob", teams=[team])


@pytest.fixture
def supervisor(team):
    """sam, a supervisor of the team."""
    return SupervisorFactory(username="sam", teams=[team])


@pytest.fixture
def other_analyst(other_team):
    """olga, an analyst of the other team."""
    return AnalystFactory(username="olga", teams=[other_team])


@pytest.fixture
def other_supervisor(other_team):
    """sue, a supervisor of the other team."""
    return SupervisorFactory(username="sue", teams=[other_team])


@pytest.fixture
def no_role(team):
    """nora, a member of the team with no role: she sees nothing."""
    user = UserFactory(username="nora")
    team.members.add(user)
    return user


@pytest.fixture
def staff(db):
    """root, an admin: staff granted "cases.view_all_teams", on no team, not a superuser."""
    return AdminFactory(username="root")


@pytest.fixture
def bare_staff(db):
    """stan, staff and nothing else: the flag lets him into the Django admin only."""
    return UserFactory(username="stan", is_staff=True)


@pytest.fixture
def users(
    analyst, colleague, supervisor, other_analyst, other_supervisor, no_role, staff, bare_staff
):
    """Every role of the permission tables, by name; anonymous is None."""
    return {
        "bare_staff": bare_staff,
        "anonymous": None,
        "no_role": no_role,
        "analyst": analyst,
        "coder": colleague,
        "other_analyst": other_analyst,
        "supervisor": supervisor,
        "other_supervisor": other_supervisor,
        "admin": staff,
    }


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


# A Celery broker that is down, for the tests of what survives one (checks, imports).


def _drop_broker_connections(app) -> None:
    """Forget every broker connection and producer, so the next send connects afresh.

    The app's pool is kombu's global pool for its broker URL: closing it alone left the
    closed pool registered, and a later send to the same URL (an eager task acquires a
    producer too) failed with "Acquire on closed pool". kombu's reset closes and forgets
    them all.
    """
    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_at():
    """Return a function that points the Celery app at a broker URL, not in eager mode,
    until the test ends: `broker_at(f"redis://127.0.0.1:{free_port()}/0")` for a broker
    that is down."""
    from wishlist.celery import app

    saved = app.conf.broker_url, app.conf.task_always_eager

    def point(url: str) -> None:
        _drop_broker_connections(app)
        app.conf.broker_url = url
        app.conf.task_always_eager = False

    yield point
    _drop_broker_connections(app)
    app.conf.broker_url, app.conf.task_always_eager = saved


@pytest.fixture(autouse=True)
def _evidence_in_tmp(settings, tmp_path):
    """Kept evidence goes to the test's own folder, never the developer's var/."""
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "evidence", "base_url": None},
        },
    }
