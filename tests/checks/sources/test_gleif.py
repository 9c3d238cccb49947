"""GLEIF: parsers on the recorded real responses and on hand-made bodies, search() with
HTTP mocked by `responses`, and one check through the services."""

import datetime
import json

import pytest
import responses
from responses import matchers

from cases import derived
from cases.checks import matching
from cases.checks import services as checks_services
from cases.checks.http import HttpClient, PermanentHttpError
from cases.checks.ratelimit import LocalRateLimiter
from cases.checks.sources import SourceSkipped, gleif
from cases.checks.sources.gleif import parsing
from cases.models import CheckRun, Entity, Finding
from tests.factories import CaseFactory, EntityFactory, ReferralFactory

BASE = gleif.GleifSource.default_url
MICROSOFT = "INR2EJN1ERAN0W5ZP974"
MICROSOFT_CHINA = "836800FXO82WAQQSJI94"
SINCE = datetime.date(2017, 5, 1)


def load(recorded, name: str) -> tuple[object, bytes]:
    raw = recorded(f"gleif/{name}")
    return json.loads(raw), raw


def record(lei: str, name: str, country: str, **extra) -> dict:
    """A hand-made LEI record resource with just the fields GLEIF always sends."""
    entity = {
        "legalName": {"name": name, "language": "en"},
        "otherNames": extra.pop("other_names", []),
        "legalAddress": {"city": extra.pop("city", "Somewhere"), "country": country},
        "headquartersAddress": {"country": extra.pop("hq", country)},
    }
    return {
        "type": "lei-records",
        "id": lei,
        "attributes": {
            "lei": lei,
            "entity": entity,
            "registration": {"initialRegistrationDate": extra.pop("registered", None)},
        },
    }


def linked(resource: dict, *relations: str) -> dict:
    """The record with the `relationships` links GLEIF gives it: for each of `relations`
    that exists a link to it, for a parent that does not a reporting exception."""
    lei, base = resource["id"], f"{BASE}/lei-records/{resource['id']}"
    links = {}
    for parent in ("direct-parent", "ultimate-parent"):
        if parent in relations:
            links[parent] = {
                "links": {
                    "relationship-record": f"{base}/{parent}-relationship",
                    "lei-record": f"{base}/{parent}",
                }
            }
        else:
            links[parent] = {
                "links": {"reporting-exception": f"{base}/{parent}-reporting-exception"}
            }
    for lineage in ("direct", "ultimate"):
        if f"{lineage}-children" in relations:
            links[f"{lineage}-children"] = {
                "links": {
                    "relationship-records": f"{base}/{lineage}-child-relationships",
                    "related": f"{base}/{lineage}-children",
                }
            }
    assert lei
    return {**resource, "relationships": links}


def relationship(start: str, end: str, kind: str, *periods: dict) -> dict:
    return {
        "type": "relationship-records",
        "id": f"{start}|LEI|{kind}",
        "attributes": {
            "relationship": {
                "startNode": {"id": start, "type": "LEI"},
                "endNode": {"id": end, "type": "LEI"},
                "type": kind,
                "status": "ACTIVE",
                "periods": list(periods),
            }
        },
    }


def period(start: str, kind: str = "RELATIONSHIP_PERIOD") -> dict:
    return {"startDate": start, "type": kind}


EMPTY_LIST = {"meta": {}, "links": {}, "data": []}


@pytest.fixture
def client():
    return HttpClient(
        source="gleif", rate_per_second=None, limiter=LocalRateLimiter(), sleep=lambda s: None
    )


@pytest.fixture
def mocked():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def dod_list(tmp_path, settings):
    """A one-line DoD 1260H list of our own, so flags are tested without ../shared."""
    (tmp_path / "dod_1260h_chinese_military_companies.csv").write_text(
        "Name,Clean Name,Alias,Previous Name\n"
        "Example Aerospace Corporation of China (EXAC)*,Example Aerospace Corporation of China,"
        "EXAC,\n",
        encoding="utf-8",
    )
    settings.WISHLIST_REFERENCE_DIR = tmp_path
    matching.dod_1260h_names.cache_clear()
    yield
    matching.dod_1260h_names.cache_clear()


def microsoft(**fields) -> Entity:
    return Entity(name="Microsoft Corporation", country="US", **fields)


def register_microsoft(mock, recorded, base=BASE, *, record=True):
    """The recorded Microsoft hierarchy: its record (reporting exceptions for both
    parents), 12 direct and 14 ultimate children."""
    files = [
        (f"direct-children_{MICROSOFT}.json", "/direct-children"),
        (f"direct-child-relationships_{MICROSOFT}.json", "/direct-child-relationships"),
        (f"ultimate-children_{MICROSOFT}.json", "/ultimate-children"),
    ]
    if record:
        files.append((f"single_lei_record_{MICROSOFT}.json", ""))
    for name, path in files:
        mock.get(f"{base}/lei-records/{MICROSOFT}{path}", body=recorded(f"gleif/{name}"))


