"""The OpenAlex source: institution and work parsers on recorded and hand-made bodies,
the search end to end with HTTP mocked, and leads filed through the check service."""

import datetime
import hashlib
import json

import pytest
import responses
from responses import matchers

from cases import derived
from cases.checks import services as checks_services
from cases.checks.http import HttpClient, PermanentHttpError
from cases.checks.matching import NameMatch
from cases.checks.ratelimit import LocalRateLimiter
from cases.checks.sources import SourceSkipped, get_sources
from cases.checks.sources.openalex import (
    SOURCE,
    Institution,
    best_institution,
    parse_institution,
    parse_institutions,
    parse_work,
    parse_works,
)
from cases.checks.sources.openalex.parsing import (
    batches,
    lineage_filter,
    members_on_work,
    parse_works_page,
)
from cases.models import CheckRun, Entity, Finding
from tests.factories import CaseFactory, EntityFactory, ReferralFactory

API = "https://api.openalex.org"
SINCE = datetime.date(2017, 5, 1)
UNTIL = datetime.date(2021, 12, 31)
SHA = "0" * 64
MATCH = NameMatch(100.0, "by the entity's OpenAlex id")
KEY = "test-openalex-key"


@pytest.fixture(autouse=True)
def forget_institutions():
    """Each test looks its institution up afresh."""
    SOURCE._resolved.clear()


def client() -> HttpClient:
    return HttpClient(
        source="openalex", rate_per_second=None, limiter=LocalRateLimiter(), sleep=lambda s: None
    )


def institution(id_: str, name: str, country: str, ror: str = "") -> dict:
    return {
        "id": f"https://openalex.org/{id_}",
        "display_name": name,
        "country_code": country,
        "ror": f"https://ror.org/{ror}" if ror else None,
        "type": "education",
    }


OURS = institution("I4210001", "University of Exampleshire", "GB", "0abcde123")
TSINGHUA = institution("I99065089", "Tsinghua University", "CN")
HKU = institution("I889458895", "University of Hong Kong", "HK")
MIT = institution("I63966007", "Massachusetts Institute of Technology", "US")


def work(id_: str, *institution_lists: list[dict], **fields) -> dict:
    body = {
        "id": f"https://openalex.org/{id_}",
        "doi": f"https://doi.org/10.1234/{id_.lower()}",
        "title": f"A study numbered {id_}",
        "display_name": f"A study numbered {id_}",
        "publication_date": "2019-06-15",
        "publication_year": 2019,
        "created_date": "2019-07-01",
        "authorships": [
            {"author_position": "middle", "institutions": insts, "countries": []}
            for insts in institution_lists
        ],
    }
    body.update(fields)
    return body


def works_page(*works: dict, next_cursor: str | None = None) -> dict:
    return {
        "meta": {"count": len(works), "per_page": 100, "next_cursor": next_cursor},
        "results": list(works),
    }


# ----------------------------------------------------------------- recorded responses


def test_it_parses_the_recorded_institution(recorded):
    data = json.loads(recorded("openalex/institution_I27837315.json"))

    parsed = parse_institution(data)

    assert parsed.id == "I27837315"
    assert parsed.display_name == "University of Michigan"
    assert parsed.country_code == "US"
    assert parsed.ror == "00jmfr291"
    assert "University of Michigan–Ann Arbor" in parsed.alternative_names
    assert "UM" in parsed.alternative_names


def test_the_recorded_institution_is_found_by_its_names(recorded):
    parsed = parse_institution(json.loads(recorded("openalex/institution_I27837315.json")))

    found = best_institution(["Université du Michigan"], [parsed], threshold=85)

    assert found is not None
    assert found[0] is parsed
    assert found[1].score == 100


def test_the_recorded_work_has_no_chinese_co_author(recorded):
    body = recorded("openalex/work_W2741809807.json")

    hits = parse_work(
        json.loads(body),
        institution_id="I201448701",  # University of Washington, one of its institutions
        match=MATCH,
        since=datetime.date(2018, 1, 1),
        evidence_sha256=hashlib.sha256(body).hexdigest(),
    )

    assert hits == []


