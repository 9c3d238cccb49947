"""EPO OPS: the parsers on biblio search bodies of the shape OPS gives (XML turned into
JSON: "$" for text, one child an object and several a list), the token, and search()
with HTTP mocked by `responses`. Nothing replays OPS, so there is no recorded body."""

import base64
import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from cases.checks.http import HttpClient, PermanentHttpError
from cases.checks.ratelimit import LocalRateLimiter
from cases.checks.sources import epo_ops
from cases.models import Entity, Finding

BASE = epo_ops.EpoOpsSource.default_url
TOKEN_URL = f"{BASE}{epo_ops.TOKEN_PATH}"
SEARCH = f"{BASE}{epo_ops.SEARCH_PATH}"
SINCE = datetime.date(2019, 5, 1)
UNTIL = datetime.date(2026, 11, 30)
NAMES = ["BioNTech SE"]
THRESHOLD = 85


def applicant(sequence: int, epodoc: str, original: str) -> list[dict]:
    return [
        {
            "@sequence": str(sequence),
            "@data-format": "epodoc",
            "applicant-name": {"name": {"$": epodoc}},
        },
        {
            "@sequence": str(sequence),
            "@data-format": "original",
            "applicant-name": {"name": {"$": original}},
        },
    ]


def document(
    number: str = "3912345",
    *,
    country: str = "EP",
    kind: str = "A1",
    published: str = "20210415",
    family: str = "71234567",
    applicants: tuple[tuple[str, str], ...] = (
        ("BIONTECH SE [DE]", "BioNTech SE"),
        ("FUDAN UNIV [CN]", "Fudan University"),
    ),
) -> dict:
    listed = [item for n, (e, o) in enumerate(applicants, 1) for item in applicant(n, e, o)]
    return {
        "@system": "ops.epo.org",
        "@family-id": family,
        "@country": country,
        "@doc-number": number,
        "@kind": kind,
        "bibliographic-data": {
            "publication-reference": {
                "document-id": [
                    {
                        "@document-id-type": "docdb",
                        "country": {"$": country},
                        "doc-number": {"$": number},
                        "kind": {"$": kind},
                        "date": {"$": published},
                    },
                    {"@document-id-type": "epodoc", "doc-number": {"$": f"{country}{number}"}},
                ]
            },
            "application-reference": {
                "@doc-id": "512345678",
                "document-id": {
                    "@document-id-type": "docdb",
                    "country": {"$": country},
                    "doc-number": {"$": "19876543"},
                    "kind": {"$": "A"},
                    "date": {"$": "20191120"},
                },
            },
            "invention-title": [
                {"@lang": "de", "$": "RNA-IMPFSTOFFE"},
                {"@lang": "en", "$": "RNA VACCINES"},
            ],
            "parties": {"applicants": {"applicant": listed}},
        },
    }


def body(*documents: dict, total: int | None = None) -> dict:
    wrapped = [{"exchange-document": d} for d in documents]
    return {
        "ops:world-patent-data": {
            "@xmlns": {"ops": "http://ops.epo.org", "$": "http://www.epo.org/exchange"},
            "ops:biblio-search": {
                "@total-result-count": str(len(documents) if total is None else total),
                "ops:query": {"@syntax": "CQL", "$": 'pa="BioNTech SE"'},
                "ops:range": {"@begin": "1", "@end": str(len(documents))},
                "ops:search-result": {
                    "exchange-documents": wrapped[0] if len(wrapped) == 1 else wrapped
                },
            },
        }
    }


def hits_of(doc: dict, **kwargs) -> list:
    options = {"names": NAMES, "since": SINCE, "until": UNTIL, "threshold": THRESHOLD}
    options.update(kwargs)
    return epo_ops.filing_hits(epo_ops.parse_filing(doc), **options)


# ----------------------------------------------------------------------------- parsing


