"""What every source shares (cases/checks/sources/__init__.py): the base URL and rate
limit read from the settings."""

from cases.checks.sources import Source


class Stand(Source):
    name = "stand_in"
    default_url = "https://registry.example.org/api"
    rate_per_second = 2


def test_the_base_url_and_rate_come_from_the_settings(settings):
    stand = Stand()
    assert (stand.base_url, stand.rate_limit) == ("https://registry.example.org/api", 2)
    settings.WISHLIST_SOURCE_URLS = {"stand_in": "http://127.0.0.1:8001/api/"}
    settings.WISHLIST_SOURCE_RATES = {"stand_in": 100.0}
    assert (stand.base_url, stand.rate_limit) == ("http://127.0.0.1:8001/api", 100.0)


def test_a_rate_of_zero_turns_the_limit_off(settings):
    settings.WISHLIST_SOURCE_RATES = {"stand_in": 0.0}
    assert Stand().rate_limit == 0.0