# --------------------------------------------------------------- recorded responses


def test_it_reads_a_single_lei_record(recorded):
    data, _ = load(recorded, f"single_lei_record_{MICROSOFT}.json")
    [found] = parsing.parse_lei_records(data)
    assert found.lei == MICROSOFT
    assert found.legal_name == "MICROSOFT CORPORATION"
    assert (found.legal_country, found.headquarters_country) == ("US", "US")
    assert found.chinese_country == ""


def test_it_finds_the_entity_among_many_lei_records_by_name_and_country(recorded):
    data, _ = load(recorded, "multi_lei_records.json")
    records = parsing.parse_lei_records(data)
    assert len(records) == 12
    assert parsing.next_link(data) == ""
    found, match = parsing.best_record(records, ["Microsoft Corp."], "US")
    assert found.lei == MICROSOFT
    assert match.score == 100
    puma, _ = parsing.best_record(records, ["Puma SE"], "DE")
    assert puma.legal_name == "PUMA SE"
    # The right name in the wrong country is not the entity.
    assert parsing.best_record(records, ["Puma SE"], "FR") is None


def test_the_recorded_direct_children_include_the_chinese_subsidiary(recorded):
    data, raw = load(recorded, f"direct-children_{MICROSOFT}.json")
    records = parsing.parse_lei_records(data)
    assert len(records) == 12
    chinese = [r for r in records if r.chinese_country]
    assert [(r.lei, r.legal_name, r.chinese_country) for r in chinese] == [
        (MICROSOFT_CHINA, "微软(中国)有限公司", "CN")
    ]
    # Round Island One has its legal seat in IE and headquarters in the US: not Chinese.
    round_island = next(r for r in records if r.lei == "GGCMDC0OOHBLHHFALS29")
    assert (round_island.legal_country, round_island.headquarters_country) == ("IE", "US")


def test_the_chinese_subsidiary_is_dated_by_its_relationship_record(recorded):
    data, raw = load(recorded, f"direct-children_{MICROSOFT}.json")
    relationships, _ = load(recorded, f"direct-child-relationships_{MICROSOFT}.json")
    by_pair = {(r.start_lei, r.end_lei): r for r in parsing.parse_relationships(relationships)}
    assert len(by_pair) == 12
    assert all(end == MICROSOFT for _, end in by_pair)
    china = next(r for r in parsing.parse_lei_records(data) if r.lei == MICROSOFT_CHINA)

    hit = parsing.relationship_hit(
        china,
        role=parsing.DIRECT_CHILD,
        subject_lei=MICROSOFT,
        subject_name="Microsoft Corporation",
        relationship=by_pair[(MICROSOFT_CHINA, MICROSOFT)],
        match=gleif.LEI_GIVEN,
        evidence=raw,
    )

    assert hit.kind == Finding.Kind.SUBSIDIARY
    assert hit.counterparty_name == "微软(中国)有限公司"
    assert hit.counterparty_country == "CN"
    # GLEIF gives 1995-10-31T16:00:00Z: midnight of 1 November in Beijing.
    assert (hit.event_date, hit.event_date_precision) == (datetime.date(1995, 11, 1), "day")
    assert hit.url == f"https://search.gleif.org/#/record/{MICROSOFT_CHINA}"
    assert hit.external_id == f"gleif:IS_DIRECTLY_CONSOLIDATED_BY:{MICROSOFT_CHINA}:{MICROSOFT}"
    assert (hit.score, hit.explanation) == (100, "LEI given on the entity")
    assert "1995-10-31T16:00:00Z" in hit.excerpt and "direct child" in hit.excerpt
    assert len(hit.evidence_sha256) == 64
    assert hit.flags == ()


def test_relationship_dates_read_as_the_day_the_entity_reported(recorded):
    relationships, _ = load(recorded, f"direct-child-relationships_{MICROSOFT}.json")
    starts = {
        r.start_lei: (r.start_raw, r.start) for r in parsing.parse_relationships(relationships)
    }
    # India's local midnight is 18:30Z the day before; a real timestamp keeps its day.
    assert starts["335800E7D8TEYEZOH405"] == ("1994-08-24T18:30:00Z", datetime.date(1994, 8, 25))
    assert starts["213800JCN6PSGDRLT915"] == ("2022-04-11T19:51:10Z", datetime.date(2022, 4, 11))
    assert starts["635400ILTUMVUHABUM41"] == ("2022-07-01T00:00:00Z", datetime.date(2022, 7, 1))


def test_the_recorded_ultimate_children_hold_the_same_chinese_subsidiary(recorded):
    data, _ = load(recorded, f"ultimate-children_{MICROSOFT}.json")
    records = parsing.parse_lei_records(data)
    assert len(records) == 14
    assert [r.lei for r in records if r.chinese_country] == [MICROSOFT_CHINA]


