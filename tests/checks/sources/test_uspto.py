"""USPTO Open Data Portal: the parsers on Patent File Wrapper search bodies of the
documented shape (application records with their assignmentBag), and search() with HTTP
mocked by `responses`. Nothing replays the portal, so there is no recorded body."""

import copy
import datetime
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from cases.checks.http import HttpClient, PermanentHttpError
from cases.checks.ratelimit import LocalRateLimiter
from cases.checks.sources import uspto
from cases.models import Entity, Finding

SEARCH = f"{uspto.UsptoSource.default_url}{uspto.SEARCH_PATH}"
KEY = "test-uspto-key"
SINCE = datetime.date(2016, 3, 1)
UNTIL = datetime.date(2026, 11, 30)
NAMES = ["Acme Biologics Inc."]
THRESHOLD = 85


def assignee(name: str = "Shanghai Example Pharma Co., Ltd.", **address) -> dict:
    fields = address or {"cityName": "SHANGHAI", "countryName": "CHINA"}
    return {"assigneeNameText": name, "assigneeAddress": {"addressLineOneText": "1 ROAD", **fields}}


def assignment(
    *,
    assignors: tuple[tuple[str, str], ...] = (("ACME BIOLOGICS INC.", "2019-06-03"),),
    assignees: tuple[dict, ...] = (),
    conveyance: str = "ASSIGNMENT OF ASSIGNORS INTEREST (SEE DOCUMENT FOR DETAILS).",
    reel_frame: str = "049451/0123",
    recorded: str = "2019-06-20",
) -> dict:
    """One assignmentBag entry, as the Patent File Wrapper gives it."""
    reel, frame = reel_frame.split("/")
    return {
        "reelNumber": int(reel),
        "frameNumber": int(frame),
        "reelAndFrameNumber": reel_frame,
        "pageTotalQuantity": 5,
        "assignmentReceivedDate": recorded,
        "assignmentRecordedDate": recorded,
        "assignmentMailedDate": recorded,
        "conveyanceText": conveyance,
        "assignorBag": [{"assignorName": name, "executionDate": day} for name, day in assignors],
        "assigneeBag": list(assignees or (assignee(),)),
        "correspondenceAddressBag": [{"correspondentNameText": "SMITH LLP"}],
    }


def record(number: str = "15123456", *assignments: dict) -> dict:
    return {
        "applicationNumberText": number,
        "applicationMetaData": {
            "inventionTitle": "ANTIBODY FORMULATIONS",
            "patentNumber": "10987654",
            "filingDate": "2015-08-14",
            "firstApplicantName": "Acme Biologics Inc.",
            "applicantBag": [{"applicantNameText": "Acme Biologics Inc."}],
        },
        "assignmentBag": list(assignments or (assignment(),)),
    }


def page(*records: dict, count: int | None = None) -> dict:
    return {
        "count": len(records) if count is None else count,
        "patentFileWrapperDataBag": list(records),
        "requestIdentifier": "5a1c1b67-0c1d-4e43-9f0c-6f1b2f0d5d3e",
    }


def hits_of(one: dict, **kwargs) -> list:
    options = {"names": NAMES, "since": SINCE, "until": UNTIL, "threshold": THRESHOLD}
    options.update(kwargs)
    return uspto.application_hits(one, **options)


# ----------------------------------------------------------------------------- parsing


def test_an_assignment_to_a_chinese_company_is_an_ip_lead_dated_by_execution():
    [hit] = hits_of(record())

    assert hit.kind == Finding.Kind.IP_LICENCE
    assert hit.counterparty_name == "Shanghai Example Pharma Co., Ltd."
    assert hit.counterparty_country == "CN"
    assert hit.event_date == datetime.date(2019, 6, 3)
    assert hit.event_date_precision == "day"
    assert hit.external_id == "uspto:15123456:049451/0123:shanghai example pharma"
    assert hit.url == "https://patentcenter.uspto.gov/applications/15123456"
    assert hit.score == 100
    assert hit.explanation.startswith("assignment by assignor 'ACME BIOLOGICS INC.'")
    assert "patent 10987654" in hit.excerpt
    assert "reel/frame 049451/0123" in hit.excerpt
    assert len(hit.evidence_sha256) == 64


def test_a_licence_is_said_so():
    [hit] = hits_of(
        record("15123456", assignment(conveyance="LICENSE (SEE DOCUMENT FOR DETAILS)."))
    )

    assert hit.kind == Finding.Kind.IP_LICENCE
    assert hit.explanation.startswith("licence by assignor")


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ({"countryName": "CHINA"}, "CN"),
        ({"countryCode": "HK"}, "HK"),
        ({"countryName": "MACAO"}, "MO"),
        ({"geographicRegionCode": "CNX", "cityName": "BEIJING"}, "CN"),
        ({"geographicRegionName": "HKX"}, "HK"),
        ({"cityName": "SHENZHEN, GUANGDONG"}, "CN"),
    ],
)
def test_the_assignee_country_comes_from_its_address(address, code):
    [hit] = hits_of(record("15123456", assignment(assignees=(assignee("Example Co", **address),))))

    assert hit.counterparty_country == code


