"""Once a person confirms an identifier, the checks search by it instead of by name."""

import datetime
import re

import pytest

from cases.checks.http import HttpClient
from cases.checks.ratelimit import LocalRateLimiter
from cases.checks.sources import companies_house, gleif
from cases.identity import services
from cases.models import Entity, IdentifierCandidate
from tests.factories import AnalystFactory, CaseFactory, EntityFactory
from tests.identity import bodies

SINCE = datetime.date(2017, 5, 1)
pytestmark = pytest.mark.django_db


def confirmed(entity: Entity, registry: str, identifier: str) -> Entity:
    found = IdentifierCandidate.objects.create(
        entity=entity, registry=registry, identifier=identifier, score=90, explanation="x"
    )
    services.candidate_confirm(candidate=found, user=AnalystFactory(), version=found.version)
    return Entity.objects.get(pk=entity.pk)


def client(source: str) -> HttpClient:
    return HttpClient(source=source, limiter=LocalRateLimiter(), sleep=lambda s: None)


def test_a_confirmed_lei_makes_the_gleif_check_search_by_lei_not_by_name(mocked):
    entity = confirmed(
        CaseFactory(entity=EntityFactory(name="BMW AG", country="DE")).entity,
        "gleif",
        bodies.LEI_BMW,
    )
    by_lei = f"{gleif.GleifSource.default_url}/lei-records/{bodies.LEI_BMW}"
    # The record first: without relationship links it leaves every relation to be asked.
    mocked.get(by_lei, json={"data": bodies.lei_record(bodies.LEI_BMW, "BMW AG", "DE")})
    mocked.get(re.compile(re.escape(by_lei) + r"/.*-children.*"), json={"data": [], "links": {}})
    mocked.get(re.compile(re.escape(by_lei) + r"/.*-parent.*"), status=404, json={"errors": []})

    result = gleif.SOURCE.search(entity, SINCE, client("gleif"))

    asked = [call.request.url for call in mocked.calls]
    assert asked and all(url.startswith(by_lei) for url in asked)  # no name search
    assert result.query.startswith(f"LEI {bodies.LEI_BMW}: LEI given on the entity")


def test_a_confirmed_company_number_makes_companies_house_read_that_company(mocked, settings):
    entity = confirmed(
        CaseFactory(entity=EntityFactory(name="Group Lotus plc", country="GB")).entity,
        "companies_house",
        "00807970",
    )
    base = companies_house.CompaniesHouseSource.default_url
    mocked.get(
        f"{base}/company/00807970",
        json={"company_number": "00807970", "company_name": "GROUP LOTUS LIMITED"},
    )
    mocked.get(
        re.compile(re.escape(f"{base}/company/00807970/") + ".*"),
        json={"items": [], "total_results": 0},
    )

    companies_house.SOURCE.search(entity, SINCE, client("companies_house"))

    asked = [call.request.url for call in mocked.calls]
    assert asked[0] == f"{base}/company/00807970"
    assert not any("/search/companies" in url for url in asked)