def test_a_recorded_direct_parent_outside_china_is_no_hit(recorded):
    data, raw = load(recorded, "direct-parent_549300YX4S1LLSMK2627.json")
    [apple] = parsing.parse_lei_records(data)
    assert apple.legal_name == "Apple Inc."
    assert apple.other_names == ("Apple Computer, Inc.",)
    assert apple.city == "Glendale"
    hit = parsing.relationship_hit(
        apple,
        role=parsing.DIRECT_PARENT,
        subject_lei="549300YX4S1LLSMK2627",
        subject_name="Apple Energy LLC",
        relationship=None,
        match=gleif.LEI_GIVEN,
        evidence=raw,
    )
    assert hit is None


def test_it_reads_the_recorded_parent_relationship_records(recorded):
    direct, _ = load(recorded, "direct-parent-relationship_549300YX4S1LLSMK2627.json")
    [found] = parsing.parse_relationships(direct)
    assert (found.start_lei, found.end_lei) == ("549300YX4S1LLSMK2627", "HWUPKR0MPOU8FGXBT394")
    assert (found.type, found.status) == ("IS_DIRECTLY_CONSOLIDATED_BY", "ACTIVE")
    # The RELATIONSHIP_PERIOD, not the ACCOUNTING_PERIOD, and not validFrom.
    assert found.start == datetime.date(2018, 4, 10)

    ultimate, _ = load(recorded, "ultimate-parent-relationship_254900LNRYNOQ9YPU758.json")
    [found] = parsing.parse_relationships(ultimate)
    assert found.type == "IS_ULTIMATELY_CONSOLIDATED_BY"
    assert found.end_lei == "ZXTILKJKG63JELOEG630"
    assert found.start == datetime.date(2008, 10, 2)


def test_it_reads_the_recorded_ultimate_parent(recorded):
    data, _ = load(recorded, "ultimate-parent_254900LNRYNOQ9YPU758.json")
    [parent] = parsing.parse_lei_records(data)
    assert parent.lei == "ZXTILKJKG63JELOEG630"
    assert parent.chinese_country == ""


def test_the_recorded_empty_children_list_has_no_records(recorded):
    data, _ = load(recorded, "direct-children_254900LNRYNOQ9YPU758.json")
    assert parsing.parse_lei_records(data) == []
    assert parsing.next_link(data) == ""


def test_field_modifications_are_not_lei_records(recorded):
    data, _ = load(recorded, f"field_modifications_{MICROSOFT}.json")
    assert parsing.next_link(data).endswith("page%5Bnumber%5D=2&page%5Bsize%5D=15")
    with pytest.raises(PermanentHttpError, match="no lei or entity"):
        parsing.parse_lei_records(data)


def test_it_reads_the_recorded_completions(recorded):
    fuzzy, _ = load(recorded, "fuzzycompletions_all.json")
    assert parsing.parse_completions(fuzzy) == [
        ("FACEBOOK OPERATIONS, LLC", "549300BACZP326UOBH06"),
        ("FACEBOOK INDIA ONLINE SERVICES PRIVATE LIMITED", "335800CZZQAMN5PMNQ89"),
        ("FACEBOOK INTERNATIONAL TREASURY OPERATIONS LIMITED", "635400XSFNRXSVRFGR47"),
    ]
    auto, _ = load(recorded, "autocompletions_all.json")
    found = parsing.parse_completions(auto)
    # Three of the ten suggestions ("GLOBAL", "Global", "AV Global") name no LEI record.
    assert len(found) == 7
    assert ("B GLOBAL", "984500B447P639364M33") in found


# ------------------------------------------------------------------- hand-made bodies


def test_a_parent_headquartered_in_hong_kong_is_an_acquisition_lead(dod_list):
    parent = parsing.parse_lei_records(
        {
            "data": record(
                "5493000EXAMPLEHK0001",
                "Example Aerospace Holdings Ltd",
                "KY",
                hq="HK",
                city="George Town",
                other_names=[{"name": "EXAC", "type": "TRADING_OR_OPERATING_NAME"}],
                registered="2019-02-03T08:00:00Z",
            )
        }
    )[0]
    assert parent.chinese_country == "HK"
    rel = parsing.parse_relationships(
        {
            "data": relationship(
                "5493000OURENTITY0001",
                parent.lei,
                "IS_ULTIMATELY_CONSOLIDATED_BY",
                period("2019-01-01T00:00:00Z", "ACCOUNTING_PERIOD"),
                period("2018-12-31T16:00:00Z"),
            )
        }
    )[0]
    hit = parsing.relationship_hit(
        parent,
        role=parsing.ULTIMATE_PARENT,
        subject_lei="5493000OURENTITY0001",
        subject_name="Our Robotics Ltd",
        relationship=rel,
        match=matching.NameMatch(92.0, "found by name"),
        evidence=b"{}",
    )
    assert hit.kind == Finding.Kind.ACQUISITION
    assert hit.counterparty_country == "HK"
    assert hit.event_date == datetime.date(2019, 1, 1)
    assert hit.external_id == (
        "gleif:IS_ULTIMATELY_CONSOLIDATED_BY:5493000OURENTITY0001:5493000EXAMPLEHK0001"
    )
    assert "the ultimate parent of Our Robotics Ltd" in hit.excerpt
    assert hit.score == 92.0
    # The alias on the DoD list flags the parent even though its legal name differs.
    assert hit.flags == ("dod_1260h: Example Aerospace Corporation of China",)