def test_a_chinese_co_applicant_is_a_co_invention_lead():
    [hit] = hits_of(document())

    assert hit.kind == Finding.Kind.CO_PUBLICATION
    assert hit.counterparty_name == "Fudan University"
    assert hit.counterparty_country == "CN"
    assert hit.event_date == datetime.date(2021, 4, 15)
    assert hit.event_date_precision == "day"
    assert hit.external_id == "epo_ops:family 71234567:fudan university"
    assert hit.url.endswith("pn%3DEP3912345A1")
    assert "RNA VACCINES" in hit.excerpt
    assert "filed 2019-11-20" in hit.excerpt
    assert hit.explanation.startswith("applicant 'BioNTech SE'")


def test_applicants_pair_their_two_spellings_by_sequence():
    applicants = epo_ops.parse_filing(document()).applicants
    assert applicants == (
        epo_ops.Applicant("BioNTech SE", "DE", "BIONTECH SE"),
        epo_ops.Applicant("Fudan University", "CN", "FUDAN UNIV"),
    )


def test_a_lone_applicant_is_an_object_not_a_list():
    doc = document()
    only = doc["bibliographic-data"]["parties"]["applicants"]["applicant"][1]
    doc["bibliographic-data"]["parties"]["applicants"]["applicant"] = only
    assert epo_ops.parse_filing(doc).applicants == (epo_ops.Applicant("BioNTech SE", "", ""),)


@pytest.mark.parametrize(("epodoc", "code"), [("HKU [HK]", "HK"), ("UNIV MACAU [MO]", "MO")])
def test_hong_kong_and_macau_co_applicants_count(epodoc, code):
    one = document(applicants=(("BIONTECH SE [DE]", "BioNTech SE"), (epodoc, "Partner")))
    [hit] = hits_of(one)
    assert hit.counterparty_country == code


@pytest.mark.parametrize(
    "other",
    [
        ("NAT UNIV TAIWAN [TW]", "National Taiwan University"),
        ("PFIZER [US]", "Pfizer Inc."),
        # Only an epodoc country decides; a Western name with a Chinese word does not.
        ("CHINA GROVE INSTR [US]", "China Grove Instruments"),
    ],
)
def test_a_co_applicant_outside_china_gives_nothing(other):
    assert hits_of(document(applicants=(("BIONTECH SE [DE]", "BioNTech SE"), other))) == []


def test_a_filing_the_entity_is_not_an_applicant_of_gives_nothing():
    one = document(applicants=(("GENENTECH INC [US]", "Genentech"), ("FUDAN UNIV [CN]", "Fudan")))
    assert hits_of(one) == []


@pytest.mark.parametrize("published", ["20190430", "20261201", "20300101", "", "2021"])
def test_a_filing_published_outside_the_period_or_undated_gives_nothing(published):
    assert hits_of(document(published=published)) == []


def test_a_search_page_gives_its_filings_and_total():
    filings, total = epo_ops.parse_search(body(document("1"), document("2"), total=240))
    assert [f.number for f in filings] == ["EP1A1", "EP2A1"]
    assert total == 240
    [single], _ = epo_ops.parse_search(body(document("3")))
    assert single.number == "EP3A1"


@pytest.mark.parametrize(
    "data",
    [
        [],
        {},
        {"ops:world-patent-data": {}},
        {"ops:world-patent-data": {"ops:biblio-search": {"@total-result-count": "many"}}},
        {
            "ops:world-patent-data": {
                "ops:biblio-search": {
                    "@total-result-count": "3",
                    "ops:search-result": {"exchange-documents": []},
                }
            }
        },
        {
            "ops:world-patent-data": {
                "ops:biblio-search": {
                    "@total-result-count": "1",
                    "ops:search-result": {"exchange-documents": {"exchange-document": {}}},
                }
            }
        },
    ],
)
def test_a_search_page_of_the_wrong_shape_is_a_permanent_error(data):
    with pytest.raises(PermanentHttpError, match="EPO OPS"):
        epo_ops.parse_search(data)


def test_the_query_asks_each_name_as_applicant_within_the_span():
    query = epo_ops.applicant_query(
        ["BioNTech SE", 'Bio "N" Tech', "BioNTech SE"],
        datetime.date(2019, 5, 1),
        datetime.date(2019, 12, 31),
    )
    assert query == '(pa="BioNTech SE" or pa="Bio N Tech") and pd within "20190501,20191231"'


