"""Each resolver asked through the services, HTTP mocked at the seam: the URL it asks
(under its overridable base URL), what it stores, and who it does not ask about."""

import pytest
from responses import matchers

from cases.identity import services
from cases.models import Entity, IdentifierCandidate, ResolutionAttempt
from tests.factories import CaseFactory, EntityFactory
from tests.identity import bodies

pytestmark = pytest.mark.django_db


def entity(name, country, kind=Entity.Kind.COMPANY):
    return CaseFactory(entity=EntityFactory(name=name, country=country, kind=kind)).entity


def stored(found) -> list[tuple[str, str]]:
    return list(
        IdentifierCandidate.objects.filter(entity=found).values_list("registry", "identifier")
    )


def test_sec_edgar_reads_the_tickers_file_once_and_the_submissions_of_close_titles(mocked):
    mocked.get(
        "https://www.sec.gov/files/company_tickers.json",
        json={
            "0": {"cik_str": 1776985, "ticker": "BNTX", "title": "BioNTech SE"},
            "1": {"cik_str": 320193, "ticker": "AAPL", "title": "Apple Inc."},
        },
    )
    mocked.get(
        "https://data.sec.gov/submissions/CIK0001776985.json",
        json={
            "cik": "1776985",
            "name": "BioNTech SE",
            "formerNames": [],
            "addresses": {"business": {"stateOrCountry": "2M"}},
        },
    )
    biontech = entity("BioNTech SE", "DE")
    services.identifiers_propose(entity_id=biontech.pk, registries=["sec_edgar"])
    other = entity("BioNTech Manufacturing GmbH", "DE")
    services.identifiers_propose(entity_id=other.pk, registries=["sec_edgar"])

    assert stored(biontech) == [("sec_edgar", "1776985")]
    urls = [call.request.url for call in mocked.calls]
    assert urls.count("https://www.sec.gov/files/company_tickers.json") == 1
    assert all(
        call.request.headers["User-Agent"].startswith("Wishlist tests") for call in mocked.calls
    )


def test_companies_house_asks_only_about_uk_entities(mocked):
    mocked.get(
        "https://api.company-information.service.gov.uk/search/companies",
        json={"items": [{"company_number": "00807970", "title": "GROUP LOTUS LIMITED"}]},
    )
    lotus = entity("Group Lotus Ltd", "GB")
    services.identifiers_propose(entity_id=lotus.pk, registries=["companies_house"])
    german = entity("Lotus GmbH", "DE")
    services.identifiers_propose(entity_id=german.pk, registries=["companies_house"])
    assert stored(lotus) == [("companies_house", "00807970")]
    assert len(mocked.calls) == 1
    assert mocked.calls[0].request.headers["Authorization"].startswith("Basic ")
    assert ResolutionAttempt.objects.get(entity=german).status == "skipped"


def test_ror_and_openalex_ask_only_about_research_organisations(mocked, settings):
    settings.WISHLIST_RESOLVER_URLS = {"ror": "http://ror.test/v2", "wikidata": ""}
    mocked.get(
        "http://ror.test/v2/organizations",
        json=bodies.ror_items(bodies.ror_item("00jmfr291", "University of Michigan", "US")),
        match=[matchers.query_param_matcher({"query": "University of Michigan"})],
    )
    mocked.get(
        "https://api.openalex.org/institutions",
        json={
            "results": [
                {
                    "id": "https://openalex.org/I27837315",
                    "display_name": "University of Michigan",
                    "country_code": "US",
                    "ror": "https://ror.org/00jmfr291",
                }
            ]
        },
    )
    umich = entity("University of Michigan", "US", Entity.Kind.UNIVERSITY)
    company = entity("Michigan Robotics Inc", "US")
    for found in (umich, company):
        services.identifiers_propose(entity_id=found.pk, registries=["ror", "openalex"])
    # OpenAlex's ROR claim agrees with ROR: both confirmed automatically.
    umich.refresh_from_db()
    assert (umich.ror_id, umich.openalex_id) == ("00jmfr291", "I27837315")
    assert stored(company) == []
    assert len(mocked.calls) == 2


def test_wikidata_searches_again_without_the_legal_form_when_the_name_finds_nothing(mocked):
    wikidata = "https://www.wikidata.org/w/api.php"
    mocked.get(
        wikidata,
        json=bodies.wikidata_search(),
        match=[
            matchers.query_param_matcher({"search": "Dendreon Corporation"}, strict_match=False)
        ],
    )
    mocked.get(
        wikidata,
        json=bodies.wikidata_search("Q210000030"),
        match=[matchers.query_param_matcher({"search": "dendreon"}, strict_match=False)],
    )
    item = bodies.wikidata_item("Q210000030", "Dendreon", claims={"P17": "Q30"})
    mocked.get(
        wikidata,
        json=bodies.wikidata_entities(item),
        match=[
            matchers.query_param_matcher(
                {"action": "wbgetentities", "ids": "Q210000030"}, strict_match=False
            )
        ],
    )
    dendreon = entity("Dendreon Corporation", "US")
    services.identifiers_propose(entity_id=dendreon.pk, registries=["wikidata"])
    assert stored(dendreon) == [("wikidata", "Q210000030")]


def test_gleif_looks_in_any_country_when_the_entitys_has_nothing(mocked):
    base = "https://api.gleif.org/api/v1/lei-records"
    lumileds = bodies.lei_record(bodies.LEI_OTHER, "Lumileds Holding B.V.", "NL", ("Lumileds",))
    empty = bodies.lei_records()
    mocked.get(
        base,
        json=empty,
        match=[
            matchers.query_param_matcher(
                {"filter[entity.legalName]": "Lumileds"}, strict_match=False
            )
        ],
    )
    mocked.get(
        base,
        json=empty,
        match=[
            matchers.query_param_matcher(
                {"filter[fulltext]": "Lumileds", "filter[entity.legalAddress.country]": "US"},
                strict_match=False,
            )
        ],
    )
    mocked.get(
        base,
        json=bodies.lei_records(lumileds),
        match=[matchers.query_param_matcher({"filter[fulltext]": "Lumileds", "page[size]": "10"})],
    )
    found = entity("Lumileds", "US")
    [proposed] = services.identifiers_propose(entity_id=found.pk, registries=["gleif"]).proposed
    assert proposed.identifier == bodies.LEI_OTHER and proposed.score == 75
    assert "not US" in proposed.explanation
    assert proposed.evidence["asked"][-1].endswith("?filter[fulltext]=Lumileds&page[size]=10")