@pytest.mark.parametrize(
    "address",
    [
        {"countryName": "TAIWAN", "cityName": "HSINCHU"},
        {"geographicRegionCode": "TWX", "cityName": "TAIPEI"},
        {"geographicRegionCode": "KRX", "cityName": "SUWON-SI"},
        # China Grove, North Carolina: a state code says the US, whatever the city.
        {"geographicRegionCode": "NC", "cityName": "CHINA GROVE"},
        {"countryName": "GERMANY", "cityName": "MAINZ"},
    ],
)
def test_an_assignee_outside_china_gives_nothing(address):
    one = record("15123456", assignment(assignees=(assignee("Shanghai Trading GmbH", **address),)))

    assert hits_of(one) == []


def test_a_chinese_name_decides_only_when_the_address_says_nothing():
    one = record(
        "15123456",
        assignment(assignees=({"assigneeNameText": "Beijing Example Technology Co., Ltd."},)),
    )

    [hit] = hits_of(one)

    assert hit.counterparty_country == "CN"
    assert "name Beijing Example" in hit.excerpt


@pytest.mark.parametrize(
    "conveyance",
    [
        "SECURITY INTEREST (SEE DOCUMENT FOR DETAILS).",
        "RELEASE BY SECURED PARTY (SEE DOCUMENT FOR DETAILS).",
        "CHANGE OF NAME (SEE DOCUMENT FOR DETAILS).",
        "CHANGE OF ADDRESS",
    ],
)
def test_conveyances_that_move_no_rights_give_nothing(conveyance):
    assert hits_of(record("15123456", assignment(conveyance=conveyance))) == []


def test_an_assignment_the_entity_did_not_sign_gives_nothing():
    # The inventors assigning to a Chinese company: not the entity's IP going out.
    one = record("15123456", assignment(assignors=(("ZHANG, WEI", "2019-06-03"),)))

    assert hits_of(one) == []


def test_the_entity_assigning_to_itself_gives_nothing():
    one = record(
        "15123456",
        assignment(assignees=(assignee("Acme Biologics Inc", countryName="CHINA"),)),
    )

    assert hits_of(one) == []


@pytest.mark.parametrize("executed", ["2016-02-29", "2026-12-01", "2031-05-05"])
def test_an_assignment_executed_outside_the_period_gives_nothing(executed):
    one = record("15123456", assignment(assignors=(("ACME BIOLOGICS INC.", executed),)))

    assert hits_of(one) == []


def test_the_recorded_day_stands_in_for_a_missing_execution_day():
    one = record(
        "15123456",
        assignment(assignors=(("ACME BIOLOGICS INC.", ""),), recorded="2020-01-15"),
    )

    [hit] = hits_of(one)

    assert hit.event_date == datetime.date(2020, 1, 15)


def test_each_chinese_assignee_is_its_own_lead():
    both = assignment(
        assignees=(
            assignee("Shanghai Example Pharma Co., Ltd."),
            assignee("Hong Kong Example Ltd.", countryName="HONG KONG"),
            assignee("Acme Europe GmbH", countryName="GERMANY"),
        )
    )

    hits = hits_of(record("15123456", both))

    assert sorted((hit.counterparty_name, hit.counterparty_country) for hit in hits) == [
        ("Hong Kong Example Ltd.", "HK"),
        ("Shanghai Example Pharma Co., Ltd.", "CN"),
    ]


def test_the_evidence_hash_is_of_the_assignment():
    first = record()
    changed = copy.deepcopy(first)
    changed["assignmentBag"][0]["pageTotalQuantity"] = 9
    assert hits_of(first)[0].evidence_sha256 != hits_of(changed)[0].evidence_sha256


def test_a_search_page_gives_its_records_and_count():
    records, count = uspto.parse_search(page(record(), count=130))
    assert [r["applicationNumberText"] for r in records] == ["15123456"]
    assert count == 130
    assert uspto.parse_search({"count": 0}) == ([], 0)


@pytest.mark.parametrize(
    "body",
    [[], {}, {"count": 3}, {"patentFileWrapperDataBag": []}, {"error": "Bad Request"}],
)
def test_a_search_page_of_the_wrong_shape_is_a_permanent_error(body):
    with pytest.raises(PermanentHttpError, match="USPTO Open Data Portal"):
        uspto.parse_search(body)