def test_the_recorded_work_in_a_list_with_a_chinese_co_author(recorded):
    recorded_work = json.loads(recorded("openalex/work_W2741809807.json"))
    recorded_work["authorships"][0]["institutions"].append(TSINGHUA)

    hits, cursor = parse_works(
        works_page(recorded_work),
        institution_id="I201448701",
        match=MATCH,
        since=datetime.date(2018, 1, 1),
        evidence_sha256=SHA,
    )

    assert cursor == ""
    [hit] = hits
    assert hit.kind == Finding.Kind.CO_PUBLICATION
    assert hit.counterparty_name == "Tsinghua University"
    assert hit.counterparty_country == "CN"
    assert hit.event_date == datetime.date(2018, 2, 13)
    assert hit.event_date_precision == "day"
    assert hit.url == "https://doi.org/10.7717/peerj.4375"
    assert hit.excerpt.startswith("The state of OA")
    assert hit.external_id == "openalex:W2741809807:I99065089"


# ------------------------------------------------------------------ hand-made bodies


def test_each_chinese_institution_on_a_work_is_one_hit():
    page = works_page(
        work("W1", [OURS, TSINGHUA], [TSINGHUA], [HKU], [MIT]),
        next_cursor="abc",
    )

    hits, cursor = parse_works(
        page, institution_id="I4210001", match=MATCH, since=SINCE, evidence_sha256=SHA
    )

    assert cursor == "abc"
    assert [(h.counterparty_name, h.counterparty_country, h.external_id) for h in hits] == [
        ("Tsinghua University", "CN", "openalex:W1:I99065089"),
        ("University of Hong Kong", "HK", "openalex:W1:I889458895"),
    ]
    assert {h.score for h in hits} == {100}
    assert {h.explanation for h in hits} == {"by the entity's OpenAlex id"}


def test_a_year_only_work_has_year_precision():
    hits = parse_work(
        work("W2", [OURS, HKU], publication_date=None, publication_year=2017),
        institution_id="I4210001",
        match=MATCH,
        since=SINCE,
        evidence_sha256=SHA,
    )

    [hit] = hits
    assert hit.event_date == datetime.date(2017, 1, 1)
    assert hit.event_date_precision == "year"


def test_works_before_the_referral_give_nothing():
    early = work("W3", [OURS, TSINGHUA], publication_date="2017-04-30")
    early_year = work("W4", [OURS, TSINGHUA], publication_date=None, publication_year=2016)

    hits, _ = parse_works(
        works_page(early, early_year),
        institution_id="I4210001",
        match=MATCH,
        since=SINCE,
        evidence_sha256=SHA,
    )

    assert hits == []


def test_a_work_with_missing_fields_still_parses():
    bare = {
        "id": "https://openalex.org/W5",
        "authorships": [
            {"institutions": [{"id": "https://openalex.org/I7", "country_code": "MO"}]},
            {"institutions": [{"display_name": "No id, not citable", "country_code": "CN"}]},
            {"institutions": None},
            "not an authorship",
        ],
    }

    [hit] = parse_work(
        bare, institution_id="I4210001", match=MATCH, since=SINCE, evidence_sha256=SHA
    )

    assert hit.counterparty_name == "I7"
    assert hit.counterparty_country == "MO"
    assert hit.event_date is None
    assert hit.event_date_precision == ""
    assert hit.url == "https://openalex.org/W5"
    assert hit.excerpt == ""


def test_non_latin_institution_names_are_kept():
    chinese = institution("I1", "中国科学院", "cn")

    [hit] = parse_work(
        work("W6", [OURS, chinese]),
        institution_id="I4210001",
        match=MATCH,
        since=SINCE,
        evidence_sha256=SHA,
    )

    assert hit.counterparty_name == "中国科学院"
    assert hit.counterparty_country == "CN"


def test_taiwan_is_not_a_chinese_counterparty():
    taiwan = institution("I2", "National Taiwan University", "TW")

    assert (
        parse_work(
            work("W7", [OURS, taiwan]),
            institution_id="I4210001",
            match=MATCH,
            since=SINCE,
            evidence_sha256=SHA,
        )
        == []
    )


def test_an_empty_works_list_has_no_hits():
    assert parse_works(
        {"meta": {"count": 0, "next_cursor": None}, "results": []},
        institution_id="I1",
        match=MATCH,
        since=SINCE,
        evidence_sha256=SHA,
    ) == ([], "")


