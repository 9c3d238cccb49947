"""Companies House: parsers on the recorded real responses and on hand-made bodies,
search() with HTTP mocked by `responses`, and one check through the services."""

import base64
import datetime
import json

import pytest
import responses
from responses import matchers

from cases import derived
from cases.checks import services as checks_services
from cases.checks.http import HttpClient, PermanentHttpError
from cases.checks.matching import NameMatch
from cases.checks.ratelimit import LocalRateLimiter
from cases.checks.sources import companies_house as ch
from cases.models import CheckRun, Entity, Finding
from tests.factories import CaseFactory, EntityFactory, ReferralFactory

BASE = ch.CompaniesHouseSource.default_url
KEY = "test-key-0000"
SINCE = datetime.date(2017, 5, 1)
CANDOUR = ch.Company("08957400", "CANDOUR GROUP LIMITED")
GIVEN = ch.NUMBER_GIVEN


def load(recorded, name: str) -> tuple[object, bytes]:
    raw = recorded(f"companies_house/{name}")
    return json.loads(raw), raw


def as_body(items: list[dict], **extra) -> tuple[dict, bytes]:
    data = {"items": items, "items_per_page": 25, "start_index": 0, "total_results": len(items)}
    data.update(extra)
    return data, json.dumps(data).encode()


def chinese_psc(**fields) -> dict:
    """A hand-made corporate PSC registered in the PRC, as the live API shapes one."""
    item = {
        "kind": "corporate-entity-person-with-significant-control",
        "name": "Shenzhen Example Capital Co., Ltd.",
        "notified_on": "2019-03-04",
        "natures_of_control": ["ownership-of-shares-25-to-50-percent"],
        "identification": {
            "legal_form": "Limited Liability Company",
            "legal_authority": "Company Law of the People's Republic of China",
            "country_registered": "China",
            "place_registered": "Shenzhen Administration for Market Regulation",
        },
        "address": {"locality": "Shenzhen", "country": "China"},
        "links": {
            "self": "/company/08957400/persons-with-significant-control/corporate-entity/abc"
        },
    }
    item.update(fields)
    return item


def officer(**fields) -> dict:
    item = {
        "name": "ZHANG, Wei",
        "officer_role": "director",
        "appointed_on": "2018-10-01",
        "nationality": "Chinese",
        "country_of_residence": "China",
        "links": {"officer": {"appointments": "/officers/abcDEF123/appointments"}},
    }
    item.update(fields)
    return item


@pytest.fixture
def client():
    return HttpClient(
        source="companies_house",
        rate_per_second=None,
        limiter=LocalRateLimiter(),
        sleep=lambda s: None,
    )


@pytest.fixture
def mocked():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def api_key(settings):
    settings.COMPANIES_HOUSE_API_KEY = KEY
    return KEY


def uk_company(**fields) -> Entity:
    return Entity(name=fields.pop("name", "Candour Group Ltd"), country="GB", **fields)


# --------------------------------------------------------------- recorded responses


def test_the_recorded_psc_list_has_no_chinese_party(recorded):
    data, raw = load(recorded, "persons_yorkshire_air_ambulance.json")
    items = ch._items(data)
    assert len(items) == 5
    hits = ch.psc_hits(data, raw=raw, company=CANDOUR, since=datetime.date(2000, 1, 1), match=GIVEN)
    assert hits == []
    # The corporate PSC has no country_registered; its address country is still read.
    corporate = items[4]
    assert ch._field(corporate, "address.country") == "England"
    assert ch.chinese_field(corporate, ch.PSC_FIELDS) == ("", "", "")


def test_the_recorded_officer_list_has_no_chinese_officer(recorded):
    data, raw = load(recorded, "officers_you_limited.json")
    assert len(ch._items(data)) == 7
    hits = ch.officer_hits(
        data,
        raw=raw,
        company=ch.Company("04475590", "YOU LIMITED"),
        since=datetime.date(1990, 1, 1),
        match=GIVEN,
    )
    assert hits == []


