"""ClinicalTrials.gov: the parsers on study records of the API v2 shape, search() with HTTP
mocked by `responses`, and one search against the yield harness's replay server."""

import copy
import datetime
import importlib.util
import json
import os
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from cases.checks.http import HttpClient, PermanentHttpError
from cases.checks.ratelimit import LocalRateLimiter
from cases.checks.sources import clinicaltrials as ct
from cases.models import Entity, Finding

BASE = ct.ClinicalTrialsSource.default_url
SINCE = datetime.date(2019, 5, 1)
UNTIL = datetime.date(2026, 11, 30)
NAMES = ["BioNTech SE"]
THRESHOLD = 85
# The yield harness beside the clone, or beside the recorded fixtures a worktree is told of.
_FIXTURES = os.environ.get("WISHLIST_REGISTRY_FIXTURES", "").strip()
YIELD = (
    Path(_FIXTURES).resolve().parents[1] / "yield"
    if _FIXTURES
    else Path(__file__).resolve().parents[3].parent / "shared" / "yield"
)


def study(
    nct: str = "NCT04649021",
    *,
    start: str = "2020-11-28",
    start_type: str = "ACTUAL",
    lead: str = "BioNTech SE",
    collaborators: tuple[str, ...] = (
        "Shanghai Fosun Pharmaceutical Industrial Development Co. Ltd.",
    ),
    locations: tuple[tuple[str, str, str], ...] = (
        ("Jiangsu Provincial Center for Disease Control and Prevention", "Taizhou", "China"),
    ),
    status: str = "COMPLETED",
) -> dict:
    """A study record as /api/v2/studies returns one (the modules this source reads)."""
    return {
        "protocolSection": {
            "identificationModule": {
                "nctId": nct,
                "orgStudyIdInfo": {"id": "BNT162-06"},
                "organization": {"fullName": lead, "class": "INDUSTRY"},
                "briefTitle": "A Study of BNT162b2 in Chinese Healthy Participants",
            },
            "statusModule": {
                "statusVerifiedDate": "2022-05",
                "overallStatus": status,
                "startDateStruct": {"date": start, "type": start_type},
                "studyFirstSubmitDate": "2020-11-25",
            },
            "sponsorCollaboratorsModule": {
                "responsibleParty": {"type": "SPONSOR"},
                "leadSponsor": {"name": lead, "class": "INDUSTRY"},
                "collaborators": [{"name": name, "class": "INDUSTRY"} for name in collaborators],
            },
            "conditionsModule": {"conditions": ["COVID-19"]},
            "contactsLocationsModule": {
                "locations": [
                    {"facility": facility, "city": city, "country": country}
                    for facility, city, country in locations
                ]
            },
        },
        "hasResults": False,
    }


def hits_of(record: dict, **kwargs) -> list:
    options = {"names": NAMES, "since": SINCE, "until": UNTIL, "threshold": THRESHOLD}
    options.update(kwargs)
    return ct.study_hits(ct.parse_study(record), **options)


# ----------------------------------------------------------------------------- parsing


def test_a_chinese_collaborator_is_a_partnership_dated_by_the_start():
    [hit] = hits_of(study())

    assert hit.kind == Finding.Kind.PARTNERSHIP
    assert hit.counterparty_name == "Shanghai Fosun Pharmaceutical Industrial Development Co. Ltd."
    assert hit.counterparty_country == "CN"
    assert hit.event_date == datetime.date(2020, 11, 28)
    assert hit.event_date_precision == "day"
    assert hit.url == "https://clinicaltrials.gov/study/NCT04649021"
    assert hit.external_id == (
        "clinicaltrials:NCT04649021:shanghai fosun pharmaceutical industrial development"
    )
    assert hit.score == 100
    assert "lead sponsor 'BioNTech SE'" in hit.explanation
    assert "Jiangsu Provincial Center" in hit.excerpt
    assert len(hit.evidence_sha256) == 64


def test_a_month_start_is_read_as_the_month():
    [hit] = hits_of(study(start="2020-11"))

    assert hit.event_date == datetime.date(2020, 11, 1)
    assert hit.event_date_precision == "month"