def test_a_macau_child_without_a_relationship_record_is_undated():
    child = parsing.parse_lei_records(
        {"data": [record("5493000EXAMPLEMO0001", "澳门示例有限公司", "MO")]}
    )[0]
    hit = parsing.relationship_hit(
        child,
        role=parsing.DIRECT_CHILD,
        subject_lei=MICROSOFT,
        subject_name="Microsoft Corporation",
        relationship=None,
        match=gleif.LEI_GIVEN,
        evidence=b"[]",
    )
    assert (hit.counterparty_name, hit.counterparty_country) == ("澳门示例有限公司", "MO")
    assert (hit.event_date, hit.event_date_precision) == (None, "")
    assert "no relationship record" in hit.excerpt


def test_a_relationship_with_only_an_accounting_period_has_no_start():
    [found] = parsing.parse_relationships(
        {
            "data": [
                relationship(
                    "A" * 20,
                    "B" * 20,
                    "IS_DIRECTLY_CONSOLIDATED_BY",
                    period("2020-01-01T00:00:00Z", "ACCOUNTING_PERIOD"),
                )
            ]
        }
    )
    assert (found.start, found.start_raw) == (None, "")


@pytest.mark.parametrize(
    "value, day",
    [
        ("2019-05-01", datetime.date(2019, 5, 1)),  # a bare date
        ("2019-05-01T00:00:00+08:00", datetime.date(2019, 5, 1)),  # an offset given
        ("2019-04-30T16:00:00Z", datetime.date(2019, 5, 1)),  # Beijing midnight in UTC
        ("2019-04-30T16:20:07Z", datetime.date(2019, 4, 30)),  # a real timestamp
        ("2019-04-30T05:00:00Z", datetime.date(2019, 4, 30)),  # New York midnight in UTC
        ("2019", None),  # not a date GLEIF sends: left undated rather than guessed
        ("not a date", None),
        (None, None),
        ("", None),
    ],
)
def test_reported_day(value, day):
    assert parsing.reported_day(value) == day


def test_records_with_missing_addresses_are_not_chinese():
    [found] = parsing.parse_lei_records(
        {"data": [{"type": "lei-records", "id": "X" * 20, "attributes": {"entity": {}}}]}
    )
    assert (found.lei, found.legal_name, found.chinese_country) == ("X" * 20, "", "")


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"errors": [{"status": "500"}]},
        {"data": "lei-records"},
        {"data": [1, 2]},
        {"data": [{"type": "lei-records", "attributes": {}}]},
    ],
)
def test_bodies_that_are_not_lei_records_are_permanent_errors(body):
    with pytest.raises(PermanentHttpError):
        parsing.parse_lei_records(body)


def test_a_relationship_without_nodes_is_a_permanent_error():
    with pytest.raises(PermanentHttpError, match="no start or end node"):
        parsing.parse_relationships({"data": [{"type": "relationship-records", "attributes": {}}]})


def test_completions_without_data_are_empty():
    assert parsing.parse_completions({"data": []}) == []
    assert parsing.parse_completions({"data": None}) == []


# ------------------------------------------------------------------------- search()


def test_search_with_a_given_lei_finds_the_chinese_subsidiary(mocked, recorded, client):
    register_microsoft(mocked, recorded)

    result = gleif.SOURCE.search(microsoft(lei=MICROSOFT), SINCE, client)

    [hit] = result.hits  # a direct child that is also an ultimate child is reported once
    assert hit.counterparty_name == "微软(中国)有限公司"
    assert hit.event_date == datetime.date(1995, 11, 1)
    assert hit.external_id.startswith("gleif:IS_DIRECTLY_CONSOLIDATED_BY:")
    assert hit.score == 100
    sent = [call.request for call in mocked.calls]
    assert all(r.headers["Accept"] == "application/vnd.api+json" for r in sent)
    assert sent[0].url == f"{BASE}/lei-records/{MICROSOFT}"
    assert "page%5Bsize%5D=200" in sent[1].url
    # The record reports exceptions for both parents: no parent is asked for. No
    # ultimate-child-relationships either: the only Chinese child was already dated.
    assert len(sent) == 4
    assert not any("-parent" in r.url for r in sent)
    assert result.query.startswith(f"LEI {MICROSOFT}: LEI given on the entity")
    assert "reporting exceptions instead of: direct-parent, ultimate-parent" in result.query