def test_a_record_without_an_application_number_is_a_permanent_error():
    with pytest.raises(PermanentHttpError, match="applicationNumberText"):
        hits_of({"assignmentBag": [assignment()]})


def test_the_query_asks_for_each_name_as_an_assignor_once():
    query = uspto.assignor_query(["Acme Biologics Inc.", 'Acme "AB"', "Acme Biologics Inc."])
    assert query == (
        'assignmentBag.assignorBag.assignorName:"Acme Biologics Inc." OR '
        'assignmentBag.assignorBag.assignorName:"Acme AB"'
    )


# ------------------------------------------------------------------------ the source


@pytest.fixture
def client():
    return HttpClient(
        source="uspto", rate_per_second=None, limiter=LocalRateLimiter(), sleep=lambda s: None
    )


@pytest.fixture
def mocked():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def api_key(settings):
    settings.USPTO_API_KEY = KEY
    return KEY


def acme() -> Entity:
    return Entity(name="Acme Biologics Inc.", country="US")


def test_without_a_key_it_is_skipped_with_the_setting_to_set(settings):
    settings.USPTO_API_KEY = ""
    assert uspto.SOURCE.skip_reason(acme()) == "not configured: set USPTO_API_KEY"


def test_search_sends_the_key_in_the_header_and_pages_by_offset(mocked, client, api_key):
    mocked.get(SEARCH, json=page(record("15000001"), count=2))
    mocked.get(SEARCH, json=page(record("15000002"), count=2))

    result = uspto.SOURCE.search(acme(), SINCE, client, until=UNTIL)

    first, second = mocked.calls
    assert first.request.headers["X-API-KEY"] == KEY
    asked = parse_qs(urlsplit(first.request.url).query)
    assert asked["q"] == ['assignmentBag.assignorBag.assignorName:"Acme Biologics Inc."']
    assert asked["offset"] == ["0"]
    assert parse_qs(urlsplit(second.request.url).query)["offset"] == ["1"]
    assert sorted(hit.external_id.split(":")[1] for hit in result.hits) == ["15000001", "15000002"]
    assert KEY not in result.query
    assert "(2 pages)" in result.query


def test_a_search_that_matches_nothing_is_an_empty_result(mocked, client, api_key):
    body = {
        "code": 404,
        "error": "Not Found",
        "errorDetails": "No matching records found, refine your search criteria and try again.",
    }
    mocked.get(SEARCH, json=body, status=404)

    result = uspto.SOURCE.search(acme(), SINCE, client, until=UNTIL)

    assert result.hits == []


def test_a_path_that_is_not_there_is_a_readable_permanent_error(mocked, client, api_key):
    # What the yield harness answers for a source it does not emulate.
    body = {"error": "Not Found", "detail": "not emulated: no such source", "path": "/uspto/x"}
    mocked.get(SEARCH, json=body, status=404)

    with pytest.raises(PermanentHttpError, match="HTTP 404 .*not emulated: no such source"):
        uspto.SOURCE.search(acme(), SINCE, client, until=UNTIL)


def test_a_refused_key_says_what_the_portal_said(mocked, client, api_key):
    mocked.get(SEARCH, json={"message": "Forbidden"}, status=403)

    with pytest.raises(PermanentHttpError, match="HTTP 403 .*: Forbidden"):
        uspto.SOURCE.search(acme(), SINCE, client, until=UNTIL)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><head><title>Maintenance</title></head><body>Back soon</body></html>",
        json.dumps(page(record()))[:80].encode(),
        b"The service is temporarily unavailable",
    ],
)
def test_a_body_that_is_not_json_is_a_permanent_error(mocked, client, api_key, body):
    mocked.get(SEARCH, body=body, status=200)

    with pytest.raises(PermanentHttpError, match="not JSON"):
        uspto.SOURCE.search(acme(), SINCE, client, until=UNTIL)


def test_a_list_that_never_ends_stops_at_the_page_limit(mocked, client, api_key, monkeypatch):
    monkeypatch.setattr(uspto, "MAX_PAGES", 3)
    for n in range(3):
        mocked.get(SEARCH, json=page(record(f"1500000{n}"), count=10**6))

    result = uspto.SOURCE.search(acme(), SINCE, client, until=UNTIL)

    assert len(mocked.calls) == 3
    assert "stopped after 3 pages" in result.query
    assert len(result.hits) == 3
    assert result.searched_to is None and "some may be missed" in result.query


def test_an_empty_page_ends_the_list(mocked, client, api_key):
    mocked.get(SEARCH, json=page(count=50))

    result = uspto.SOURCE.search(acme(), SINCE, client, until=UNTIL)

    assert len(mocked.calls) == 1
    assert result.hits == []
    assert result.searched_to is None