def test_a_trial_started_in_the_month_of_the_since_date_counts():
    # Registered as "2019-05": the API reads it as 1 May, the month overlaps the period.
    [hit] = hits_of(study(start="2019-05"), since=datetime.date(2019, 5, 20))

    assert hit.event_date == datetime.date(2019, 5, 1)


@pytest.mark.parametrize("start", ["2019-04-30", "2019-04", "2026-12-01", "2031-01", "", "soon"])
def test_a_trial_started_outside_the_period_or_undated_gives_nothing(start):
    assert hits_of(study(start=start, start_type="ESTIMATED")) == []


def test_without_a_chinese_party_the_first_chinese_site_is_the_counterparty():
    record = study(
        collaborators=("Pfizer",),
        locations=(
            ("Charite", "Berlin", "Germany"),
            ("Peking Union Medical College Hospital", "Beijing", "China"),
            ("Ruijin Hospital", "Shanghai", "China"),
        ),
    )

    [hit] = hits_of(record)

    assert hit.counterparty_name == "Peking Union Medical College Hospital"
    assert hit.counterparty_country == "CN"
    assert "the Chinese party is its site" in hit.explanation
    assert "Ruijin Hospital (Shanghai)" in hit.excerpt


@pytest.mark.parametrize(
    ("country", "code"), [("Hong Kong", "HK"), ("Macao", "MO"), ("Macau", "MO"), ("China", "CN")]
)
def test_sites_in_hong_kong_and_macau_count(country, code):
    [hit] = hits_of(study(collaborators=(), locations=(("Queen Mary Hospital", "City", country),)))

    assert hit.counterparty_country == code


def test_a_site_in_taiwan_is_not_china():
    record = study(
        collaborators=(),
        locations=(("National Taiwan University Hospital", "Taipei", "Taiwan"),),
    )

    assert hits_of(record) == []


def test_a_trial_with_no_chinese_party_or_site_gives_nothing():
    record = study(collaborators=("Pfizer",), locations=(("Clinical Site", "Mainz", "Germany"),))

    assert hits_of(record) == []


def test_a_trial_the_entity_neither_sponsors_nor_collaborates_on_gives_nothing():
    # query.spons matched a word of our name somewhere else; the parties are others.
    record = study(lead="Genentech, Inc.", collaborators=("Fudan University",))

    assert hits_of(record) == []


def test_the_entity_as_collaborator_of_a_chinese_lead_sponsor():
    record = study(lead="Fudan University", collaborators=("BioNTech SE",), locations=())

    [hit] = hits_of(record)

    assert hit.counterparty_name == "Fudan University"
    assert "collaborator 'BioNTech SE'" in hit.explanation
    assert "the Chinese party is its lead sponsor" in hit.explanation


def test_a_collaborator_named_only_as_a_chinese_site_is_chinese():
    # "Sun Yat-sen University" names no Chinese place; its site in China says where it is.
    record = study(
        collaborators=("Sun Yat-sen University",),
        locations=(("Sun Yat-sen University", "Guangzhou", "China"),),
    )

    [hit] = hits_of(record)

    assert hit.counterparty_name == "Sun Yat-sen University"
    assert hit.counterparty_country == "CN"


def test_each_chinese_collaborator_is_its_own_lead():
    record = study(collaborators=("Fudan University", "Shanghai Fosun Pharma", "Pfizer"))

    hits = hits_of(record)

    assert sorted(hit.counterparty_name for hit in hits) == [
        "Fudan University",
        "Shanghai Fosun Pharma",
    ]
    assert len({hit.external_id for hit in hits}) == 2


def test_a_withdrawn_trial_is_flagged_as_not_completed():
    [hit] = hits_of(study(status="WITHDRAWN"))

    assert hit.flags == ("did not complete: trial withdrawn before enrolment",)


def test_the_evidence_hash_is_of_the_study_not_the_page():
    first, second = study(), copy.deepcopy(study())
    assert hits_of(first)[0].evidence_sha256 == hits_of(second)[0].evidence_sha256
    second["protocolSection"]["statusModule"]["overallStatus"] = "TERMINATED"
    assert hits_of(first)[0].evidence_sha256 != hits_of(second)[0].evidence_sha256