def test_it_parses_an_institution_list_and_picks_the_best_match():
    data = {
        "meta": {"count": 2},
        "results": [
            institution("I10", "University of Exampleshire Hospital", "GB"),
            institution("I11", "University of Exampleshire", "GB"),
        ],
    }

    institutions = parse_institutions(data)
    found = best_institution(["University of Exampleshire"], institutions, threshold=85)

    assert [i.id for i in institutions] == ["I10", "I11"]
    assert found[0].id == "I11"
    assert found[1].score == 100


def test_no_institution_above_the_threshold_is_no_match():
    institutions = [Institution(id="I12", display_name="Exampleshire College of Art")]

    assert best_institution(["University of Exampleshire"], institutions, threshold=85) is None


@pytest.mark.parametrize("body", [[], {"meta": {}}, {"results": {}}, {"results": [{"id": None}]}])
def test_an_institution_list_of_the_wrong_shape_is_a_permanent_error(body):
    with pytest.raises(PermanentHttpError, match="OpenAlex"):
        parse_institutions(body)


@pytest.mark.parametrize("body", [[], {"meta": {}}, {"results": {}}, {"results": [{"title": "x"}]}])
def test_a_works_list_of_the_wrong_shape_is_a_permanent_error(body):
    with pytest.raises(PermanentHttpError, match="OpenAlex"):
        parse_works(body, institution_id="I1", match=MATCH, since=SINCE, evidence_sha256=SHA)


def test_a_single_record_without_an_id_is_a_permanent_error():
    with pytest.raises(PermanentHttpError, match="institution record without an id"):
        parse_institution({"error": "Not found"})


def test_a_counterparty_on_the_dod_list_is_flagged():
    # The list ships with the project (cases/reference), so this never needs ../shared.
    listed = institution("I3", "Huawei Technologies Co., Ltd.", "CN")

    [hit] = parse_work(
        work("W8", [OURS, listed]),
        institution_id="I4210001",
        match=MATCH,
        since=SINCE,
        evidence_sha256=SHA,
    )

    assert hit.flags == ("dod_1260h: Huawei Technologies Co., Ltd.",)


# ------------------------------------------------------------------------ the source


@pytest.fixture
def configured(settings):
    settings.OPENALEX_API_KEY = KEY
    return settings


def university(**fields) -> Entity:
    values = {"name": "University of Exampleshire", "country": "GB", "kind": "university"}
    return Entity(**{**values, **fields})


def test_it_is_a_named_source():
    assert SOURCE.name == "openalex"
    assert SOURCE.name in get_sources()
    # A free key's 10,000 list calls a day, one every ten seconds.
    assert SOURCE.rate_per_second == 0.1
    assert SOURCE.detects == (Finding.Kind.CO_PUBLICATION,)


def test_it_is_skipped_without_a_key(settings):
    settings.OPENALEX_API_KEY = ""

    assert SOURCE.skip_reason(university()) == "not configured: set OPENALEX_API_KEY"


def test_it_is_skipped_for_companies(configured):
    reason = SOURCE.skip_reason(university(kind="company"))

    assert reason == "only for universities and research institutes (this is a company)"


@pytest.mark.parametrize("kind", ["university", "research_institute"])
def test_it_runs_for_universities_and_institutes(configured, kind):
    assert SOURCE.skip_reason(university(kind=kind)) == ""