def test_search_finds_the_lei_by_name_and_country(mocked, recorded, client):
    mocked.get(
        f"{BASE}/lei-records",
        body=recorded("gleif/multi_lei_records.json"),
        match=[
            matchers.query_param_matcher(
                {
                    "filter[entity.legalName]": "Microsoft Corporation",
                    "filter[entity.legalAddress.country]": "US",
                    "page[size]": "10",
                }
            )
        ],
    )
    register_microsoft(mocked, recorded, record=False)  # the search gave the record

    result = gleif.SOURCE.search(microsoft(), SINCE, client)

    [hit] = result.hits
    assert hit.score == 100
    assert hit.explanation.startswith("found by name in US: 'MICROSOFT CORPORATION' is")
    assert result.query.startswith(f"LEI {MICROSOFT}: found by name in US")
    assert len(mocked.calls) == 4


def test_search_falls_back_on_fuzzy_completion_and_checks_the_country(mocked, recorded, client):
    # Read first: without ../shared the test skips before any mock is registered.
    completions = recorded("gleif/fuzzycompletions_all.json")
    mocked.get(
        f"{BASE}/lei-records",
        json=EMPTY_LIST,
        match=[
            matchers.query_param_matcher(
                {"filter[entity.legalName]": "Facebook Operations"}, strict_match=False
            )
        ],
    )
    mocked.get(
        f"{BASE}/fuzzycompletions",
        body=completions,
        match=[
            matchers.query_param_matcher({"field": "entity.legalName", "q": "Facebook Operations"})
        ],
    )
    facebook = "549300BACZP326UOBH06"
    mocked.get(
        f"{BASE}/lei-records",
        json={"data": [linked(record(facebook, "FACEBOOK OPERATIONS, LLC", "US"))]},
        match=[matchers.query_param_matcher({"filter[lei]": facebook}, strict_match=False)],
    )

    result = gleif.SOURCE.search(Entity(name="Facebook Operations", country="US"), SINCE, client)

    assert result.hits == []
    assert result.query.startswith(f"LEI {facebook}: found by name in US")
    assert len(mocked.calls) == 3  # its record links no relation: nothing more to ask


def test_search_without_a_matching_lei_reports_nothing_found(mocked, client):
    mocked.get(f"{BASE}/lei-records", json=EMPTY_LIST)
    mocked.get(
        f"{BASE}/fuzzycompletions",
        json={"data": [{"type": "fuzzycompletions", "attributes": {"value": "ACME"}}]},
    )

    result = gleif.SOURCE.search(Entity(name="Nowhere Robotics Ltd", country="GB"), SINCE, client)

    assert result.hits == []
    assert "no LEI record in GB matched the name" in result.query


def test_a_fuzzy_candidate_in_another_country_is_not_the_entity(mocked, client):
    mocked.get(
        f"{BASE}/lei-records",
        json=EMPTY_LIST,
        match=[
            matchers.query_param_matcher(
                {"page[size]": "10", "filter[entity.legalName]": "Acme Robotics"},
                strict_match=False,
            )
        ],
    )
    mocked.get(
        f"{BASE}/fuzzycompletions",
        json={
            "data": [
                {
                    "type": "fuzzycompletions",
                    "attributes": {"value": "ACME ROBOTICS GMBH"},
                    "relationships": {
                        "lei-records": {"data": {"type": "lei-records", "id": "D" * 20}}
                    },
                }
            ]
        },
    )
    mocked.get(
        f"{BASE}/lei-records",
        json={"data": [record("D" * 20, "ACME ROBOTICS GMBH", "DE")]},
        match=[matchers.query_param_matcher({"filter[lei]": "D" * 20}, strict_match=False)],
    )

    result = gleif.SOURCE.search(Entity(name="Acme Robotics", country="GB"), SINCE, client)

    assert result.hits == []


OURS = "5493000OURENTITY0001"
PARENT = "5493000EXAMPLECN0001"


def register_ours(mock, *relations: str, base: str = BASE) -> None:
    resource = linked(record(OURS, "Our Robotics GmbH", "DE"), *relations)
    mock.get(f"{base}/lei-records/{OURS}", json={"data": resource})


def test_search_reports_a_chinese_parent_once_with_its_relationship(mocked, client):
    register_ours(mocked, "direct-parent", "ultimate-parent")
    for lineage, kind in (
        ("direct", "IS_DIRECTLY_CONSOLIDATED_BY"),
        ("ultimate", "IS_ULTIMATELY_CONSOLIDATED_BY"),
    ):
        mocked.get(
            f"{BASE}/lei-records/{OURS}/{lineage}-parent-relationship",
            json={"data": relationship(OURS, PARENT, kind, period("2018-06-14T16:00:00Z"))},
        )
    parents = mocked.get(
        f"{BASE}/lei-records",
        json={"data": [record(PARENT, "示例控股集团有限公司", "CN")]},
        match=[matchers.query_param_matcher({"filter[lei]": PARENT, "page[size]": "1"})],
    )

    result = gleif.SOURCE.search(Entity(name="Our Robotics", country="DE", lei=OURS), SINCE, client)

    [hit] = result.hits
    assert hit.kind == Finding.Kind.ACQUISITION
    assert (hit.counterparty_name, hit.counterparty_country) == ("示例控股集团有限公司", "CN")
    assert hit.event_date == datetime.date(2018, 6, 15)
    assert hit.external_id == f"gleif:IS_DIRECTLY_CONSOLIDATED_BY:{OURS}:{PARENT}"
    # The direct parent is also the ultimate one: its record is read once, by filter[lei].
    assert parents.call_count == 1
    assert len(mocked.calls) == 4


