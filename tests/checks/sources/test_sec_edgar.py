"""The SEC EDGAR source: full-text search and submissions parsers on recorded and
hand-made bodies, the search end to end with HTTP mocked, and leads filed through the
check service."""

import dataclasses
import datetime
import hashlib
import json
import os
import re
import subprocess
import sys

import pytest
import responses
from django.conf import settings as django_settings
from responses import matchers

from cases import derived
from cases.checks import services as checks_services
from cases.checks.http import HttpClient, PermanentHttpError
from cases.checks.ratelimit import LocalRateLimiter
from cases.checks.sources import get_sources
from cases.checks.sources.sec_edgar import SOURCE, search_phrases
from cases.checks.sources.sec_edgar.documents import (
    TextParty,
    chinese_parties,
    deal_sentence,
    document_text,
    named_again,
)
from cases.checks.sources.sec_edgar.filings import (
    FORMS,
    Filing,
    Party,
    filing_kind,
    filings_of_interest,
    is_deal_form,
    parse_filing_columns,
    parse_search,
    parse_submissions,
    party_country,
    split_display_name,
)
from cases.checks.sources.sec_edgar.judging import (
    DID_NOT_COMPLETE,
    MENTION_SCORE,
    UNDONE_SCORE,
    filing_hit,
    filing_subject,
    wants_document,
)
from cases.models import CheckRun, Entity, Finding
from tests.checks.sources.conftest import REGISTRIES
from tests.factories import CaseFactory, EntityFactory, ReferralFactory

EFTS = "https://efts.sec.gov/LATEST/search-index"
DATA = "https://data.sec.gov/submissions"
SINCE = datetime.date(2017, 5, 1)
SHA = "0" * 64
NAMES = ["Acme Robotics Ltd"]


def judge(
    filing: Filing,
    *,
    names: list[str] = NAMES,
    phrase: str = "acme robotics",
    since: datetime.date = SINCE,
    until: datetime.date | None = None,
    entity_ciks: frozenset[str] = frozenset(),
    text_party: TextParty | None = None,
    sha: str = SHA,
):
    """The hit a filing makes, or None: how it names the entity, then its counterparty."""
    subject = filing_subject(
        filing, names=names, phrase=phrase, since=since, until=until, entity_ciks=entity_ciks
    )
    if subject is None:
        return None
    return filing_hit(subject, evidence_sha256=sha, entity_ciks=entity_ciks, text_party=text_party)


def client() -> HttpClient:
    return HttpClient(
        source="sec_edgar", rate_per_second=None, limiter=LocalRateLimiter(), sleep=lambda s: None
    )


def efts_hit(
    adsh: str,
    *,
    display_names: list[str],
    form: str = "8-K",
    file_date: str = "2019-03-04",
    items: list[str] | None = None,
    biz_locations: list[str] | None = None,
    inc_states: list[str] | None = None,
    document: str = "d123.htm",
    description: str | None = None,
) -> dict:
    source = {
        "ciks": [name.rsplit("CIK ", 1)[-1].rstrip(")") for name in display_names],
        "display_names": display_names,
        "root_forms": [form],
        "form": form,
        "file_type": form,
        "file_date": file_date,
        "adsh": adsh,
        "items": items or [],
        "biz_locations": biz_locations if biz_locations is not None else [],
        "inc_states": inc_states if inc_states is not None else [],
        "file_description": description,
    }
    return {"_index": "edgar_file", "_id": f"{adsh}:{document}", "_score": 5.0, "_source": source}


def efts_body(*hits: dict, total: int | None = None) -> dict:
    return {
        "took": 10,
        "timed_out": False,
        "hits": {
            "total": {"value": len(hits) if total is None else total, "relation": "eq"},
            "max_score": 5.0,
            "hits": list(hits),
        },
    }


# A Chinese listed company's 8-K about an agreement with the entity, named in its text.
SHENZHEN_8K = efts_hit(
    "0001213900-19-003812",
    display_names=["Shenzhen Example Technology Co., Ltd.  (SZEX)  (CIK 0001700001)"],
    items=["1.01", "9.01"],
    biz_locations=["Shenzhen, F4"],
    inc_states=["E9"],
    description="Current report",
)
# The document of a Chinese filer's deal form naming the entity in a deal.
DEAL_DOCUMENT = (
    b"<html><body><p>Shenzhen Example Technology Co., Ltd. signed a cooperation agreement "
    b"with Acme Robotics Ltd on robot arms.</p></body></html>"
)


def serve_documents(body: bytes = DEAL_DOCUMENT) -> None:
    """Answer every EDGAR Archives document with `body`."""
    responses.get(re.compile(r"https://www\.sec\.gov/Archives/.*"), body=body)


# A Hong Kong investor's Schedule 13D about the entity, a US filer.
HK_13D = efts_hit(
    "0000950170-20-000111",
    form="SC 13D",
    file_date="2020-06-01",
    display_names=[
        "Acme Robotics Ltd  (ACME)  (CIK 0001500001)",
        "Kowloon Capital Holdings Ltd  (CIK 0001800002)",
    ],
    biz_locations=["Boston, MA", "Hong Kong, K3"],
    inc_states=["DE", "K3"],
    document="sc13d.htm",
)


# ----------------------------------------------------------------- recorded responses


def test_it_parses_the_recorded_full_text_search(recorded):
    body = recorded("sec_edgar/efts_search_13F_gates_foundation.json")

    filings, total = parse_search(json.loads(body))

    assert total == 16
    # Nine hits, but some are the same filing's primary document and information table.
    assert [f.accession for f in filings] == [
        "0001104659-24-023662",
        "0001104659-24-119000",
        "0001104659-23-118104",
        "0001104659-25-014123",
        "0001104659-25-078647",
        "0001104659-25-049456",
    ]
    first = filings[0]
    assert first.form == "13F-HR"
    assert first.filed == datetime.date(2024, 2, 14)
    assert first.items == ()
    assert first.parties == (
        Party(
            name="BILL & MELINDA GATES FOUNDATION TRUST",
            cik="0001166559",
            location="Kirkland, WA",
            country="",
        ),
    )
    assert first.url == (
        "https://www.sec.gov/Archives/edgar/data/1166559/000110465924023662/primary_doc.xml"
    )


def test_the_recorded_search_has_no_chinese_counterparty(recorded):
    body = recorded("sec_edgar/efts_search_13F_gates_foundation.json")
    filings, _ = parse_search(json.loads(body))

    hits = [
        judge(
            filing,
            names=["Gates Foundation Trust"],
            phrase="gates foundation trust",
            since=datetime.date(2023, 9, 1),
            sha=hashlib.sha256(body).hexdigest(),
        )
        for filing in filings
    ]

    assert hits == [None] * len(filings)
    assert filing_kind(filings[0]) == Finding.Kind.OTHER