def test_an_officers_recorded_appointments_have_the_same_shape_and_no_hit(recorded):
    data, raw = load(recorded, "appointments_allan_david_horley.json")
    assert len(ch._items(data)) == 3
    assert (
        ch.officer_hits(
            data, raw=raw, company=CANDOUR, since=datetime.date(1990, 1, 1), match=GIVEN
        )
        == []
    )


def test_it_reads_the_recorded_company_search(recorded):
    data, _ = load(recorded, "search_result_you.json")
    companies = ch.parse_search(data)
    # One item (CLEVER TEC LTD) carries its title under another key and is left out.
    assert len(companies) == len(data["items"]) - 1
    assert companies[0] == ch.Company("04475590", "YOU LIMITED", "")

    company, match = ch.best_company(companies, ["You Ltd"])
    assert company.number == "04475590"
    assert match.score == 100

    # The search matched a former name, given as the snippet.
    company, match = ch.best_company(companies, ["You and Me Property Group Ltd"])
    assert (company.number, company.name) == ("11264610", "HEWITSON DEVELOPMENTS LIMITED")
    assert match.score == 100 and match.explanation.startswith("a former name")


def test_it_reads_the_recorded_company_profile(recorded):
    data, _ = load(recorded, "company_candour.json")
    assert ch.parse_profile(data) == CANDOUR


# ------------------------------------------------------------------- hand-made bodies


def test_a_prc_registered_psc_notified_after_the_referral_is_an_equity_lead():
    data, raw = as_body([chinese_psc()])
    [hit] = ch.psc_hits(data, raw=raw, company=CANDOUR, since=SINCE, match=GIVEN)
    assert hit.kind == Finding.Kind.EQUITY_INVESTMENT
    assert (hit.counterparty_name, hit.counterparty_country) == (
        "Shenzhen Example Capital Co., Ltd.",
        "CN",
    )
    assert (hit.event_date, hit.event_date_precision) == (datetime.date(2019, 3, 4), "day")
    assert hit.url == (
        "https://find-and-update.company-information.service.gov.uk/company/08957400"
        "/persons-with-significant-control"
    )
    assert hit.external_id == (
        "companies_house:psc:/company/08957400/persons-with-significant-control"
        "/corporate-entity/abc"
    )
    assert "country registered: China" in hit.excerpt
    assert "ownership of shares 25 to 50 percent" in hit.excerpt
    assert (hit.score, hit.explanation) == (100, "UK company number given on the entity")
    assert len(hit.evidence_sha256) == 64


@pytest.mark.parametrize(
    "fields, country",
    [
        ({"nationality": "Chinese"}, "CN"),
        ({"country_of_residence": "Hong Kong"}, "HK"),
        ({"address": {"country": "Macau"}}, "MO"),
        ({"nationality": "British,Chinese"}, "CN"),
        ({"country_of_residence": "People's Republic of China"}, "CN"),
        ({"address": {"country": "CN"}}, "CN"),
        ({"country_of_residence": "Taiwan"}, ""),
        ({"address": {"country": "Taiwan, Province of China"}}, ""),
        ({"nationality": "British", "country_of_residence": "England"}, ""),
        ({}, ""),
    ],
)
def test_individual_pscs_are_chinese_by_nationality_residence_or_address(fields, country):
    item = {
        "kind": "individual-person-with-significant-control",
        "name": "Mr Example Person",
        "notified_on": "2020-01-02",
        **fields,
    }
    data, raw = as_body([item])
    hits = ch.psc_hits(data, raw=raw, company=CANDOUR, since=SINCE, match=GIVEN)
    assert [h.counterparty_country for h in hits] == ([country] if country else [])


def test_a_psc_notified_before_the_since_date_is_left_out():
    data, raw = as_body([chinese_psc(notified_on="2016-04-06")])
    assert ch.psc_hits(data, raw=raw, company=CANDOUR, since=SINCE, match=GIVEN) == []


def test_a_psc_with_a_non_latin_name_and_no_date_is_kept_undated():
    item = chinese_psc(name="张伟", notified_on=None, ceased_on="2021-05-06", links={})
    item.pop("identification")
    data, raw = as_body([item])
    [hit] = ch.psc_hits(data, raw=raw, company=CANDOUR, since=SINCE, match=GIVEN)
    assert hit.counterparty_name == "张伟"
    assert (hit.event_date, hit.event_date_precision) == (None, "")
    assert "no notified date" in hit.excerpt and "ceased on 2021-05-06" in hit.excerpt
    assert hit.external_id == "companies_house:psc:08957400:张伟:"