@responses.activate
def test_search_by_openalex_id_reads_co_publications(configured):
    responses.get(
        f"{API}/institutions/I4210001",
        json=OURS,
        match=[matchers.query_param_matcher({"api_key": KEY})],
    )
    first = responses.get(
        f"{API}/works",
        json=works_page(work("W1", [OURS, TSINGHUA]), next_cursor="page2"),
        match=[matchers.query_param_matcher({"cursor": "*"}, strict_match=False)],
    )
    second = responses.get(
        f"{API}/works",
        json=works_page(work("W9", [OURS, HKU], publication_date="2021-01-05")),
        match=[matchers.query_param_matcher({"cursor": "page2"}, strict_match=False)],
    )

    result = SOURCE.search(university(openalex_id="I4210001"), SINCE, client(), until=UNTIL)

    assert first.call_count == second.call_count == 1
    asked = first.calls[0].request.params
    assert asked["api_key"] == KEY
    assert asked["filter"] == (
        "authorships.institutions.lineage:I4210001,institutions.country_code:cn|hk|mo,"
        "from_publication_date:2017-05-01,to_publication_date:2021-12-31"
    )
    assert asked["sort"] == "publication_date:asc"
    assert asked["per_page"] == "200"
    assert result.searched_to is None  # all of the span was read
    assert [h.external_id for h in result.hits] == [
        "openalex:W1:I99065089",
        "openalex:W9:I889458895",
    ]
    assert result.hits[0].score == 100
    assert "OpenAlex id I4210001" in result.hits[0].explanation
    sha = hashlib.sha256(first.calls[0].response.content).hexdigest()
    assert result.hits[0].evidence_sha256 == sha
    assert KEY not in result.query
    assert f"GET {API}/institutions/I4210001" in result.query
    assert "(2 pages)" in result.query


@responses.activate
def test_paging_stops_at_the_page_limit_and_says_how_far_it_read(configured, monkeypatch):
    monkeypatch.setattr("cases.checks.sources.openalex.MAX_PAGES", 2)
    responses.get(f"{API}/institutions/I4210001", json=OURS)
    pages = (("W1", "*", "c2", "2018-03-01"), ("W2", "c2", "c3", "2018-07-09"))
    for id_, cursor, following, day in pages:
        responses.get(
            f"{API}/works",
            json=works_page(
                work(id_, [OURS, TSINGHUA], publication_date=day),
                next_cursor=following,
            ),
            match=[matchers.query_param_matcher({"cursor": cursor}, strict_match=False)],
        )

    result = SOURCE.search(university(openalex_id="I4210001"), SINCE, client(), until=UNTIL)

    assert len(responses.calls) == 3
    assert len(result.hits) == 2
    assert "(2 pages) (stopped at the page limit)" in result.query
    # Sorted by date: everything before the last day read is complete.
    assert result.searched_to == datetime.date(2018, 7, 8)
    assert "read in full up to 2018-07-08" in result.query


@responses.activate
def test_a_cursor_given_twice_ends_the_list_with_a_note(configured):
    responses.get(f"{API}/institutions/I4210001", json=OURS)
    responses.get(f"{API}/works", json=works_page(work("W1", [OURS, TSINGHUA]), next_cursor="same"))

    result = SOURCE.search(university(openalex_id="I4210001"), SINCE, client(), until=UNTIL)

    assert len(responses.calls) == 3  # the institution, the first page, the repeat
    assert len(result.hits) == 1
    assert "(2 pages) (stopped: OpenAlex gave a cursor it had given before)" in result.query
    assert result.searched_to == datetime.date(2019, 6, 14)


@responses.activate
def test_search_by_ror_id(configured):
    responses.get(f"{API}/institutions/ror:0abcde123", json=OURS)
    responses.get(f"{API}/works", json=works_page())

    result = SOURCE.search(university(ror_id="0abcde123"), SINCE, client())

    assert result.hits == []
    assert f"GET {API}/institutions/ror:0abcde123" in result.query


@responses.activate
def test_search_by_name_within_the_entitys_country(configured):
    search = responses.get(
        f"{API}/institutions",
        json={"meta": {"count": 1}, "results": [OURS]},
        match=[
            matchers.query_param_matcher(
                {
                    "search": "University of Exampleshire",
                    "filter": "country_code:gb",
                    "api_key": KEY,
                }
            )
        ],
    )
    responses.get(f"{API}/works", json=works_page(work("W1", [OURS, TSINGHUA])))

    result = SOURCE.search(university(), SINCE, client())

    assert search.call_count == 1
    [hit] = result.hits
    assert hit.score == 100
    assert hit.explanation.startswith("OpenAlex institution I4210001: ")


@responses.activate
def test_search_without_a_matching_institution_is_skipped(configured):
    responses.get(
        f"{API}/institutions",
        json={"meta": {"count": 1}, "results": [institution("I5", "Exampleshire Zoo", "GB")]},
    )

    with pytest.raises(SourceSkipped, match="no OpenAlex institution in GB matches"):
        SOURCE.search(university(), SINCE, client())
    assert len(responses.calls) == 1