def test_it_parses_the_recorded_submissions(recorded):
    data = json.loads(recorded("sec_edgar/submissions_CIK0001318605_tesla.json"))

    filings, older = parse_submissions(data)

    assert len(filings) == 1001
    assert filings[0] == Filing(
        accession="0001790565-22-000015",
        form="4",
        filed=datetime.date(2022, 11, 30),
        items=(),
        parties=(Party(name="Tesla, Inc.", cik="0001318605"),),
        document="xslF345X03/edgardoc.xml",
        description="PRIMARY DOCUMENT",
    )
    assert older == [
        {
            "name": "CIK0001318605-submissions-001.json",
            "filingCount": 347,
            "filingFrom": "2005-02-17",
            "filingTo": "2013-12-10",
        }
    ]
    earnings = next(f for f in filings if f.accession == "0001564590-22-034639")
    assert earnings.form == "8-K"
    assert earnings.items == ("2.02", "9.01")


def test_it_keeps_the_recorded_filings_of_interest(recorded):
    data = json.loads(recorded("sec_edgar/submissions_CIK0001318605_tesla.json"))
    filings, _ = parse_submissions(data)

    wanted = filings_of_interest(filings, datetime.date(2020, 1, 1))

    assert {f.form for f in wanted.values()} == {"8-K", "10-K", "10-K/A", "SC 13G", "SC 13G/A"}
    assert all(f.filed >= datetime.date(2020, 1, 1) for f in wanted.values())
    # An earnings 8-K (items 2.02, 9.01) says nothing about deals; Form 4s are not watched.
    assert "0001564590-22-034639" not in wanted
    assert "0001790565-22-000015" not in wanted
    deal_8ks = [f for f in wanted.values() if f.form == "8-K"]
    assert deal_8ks
    assert all({"1.01", "2.01", "3.02"} & set(f.items) for f in deal_8ks)
    annual = wanted["0001564590-22-016871"]
    assert annual.url == (
        "https://www.sec.gov/Archives/edgar/data/1318605/000156459022016871/tsla-10ka_20211231.htm"
    )


# ------------------------------------------------------------------ hand-made bodies


def test_a_chinese_filer_naming_the_entity_in_its_text_is_a_hit():
    filings, total = parse_search(efts_body(SHENZHEN_8K))

    hit = judge(filings[0])

    assert total == 1
    assert hit is not None
    assert hit.kind == Finding.Kind.PARTNERSHIP  # item 1.01, a material definitive agreement
    assert hit.counterparty_name == "Shenzhen Example Technology Co., Ltd."
    assert hit.counterparty_country == "CN"
    assert hit.event_date == datetime.date(2019, 3, 4)
    assert hit.event_date_precision == "day"
    assert hit.external_id == "sec_edgar:0001213900-19-003812"
    assert hit.url == (
        "https://www.sec.gov/Archives/edgar/data/1700001/000121390019003812/d123.htm"
    )
    assert hit.score == 100
    assert "full-text search found the phrase 'acme robotics'" in hit.explanation
    assert "8-K filed 2019-03-04" in hit.excerpt
    assert "items 1.01, 9.01" in hit.excerpt
    assert "(Shenzhen, F4)" in hit.excerpt
    assert hit.evidence_sha256 == SHA


def test_a_hong_kong_investors_schedule_13d_is_an_equity_hit():
    filings, _ = parse_search(efts_body(HK_13D))

    hit = judge(filings[0])

    assert hit.kind == Finding.Kind.EQUITY_INVESTMENT
    assert hit.counterparty_name == "Kowloon Capital Holdings Ltd"
    assert hit.counterparty_country == "HK"
    # The entity is a party to the filing: matched on its display name, not the text.
    assert hit.score == 100
    assert "same name key" in hit.explanation


@pytest.mark.parametrize(
    ("items", "form", "kind"),
    [
        (["2.01", "1.01"], "8-K", Finding.Kind.ACQUISITION),
        (["3.02"], "8-K", Finding.Kind.EQUITY_INVESTMENT),
        (["1.01"], "8-K", Finding.Kind.PARTNERSHIP),
        ([], "SC 13G/A", Finding.Kind.EQUITY_INVESTMENT),
        ([], "SCHEDULE 13D", Finding.Kind.EQUITY_INVESTMENT),
        ([], "20-F", Finding.Kind.OTHER),
    ],
)
def test_the_kind_comes_from_items_and_form(items, form, kind):
    filing = Filing(accession="x", form=form, filed=SINCE, items=tuple(items))

    assert filing_kind(filing) == kind


def test_the_kind_falls_back_on_the_description():
    filing = Filing(
        accession="x", form="6-K", filed=SINCE, description="Joint venture agreement with Acme"
    )

    assert filing_kind(filing) == Finding.Kind.JOINT_VENTURE


def test_a_party_with_a_chinese_name_and_no_location_is_chinese():
    hit_body = efts_hit(
        "0001-20-000001",
        form="6-K",
        display_names=["深圳市示例科技有限公司  (CIK 0001900003)"],
        biz_locations=None,
    )
    filings, _ = parse_search(efts_body(hit_body))

    hit = judge(filings[0])

    assert hit.counterparty_name == "深圳市示例科技有限公司"
    assert hit.counterparty_country == "CN"


def test_locations_that_cannot_be_tied_to_a_party_are_not_used():
    # Two parties but one location: which one is in Beijing cannot be told.
    hit_body = efts_hit(
        "0001-20-000002",
        display_names=["Acme Robotics Ltd  (CIK 0001500001)", "Example Holdings  (CIK 0001800009)"],
        biz_locations=["Beijing, F4"],
    )
    filings, _ = parse_search(efts_body(hit_body))

    assert [p.country for p in filings[0].parties] == ["", ""]
    assert judge(filings[0]) is None


def test_the_entitys_own_filing_without_a_chinese_party_is_not_a_hit():
    # An 8-K the entity filed about an agreement: the counterparty is only in the text.
    own = efts_hit(
        "0001500001-19-000010",
        display_names=["Acme Robotics Ltd  (CIK 0001500001)"],
        items=["1.01"],
        biz_locations=["Boston, MA"],
    )
    filings, _ = parse_search(efts_body(own))

    assert judge(filings[0], phrase="", entity_ciks=frozenset({"0001500001"})) is None