def test_a_super_secure_psc_gives_no_country_and_no_hit():
    data, raw = as_body([{"kind": "super-secure-person-with-significant-control"}])
    assert ch.psc_hits(data, raw=raw, company=CANDOUR, since=SINCE, match=GIVEN) == []


def test_a_chinese_officer_appointed_after_the_referral_is_an_other_lead():
    data, raw = as_body([officer(resigned_on="2020-02-02")])
    [hit] = ch.officer_hits(data, raw=raw, company=CANDOUR, since=SINCE, match=GIVEN)
    assert hit.kind == Finding.Kind.OTHER
    assert (hit.counterparty_name, hit.counterparty_country) == ("ZHANG, Wei", "CN")
    assert hit.event_date == datetime.date(2018, 10, 1)
    assert hit.excerpt.startswith(
        "Officer appointment: ZHANG, Wei (director, nationality: Chinese)"
    )
    assert "resigned on 2020-02-02" in hit.excerpt
    assert hit.external_id == (
        "companies_house:officer:08957400:/officers/abcDEF123/appointments:director:2018-10-01"
    )
    assert hit.url.endswith("/company/08957400/officers")


@pytest.mark.parametrize(
    "fields",
    [
        {"appointed_on": "2016-12-31"},  # before the referral
        {"appointed_on": None},  # predates the electronic register
        {"nationality": "British", "country_of_residence": "United Kingdom"},
        # An individual's service address alone does not make them Chinese.
        {
            "nationality": "British",
            "country_of_residence": "England",
            "address": {"country": "China"},
        },
    ],
)
def test_officers_that_are_not_leads(fields):
    data, raw = as_body([officer(**fields)])
    assert ch.officer_hits(data, raw=raw, company=CANDOUR, since=SINCE, match=GIVEN) == []


def test_a_corporate_officer_is_chinese_by_where_it_is_registered():
    item = officer(
        name="EXAMPLE NOMINEES (HK) LIMITED",
        officer_role="corporate-director",
        nationality=None,
        country_of_residence=None,
        identification={"place_registered": "Companies Registry, Hong Kong"},
    )
    data, raw = as_body([item])
    [hit] = ch.officer_hits(data, raw=raw, company=CANDOUR, since=SINCE, match=GIVEN)
    assert hit.counterparty_country == "HK"


@pytest.mark.parametrize("body", [[], "items", {"items": {"a": 1}}])
def test_bodies_that_are_not_lists_are_permanent_errors(body):
    with pytest.raises(PermanentHttpError):
        ch.parse_search(body)
    with pytest.raises(PermanentHttpError):
        ch.psc_hits(body, raw=b"", company=CANDOUR, since=SINCE, match=GIVEN)


def test_a_profile_without_number_or_name_is_a_permanent_error():
    with pytest.raises(PermanentHttpError, match="company_number"):
        ch.parse_profile({"errors": [{"error": "company-profile-not-found"}]})
    with pytest.raises(PermanentHttpError):
        ch.parse_profile([])


def test_an_empty_search_matches_nothing():
    assert ch.best_company(ch.parse_search({"items": []}), ["Candour Group"]) is None


# ------------------------------------------------------------------------- search()


def register_candour(mock, recorded, *, base=BASE):
    mock.get(f"{base}/company/08957400", body=recorded("companies_house/company_candour.json"))
    mock.get(
        f"{base}/company/08957400/persons-with-significant-control",
        json=as_body([chinese_psc()])[0],
    )
    mock.get(
        f"{base}/company/08957400/officers",
        body=recorded("companies_house/officers_you_limited.json"),
    )