@responses.activate
def test_the_base_url_can_be_overridden(configured):
    configured.WISHLIST_SOURCE_URLS = {"openalex": "http://openalex.test/api/"}
    responses.get("http://openalex.test/api/institutions/I4210001", json=OURS)
    responses.get("http://openalex.test/api/works", json=works_page())

    result = SOURCE.search(university(openalex_id="I4210001"), SINCE, client())

    assert result.hits == []
    assert len(responses.calls) == 2


@responses.activate
def test_a_404_is_a_permanent_error(configured):
    responses.get(f"{API}/institutions/I404", status=404)

    with pytest.raises(PermanentHttpError, match="HTTP 404"):
        SOURCE.search(university(openalex_id="I404"), SINCE, client())
    assert len(responses.calls) == 1


@responses.activate
@pytest.mark.parametrize("body", [b"<html>Service Unavailable</html>", b'{"results": null}'])
def test_a_malformed_body_is_a_permanent_error(configured, body):
    responses.get(f"{API}/institutions/I4210001", json=OURS)
    responses.get(f"{API}/works", body=body)

    with pytest.raises(PermanentHttpError):
        SOURCE.search(university(openalex_id="I4210001"), SINCE, client())


# ------------------------------------------------ lineage, batches, names, windows


def child(id_: str, name: str, country: str, *parents: str) -> dict:
    """An institution on a work's authorship, with the lineage OpenAlex gives it."""
    record = institution(id_, name, country)
    record["lineage"] = [f"https://openalex.org/{i}" for i in (id_, *parents)]
    return record


OUR_MEDICAL_SCHOOL = child("I4210009", "Exampleshire Medical School", "GB", "I4210001")


def test_a_work_credited_to_a_child_institution_is_ours():
    page = works_page(work("W10", [OUR_MEDICAL_SCHOOL], [TSINGHUA]))

    hits, _ = parse_works(
        page, institution_id="I4210001", match=MATCH, since=SINCE, evidence_sha256=SHA
    )

    assert [h.external_id for h in hits] == ["openalex:W10:I99065089"]


def test_a_work_of_no_member_gives_nothing():
    # A server that ignored the filter: the work names neither us nor a child of ours.
    page = works_page(work("W11", [MIT], [TSINGHUA]))

    hits, _ = parse_works(
        page, institution_id="I4210001", match=MATCH, since=SINCE, evidence_sha256=SHA
    )

    assert hits == []


def test_a_chinese_campus_of_ours_is_a_party_in_china_and_said_to_be_ours():
    campus = child("I4210010", "University of Exampleshire Ningbo", "CN", "I4210001")

    [hit] = parse_work(
        work("W12", [OURS], [campus]),
        institution_id="I4210001",
        match=MATCH,
        since=SINCE,
        evidence_sha256=SHA,
    )

    assert hit.counterparty_country == "CN"
    assert "places University of Exampleshire Ningbo under I4210001" in hit.explanation


def test_a_batch_gives_each_work_to_the_institutions_it_carries():
    other = institution("I4220002", "Other University", "DE")
    matches = {
        "I4210001": NameMatch(100.0, "ours"),
        "I4220002": NameMatch(100.0, "theirs"),
        "I4230003": NameMatch(100.0, "no works"),
    }
    page = works_page(
        work("W20", [OUR_MEDICAL_SCHOOL], [TSINGHUA]),
        work("W21", [other], [HKU], [TSINGHUA]),
        work("W22", [OURS], [other], [HKU]),
        next_cursor="next",
    )

    read = parse_works_page(page, members=matches, since=SINCE, until=UNTIL, evidence_sha256=SHA)

    def ids(member):
        return [h.external_id for h in read.hits[member]]

    assert ids("I4210001") == ["openalex:W20:I99065089", "openalex:W22:I889458895"]
    assert ids("I4220002") == [
        "openalex:W21:I889458895",
        "openalex:W21:I99065089",
        "openalex:W22:I889458895",
    ]
    assert ids("I4230003") == []
    assert read.next_cursor == "next"
    assert read.works == 3
    assert {h.explanation for h in read.hits["I4220002"]} == {"theirs"}