def test_filings_before_the_referral_or_undated_are_not_hits():
    early = efts_hit(
        "0001-16-000001",
        file_date="2016-12-30",
        display_names=["Beijing Example Co Ltd  (CIK 0001900004)"],
        biz_locations=["Beijing, F4"],
    )
    undated = efts_hit(
        "0001-18-000001",
        file_date="",
        display_names=["Beijing Example Co Ltd  (CIK 0001900004)"],
        biz_locations=["Beijing, F4"],
    )
    filings, _ = parse_search(efts_body(early, undated))

    assert filings[1].filed is None
    assert [judge(f) for f in filings] == [None, None]


def test_a_hit_with_missing_fields_still_parses():
    bare = {"_id": "0001-19-000003:doc.htm", "_source": {"file_date": "2019-01-02"}}

    filings, total = parse_search({"hits": {"hits": [bare]}})

    assert total == 1
    assert filings == [
        Filing(
            accession="0001-19-000003", form="", filed=datetime.date(2019, 1, 2), document="doc.htm"
        )
    ]
    assert filings[0].url == ""


def test_an_empty_search_has_no_filings():
    assert parse_search(efts_body()) == ([], 0)


@pytest.mark.parametrize(
    "body",
    [[], {"error": "query is malformed"}, {"hits": {"total": 1}}, {"hits": {"hits": [1]}}],
)
def test_a_search_body_of_the_wrong_shape_is_a_permanent_error(body):
    with pytest.raises(PermanentHttpError, match="EDGAR full-text search"):
        parse_search(body)


@pytest.mark.parametrize(
    "body", [[], {"cik": "1"}, {"filings": {"recent": {"form": []}}}, {"filings": {"recent": []}}]
)
def test_a_submissions_body_of_the_wrong_shape_is_a_permanent_error(body):
    with pytest.raises(PermanentHttpError, match="EDGAR submissions"):
        parse_submissions(body)


def test_submission_columns_of_odd_lengths_are_left_out():
    columns = {
        "accessionNumber": ["0001-21-000001", ""],
        "form": ["8-K", "8-K"],
        "filingDate": ["2021-02-03"],  # shorter than the accession numbers: not used
        "items": ["1.01,9.01", ""],
    }

    filings = parse_filing_columns(columns, cik="1500001", name="Acme Robotics Ltd")

    assert filings == [
        Filing(
            accession="0001-21-000001",
            form="8-K",
            filed=None,
            items=("1.01", "9.01"),
            parties=(Party(name="Acme Robotics Ltd", cik="0001500001"),),
        )
    ]


@pytest.mark.parametrize(
    ("display_name", "name", "cik"),
    [
        ("Tesla, Inc.  (TSLA)  (CIK 0001318605)", "Tesla, Inc.", "0001318605"),
        (
            "ALIBABA GROUP HOLDING LTD  (BABA, BABAF)  (CIK 0001577552)",
            "ALIBABA GROUP HOLDING LTD",
            "0001577552",
        ),
        ("Impact Technology (United States)", "Impact Technology (United States)", ""),
        ("Some Fund LP", "Some Fund LP", ""),
    ],
)
def test_it_splits_display_names(display_name, name, cik):
    assert split_display_name(display_name) == (name, cik)


def test_search_phrases_are_latin_name_keys():
    assert search_phrases(
        ["Acme Robotics Ltd.", "艾克米机器人", "ACME ROBOTICS LIMITED", "AB"]
    ) == ["acme robotics"]


def test_a_counterparty_on_the_dod_list_is_flagged():
    # The list ships with the project (cases/reference), so this never needs ../shared.
    body = efts_hit(
        "0001-19-000004",
        display_names=["Huawei Technologies Co., Ltd.  (CIK 0001900005)"],
        biz_locations=["Shenzhen, F4"],
        items=["1.01"],
    )
    filings, _ = parse_search(efts_body(body))

    hit = judge(filings[0])

    assert hit.flags == ("dod_1260h: Huawei Technologies Co., Ltd.",)


# ------------------------------------------------------------------------ the source


@pytest.fixture
def configured(settings):
    settings.SEC_USER_AGENT = "Wishlist research analyst@example.org"
    return settings


def test_it_is_a_named_source():
    assert SOURCE.name == "sec_edgar"
    assert SOURCE.name in get_sources()
    assert SOURCE.rate_per_second == 10


def test_it_is_skipped_without_a_contact_user_agent(settings):
    settings.SEC_USER_AGENT = ""

    assert SOURCE.skip_reason(Entity(name="Acme", country="GB")) == (
        "not configured: set SEC_USER_AGENT"
    )


def test_it_runs_with_a_contact_user_agent(configured):
    assert SOURCE.skip_reason(Entity(name="Acme", country="GB")) == ""


@responses.activate
def test_search_asks_for_the_name_with_china_and_finds_hits(configured):
    serve_documents()
    call = responses.get(
        EFTS,
        json=efts_body(SHENZHEN_8K),
        match=[
            matchers.header_matcher({"User-Agent": "Wishlist research analyst@example.org"}),
            matchers.query_param_matcher(
                {
                    "q": '"acme robotics" China',
                    "dateRange": "custom",
                    "startdt": "2017-05-01",
                    "enddt": datetime.date.today().isoformat(),
                    "forms": ",".join(FORMS),
                }
            ),
        ],
    )
    located = responses.get(
        EFTS,
        json=efts_body(),
        match=[
            matchers.query_param_matcher(
                {"q": '"acme robotics"', "locationCodes": "F4,K3,N5", "locationType": "located"},
                strict_match=False,
            )
        ],
    )

    result = SOURCE.search(Entity(name="Acme Robotics Ltd", country="GB"), SINCE, client())

    assert call.call_count == 1
    assert located.call_count == 1
    assert "cooperation agreement with Acme Robotics" in result.hits[0].excerpt
    assert [hit.external_id for hit in result.hits] == ["sec_edgar:0001213900-19-003812"]
    assert (
        result.hits[0].evidence_sha256 == hashlib.sha256(call.calls[0].response.content).hexdigest()
    )
    assert 'q="acme robotics" China' in result.query
    assert "analyst@example.org" not in result.query


@responses.activate
def test_search_reads_further_pages(configured):
    serve_documents()
    second = efts_hit(
        "0000950170-21-000222",
        form="6-K",
        file_date="2021-07-01",
        display_names=["Macau Example Ltd  (CIK 0001900006)"],
        biz_locations=["Macau, N5"],
        description="Strategic partnership with Acme Robotics",
    )
    # Pages are asked for by offset (from=hits read so far). A request with from=1 matches
    # both; the one registered first answers it.
    responses.get(
        EFTS,
        json=efts_body(second, total=2),
        match=[matchers.query_param_matcher({"from": "1"}, strict_match=False)],
    )
    responses.get(
        EFTS,
        json=efts_body(SHENZHEN_8K, total=2),
        match=[matchers.query_param_matcher({"q": '"acme robotics" China'}, strict_match=False)],
    )
    responses.get(EFTS, json=efts_body())  # the search of filers located in China

    result = SOURCE.search(Entity(name="Acme Robotics Ltd", country="GB"), SINCE, client())

    assert len([c for c in responses.calls if "search-index" in c.request.url]) == 3
    by_id = {hit.external_id: hit for hit in result.hits}
    assert by_id["sec_edgar:0000950170-21-000222"].counterparty_country == "MO"
    assert by_id["sec_edgar:0000950170-21-000222"].kind == Finding.Kind.PARTNERSHIP