def test_the_period_is_cut_by_calendar_year():
    assert epo_ops.SOURCE.windows(datetime.date(2019, 5, 1), datetime.date(2021, 3, 2)) == [
        (datetime.date(2019, 5, 1), datetime.date(2019, 12, 31)),
        (datetime.date(2020, 1, 1), datetime.date(2020, 12, 31)),
        (datetime.date(2021, 1, 1), datetime.date(2021, 3, 2)),
    ]


# ------------------------------------------------------------------------ the source


@pytest.fixture
def client():
    return HttpClient(
        source="epo_ops", rate_per_second=None, limiter=LocalRateLimiter(), sleep=lambda s: None
    )


@pytest.fixture
def mocked():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def credentials(settings):
    settings.EPO_OPS_CLIENT_ID = "ops-client"
    settings.EPO_OPS_CLIENT_SECRET = "ops-secret"
    epo_ops.SOURCE._tokens.clear()
    yield
    epo_ops.SOURCE._tokens.clear()


def token_reply(mocked, token: str = "tok-1", expires_in: str = "1199") -> None:
    mocked.post(
        TOKEN_URL,
        json={"access_token": token, "token_type": "BearerToken", "expires_in": expires_in},
    )


def biontech() -> Entity:
    return Entity(name="BioNTech SE", country="DE")


def test_without_credentials_it_is_skipped_with_the_settings_to_set(settings):
    settings.EPO_OPS_CLIENT_ID = ""
    settings.EPO_OPS_CLIENT_SECRET = ""
    reason = epo_ops.SOURCE.skip_reason(biontech())
    assert reason == "not configured: set EPO_OPS_CLIENT_ID, EPO_OPS_CLIENT_SECRET"


def test_search_takes_a_token_then_pages_by_range(mocked, client, credentials, monkeypatch):
    monkeypatch.setattr(epo_ops, "PAGE_SIZE", 1)
    token_reply(mocked)
    mocked.get(SEARCH, json=body(document("1", family="11"), total=2))
    mocked.get(SEARCH, json=body(document("2", family="22"), total=2))

    result = epo_ops.SOURCE.search(biontech(), SINCE, client, until=datetime.date(2021, 12, 31))

    token, first, second = mocked.calls
    expected = base64.b64encode(b"ops-client:ops-secret").decode()
    assert token.request.headers["Authorization"] == f"Basic {expected}"
    assert token.request.body == "grant_type=client_credentials"
    assert first.request.headers["Authorization"] == "Bearer tok-1"
    assert first.request.headers["X-OPS-Range"] == "1-1"
    assert second.request.headers["X-OPS-Range"] == "2-2"
    q = parse_qs(urlsplit(first.request.url).query)["q"][0]
    assert q == '(pa="BioNTech SE") and pd within "20190501,20211231"'
    assert len(result.hits) == 2
    assert "ops-secret" not in result.query and "tok-1" not in result.query


def test_the_token_is_kept_until_shortly_before_it_expires(mocked, client, credentials):
    token_reply(mocked, "tok-1")
    mocked.get(SEARCH, json=body(document()))
    mocked.get(SEARCH, json=body(document()))

    epo_ops.SOURCE.search(biontech(), SINCE, client, until=UNTIL)
    epo_ops.SOURCE.search(biontech(), SINCE, client, until=UNTIL)

    assert [call.request.method for call in mocked.calls] == ["POST", "GET", "GET"]


def test_a_token_that_lives_less_than_the_margin_is_asked_for_again(mocked, client, credentials):
    token_reply(mocked, "tok-1", expires_in="30")
    token_reply(mocked, "tok-2", expires_in="30")
    mocked.get(SEARCH, json=body(document()))
    mocked.get(SEARCH, json=body(document()))

    epo_ops.SOURCE.search(biontech(), SINCE, client, until=UNTIL)
    epo_ops.SOURCE.search(biontech(), SINCE, client, until=UNTIL)

    assert mocked.calls[3].request.headers["Authorization"] == "Bearer tok-2"