def test_a_page_gives_its_studies_and_next_token():
    studies, token = ct.parse_page({"studies": [study()], "nextPageToken": "NF0g5JSCm_0"})
    assert [s.nct for s in studies] == ["NCT04649021"]
    assert token == "NF0g5JSCm_0"
    assert ct.parse_page({"studies": []}) == ([], "")


@pytest.mark.parametrize(
    "body",
    [
        [],
        {},
        {"studies": {}},
        {"error": "something went wrong"},
        {"studies": ["NCT04649021"]},
        {"studies": [{"protocolSection": {"identificationModule": {"nctId": "12345"}}}]},
    ],
)
def test_a_page_of_the_wrong_shape_is_a_permanent_error(body):
    with pytest.raises(PermanentHttpError, match="ClinicalTrials.gov"):
        ct.parse_page(body)


def test_the_sponsor_query_quotes_each_name_once():
    query = ct.spons_query(["BioNTech SE", 'The "Best" Lab', "BioNTech SE", ""])
    assert query == '"BioNTech SE" OR "The Best Lab"'


@pytest.mark.parametrize(
    ("fields", "applies"),
    [
        ("mRNA therapeutics; cancer immunotherapy", True),
        ("autologous cellular immunotherapy; prostate cancer", True),
        ("medical devices; catheters", True),
        ("in-vitro diagnostics", True),
        ("high-performance tyres; smart tyre sensors", False),
        ("location-based social networking; mobile apps", False),
        ("", False),
    ],
)
def test_it_applies_to_biotechnology_and_medical_entities(fields, applies):
    entity = Entity(name="X", country="DE", technology_fields=fields)
    reason = ct.SOURCE.skip_reason(entity)
    assert (reason == "") is applies
    if not applies:
        assert reason.startswith("only for biotechnology and medical entities")


# ------------------------------------------------------------------------ the source


@pytest.fixture
def client():
    return HttpClient(
        source="clinicaltrials",
        rate_per_second=None,
        limiter=LocalRateLimiter(),
        sleep=lambda s: None,
    )


@pytest.fixture
def mocked():
    with responses.RequestsMock() as mock:
        yield mock


def biontech() -> Entity:
    return Entity(name="BioNTech SE", country="DE", technology_fields="mRNA therapeutics")


def asked(call) -> dict:
    return {name: values[0] for name, values in parse_qs(urlsplit(call.request.url).query).items()}


def test_search_asks_by_sponsor_and_start_date_and_follows_pages(mocked, client):
    mocked.get(f"{BASE}/studies", json={"studies": [study("NCT00000001")], "nextPageToken": "p2"})
    mocked.get(f"{BASE}/studies", json={"studies": [study("NCT00000002")]})

    result = ct.SOURCE.search(biontech(), SINCE, client, until=datetime.date(2024, 12, 31))

    first, second = (asked(call) for call in mocked.calls)
    assert first["query.spons"] == '"BioNTech SE"'
    assert first["filter.advanced"] == "AREA[StartDate]RANGE[2019-05-01,2024-12-31]"
    assert first["pageSize"] == str(ct.PAGE_SIZE)
    assert "pageToken" not in first
    assert second["pageToken"] == "p2"
    assert sorted(hit.external_id.split(":")[1] for hit in result.hits) == [
        "NCT00000001",
        "NCT00000002",
    ]
    assert "(2 pages)" in result.query
    assert result.searched_to is None


def test_search_never_asks_past_today(mocked, client):
    mocked.get(f"{BASE}/studies", json={"studies": []})

    ct.SOURCE.search(biontech(), SINCE, client, until=datetime.date(2999, 1, 1))

    today = datetime.date.today().isoformat()
    assert asked(mocked.calls[0])["filter.advanced"] == f"AREA[StartDate]RANGE[2019-05-01,{today}]"