@responses.activate
def test_search_with_a_cik_reads_the_submissions_and_searches_by_cik(configured):
    submissions = {
        "cik": "1500001",
        "name": "Acme Robotics Ltd",
        "filings": {
            "recent": {
                "accessionNumber": ["0000950170-20-000111"],
                "filingDate": ["2020-06-01"],
                "form": ["SC 13D"],
                "items": [""],
                "primaryDocument": ["primary.htm"],
            },
            "files": [],
        },
    }
    responses.get(f"{DATA}/CIK0001500001.json", json=submissions)
    responses.get(
        EFTS,
        json=efts_body(),
        match=[matchers.query_param_matcher({"q": '"acme robotics" China'}, strict_match=False)],
    )
    by_cik = responses.get(
        EFTS,
        json=efts_body(HK_13D),
        match=[
            matchers.query_param_matcher({"q": "China", "ciks": "0001500001"}, strict_match=False)
        ],
    )
    responses.get(EFTS, json=efts_body())  # the search of filers located in China
    entity = Entity(name="Acme Robotics", country="US", sec_cik="1500001")

    result = SOURCE.search(entity, SINCE, client())

    assert by_cik.call_count == 1
    [hit] = result.hits
    assert hit.counterparty_name == "Kowloon Capital Holdings Ltd"
    assert hit.score == 100
    assert "SEC CIK 1500001" in hit.explanation
    # The submissions file gives the filing's primary document.
    assert hit.url.endswith("/000095017020000111/primary.htm")
    assert f"GET {DATA}/CIK0001500001.json" in result.query
    assert all(
        c.request.headers["User-Agent"] == configured.SEC_USER_AGENT for c in responses.calls
    )


@responses.activate
def test_the_base_url_can_be_overridden_for_both_endpoints(configured):
    configured.WISHLIST_SOURCE_URLS = {"sec_edgar": "http://edgar.test/mirror/"}
    responses.get(
        "http://edgar.test/mirror/submissions/CIK0000000042.json",
        json={"filings": {"recent": {"accessionNumber": []}}},
    )
    responses.get("http://edgar.test/mirror/search-index", json=efts_body())

    result = SOURCE.search(
        Entity(name="Acme Robotics", country="US", sec_cik="42"), SINCE, client()
    )

    assert result.hits == []
    # The submissions, the name with "China", the name among filers located in China, "China"
    # in the CIK's filings.
    assert len(responses.calls) == 4
    assert SOURCE.data_url == "http://edgar.test/mirror"


def test_the_data_url_has_its_own_override(settings):
    settings.WISHLIST_SOURCE_URLS = {"sec_edgar": "http://edgar.test/efts"}
    settings.WISHLIST_SEC_EDGAR_DATA_URL = "http://edgar.test/data/"

    assert SOURCE.base_url == "http://edgar.test/efts"
    assert SOURCE.data_url == "http://edgar.test/data"


def test_the_default_urls_are_the_secs(settings):
    settings.WISHLIST_SOURCE_URLS = {}
    settings.WISHLIST_SEC_EDGAR_DATA_URL = ""

    assert SOURCE.base_url == "https://efts.sec.gov/LATEST"
    assert SOURCE.data_url == "https://data.sec.gov"


@responses.activate
def test_a_404_is_a_permanent_error(configured):
    responses.get(f"{DATA}/CIK0000000042.json", status=404)

    with pytest.raises(PermanentHttpError, match="HTTP 404"):
        SOURCE.search(Entity(name="Acme Robotics", country="US", sec_cik="42"), SINCE, client())
    assert len(responses.calls) == 1


@responses.activate
@pytest.mark.parametrize("body", [b"<html>Request rate threshold exceeded</html>", b'{"hits": []}'])
def test_a_malformed_body_is_a_permanent_error(configured, body):
    responses.get(EFTS, body=body)

    with pytest.raises(PermanentHttpError):
        SOURCE.search(Entity(name="Acme Robotics", country="GB"), SINCE, client())


# ------------------------------------------------------------------- through services


@pytest.fixture
def only_this_source(use_sources):
    # The registry imports every source module; these tests are about this one.
    use_sources(SOURCE)


@responses.activate
def test_a_check_files_a_lead_once(db, configured, only_this_source):
    serve_documents()
    entity = EntityFactory(name="Acme Robotics Ltd", country="GB")
    case = CaseFactory(entity=entity)
    ReferralFactory(entity=entity, date=datetime.date(2017, 5, 1), date_precision="month")
    derived.case_index_dates_refresh(case_ids=[case.id])
    responses.get(EFTS, json=efts_body(SHENZHEN_8K))

    [first] = checks_services.checks_queue(pairs=[(case.id, "sec_edgar")])
    run = checks_services.check_execute(check_run_id=first, client=client())

    assert run.status == CheckRun.Status.OK
    assert run.leads_created == 1
    assert '"acme robotics" China' in run.query
    lead = Finding.objects.get(case=case)
    assert lead.source == "sec_edgar"
    assert lead.review_state == Finding.ReviewState.LEAD
    assert lead.kind == Finding.Kind.PARTNERSHIP
    assert lead.counterparty_name == "Shenzhen Example Technology Co., Ltd."
    assert lead.counterparty_country == "CN"
    assert lead.event_date == datetime.date(2019, 3, 4)
    assert lead.event_date_precision == "day"
    assert lead.timing == Finding.Timing.AFTER
    assert lead.external_id == "sec_edgar:0001213900-19-003812"

    [second] = checks_services.checks_queue(pairs=[(case.id, "sec_edgar")])
    again = checks_services.check_execute(check_run_id=second, client=client())

    # A re-check asks only from two weeks before the last day searched: the 2019 filing
    # is not asked for again, and nothing is filed twice.
    assert again.status == CheckRun.Status.NO_RESULTS
    assert again.searched_from == run.searched_to - datetime.timedelta(days=14)
    assert again.leads_created == 0
    assert Finding.objects.filter(case=case).count() == 1