def test_members_on_work_reads_lineage_and_ids():
    credited = work("W23", [OUR_MEDICAL_SCHOOL], [MIT])

    assert members_on_work(credited, {"I4210001", "I63966007", "I1"}) == {
        "I4210001",
        "I63966007",
    }


def test_the_lineage_filter_joins_up_to_100_institutions():
    text = lineage_filter(["I1", "I2"], SINCE, UNTIL)

    assert text == (
        "authorships.institutions.lineage:I1|I2,institutions.country_code:cn|hk|mo,"
        "from_publication_date:2017-05-01,to_publication_date:2021-12-31"
    )
    with pytest.raises(ValueError):
        lineage_filter([f"I{n}" for n in range(101)], SINCE, UNTIL)


def test_batches_are_at_most_100_without_repeats():
    ids = [f"I{n}" for n in range(250)] + ["I0"]

    groups = batches(ids)

    assert [len(group) for group in groups] == [100, 100, 50]
    assert groups[0][0] == "I0" and groups[2][-1] == "I249"


def test_works_outside_the_span_are_counted_and_left_out():
    page = works_page(
        work("W30", [OURS, TSINGHUA], publication_date="2017-04-30"),
        work("W31", [OURS, TSINGHUA], publication_date="2020-02-02"),
        work("W32", [OURS, TSINGHUA], publication_date="2022-01-01"),
    )

    read = parse_works_page(
        page, members={"I4210001": MATCH}, since=SINCE, until=UNTIL, evidence_sha256=SHA
    )

    assert [h.external_id for h in read.hits["I4210001"]] == ["openalex:W31:I99065089"]
    assert read.outside == 2
    assert read.last_date == datetime.date(2022, 1, 1)


def test_an_error_in_a_200_body_is_a_permanent_error_with_its_message():
    body = {"error": "Invalid query parameters error.", "message": "foo is not a valid field"}

    with pytest.raises(PermanentHttpError, match="foo is not a valid field"):
        parse_works(body, institution_id="I1", match=MATCH, since=SINCE, evidence_sha256=SHA)


MICHIGAN = institution("I27837315", "University of Michigan", "US")
MICHIGAN_STATE = institution("I87216513", "Michigan State University", "US")
WESTERN_MICHIGAN = institution("I28407311", "Western Michigan University", "US")
DEARBORN = institution("I4210119909", "University of Michigan–Dearborn", "US")


def test_a_university_is_matched_to_itself_not_to_a_similarly_named_one():
    candidates = parse_institutions(
        {"results": [MICHIGAN_STATE, WESTERN_MICHIGAN, DEARBORN, MICHIGAN]}
    )

    found = best_institution(["University of Michigan"], candidates, threshold=85)

    assert found[0].id == "I27837315"
    assert found[1].score == 100


def test_similarly_named_universities_alone_are_no_match():
    candidates = parse_institutions({"results": [MICHIGAN_STATE, WESTERN_MICHIGAN, DEARBORN]})

    assert best_institution(["University of Michigan"], candidates, threshold=85) is None


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ("University of Miami", "Miami University"),
        ("Washington University", "University of Washington"),
    ],
)
def test_the_other_word_order_is_not_taken_for_the_same_university(ours, theirs):
    candidates = [Institution(id="I1", display_name=theirs, country_code="US")]

    assert best_institution([ours], candidates, threshold=85) is None


def test_two_near_matches_and_no_exact_one_are_left_unresolved():
    candidates = [
        Institution(id="I1", display_name="Universite du Exampleshire"),
        Institution(id="I2", display_name="University of Exampleshyre"),
    ]

    assert best_institution(["University of Exampleshire"], candidates, threshold=85) is None


def test_windows_are_calendar_years():
    spans = SOURCE.windows(datetime.date(2016, 4, 1), datetime.date(2018, 3, 5))

    assert spans == [
        (datetime.date(2016, 4, 1), datetime.date(2016, 12, 31)),
        (datetime.date(2017, 1, 1), datetime.date(2017, 12, 31)),
        (datetime.date(2018, 1, 1), datetime.date(2018, 3, 5)),
    ]