def test_a_page_token_that_comes_back_stops_the_list_with_a_note(mocked, client):
    later, earlier = study("NCT00000002", start="2021-03"), study("NCT00000001", start="2020-02")
    mocked.get(f"{BASE}/studies", json={"studies": [later], "nextPageToken": "again"})
    mocked.get(f"{BASE}/studies", json={"studies": [earlier], "nextPageToken": "again"})

    result = ct.SOURCE.search(biontech(), SINCE, client, until=UNTIL)

    assert len(mocked.calls) == 2
    assert "came back a second time" in result.query
    assert len(result.hits) == 2
    # The pages were not read in order of start, so no day is surer than another: the
    # span counts as searched, the query saying some trials may be missed.
    assert result.searched_to is None and "may be missed" in result.query


def test_a_list_that_never_ends_stops_at_the_page_limit(mocked, client, monkeypatch):
    monkeypatch.setattr(ct, "MAX_PAGES", 3)
    for n in range(3):
        start = f"2020-0{n + 1}-15"
        mocked.get(
            f"{BASE}/studies",
            json={"studies": [study(f"NCT0000000{n}", start=start)], "nextPageToken": f"t{n}"},
        )

    result = ct.SOURCE.search(biontech(), SINCE, client, until=UNTIL)

    assert len(mocked.calls) == 3
    assert "stopped after 3 pages" in result.query
    # Read in order of start: everything before the last start read is covered.
    assert result.searched_to == datetime.date(2020, 3, 14)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<!DOCTYPE html><html><body>Service Unavailable</body></html>",
        b'{"studies": [{"protocolSection": {"identificationModule": {"nctId": "NCT04',
        b"Too many requests, please slow down",
    ],
)
def test_a_body_that_is_not_json_is_a_permanent_error(mocked, client, body):
    mocked.get(f"{BASE}/studies", body=body, status=200)

    with pytest.raises(PermanentHttpError, match="not JSON"):
        ct.SOURCE.search(biontech(), SINCE, client, until=UNTIL)


def test_a_json_error_in_a_200_is_a_permanent_error(mocked, client):
    mocked.get(f"{BASE}/studies", json={"message": "Unknown field LeadSponsor"})

    with pytest.raises(PermanentHttpError, match="not a study list"):
        ct.SOURCE.search(biontech(), SINCE, client, until=UNTIL)


def test_a_refused_query_is_a_permanent_error(mocked, client):
    mocked.get(f"{BASE}/studies", body="Query parsing error", status=400)

    with pytest.raises(PermanentHttpError, match="HTTP 400"):
        ct.SOURCE.search(biontech(), SINCE, client, until=UNTIL)


# ----------------------------------------------------- against the yield replay server


@pytest.fixture
def replay_url():
    """The yield harness's replay server on a free loopback port, over the dev corpus."""
    corpus = YIELD / "dev" / "corpus.json"
    if not corpus.exists():
        message = f"{corpus} is missing (../shared not beside this clone)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    spec = importlib.util.spec_from_file_location("yield_replay", YIELD / "replay.py")
    replay = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(replay)
    emulation = replay.Replay(
        replay.Corpus(str(corpus)),
        log_path=None,
        enforce_rates=False,
        public_links=False,
        today=None,
        lenient_gdelt=False,
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), replay.make_handler(emulation))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/clinicaltrials/api/v2"
    finally:
        server.shutdown()
        server.server_close()


def test_the_replayed_biontech_trials_give_the_fosun_trial_only(replay_url, settings, client):
    settings.WISHLIST_SOURCE_URLS = {"clinicaltrials": replay_url}

    result = ct.SOURCE.search(biontech(), SINCE, client, until=UNTIL)

    # Four BioNTech trials are replayed; only NCT04649021 has a Chinese party or site.
    [hit] = result.hits
    assert hit.external_id.startswith("clinicaltrials:NCT04649021:")
    assert hit.counterparty_name == "Shanghai Fosun Pharmaceutical Industrial Development Co. Ltd."
    assert hit.counterparty_country == "CN"
    assert hit.event_date == datetime.date(2020, 11, 28)
    assert json.loads(json.dumps(result.query))  # recorded as text
    assert "query.spons" in result.query