def test_a_check_without_a_user_agent_is_skipped(db, settings, only_this_source):
    settings.SEC_USER_AGENT = ""
    case = CaseFactory()
    ReferralFactory(entity=case.entity)
    derived.case_index_dates_refresh(case_ids=[case.id])

    [run_id] = checks_services.checks_queue(pairs=[(case.id, "sec_edgar")])
    run = checks_services.check_execute(check_run_id=run_id, client=client())

    assert run.status == CheckRun.Status.SKIPPED
    assert run.error == "not configured: set SEC_USER_AGENT"


# ------------------------------------------------------- locations, forms and mentions


@pytest.mark.parametrize(
    ("location", "state", "incorporated", "name", "country"),
    [
        ("Haidian District, Beijing", "", "", "Example Holdings", "CN"),
        ("Beijing, F4", "F4", "E9", "Example Holdings", "CN"),
        ("Central, K3", "", "", "Example Holdings", "HK"),
        ("Singapore, U0", "U0", "K3", "Example Holdings", "HK"),  # incorporated in Hong Kong
        ("San Francisco, CA", "CA", "DE", "China Basin Capital Partners, L.P.", ""),
        ("Taipei, F5", "F5", "F5", "China Steel Corp", ""),
        ("Taipei, Taiwan", "", "", "Example Holdings", ""),
        ("", "", "DE", "China Example Fund", ""),  # EDGAR gives a place: the name is not read
        ("", "", "", "China Example Fund", "CN"),  # no place at all: the name decides
    ],
)
def test_a_partys_country_comes_from_its_location_before_its_name(
    location, state, incorporated, name, country
):
    assert (
        party_country(location=location, state=state, incorporated=incorporated, name=name)
        == country
    )


def test_a_filer_in_a_beijing_district_without_a_state_code_is_chinese():
    body = efts_hit(
        "0001-22-000001",
        form="SC 13D",
        display_names=[
            "Acme Robotics Ltd  (CIK 0001500001)",
            "Zhongguancun Example Capital Co., Ltd.  (CIK 0001900010)",
        ],
        biz_locations=["Boston, MA", "Haidian District, Beijing"],
    )
    body["_source"]["biz_states"] = ["MA", ""]
    filings, _ = parse_search(efts_body(body))

    hit = judge(filings[0])

    assert [party.country for party in filings[0].parties] == ["", "CN"]
    assert hit.counterparty_name == "Zhongguancun Example Capital Co., Ltd."
    assert hit.counterparty_country == "CN"


def test_a_us_holder_with_china_in_its_name_is_not_a_chinese_party():
    body = efts_hit(
        "0001800777-23-000002",
        form="SC 13G",
        display_names=[
            "China Basin Capital Partners, L.P.  (CIK 0001800777)",
            "Acme Robotics Ltd  (ACME)  (CIK 0001500001)",
        ],
        biz_locations=["San Francisco, CA", "Boston, MA"],
        inc_states=["DE", "DE"],
    )
    filings, _ = parse_search(efts_body(body))
    subject = filing_subject(filings[0], names=NAMES, phrase="acme robotics", since=SINCE)

    assert judge(filings[0]) is None
    # A deal form with no Chinese party: its document is read, and the text cannot make
    # the San Francisco fund Chinese either (see the documents tests).
    assert wants_document(subject, frozenset())


@pytest.mark.parametrize("form", ["SC TO-T", "SC TO-C", "SC 14D9/A", "SC 13E3", "DEFM14A",
                                  "PREM14A", "425", "S-4/A", "F-4"])  # fmt: skip
def test_tender_offer_and_merger_forms_are_acquisitions_and_asked_for(form):
    filing = Filing(accession="x", form=form, filed=SINCE)

    assert filing_kind(filing) == Finding.Kind.ACQUISITION
    assert is_deal_form(filing)
    assert form.removesuffix("/A") in FORMS


@pytest.mark.parametrize(
    ("form", "items", "deal"),
    [
        ("8-K", ("1.01", "9.01"), True),
        ("8-K", ("3.02",), True),
        ("8-K", ("2.02", "9.01"), False),
        ("6-K", (), True),
        ("SC 13G/A", (), True),
        ("10-K", (), False),
        ("20-F", (), False),
    ],
)
def test_deal_forms_are_told_from_reports(form, items, deal):
    assert is_deal_form(Filing(accession="x", form=form, filed=SINCE, items=items)) is deal


def test_a_chinese_filers_annual_report_naming_the_entity_is_only_a_mention():
    annual = efts_hit(
        "0001213900-20-000900",
        form="10-K",
        display_names=["Shenzhen Example Technology Co., Ltd.  (CIK 0001700001)"],
        biz_locations=["Shenzhen, F4"],
    )
    filings, _ = parse_search(efts_body(annual, SHENZHEN_8K))

    mention, deal = (judge(filing) for filing in filings)

    assert mention.counterparty_country == "CN"
    assert mention.score == MENTION_SCORE < django_settings.WISHLIST_MATCH_THRESHOLD
    assert "only a mention" in mention.explanation
    assert deal.score == 100  # the same filer's 8-K item 1.01 is a deal form


def test_filings_after_the_span_are_not_hits():
    filings, _ = parse_search(efts_body(SHENZHEN_8K))  # filed 2019-03-04

    assert judge(filings[0], until=datetime.date(2019, 3, 3)) is None
    assert judge(filings[0], until=datetime.date(2019, 3, 4)) is not None


def test_a_deal_the_document_names_takes_its_counterparty_and_sentence():
    body = efts_hit(
        "0001193125-17-005921",
        display_names=["VALEANT PHARMACEUTICALS INTERNATIONAL, INC.  (VRX)  (CIK 0000885590)"],
        biz_locations=["Laval, A8"],
        items=["1.01", "9.01"],
        file_date="2019-01-09",
    )
    filings, _ = parse_search(efts_body(body))
    sentence = "Valeant agreed to sell Acme Robotics to Example Group Co., Ltd., a PRC company."
    party = TextParty(name="Example Group Co., Ltd.", country="CN", sentence=sentence)

    assert judge(filings[0]) is None
    hit = judge(filings[0], text_party=party)

    assert hit.counterparty_name == "Example Group Co., Ltd."
    assert hit.kind == Finding.Kind.ACQUISITION  # "to sell" says more than item 1.01
    assert sentence in hit.excerpt
    assert hit.score == 100
    assert "the document names 'Example Group Co., Ltd.'" in hit.explanation


def test_an_undone_deal_is_flagged_and_scored_below_the_threshold():
    filings, _ = parse_search(efts_body(HK_13D))
    party = TextParty(name="Example Group Co., Ltd.", country="CN", sentence="...", undone=True)
    subject = filing_subject(filings[0], names=NAMES, phrase="", since=SINCE)
    # Take the parties away so the text's party is the counterparty.
    subject = dataclasses.replace(
        subject, filing=dataclasses.replace(subject.filing, parties=subject.filing.parties[:1])
    )

    hit = filing_hit(subject, evidence_sha256=SHA, text_party=party)

    assert DID_NOT_COMPLETE in hit.flags
    assert hit.score == UNDONE_SCORE < django_settings.WISHLIST_MATCH_THRESHOLD