@responses.activate
def test_search_batch_asks_once_for_several_institutions(configured):
    other = institution("I4220002", "Other University", "DE")
    responses.get(f"{API}/institutions/I4210001", json=OURS)
    responses.get(f"{API}/institutions/I4220002", json=other)
    listed = responses.get(
        f"{API}/works",
        json=works_page(work("W40", [OURS], [TSINGHUA]), work("W41", [other], [HKU])),
    )
    entities = [
        university(openalex_id="I4210001"),
        university(name="Other University", country="DE", openalex_id="I4220002"),
        university(name="Unknown College"),
    ]
    responses.get(f"{API}/institutions", json={"meta": {}, "results": []})

    ours, theirs, unknown = SOURCE.search_batch(entities, SINCE, client(), until=UNTIL)

    assert listed.call_count == 1
    assert (
        listed.calls[0]
        .request.params["filter"]
        .startswith("authorships.institutions.lineage:I4210001|I4220002,")
    )
    assert [h.external_id for h in ours.hits] == ["openalex:W40:I99065089"]
    assert [h.external_id for h in theirs.hits] == ["openalex:W41:I889458895"]
    assert isinstance(unknown, SourceSkipped)
    assert "lineage:I4210001|I4220002" in ours.query


@responses.activate
def test_a_span_in_the_future_asks_nothing(configured):
    responses.get(f"{API}/institutions/I4210001", json=OURS)
    later = datetime.date.today() + datetime.timedelta(days=30)

    result = SOURCE.search(
        university(openalex_id="I4210001"), later, client(), until=later + datetime.timedelta(1)
    )

    assert len(responses.calls) == 1
    assert result.hits == []
    assert "in the future" in result.query


@responses.activate
def test_until_after_today_is_cut_at_today(configured):
    responses.get(f"{API}/institutions/I4210001", json=OURS)
    listed = responses.get(f"{API}/works", json=works_page())
    today = datetime.date.today()

    result = SOURCE.search(
        university(openalex_id="I4210001"), SINCE, client(), until=today + datetime.timedelta(9)
    )

    assert f"to_publication_date:{today.isoformat()}" in listed.calls[0].request.params["filter"]
    assert result.searched_to == today


@responses.activate
def test_a_403_says_what_openalex_means_and_hides_the_key(configured):
    responses.get(f"{API}/institutions/I4210001", json=OURS)
    responses.get(
        f"{API}/works",
        status=403,
        json={"error": "Invalid query parameters error.", "message": "bad filter"},
    )

    with pytest.raises(PermanentHttpError, match="invalid query parameters") as raised:
        SOURCE.search(university(openalex_id="I4210001"), SINCE, client(), until=UNTIL)
    assert raised.value.status == 403
    assert KEY not in str(raised.value)
    assert KEY not in raised.value.url


@responses.activate
@pytest.mark.parametrize(
    "body", [b"", b"<!DOCTYPE html><html>Cloudflare</html>", b'{"meta": {"count": 3}, "resu']
)
def test_an_empty_html_or_truncated_page_is_a_permanent_error(configured, body):
    responses.get(f"{API}/institutions/I4210001", json=OURS)
    responses.get(f"{API}/works", body=body)

    with pytest.raises(PermanentHttpError, match="not JSON") as raised:
        SOURCE.search(university(openalex_id="I4210001"), SINCE, client(), until=UNTIL)
    assert KEY not in str(raised.value)


@responses.activate
def test_search_by_name_picks_the_university_not_a_similarly_named_one(configured):
    responses.get(
        f"{API}/institutions",
        json={"meta": {}, "results": [MICHIGAN_STATE, MICHIGAN, WESTERN_MICHIGAN]},
    )
    listed = responses.get(f"{API}/works", json=works_page())

    SOURCE.search(university(name="University of Michigan", country="US"), SINCE, client())

    assert "lineage:I27837315," in listed.calls[0].request.params["filter"]


@responses.activate
def test_search_by_name_between_near_matches_is_skipped_with_the_candidates(configured):
    responses.get(
        f"{API}/institutions", json={"meta": {}, "results": [MICHIGAN_STATE, WESTERN_MICHIGAN]}
    )

    with pytest.raises(SourceSkipped, match="no OpenAlex institution in US matches"):
        SOURCE.search(university(name="University of Michigan", country="US"), SINCE, client())
    assert len(responses.calls) == 1