def test_search_with_a_given_number_finds_the_chinese_psc(mocked, recorded, client, api_key):
    register_candour(mocked, recorded)

    result = ch.SOURCE.search(uk_company(uk_company_number="08957400"), SINCE, client)

    [hit] = result.hits
    assert hit.counterparty_name == "Shenzhen Example Capital Co., Ltd."
    expected = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    assert all(c.request.headers["Authorization"] == expected for c in mocked.calls)
    assert "items_per_page=100" in mocked.calls[1].request.url
    assert result.query.startswith("company 08957400 (CANDOUR GROUP LIMITED): UK company number")
    assert KEY not in result.query


def test_search_finds_the_company_by_name(mocked, recorded, client, api_key):
    mocked.get(
        f"{BASE}/search/companies",
        body=recorded("companies_house/search_result_you.json"),
        match=[matchers.query_param_matcher({"q": "You Limited", "items_per_page": "20"})],
    )
    mocked.get(
        f"{BASE}/company/04475590/persons-with-significant-control",
        json=as_body(
            [
                chinese_psc(
                    name="Example Holdings (HK) Ltd",
                    identification={"country_registered": "Hong Kong"},
                )
            ]
        )[0],
    )
    mocked.get(
        f"{BASE}/company/04475590/officers",
        body=recorded("companies_house/officers_you_limited.json"),
    )

    result = ch.SOURCE.search(uk_company(name="You Limited"), SINCE, client)

    [hit] = result.hits
    assert hit.counterparty_country == "HK"
    assert hit.score == 100
    assert hit.explanation.startswith("company 04475590 found by name: 'YOU LIMITED' is")


def test_search_without_a_good_enough_match_reports_nothing_found(
    mocked, recorded, client, api_key
):
    mocked.get(f"{BASE}/search/companies", body=recorded("companies_house/search_result_you.json"))

    result = ch.SOURCE.search(uk_company(name="Quantum Widgets Ltd"), SINCE, client)

    assert result.hits == []
    assert "no company matched the name well enough" in result.query
    assert len(mocked.calls) == 1


def test_a_company_with_no_psc_filings_has_no_psc_hits(mocked, recorded, client, api_key):
    mocked.get(f"{BASE}/company/08957400", body=recorded("companies_house/company_candour.json"))
    mocked.get(
        f"{BASE}/company/08957400/persons-with-significant-control",
        status=404,
        json={"errors": [{"error": "company-psc-not-found", "type": "ch:service"}]},
    )
    mocked.get(f"{BASE}/company/08957400/officers", json=as_body([officer()])[0])

    [hit] = ch.SOURCE.search(uk_company(uk_company_number="08957400"), SINCE, client).hits

    assert hit.kind == Finding.Kind.OTHER


def test_search_pages_through_long_lists(mocked, recorded, client, api_key):
    mocked.get(f"{BASE}/company/08957400", body=recorded("companies_house/company_candour.json"))
    mocked.get(f"{BASE}/company/08957400/persons-with-significant-control", json=as_body([])[0])
    path = f"{BASE}/company/08957400/officers"
    first = [officer(name="ONE, A", nationality="British", country_of_residence="England")] * 2
    mocked.get(
        path,
        json=as_body(first, total_results=3)[0],
        match=[matchers.query_param_matcher({"start_index": "0"}, strict_match=False)],
    )
    mocked.get(
        path,
        json=as_body([officer()], total_results=3, start_index=2)[0],
        match=[matchers.query_param_matcher({"start_index": "2"}, strict_match=False)],
    )

    [hit] = ch.SOURCE.search(uk_company(uk_company_number="08957400"), SINCE, client).hits

    assert hit.counterparty_name == "ZHANG, Wei"
    assert len(mocked.calls) == 4


def test_an_unknown_company_number_is_a_permanent_error(mocked, client, api_key):
    mocked.get(f"{BASE}/company/99999999", status=404)
    with pytest.raises(PermanentHttpError) as raised:
        ch.SOURCE.search(uk_company(uk_company_number="99999999"), SINCE, client)
    assert raised.value.status == 404
    assert len(mocked.calls) == 1


def test_a_body_that_is_not_json_is_a_permanent_error(mocked, client, api_key):
    mocked.get(f"{BASE}/search/companies", body="<html>Service unavailable</html>")
    with pytest.raises(PermanentHttpError, match="not JSON"):
        ch.SOURCE.search(uk_company(), SINCE, client)