# ------------------------------------------------------------------- document text


def test_document_text_drops_markup_scripts_and_entities():
    raw = (
        b"<html><head><style>p {color: red}</style><script>var x = 1;</script></head>"
        b"<body><p>Acme&nbsp;Robotics &amp; Sanpower</p>\n<p>Item&#160;1.01</p></body></html>"
    )

    assert document_text(raw) == "Acme Robotics & Sanpower Item 1.01"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Valeant entered into a Stock Purchase Agreement to sell Dendreon Pharmaceuticals "
            "LLC to Sanpower Group Co., Ltd., a company organised in the People's Republic of "
            "China, for $819.9 million in cash.",
            [("Sanpower Group Co., Ltd.", "CN")],
        ),
        (
            "Acme Robotics and Shanghai Fosun Pharmaceutical (Group) Co., Ltd. announced a "
            "collaboration; Fosun Pharma will make an equity investment.",
            # The short name is on the gazetteer of Chinese groups too.
            [("Shanghai Fosun Pharmaceutical (Group) Co., Ltd.", "CN"), ("Fosun Pharma", "CN")],
        ),
        (
            "Acme Robotics agreed to sell its unit to China's Weichai Power Co., Ltd. and to "
            "Taiwan Semiconductor Manufacturing Company Limited.",
            [("Weichai Power Co., Ltd.", "CN")],
        ),
        (
            "Acme Robotics signed with Kowloon Example Holdings Limited of Hong Kong.",
            [("Kowloon Example Holdings Limited", "HK")],
        ),
        (
            "Acme Robotics signed with Formosa Example Corp., a company incorporated in the "
            "Republic of China.",
            [],
        ),
        (
            "China Basin Capital Partners, L.P., a Delaware limited partnership based in San "
            "Francisco, California, reports beneficial ownership of 5.3% of Acme Robotics.",
            [],
        ),
        (
            "In 2016 and 2018 Beijing Example Tech Co., Ltd. of China acquired Acme Robotics.",
            [],  # history: the filing is from 2022
        ),
        ("Our revenue from customers in China may fall; the PRC may impose tariffs.", []),
        (
            "Hong Kong Exchanges and Clearing Limited and The Stock Exchange of Hong Kong "
            "Limited take no responsibility for the contents of this announcement of Acme "
            "Robotics; the China Securities Regulatory Commission approved it.",
            [],  # an exchange's disclaimer and a regulator are no counterparties
        ),
        (
            "Acme Robotics (Shanghai) Trading Co., Ltd., our subsidiary, signed the agreement.",
            [],  # the entity's own company in China
        ),
    ],
)
def test_the_document_names_the_companies_it_places_in_china(text, expected):
    found = chinese_parties(text, names=NAMES, filed_year=2022)

    assert [(party.name, party.country) for party in found] == expected


def test_a_party_of_the_filing_keeps_its_edgar_country_in_the_text():
    text = "Shanghai Example Fund LP, of New York, bought shares of Acme Robotics."

    assert chinese_parties(text, names=NAMES, others={"shanghai example fund": ""}) == []


def test_a_terminated_deal_is_marked_undone():
    text = "Acme Robotics terminated the merger agreement with Hangzhou Example Holdings Co., Ltd."

    [party] = chinese_parties(text, names=NAMES)

    assert party.undone


def test_a_short_name_is_recognised_from_another_filing():
    known = [TextParty(name="Shanghai Fosun Pharmaceutical (Group) Co., Ltd.", country="CN",
                       sentence="")]  # fmt: skip
    text = "Acme Robotics and Fosun Pharma establish a joint venture to make vaccines."

    [party] = named_again(text, known=known, names=NAMES)

    assert (party.name, party.country) == ("Fosun Pharma", "CN")
    assert named_again("Acme Robotics and Pfizer Inc. agree.", known=known, names=NAMES) == []


# ------------------------------------------------------- the search: spans, documents


ARCHIVES = "https://www.sec.gov/Archives/edgar/data"
# Another company's 8-K (a Canadian seller) reporting the sale of the entity to a Chinese
# buyer named only in its text.
SELLER_8K = efts_hit(
    "0001193125-19-005921",
    display_names=["VALEANT PHARMACEUTICALS INTERNATIONAL, INC.  (VRX)  (CIK 0000885590)"],
    biz_locations=["Laval, A8"],
    items=["1.01", "9.01"],
    file_date="2019-01-09",
    document="d322178d8k.htm",
)
SELLER_DOCUMENT = (
    b"<html><body><p>Item 1.01 Entry into a Material Definitive Agreement.</p><p>Valeant "
    b"entered into a Stock Purchase Agreement to sell Acme Robotics Ltd to Sanpower Group "
    b"Co., Ltd., a company organised in the People&#8217;s Republic of China, for $819.9 "
    b"million in cash.</p></body></html>"
)


def test_it_says_what_it_detects_and_where_its_archive_starts():
    assert {Finding.Kind.ACQUISITION, Finding.Kind.EQUITY_INVESTMENT} <= set(SOURCE.detects)
    assert set(SOURCE.detects) <= set(Finding.Kind.values)
    assert SOURCE.archive_start == datetime.date(2001, 1, 1)


def test_windows_are_five_calendar_years_from_the_archive_start():
    # Fixed to the calendar (2000, 2005, 2010 ...), so a resumed check asks the same spans.
    assert SOURCE.windows(datetime.date(2000, 6, 1), datetime.date(2007, 3, 4)) == [
        (datetime.date(2001, 1, 1), datetime.date(2004, 12, 31)),
        (datetime.date(2005, 1, 1), datetime.date(2007, 3, 4)),
    ]
    assert SOURCE.windows(datetime.date(2016, 2, 29), datetime.date(2022, 1, 1)) == [
        (datetime.date(2016, 2, 29), datetime.date(2019, 12, 31)),
        (datetime.date(2020, 1, 1), datetime.date(2022, 1, 1)),
    ]
    assert SOURCE.windows(datetime.date(2019, 5, 2), datetime.date(2019, 5, 2)) == [
        (datetime.date(2019, 5, 2), datetime.date(2019, 5, 2))
    ]