def test_two_parents_come_in_one_request(mocked, client):
    other = "5493000EXAMPLEHK0003"
    register_ours(mocked, "direct-parent", "ultimate-parent")
    mocked.get(
        f"{BASE}/lei-records/{OURS}/direct-parent-relationship",
        json={
            "data": relationship(
                OURS, PARENT, "IS_DIRECTLY_CONSOLIDATED_BY", period("2018-06-14T16:00:00Z")
            )
        },
    )
    mocked.get(
        f"{BASE}/lei-records/{OURS}/ultimate-parent-relationship",
        json={
            "data": relationship(
                OURS, other, "IS_ULTIMATELY_CONSOLIDATED_BY", period("2019-01-01T00:00:00Z")
            )
        },
    )
    mocked.get(
        f"{BASE}/lei-records",
        json={
            "data": [
                record(PARENT, "示例控股集团有限公司", "CN"),
                record(other, "Example Harbour Holdings Limited", "HK"),
            ]
        },
        match=[
            matchers.query_param_matcher({"filter[lei]": f"{PARENT},{other}"}, strict_match=False)
        ],
    )

    result = gleif.SOURCE.search(Entity(name="Our Robotics", country="DE", lei=OURS), SINCE, client)

    assert [(h.counterparty_country, h.event_date) for h in result.hits] == [
        ("CN", datetime.date(2018, 6, 15)),
        ("HK", datetime.date(2019, 1, 1)),
    ]
    assert len(mocked.calls) == 4


def test_a_record_with_reporting_exceptions_and_no_children_costs_one_request(mocked, client):
    register_ours(mocked)

    result = gleif.SOURCE.search(Entity(name="Our Robotics", country="DE", lei=OURS), SINCE, client)

    assert result.hits == []
    assert len(mocked.calls) == 1
    assert "reporting exceptions instead of: direct-parent, ultimate-parent" in result.query


def test_a_relationship_starting_after_until_is_left_out_unread(mocked, client):
    register_ours(mocked, "direct-parent")
    mocked.get(
        f"{BASE}/lei-records/{OURS}/direct-parent-relationship",
        json={
            "data": relationship(
                OURS, PARENT, "IS_DIRECTLY_CONSOLIDATED_BY", period("2023-03-01T00:00:00Z")
            )
        },
    )

    result = gleif.SOURCE.search(
        Entity(name="Our Robotics", country="DE", lei=OURS),
        SINCE,
        client,
        until=datetime.date(2022, 12, 31),
    )

    assert result.hits == []
    assert len(mocked.calls) == 2  # the parent's record is not read
    assert "1 relationship(s) starting after 2022-12-31 left out" in result.query


def test_a_relationship_dated_in_the_future_is_left_out(mocked, client):
    register_ours(mocked, "direct-children")
    child = "5493000EXAMPLEHK0002"
    mocked.get(
        f"{BASE}/lei-records/{OURS}/direct-children",
        json={"data": [record(child, "Example Kowloon Ltd", "HK")]},
    )
    later = (datetime.date.today() + datetime.timedelta(days=400)).isoformat()
    mocked.get(
        f"{BASE}/lei-records/{OURS}/direct-child-relationships",
        json={
            "data": [
                relationship(
                    child, OURS, "IS_DIRECTLY_CONSOLIDATED_BY", period(f"{later}T00:00:00Z")
                )
            ]
        },
    )

    result = gleif.SOURCE.search(Entity(name="Our Robotics", country="DE", lei=OURS), SINCE, client)

    assert result.hits == []
    assert "starting after" in result.query


def test_a_missing_parent_relationship_leaves_the_hit_undated(mocked, client):
    register_ours(mocked, "ultimate-parent")
    mocked.get(f"{BASE}/lei-records/{OURS}/ultimate-parent-relationship", status=404)
    mocked.get(
        f"{BASE}/lei-records/{OURS}/ultimate-parent",
        json={"data": record(PARENT, "Example Holdings", "KY", hq="CN")},
    )

    [hit] = gleif.SOURCE.search(
        Entity(name="Our Robotics", country="DE", lei=OURS), SINCE, client
    ).hits

    assert hit.event_date is None
    assert hit.external_id == f"gleif:IS_ULTIMATELY_CONSOLIDATED_BY:{OURS}:{PARENT}"


