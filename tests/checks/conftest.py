"""Fixtures of the follow-up checks' tests."""

import datetime
from contextlib import ExitStack

import pytest

from cases import derived
from cases.checks import sources
from tests.checks.fakes import FakeSource
from tests.checks.redis_server import RedisServer
from tests.factories import CaseFactory, ReferralFactory


@pytest.fixture
def use_sources():
    """Return a function that makes the given sources the only registered ones, by name,
    until the test ends: `use_sources(FakeSource())`. Outside tests/checks, use the
    context manager it wraps, `cases.checks.sources.override`."""
    with ExitStack() as stack:
        yield lambda *chosen: stack.enter_context(sources.override(*chosen))


@pytest.fixture
def fake(use_sources, settings):
    source = FakeSource()
    use_sources(source)
    settings.WISHLIST_CHECK_INTERVAL_DAYS = {"fake": 7}
    return source


@pytest.fixture
def case():
    referral = ReferralFactory(date=datetime.date(2017, 5, 1), date_precision="month")
    case = CaseFactory(entity=referral.entity)
    derived.case_index_dates_refresh(case_ids=[case.id])
    case.refresh_from_db()
    return case


@pytest.fixture
def own_redis(tmp_path):
    """A started Redis server of this test's own (see tests.checks.redis_server)."""
    if RedisServer.binary is None:
        pytest.skip("needs redis-server on PATH")
    server = RedisServer(tmp_path).start()
    yield server
    server.kill()