def test_one_family_is_one_lead_dated_by_its_earliest_publication(mocked, client, credentials):
    token_reply(mocked)
    later = document("3912345", published="20210415")
    earlier = document("2021123456", country="WO", kind="A1", published="20201105")
    mocked.get(SEARCH, json=body(later, earlier))

    [hit] = epo_ops.SOURCE.search(biontech(), SINCE, client, until=UNTIL).hits

    assert hit.event_date == datetime.date(2020, 11, 5)
    assert hit.url.endswith("WO2021123456A1")


def test_a_search_that_finds_nothing_is_an_empty_result(mocked, client, credentials):
    token_reply(mocked)
    fault = (
        '<?xml version="1.0" encoding="UTF-8"?><fault xmlns="http://ops.epo.org">'
        "<code>SERVER.EntityNotFound</code><message>No results found</message></fault>"
    )
    mocked.get(SEARCH, body=fault, status=404)

    assert epo_ops.SOURCE.search(biontech(), SINCE, client, until=UNTIL).hits == []


def test_an_xml_fault_is_read_as_its_text(mocked, client, credentials):
    token_reply(mocked)
    fault = (
        '<?xml version="1.0" encoding="UTF-8"?><fault xmlns="http://ops.epo.org">'
        "<code>CLIENT.InvalidQuery</code><message>The query is invalid</message></fault>"
    )
    mocked.get(SEARCH, body=fault, status=400)

    with pytest.raises(PermanentHttpError, match="HTTP 400 .*: CLIENT.InvalidQuery The query is"):
        epo_ops.SOURCE.search(biontech(), SINCE, client, until=UNTIL)


def test_a_refused_token_is_a_readable_permanent_error(mocked, client, credentials):
    mocked.post(TOKEN_URL, json={"error": "invalid_client"}, status=401)

    with pytest.raises(PermanentHttpError, match="EPO OPS: HTTP 401 .*invalid_client"):
        epo_ops.SOURCE.search(biontech(), SINCE, client, until=UNTIL)


def test_a_path_that_is_not_there_is_a_readable_permanent_error(mocked, client, credentials):
    token_reply(mocked)
    mocked.get(SEARCH, json={"error": "Not Found", "detail": "not emulated: epo"}, status=404)

    with pytest.raises(PermanentHttpError, match="HTTP 404 .*not emulated: epo"):
        epo_ops.SOURCE.search(biontech(), SINCE, client, until=UNTIL)


@pytest.mark.parametrize(
    "raw",
    [b"", b"<html><body>Gateway</body></html>", b'{"ops:world-patent-data": {"ops:bib'],
)
def test_a_search_body_that_is_not_json_is_a_permanent_error(mocked, client, credentials, raw):
    token_reply(mocked)
    mocked.get(SEARCH, body=raw, status=200)

    with pytest.raises(PermanentHttpError, match="not JSON"):
        epo_ops.SOURCE.search(biontech(), SINCE, client, until=UNTIL)


def test_a_token_body_without_a_token_is_a_permanent_error(mocked, client, credentials):
    mocked.post(TOKEN_URL, body=b"<html>login</html>", status=200)

    with pytest.raises(PermanentHttpError, match="token response is not JSON"):
        epo_ops.SOURCE.search(biontech(), SINCE, client, until=UNTIL)


def test_the_list_stops_at_the_documents_ops_serves(mocked, client, credentials, monkeypatch):
    monkeypatch.setattr(epo_ops, "PAGE_SIZE", 1)
    monkeypatch.setattr(epo_ops, "MAX_RESULTS", 2)
    token_reply(mocked)
    for n in range(2):
        mocked.get(SEARCH, json=body(document(str(n), family=str(n)), total=5000))

    result = epo_ops.SOURCE.search(biontech(), SINCE, client, until=UNTIL)

    assert len(mocked.calls) == 3
    assert "2-document limit of 5000" in result.query
    assert result.searched_to is None and "some may be missed" in result.query