def test_a_record_without_links_has_every_relation_asked_for(mocked, client):
    mocked.get(f"{BASE}/lei-records/{OURS}", json={"data": record(OURS, "Our Robotics", "DE")})
    for path in ("direct-children", "ultimate-children"):
        mocked.get(f"{BASE}/lei-records/{OURS}/{path}", json=EMPTY_LIST)
    for path in ("direct-parent", "ultimate-parent"):
        mocked.get(f"{BASE}/lei-records/{OURS}/{path}-relationship", status=404)
        mocked.get(f"{BASE}/lei-records/{OURS}/{path}", status=404)

    result = gleif.SOURCE.search(Entity(name="Our Robotics", country="DE", lei=OURS), SINCE, client)

    assert result.hits == []
    assert len(mocked.calls) == 7


def test_search_follows_next_links_on_the_overriding_base_url(mocked, client, settings):
    settings.WISHLIST_SOURCE_URLS = {"gleif": "http://mirror.test/gleif/"}
    base, child = "http://mirror.test/gleif", "5493000EXAMPLEHK0002"
    register_ours(mocked, "direct-children", base=base)
    path = f"/lei-records/{OURS}/direct-children"
    mocked.get(
        f"{base}{path}",
        json={"data": [], "links": {"next": f"{BASE}{path}?page%5Bnumber%5D=2&page%5Bsize%5D=200"}},
        match=[matchers.query_param_matcher({"page[size]": "200"})],
    )
    mocked.get(
        f"{base}{path}",
        json={"data": [record(child, "Example Kowloon Ltd", "HK")]},
        match=[matchers.query_param_matcher({"page[number]": "2", "page[size]": "200"})],
    )
    mocked.get(
        f"{base}/lei-records/{OURS}/direct-child-relationships",
        json={
            "data": [
                relationship(
                    child, OURS, "IS_DIRECTLY_CONSOLIDATED_BY", period("2019-09-09T00:00:00Z")
                )
            ]
        },
    )

    [hit] = gleif.SOURCE.search(
        Entity(name="Our Robotics", country="DE", lei=OURS), SINCE, client
    ).hits

    assert (hit.counterparty_country, hit.event_date) == ("HK", datetime.date(2019, 9, 9))
    assert all(c.request.url.startswith(base) for c in mocked.calls)


def test_search_stops_after_ten_pages(mocked, client):
    register_ours(mocked, "direct-children")
    path = f"/lei-records/{OURS}/direct-children"
    # A next link that never ends: the list stops at the page limit and says so.
    mocked.get(
        f"{BASE}{path}", json={"data": [], "links": {"next": f"{BASE}{path}?page%5Bnumber%5D=2"}}
    )

    result = gleif.SOURCE.search(Entity(name="Our Robotics", country="DE", lei=OURS), SINCE, client)

    assert len([c for c in mocked.calls if c.request.url.startswith(f"{BASE}{path}")]) == 10
    assert f"stopped after 10 pages of {path}" in result.query


def test_search_batch_reads_the_records_of_several_entities_in_one_request(mocked, client):
    other = "5493000OTHERENTITY02"
    listed = mocked.get(
        f"{BASE}/lei-records",
        json={
            "data": [
                linked(record(OURS, "Our Robotics GmbH", "DE")),
                linked(record(other, "Other Robotics GmbH", "DE"), "direct-parent"),
            ]
        },
        match=[
            matchers.query_param_matcher(
                {"filter[lei]": f"{OURS},{other},{'Z' * 20}"}, strict_match=False
            )
        ],
    )
    mocked.get(
        f"{BASE}/lei-records/{other}/direct-parent-relationship",
        json={
            "data": relationship(
                other, PARENT, "IS_DIRECTLY_CONSOLIDATED_BY", period("2018-06-14T16:00:00Z")
            )
        },
    )
    mocked.get(
        f"{BASE}/lei-records",
        json={"data": [record(PARENT, "示例控股集团有限公司", "CN")]},
        match=[matchers.query_param_matcher({"filter[lei]": PARENT}, strict_match=False)],
    )
    entities = [
        Entity(name="Our Robotics", country="DE", lei=OURS),
        Entity(name="Other Robotics", country="DE", lei=other),
        Entity(name="Gone Robotics", country="DE", lei="Z" * 20),
    ]

    ours, theirs, gone = gleif.SOURCE.search_batch(entities, SINCE, client)

    assert listed.call_count == 1
    assert ours.hits == []
    assert [h.counterparty_country for h in theirs.hits] == ["CN"]
    assert isinstance(gone, SourceSkipped)
    assert len(mocked.calls) == 3


def test_an_unknown_lei_is_a_permanent_error(mocked, client):
    mocked.get(f"{BASE}/lei-records/{'Z' * 20}", status=404)
    with pytest.raises(PermanentHttpError) as raised:
        gleif.SOURCE.search(Entity(name="X", country="DE", lei="Z" * 20), SINCE, client)
    assert raised.value.status == 404
    assert len(mocked.calls) == 1  # not retried


