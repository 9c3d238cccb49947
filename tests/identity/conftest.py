"""Fixtures of the identity tests: recorded registry responses (as the sources' tests
read them), HTTP mocked by `responses`, and registries answering without waiting."""

import pytest
import responses

from cases.checks.http import reset_breakers
from cases.identity.resolvers import get_resolvers, sec_edgar
from tests.checks.sources.conftest import recorded  # noqa: F401  (a fixture)


@pytest.fixture(autouse=True)
def quick_registries(settings):
    """No rate-limit waits and one quick retry, so a 429 or 500 test takes no time; no
    company tickers kept from another test."""
    names = list(get_resolvers())
    settings.WISHLIST_SOURCE_RATES = dict.fromkeys(names, 1000.0)
    settings.WISHLIST_RESOLVER_RATES = dict.fromkeys(names, 1000.0)
    settings.WISHLIST_HTTP_MAX_ATTEMPTS = 2
    settings.WISHLIST_HTTP_BACKOFF = 0
    settings.SEC_USER_AGENT = "Wishlist tests test@example.org"
    settings.COMPANIES_HOUSE_API_KEY = "test-key"
    sec_edgar.reset_cache()
    reset_breakers()
    yield
    sec_edgar.reset_cache()


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