# ------------------------------------------------------------------- through services


@responses.activate
def test_search_by_name_with_two_near_matches_names_them_in_the_skip_reason(configured):
    responses.get(
        f"{API}/institutions",
        json={
            "meta": {},
            "results": [
                institution("I1", "Universite du Exampleshire", "GB"),
                institution("I2", "University of Exampleshyre", "GB"),
            ],
        },
    )

    with pytest.raises(SourceSkipped, match="more than one OpenAlex institution") as raised:
        SOURCE.search(university(), SINCE, client())
    assert "University of Exampleshyre (I2, 96)" in str(raised.value)
    assert len(responses.calls) == 1  # no works read for a guess


@responses.activate
def test_a_saved_entitys_institution_is_looked_up_once_for_all_spans(db, configured):
    entity = EntityFactory(name="University of Exampleshire", country="GB", kind="university")
    search = responses.get(f"{API}/institutions", json={"meta": {}, "results": [OURS]})
    listed = responses.get(f"{API}/works", json=works_page(work("W1", [OURS, TSINGHUA])))

    spans = SOURCE.windows(datetime.date(2018, 1, 1), datetime.date(2019, 12, 31))
    results = [SOURCE.search(entity, first, client(), until=last) for first, last in spans]

    assert search.call_count == 1
    assert listed.call_count == 2
    assert "looked up earlier today" in results[1].query
    # The work is dated 2019-06-15: only the 2019 span files it.
    assert [len(r.hits) for r in results] == [0, 1]


@pytest.fixture
def only_this_source(use_sources):
    # The registry imports every source module; these tests are about this one.
    use_sources(SOURCE)


@responses.activate
def test_a_check_files_a_lead_once(db, configured, only_this_source):
    entity = EntityFactory(
        name="University of Exampleshire", country="GB", kind="university", openalex_id="I4210001"
    )
    case = CaseFactory(entity=entity)
    ReferralFactory(entity=entity, date=datetime.date(2017, 5, 1), date_precision="month")
    derived.case_index_dates_refresh(case_ids=[case.id])
    responses.get(f"{API}/institutions/I4210001", json=OURS)
    responses.get(f"{API}/works", json=works_page(work("W1", [OURS, TSINGHUA])))

    [first] = checks_services.checks_queue(pairs=[(case.id, "openalex")])
    run = checks_services.check_execute(check_run_id=first, client=client())

    assert run.status == CheckRun.Status.OK
    assert run.leads_created == 1
    assert KEY not in run.query
    lead = Finding.objects.get(case=case)
    assert lead.source == "openalex"
    assert lead.review_state == Finding.ReviewState.LEAD
    assert lead.kind == Finding.Kind.CO_PUBLICATION
    assert lead.counterparty_name == "Tsinghua University"
    assert lead.counterparty_country == "CN"
    assert lead.event_date == datetime.date(2019, 6, 15)
    assert lead.event_date_precision == "day"
    assert lead.timing == Finding.Timing.AFTER
    assert lead.source_url == "https://doi.org/10.1234/w1"
    assert lead.excerpt == "A study numbered W1"

    [second] = checks_services.checks_queue(pairs=[(case.id, "openalex")])
    again = checks_services.check_execute(check_run_id=second, client=client())

    # A re-check asks only from the overlap before the last day searched: the 2019 work
    # is not asked for again, and nothing is filed twice.
    assert again.status == CheckRun.Status.NO_RESULTS
    assert again.searched_from == run.searched_to - datetime.timedelta(days=60)
    assert again.leads_created == 0
    assert Finding.objects.filter(case=case).count() == 1


def test_a_check_for_a_company_is_skipped(db, configured, only_this_source):
    case = CaseFactory()
    ReferralFactory(entity=case.entity)
    derived.case_index_dates_refresh(case_ids=[case.id])

    [run_id] = checks_services.checks_queue(pairs=[(case.id, "openalex")])
    run = checks_services.check_execute(check_run_id=run_id, client=client())

    assert run.status == CheckRun.Status.SKIPPED
    assert run.error == "only for universities and research institutes (this is a company)"