@pytest.mark.parametrize("body", ["", "<html>maintenance</html>", '{"data": {"type": "lei-rec'])
def test_an_empty_html_or_truncated_body_is_a_permanent_error(mocked, client, body):
    mocked.get(f"{BASE}/lei-records/{MICROSOFT}", body=body)
    with pytest.raises(PermanentHttpError, match="not JSON"):
        gleif.SOURCE.search(microsoft(lei=MICROSOFT), SINCE, client)


def test_a_json_body_of_the_wrong_shape_is_a_permanent_error(mocked, client):
    mocked.get(f"{BASE}/lei-records/{MICROSOFT}", json={"results": []})
    with pytest.raises(PermanentHttpError, match="JSON:API"):
        gleif.SOURCE.search(microsoft(lei=MICROSOFT), SINCE, client)


def test_an_error_document_with_a_200_is_a_permanent_error_with_its_detail(mocked, client):
    mocked.get(
        f"{BASE}/lei-records/{MICROSOFT}",
        json={"errors": [{"status": "400", "title": "Bad Request", "detail": "page[size] bad"}]},
    )
    with pytest.raises(PermanentHttpError, match="page\\[size\\] bad"):
        gleif.SOURCE.search(microsoft(lei=MICROSOFT), SINCE, client)


def test_it_detects_acquisitions_and_subsidiaries_over_one_window():
    assert gleif.SOURCE.detects == (Finding.Kind.ACQUISITION, Finding.Kind.SUBSIDIARY)
    first, last = datetime.date(2016, 1, 1), datetime.date(2026, 1, 1)
    assert gleif.SOURCE.windows(first, last) == [(first, last)]


def test_the_recorded_records_say_which_relations_exist(recorded):
    data, _ = load(recorded, "multi_lei_records.json")
    records = {r.lei: r for r in parsing.parse_lei_records(data)}

    with_parents = records["549300YX4S1LLSMK2627"]
    assert with_parents.reported == {"direct-parent", "ultimate-parent"}
    assert with_parents.exceptions == frozenset()
    alone = records["335800CCCPHKUOXPC332"]
    assert alone.reported == frozenset()
    assert alone.exceptions == {"direct-parent", "ultimate-parent"}
    microsoft_record = records[MICROSOFT]
    assert microsoft_record.reports("direct-children")
    assert not microsoft_record.reports("direct-parent")


def test_it_skips_individuals_only():
    assert gleif.SOURCE.skip_reason(Entity(name="Dr Jane Roe", country="GB", kind="individual"))
    assert gleif.SOURCE.skip_reason(microsoft()) == ""
    assert gleif.SOURCE.skip_reason(Entity(name="Uni", country="GB", kind="university")) == ""


def test_the_base_url_can_be_overridden(settings):
    assert gleif.SOURCE.base_url == "https://api.gleif.org/api/v1"
    settings.WISHLIST_SOURCE_URLS = {"gleif": "http://localhost:8001/api/v1/"}
    assert gleif.SOURCE.base_url == "http://localhost:8001/api/v1"


# -------------------------------------------------------------- through the services


def test_a_check_files_the_chinese_subsidiary_as_a_lead_once(
    db, mocked, recorded, client, use_sources
):
    use_sources(gleif.SOURCE)
    entity = EntityFactory(name="Microsoft Corporation", country="US", lei=MICROSOFT)
    case = CaseFactory(entity=entity)
    ReferralFactory(entity=entity, host_country="US", date=datetime.date(2017, 5, 1))
    derived.case_index_dates_refresh(case_ids=[case.id])
    register_microsoft(mocked, recorded)

    [run_id] = checks_services.checks_queue(pairs=[(case.id, "gleif")])
    run = checks_services.check_execute(check_run_id=run_id, client=client)

    assert (run.status, run.leads_created) == (CheckRun.Status.OK, 1)
    assert f"LEI {MICROSOFT}" in run.query
    lead = Finding.objects.get(case=case)
    assert lead.review_state == Finding.ReviewState.LEAD
    assert lead.source == "gleif"
    assert lead.kind == Finding.Kind.SUBSIDIARY
    assert (lead.counterparty_name, lead.counterparty_country) == ("微软(中国)有限公司", "CN")
    assert (lead.event_date, lead.event_date_precision) == (datetime.date(1995, 11, 1), "day")
    assert lead.timing == Finding.Timing.BEFORE  # context, not an outcome
    assert lead.source_url == f"https://search.gleif.org/#/record/{MICROSOFT_CHINA}"
    assert lead.match_score == 100

    [again] = checks_services.checks_queue(pairs=[(case.id, "gleif")])
    rerun = checks_services.check_execute(check_run_id=again, client=client)

    assert (rerun.status, rerun.leads_created) == (CheckRun.Status.OK, 0)
    assert Finding.objects.filter(case=case).count() == 1