@responses.activate
def test_search_asks_only_for_its_span(configured):
    responses.get(EFTS, json=efts_body(SHENZHEN_8K))  # filed 2019-03-04

    result = SOURCE.search(
        Entity(name="Acme Robotics Ltd", country="GB"),
        datetime.date(2018, 1, 1),
        client(),
        until=datetime.date(2018, 12, 31),
    )

    assert {c.request.params["enddt"] for c in responses.calls} == {"2018-12-31"}
    assert {c.request.params["startdt"] for c in responses.calls} == {"2018-01-01"}
    assert result.hits == []  # the filing is outside the span, whatever the server says
    assert result.searched_to == datetime.date(2018, 12, 31)


@responses.activate
def test_search_reads_a_deal_filings_document_for_the_chinese_party(configured):
    responses.get(EFTS, json=efts_body(SELLER_8K))
    document = responses.get(
        f"{ARCHIVES}/885590/000119312519005921/d322178d8k.htm", body=SELLER_DOCUMENT
    )

    result = SOURCE.search(Entity(name="Acme Robotics Ltd", country="GB"), SINCE, client())

    # The name with "China" and among Chinese filers both find it; it is read once.
    assert document.call_count == 1
    [hit] = result.hits
    assert hit.counterparty_name == "Sanpower Group Co., Ltd."
    assert hit.counterparty_country == "CN"
    assert hit.kind == Finding.Kind.ACQUISITION
    assert hit.evidence_sha256 == hashlib.sha256(SELLER_DOCUMENT).hexdigest()
    assert hit.url == f"{ARCHIVES}/885590/000119312519005921/d322178d8k.htm"
    assert f"GET {ARCHIVES}/885590/000119312519005921/d322178d8k.htm" in result.query


@responses.activate
def test_a_chinese_filers_deal_form_naming_the_entity_outside_a_deal_is_a_mention(configured):
    responses.get(EFTS, json=efts_body(SHENZHEN_8K))
    serve_documents(
        b"<p>Item 1.01. Shenzhen Example Technology Co., Ltd. signed a loan agreement with a "
        b"bank.</p><p>Our new director, Ms. Li, worked at Acme Robotics Ltd for ten years.</p>"
    )

    result = SOURCE.search(Entity(name="Acme Robotics Ltd", country="GB"), SINCE, client())

    [hit] = result.hits
    assert hit.score == MENTION_SCORE
    assert "names the entity in no sentence about a deal" in hit.explanation


def test_the_deal_sentence_is_the_one_naming_the_entity_in_a_deal():
    text = (
        "Acme Robotics Ltd is a leading maker of arms. Shenzhen Example Technology Co., Ltd. "
        "acquired a 20% stake in Acme Robotics Ltd. Ms. Li worked at Example Partners."
    )

    assert deal_sentence(text, NAMES) == (
        "Shenzhen Example Technology Co., Ltd. acquired a 20% stake in Acme Robotics Ltd."
    )
    assert deal_sentence("Ms. Li holds an MBA from Acme Robotics Ltd.", NAMES) == ""


@responses.activate
def test_a_missing_document_is_noted_and_files_nothing(configured):
    responses.get(EFTS, json=efts_body(SELLER_8K))
    responses.get(f"{ARCHIVES}/885590/000119312519005921/d322178d8k.htm", status=404)

    result = SOURCE.search(Entity(name="Acme Robotics Ltd", country="GB"), SINCE, client())

    assert result.hits == []
    assert "(no such document)" in result.query


@responses.activate
def test_an_empty_document_is_a_permanent_error(configured):
    responses.get(EFTS, json=efts_body(SELLER_8K))
    responses.get(f"{ARCHIVES}/885590/000119312519005921/d322178d8k.htm", body=b"  ")

    with pytest.raises(PermanentHttpError, match="empty document"):
        SOURCE.search(Entity(name="Acme Robotics Ltd", country="GB"), SINCE, client())


@responses.activate
def test_only_the_start_of_a_long_document_is_read(configured, monkeypatch):
    monkeypatch.setattr("cases.checks.sources.sec_edgar.MAX_DOCUMENT_BYTES", 40)
    responses.get(EFTS, json=efts_body(SELLER_8K))
    responses.get(
        f"{ARCHIVES}/885590/000119312519005921/d322178d8k.htm",
        body=b"<p>Item 1.01 Nothing said yet.</p>" + b" " * 100 + SELLER_DOCUMENT,
    )

    result = SOURCE.search(Entity(name="Acme Robotics Ltd", country="GB"), SINCE, client())

    assert result.hits == []  # Sanpower is named after the part read
    assert "(read the first 40 bytes of" in result.query


@responses.activate
def test_documents_are_read_at_most_a_few_per_search(configured, monkeypatch):
    monkeypatch.setattr("cases.checks.sources.sec_edgar.MAX_DOCUMENTS", 2)
    filings = [
        efts_hit(
            f"0001193125-19-00{number:04d}",
            display_names=["Example Seller Inc.  (CIK 0000885590)"],
            biz_locations=["Laval, A8"],
            items=["1.01"],
            file_date=f"2019-0{number}-01",
        )
        for number in range(1, 5)
    ]
    responses.get(EFTS, json=efts_body(*filings))
    responses.get(re.compile(rf"{ARCHIVES}/.*"), body=b"<p>Nothing Chinese here.</p>")

    result = SOURCE.search(Entity(name="Acme Robotics Ltd", country="GB"), SINCE, client())

    documents_asked = [c for c in responses.calls if "/Archives/" in c.request.url]
    # The earliest two, nearest the referral: January and February.
    assert [c.request.url.rsplit("/", 2)[-2][-4:] for c in documents_asked] == ["0001", "0002"]
    assert "(document of 0001193125-19-000003 not read: 2 already read)" in result.query


@responses.activate
def test_a_query_with_more_hits_than_pages_is_asked_again_by_year(configured, monkeypatch):
    serve_documents()
    monkeypatch.setattr("cases.checks.sources.sec_edgar.MAX_PAGES", 1)
    responses.get(EFTS, json=efts_body(SHENZHEN_8K, total=250))

    result = SOURCE.search(
        Entity(name="Acme Robotics Ltd", country="GB"),
        datetime.date(2018, 6, 1),
        client(),
        until=datetime.date(2019, 12, 31),
    )

    spans = [
        (c.request.params["startdt"], c.request.params["enddt"])
        for c in responses.calls
        if "search-index" in c.request.url
    ]
    assert spans.count(("2018-06-01", "2018-12-31")) == 2  # each of the two queries
    assert spans.count(("2019-01-01", "2019-12-31")) == 2
    assert "asked again year by year" in result.query
    assert [hit.external_id for hit in result.hits] == ["sec_edgar:0001213900-19-003812"]


# ------------------------------------------------------------------------ bad input