def test_a_json_body_of_the_wrong_shape_is_a_permanent_error(mocked, recorded, client, api_key):
    mocked.get(f"{BASE}/company/08957400", body=recorded("companies_house/company_candour.json"))
    mocked.get(f"{BASE}/company/08957400/persons-with-significant-control", json={"items": "none"})
    with pytest.raises(PermanentHttpError, match="items"):
        ch.SOURCE.search(uk_company(uk_company_number="08957400"), SINCE, client)


def test_the_base_url_can_be_overridden(mocked, recorded, client, api_key, settings):
    settings.WISHLIST_SOURCE_URLS = {"companies_house": "http://mirror.test/ch/"}
    register_candour(mocked, recorded, base="http://mirror.test/ch")

    result = ch.SOURCE.search(uk_company(uk_company_number="08957400"), SINCE, client)

    assert len(result.hits) == 1
    assert all(c.request.url.startswith("http://mirror.test/ch/") for c in mocked.calls)


def test_it_is_skipped_without_an_api_key(settings):
    settings.COMPANIES_HOUSE_API_KEY = ""
    assert ch.SOURCE.skip_reason(uk_company()) == "not configured: set COMPANIES_HOUSE_API_KEY"


def test_it_only_applies_to_uk_companies(api_key):
    assert ch.SOURCE.skip_reason(uk_company()) == ""
    assert ch.SOURCE.skip_reason(Entity(name="Acme", country="US")) == "only for UK companies"
    university = uk_company(name="University of Example", kind=Entity.Kind.UNIVERSITY)
    assert ch.SOURCE.skip_reason(university) == "only for UK companies"


def test_a_name_match_below_the_threshold_is_not_accepted():
    companies = [ch.Company("00000001", "CANDOUR GROUP LIMITED")]
    _, match = ch.best_company(companies, ["Candid Group"])
    assert match.score < 85
    assert isinstance(match, NameMatch)


# -------------------------------------------------------------- through the services


def test_a_check_files_the_chinese_psc_as_a_lead_once(
    db, mocked, recorded, client, api_key, use_sources
):
    use_sources(ch.SOURCE)
    entity = EntityFactory(name="Candour Group Ltd", country="GB", uk_company_number="08957400")
    case = CaseFactory(entity=entity)
    ReferralFactory(entity=entity, date=datetime.date(2017, 5, 1), date_precision="month")
    derived.case_index_dates_refresh(case_ids=[case.id])
    register_candour(mocked, recorded)

    [run_id] = checks_services.checks_queue(pairs=[(case.id, "companies_house")])
    run = checks_services.check_execute(check_run_id=run_id, client=client)

    assert (run.status, run.leads_created) == (CheckRun.Status.OK, 1)
    lead = Finding.objects.get(case=case)
    assert (lead.source, lead.review_state) == ("companies_house", Finding.ReviewState.LEAD)
    assert lead.kind == Finding.Kind.EQUITY_INVESTMENT
    assert (lead.counterparty_name, lead.counterparty_country) == (
        "Shenzhen Example Capital Co., Ltd.",
        "CN",
    )
    assert (lead.event_date, lead.event_date_precision) == (datetime.date(2019, 3, 4), "day")
    assert lead.timing == Finding.Timing.AFTER
    assert KEY not in run.query

    [again] = checks_services.checks_queue(pairs=[(case.id, "companies_house")])
    rerun = checks_services.check_execute(check_run_id=again, client=client)

    assert (rerun.status, rerun.leads_created) == (CheckRun.Status.OK, 0)
    assert Finding.objects.filter(case=case).count() == 1


def test_a_check_without_a_key_is_skipped_not_an_error(db, settings, use_sources):
    settings.COMPANIES_HOUSE_API_KEY = ""
    use_sources(ch.SOURCE)
    case = CaseFactory()

    [run_id] = checks_services.checks_queue(pairs=[(case.id, "companies_house")])
    run = checks_services.check_execute(check_run_id=run_id)

    assert run.status == CheckRun.Status.SKIPPED
    assert "COMPANIES_HOUSE_API_KEY" in run.error
