"""What every source shares (cases/checks/sources/__init__.py): the registry, a test's
own sources in its place, and the base URL and rate limit read from the settings."""

import pytest

from cases.checks import sources
from cases.checks.sources import Source, get_sources


class Stand(Source):
    name = "stand_in"
    default_url = "https://registry.example.org/api"
    rate_per_second = 2


def test_the_registry_has_the_sources_in_the_order_checks_run_them():
    assert list(get_sources()) == [
        "gleif",
        "wikidata",
        "sec_edgar",
        "companies_house",
        "gdelt",
        "google_news",
        "openalex",
        "clinicaltrials",
        "uspto",
        "epo_ops",
    ]


def test_override_puts_a_tests_sources_in_place_of_the_registry_and_restores_it():
    real = dict(get_sources())
    stand = Stand()
    with sources.override(stand) as registered:
        assert registered == {"stand_in": stand}
        assert get_sources() == {"stand_in": stand}
    assert get_sources() == real


def test_override_restores_the_registry_when_the_block_raises():
    real = dict(get_sources())
    with pytest.raises(RuntimeError), sources.override(Stand()):
        raise RuntimeError
    assert get_sources() == real


def test_the_use_sources_fixture_registers_sources_for_one_test(use_sources):
    stand = Stand()
    use_sources(stand)
    assert get_sources() == {"stand_in": stand}


def test_the_base_url_and_rate_come_from_the_settings(settings):
    stand = Stand()
    assert (stand.base_url, stand.rate_limit) == ("https://registry.example.org/api", 2)
    settings.WISHLIST_SOURCE_URLS = {"stand_in": "http://127.0.0.1:8001/api/"}
    settings.WISHLIST_SOURCE_RATES = {"stand_in": 100.0}
    assert (stand.base_url, stand.rate_limit) == ("http://127.0.0.1:8001/api", 100.0)


def test_a_rate_of_zero_turns_the_limit_off(settings):
    settings.WISHLIST_SOURCE_RATES = {"stand_in": 0.0}
    assert Stand().rate_limit == 0.0


def test_the_yield_harness_finds_every_source_by_its_old_name():
    from cases import sources as harness_entry

    assert harness_entry.get_sources() == sources.get_sources()