@responses.activate
@pytest.mark.parametrize(
    "body",
    [
        b"",
        b'{"hits": {"total": {"value": 3}, "hits": [{"_id": "0001-19',  # cut off mid-page
        b"<!DOCTYPE html><html><body>Service Unavailable</body></html>",
    ],
)
def test_an_empty_truncated_or_html_body_is_a_permanent_error(configured, body):
    responses.get(EFTS, body=body, status=200)

    with pytest.raises(PermanentHttpError, match="not JSON"):
        SOURCE.search(Entity(name="Acme Robotics", country="GB"), SINCE, client())


@responses.activate
def test_a_200_with_an_error_text_is_a_permanent_error(configured):
    responses.get(EFTS, json={"error": "Invalid date range"}, status=200)

    with pytest.raises(PermanentHttpError, match="Invalid date range"):
        SOURCE.search(Entity(name="Acme Robotics", country="GB"), SINCE, client())


@responses.activate
def test_a_total_that_keeps_growing_ends_the_list_with_a_note(configured):
    serve_documents()
    pages = [
        efts_body(
            efts_hit(
                f"0001-19-{page:06d}",
                display_names=["Beijing Example Co Ltd  (CIK 0001900004)"],
                biz_locations=["Beijing, F4"],
                items=["1.01"],
            ),
            total=page + 2,
        )
        for page in range(10)
    ]
    served = iter(pages)
    responses.add_callback(
        responses.GET, EFTS, callback=lambda request: (200, {}, json.dumps(next(served)))
    )

    result = SOURCE.search(Entity(name="Acme Robotics", country="GB"), SINCE, client())

    # Each of the two queries keeps its first page and drops the page whose total moved.
    assert "stopped: the total changed from 2 to 3" in result.query
    assert "stopped: the total changed from 4 to 5" in result.query
    assert sorted(hit.external_id for hit in result.hits) == [
        "sec_edgar:0001-19-000000",
        "sec_edgar:0001-19-000002",
    ]


@responses.activate
def test_an_offset_that_repeats_a_page_ends_the_list_with_a_note(configured):
    serve_documents()
    responses.get(EFTS, json=efts_body(SHENZHEN_8K, total=5))

    result = SOURCE.search(Entity(name="Acme Robotics Ltd", country="GB"), SINCE, client())

    assert "stopped: a page repeated filings already read" in result.query
    assert len(result.hits) == 1


@responses.activate
def test_filings_dated_in_the_future_are_left_out_and_noted(configured):
    serve_documents()
    future = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    later = efts_hit(
        "0001213900-99-000001",
        file_date=future,
        display_names=["Shenzhen Example Technology Co., Ltd.  (CIK 0001700001)"],
        biz_locations=["Shenzhen, F4"],
        items=["1.01"],
    )
    responses.get(EFTS, json=efts_body(later, SHENZHEN_8K))

    result = SOURCE.search(Entity(name="Acme Robotics Ltd", country="GB"), SINCE, client())

    assert [hit.external_id for hit in result.hits] == ["sec_edgar:0001213900-19-003812"]
    assert "1 filings dated after today left out" in result.query


# ------------------------------------------------- against the yield harness's replay server

YIELD = REGISTRIES.parents[1] / "yield"  # ../shared/yield beside ../shared/fixtures


@pytest.fixture(scope="module")
def replay_url():
    """The yield harness's replay server on a free loopback port, serving its dev corpus
    (EDGAR's full-text search, submissions and Archives as the real ones answer)."""
    corpus = YIELD / "dev" / "corpus.json"
    if not corpus.exists():
        message = f"{corpus} is missing (../shared not beside this clone)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    server = subprocess.Popen(
        [sys.executable, str(YIELD / "replay.py"), str(corpus), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    ready = server.stdout.readline().split()  # "READY <port> ...", once it serves
    try:
        assert ready[:1] == ["READY"], ready
        yield f"http://127.0.0.1:{ready[1]}"
    finally:
        server.terminate()
        server.wait()


@pytest.fixture
def replayed(configured, replay_url):
    configured.WISHLIST_SOURCE_URLS = {"sec_edgar": f"{replay_url}/sec_edgar/LATEST"}
    configured.WISHLIST_SEC_EDGAR_DATA_URL = f"{replay_url}/sec_edgar"
    return configured


def test_a_sellers_8k_names_the_chinese_buyer_in_its_text(replayed):
    entity = Entity(name="Dendreon Corporation", country="US")

    result = SOURCE.search(entity, datetime.date(2016, 5, 1), client())

    [hit] = result.hits
    assert (hit.counterparty_name, hit.counterparty_country) == ("Sanpower Group Co., Ltd.", "CN")
    assert hit.kind == Finding.Kind.ACQUISITION
    assert hit.event_date == datetime.date(2017, 1, 9)
    assert "People's Republic of China" in hit.excerpt


@pytest.mark.parametrize(
    ("name", "since", "found"),
    [
        ("Dendreon Corporation", datetime.date(2016, 5, 1), ["Sanpower Group Co., Ltd."]),
        ("BioNTech SE", datetime.date(2019, 5, 1), ["Shanghai Fosun Pharmaceutical", "Fosun"]),
    ],
)
def test_searching_span_by_span_finds_the_same(replayed, name, since, found):
    entity = Entity(name=name, country="US")
    spans = SOURCE.windows(since, datetime.date.today())

    hits = [
        hit
        for first, last in spans
        for hit in SOURCE.search(entity, first, client(), until=last).hits
        if hit.score >= 85
    ]

    assert len(spans) > 1
    assert len(hits) == len(found)
    assert all(
        expected in hit.counterparty_name
        for expected, hit in zip(found, sorted(hits, key=lambda hit: hit.event_date), strict=True)
    )


def test_the_entitys_own_deal_reports_name_their_chinese_partner(replayed):
    entity = Entity(name="BioNTech SE", country="DE")

    result = SOURCE.search(entity, datetime.date(2019, 5, 1), client())

    by_day = {hit.event_date: hit for hit in result.hits}
    assert sorted(by_day) == [datetime.date(2020, 3, 16), datetime.date(2021, 5, 10)]
    assert "Fosun" in by_day[datetime.date(2020, 3, 16)].counterparty_name
    assert "Fosun" in by_day[datetime.date(2021, 5, 10)].counterparty_name
    assert {hit.counterparty_country for hit in result.hits} == {"CN"}
    # Its annual reports' China risk factors are no deal.
    assert all(hit.score >= 85 for hit in result.hits)


@pytest.mark.parametrize("cik", ["", "1820144"])
def test_a_us_holder_named_china_and_a_recounted_divestment_are_not_leads(replayed, cik):
    entity = Entity(name="Grindr LLC", country="US", sec_cik=cik)

    result = SOURCE.search(entity, datetime.date(2015, 6, 1), client())

    assert [hit for hit in result.hits if hit.score >= 85] == []
