"""Wikidata: the parsers on bodies of the Wikibase JSON shape
(https://doc.wikimedia.org/Wikibase/master/php/docs_topics_json.html), search() with
HTTP mocked by `responses`, one check through the services, and one run against the
yield replay server (../shared/yield) on loopback."""

import datetime
import json
import os
import subprocess
import sys
from io import StringIO

import pytest
import responses
from django.core.management import call_command
from responses import matchers

from cases import derived
from cases.checks import matching
from cases.checks import services as checks_services
from cases.checks.http import HttpClient, PermanentHttpError, RateLimitedError, TransientHttpError
from cases.checks.ratelimit import LocalRateLimiter
from cases.checks.sources import wikidata as wd
from cases.checks.sources.wikidata import items as wikibase
from cases.models import CheckRun, Entity, Finding
from tests.checks.sources.conftest import REGISTRIES
from tests.factories import CaseFactory, EntityFactory, ReferralFactory

API = "https://www.wikidata.org/w/api.php"
SINCE = datetime.date(2016, 6, 1)
TODAY = datetime.date(2026, 1, 15)
GIVEN = wd.GIVEN
GREGORIAN = "http://www.wikidata.org/entity/Q1985727"
PROPS = tuple(wd.RELATIONS)


# ------------------------------------------------------------ bodies of the real shape


def item_value(qid: str) -> dict:
    return {
        "value": {"entity-type": "item", "numeric-id": int(qid[1:]), "id": qid},
        "type": "wikibase-entityid",
    }


def time_value(written: str, precision: int) -> dict:
    return {
        "value": {
            "time": written,
            "timezone": 0,
            "before": 0,
            "after": 0,
            "precision": precision,
            "calendarmodel": GREGORIAN,
        },
        "type": "time",
    }


def day(text: str) -> dict:
    """A time of day precision; "2016-04" is month precision, "2016" year precision."""
    parts = text.split("-") + ["00", "00"]
    written = f"+{parts[0]}-{parts[1]}-{parts[2]}T00:00:00Z"
    return time_value(written, {1: 9, 2: 10, 3: 11}[len(text.split("-"))])


def snak(prop: str, datavalue: dict | None, *, snaktype: str = "value") -> dict:
    found = {"snaktype": snaktype, "property": prop, "hash": f"h{prop}"}
    if datavalue is not None and snaktype == "value":
        found["datavalue"] = datavalue
        found["datatype"] = "time" if datavalue["type"] == "time" else "wikibase-item"
    return found


def statement(
    prop: str,
    value: str | None,
    *,
    start: str = "",
    end: str = "",
    share: str = "",
    rank: str = "normal",
    snaktype: str = "value",
) -> dict:
    qualifiers = {}
    if start:
        qualifiers["P580"] = [snak("P580", day(start))]
    if end:
        qualifiers["P582"] = [snak("P582", day(end))]
    if share:
        qualifiers["P1107"] = [
            {
                "snaktype": "value",
                "property": "P1107",
                "datavalue": {"value": {"amount": share, "unit": "1"}, "type": "quantity"},
                "datatype": "quantity",
            }
        ]
    found = {
        "mainsnak": snak(prop, item_value(value) if value else None, snaktype=snaktype),
        "type": "statement",
        "id": f"Q1${prop}-{value}",
        "rank": rank,
        "references": [],
    }
    if qualifiers:
        found["qualifiers"] = qualifiers
        found["qualifiers-order"] = list(qualifiers)
    return found


def item(qid: str, label: str, *statements: dict, aliases=(), language: str = "en") -> dict:
    claims: dict[str, list] = {}
    for each in statements:
        claims.setdefault(each["mainsnak"]["property"], []).append(each)
    return {
        "type": "item",
        "id": qid,
        "labels": {language: {"language": language, "value": label}} if label else {},
        "descriptions": {},
        "aliases": {"en": [{"language": "en", "value": alias} for alias in aliases]},
        "claims": claims,
    }


def entities(*items: dict, missing=()) -> dict:
    found = {each["id"]: each for each in items}
    found.update({qid: {"id": qid, "missing": ""} for qid in missing})
    return {"entities": found, "success": 1}


def search_body(*qids: str) -> dict:
    return {
        "searchinfo": {"search": "x"},
        "search": [
            {
                "id": qid,
                "title": qid,
                "concepturi": f"http://www.wikidata.org/entity/{qid}",
                "label": qid,
                "match": {"type": "label", "language": "en", "text": qid},
            }
            for qid in qids
        ],
        "success": 1,
    }


def country(code_item: str, rank: str = "normal") -> dict:
    return statement("P17", code_item, rank=rank)


KRAUSS = item(
    "Q1000",
    "KraussMaffei",
    country("Q183"),
    statement("P749", "Q2000", start="2016-06-21"),
    aliases=("KraussMaffei Group GmbH",),
)
CHEMCHINA = item("Q2000", "ChemChina", country("Q148"), aliases=("China National Chemical",))


# ------------------------------------------------------------------------ parsing


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (day("2016-04-21")["value"], (datetime.date(2016, 4, 21), "day")),
        (day("2016-04")["value"], (datetime.date(2016, 4, 1), "month")),
        (day("2016")["value"], (datetime.date(2016, 1, 1), "year")),
        (time_value("+2010-00-00T00:00:00Z", 8)["value"], (None, "")),  # a decade
        (time_value("-0500-00-00T00:00:00Z", 9)["value"], (None, "")),  # before the era
        (time_value("+2016-02-30T00:00:00Z", 11)["value"], (None, "")),
        (time_value("2016-02-03", 11)["value"], (None, "")),
        ("+2016-02-03T00:00:00Z", (None, "")),
        (None, (None, "")),
    ],
)
def test_a_time_is_read_to_its_precision_and_anything_else_gives_no_date(value, expected):
    assert wikibase.parse_time(value) == expected


def test_relations_are_read_with_start_end_and_share():
    entity = item(
        "Q1",
        "Example",
        statement("P749", "Q10", start="2016-04-21"),
        statement("P127", "Q11", start="2016-01", end="2020-06-10", share="+0.6"),
        statement("P355", "Q12"),
        statement("P1830", "Q13", start="2018"),
        country("Q183"),
    )

    relations = wikibase.parse_relations(entity, PROPS)

    assert [(r.prop, r.counterpart) for r in relations] == [
        ("P749", "Q10"),
        ("P127", "Q11"),
        ("P355", "Q12"),
        ("P1830", "Q13"),
    ]
    owner = relations[1]
    assert (owner.start, owner.start_precision) == (datetime.date(2016, 1, 1), "month")
    assert (owner.end, owner.end_precision) == (datetime.date(2020, 6, 10), "day")
    assert owner.share == 0.6
    assert relations[2].start is None and relations[2].start_precision == ""
    assert relations[3].start_precision == "year"


def test_statements_that_name_no_item_or_are_deprecated_are_skipped():
    entity = item(
        "Q1",
        "Example",
        statement("P127", None, snaktype="somevalue"),  # owned by someone unknown
        statement("P127", None, snaktype="novalue"),
        statement("P749", "Q10", rank="deprecated"),
        statement("P355", "Q12"),
    )
    entity["claims"]["P1830"] = ["not a statement", {"mainsnak": "wrong"}]
    entity["claims"]["P355"].append(
        {"mainsnak": snak("P355", {"value": "Q13", "type": "string"}), "rank": "normal"}
    )

    assert [(r.prop, r.counterpart) for r in wikibase.parse_relations(entity, PROPS)] == [
        ("P355", "Q12")
    ]


def test_claims_of_the_wrong_shape_give_no_relations():
    assert wikibase.parse_relations({"id": "Q1", "claims": ["P127"]}, PROPS) == []
    assert wikibase.parse_relations({"id": "Q1", "claims": {"P127": {"mainsnak": {}}}}, PROPS) == []
    assert wikibase.parse_relations({"id": "Q1"}, PROPS) == []


def test_a_share_in_percent_is_read_as_a_proportion():
    assert wikibase.parse_share({"amount": "+25", "unit": wikibase.PERCENT}) == 0.25
    assert wikibase.parse_share({"amount": "+0.3", "unit": "1"}) == 0.3
    assert wikibase.parse_share({"amount": "+130", "unit": "1"}) is None
    assert wikibase.parse_share({"amount": "lots"}) is None


def test_the_preferred_country_wins_and_taiwan_is_not_china():
    moved = item("Q1", "x", country("Q145"), country("Q148", rank="preferred"))
    assert wikibase.item_countries(moved) == ["CN"]
    assert wikibase.item_countries(item("Q2", "x", country("Q865"))) == ["TW"]
    assert wikibase.item_countries(item("Q3", "x", country("Q8646"), country("Q14773"))) == [
        "HK",
        "MO",
    ]
    assert wikibase.item_countries(item("Q4", "x", country("Q99999999"))) == []


def test_the_label_is_english_else_any_language():
    assert wikibase.item_label(item("Q1", "木林森", language="zh")) == "木林森"
    assert wikibase.item_label(item("Q1", "")) == ""
    assert wikibase.item_names(KRAUSS) == ("KraussMaffei", "KraussMaffei Group GmbH")


def test_items_are_read_by_id_without_missing_ones_and_under_a_redirected_id():
    merged = {**CHEMCHINA, "redirects": {"from": "Q7", "to": "Q2000"}}

    found = wikibase.parse_items(entities(KRAUSS, merged, missing=["Q5"]))

    assert set(found) == {"Q1000", "Q2000", "Q7"}
    assert found["Q7"] is found["Q2000"]
    assert wikibase.parse_items({"entities": {"Q8": CHEMCHINA}})["Q8"] is CHEMCHINA


@pytest.mark.parametrize(
    "body",
    [
        ["not", "an", "object"],
        {"search": []},  # a search answer where entities were asked
        {"entities": ["Q1"]},
        {"error": {"code": "no-such-entity", "info": "Could not find an entity"}},
        {"error": "bad"},
    ],
)
def test_bodies_that_are_not_entities_are_refused(body):
    with pytest.raises(PermanentHttpError):
        wikibase.parse_items(body)


def test_an_api_error_answered_with_200_is_an_error_and_maxlag_is_transient():
    with pytest.raises(PermanentHttpError, match="Unrecognized value"):
        wikibase.parse_search({"error": {"code": "badvalue", "info": "Unrecognized value"}})
    with pytest.raises(TransientHttpError, match="lagged") as lagged:
        wikibase.parse_search({"error": {"code": "maxlag", "info": "Waiting: 7 seconds lagged"}})
    assert not isinstance(lagged.value, PermanentHttpError)
    with pytest.raises(RateLimitedError):
        wikibase.parse_items({"error": {"code": "ratelimited", "info": "slow down"}})
    with pytest.raises(PermanentHttpError, match="no search list"):
        wikibase.parse_search({"success": 1})


def test_the_search_is_read_in_its_order():
    assert wikibase.parse_search(search_body("Q3", "Q1")) == ["Q3", "Q1"]


def test_the_api_is_found_under_a_base_url_or_named_by_it():
    assert wikibase.api_url("https://www.wikidata.org/w") == API
    assert wikibase.api_url(API) == API


def test_the_best_item_matches_a_name_in_our_country():
    namesake = item("Q9", "KraussMaffei Group GmbH", country("Q30"))
    stateless = item("Q8", "KraussMaffei Group GmbH")
    items = {"Q9": namesake, "Q8": stateless, "Q1000": KRAUSS}

    qid, _, match = wd.best_item(items, ["KraussMaffei Group GmbH"], "DE")

    assert qid == "Q1000" and match.score == 100
    assert "country DE agrees" in match.explanation
    assert wd.best_item({"Q9": namesake, "Q8": stateless}, ["KraussMaffei"], "DE") is None


def relations_of(*statements: dict) -> list[wikibase.Relation]:
    return wikibase.parse_relations(item("Q1", "Example", *statements), PROPS)


def kept(*statements: dict, since=SINCE, until=TODAY) -> tuple[list[str], list[str]]:
    relations, notes = wd.in_period(
        relations_of(*statements), since=since, until=until, today=TODAY
    )
    return [relation.counterpart for relation in relations], notes


def test_a_relation_begun_before_the_span_is_not_news_of_it():
    assert kept(statement("P749", "Q10", start="2016-05-31")) == ([], [])
    assert kept(statement("P749", "Q10", start="2016-06-01")) == (["Q10"], [])


def test_a_start_dated_to_a_year_that_overlaps_the_span_is_kept():
    assert kept(statement("P749", "Q10", start="2016"))[0] == ["Q10"]
    assert kept(statement("P749", "Q10", start="2015"))[0] == []


def test_a_relation_after_the_span_is_left_for_a_later_one():
    until = datetime.date(2018, 12, 31)
    assert kept(statement("P127", "Q10", start="2019-01-02"), until=until) == ([], [])


def test_a_start_in_the_future_is_skipped_and_noted():
    relations, notes = kept(statement("P127", "Q10", start="2031-01-01"))
    assert relations == [] and "in the future" in notes[0]


def test_a_relation_ended_before_the_span_is_skipped_even_without_a_start():
    relations, notes = kept(statement("P127", "Q10", end="2016-03"))
    assert relations == [] and "ended 2016-03-01" in notes[0]
    assert kept(statement("P127", "Q10", end="2016-06"))[0] == ["Q10"]


def test_a_relation_that_ends_before_it_starts_is_skipped():
    relations, notes = kept(statement("P127", "Q10", start="2019-01-01", end="2018-01-01"))
    assert relations == [] and "before it starts" in notes[0]


def test_a_relation_with_no_start_is_kept_undated():
    assert kept(statement("P749", "Q10"))[0] == ["Q10"]


def hits_for(*statements: dict, counterparts: tuple[dict, ...] = ()) -> list:
    entity = item("Q1", "Example", country("Q183"), *statements)
    relations = wikibase.parse_relations(entity, PROPS)
    others = {each["id"]: each for each in counterparts}
    return wd.relation_hits("Q1", entity, relations, others, match=GIVEN)


def test_a_chinese_parent_is_an_acquisition_dated_by_its_start():
    [hit] = hits_for(statement("P749", "Q2000", start="2016-04-21"), counterparts=(CHEMCHINA,))

    assert hit.kind == Finding.Kind.ACQUISITION
    assert (hit.counterparty_name, hit.counterparty_country) == ("ChemChina", "CN")
    assert (hit.event_date, hit.event_date_precision) == (datetime.date(2016, 4, 21), "day")
    assert hit.excerpt == (
        "Wikidata: Example — parent organization (P749) ChemChina since 2016-04-21."
    )
    assert hit.external_id == "wikidata:Q1:P749:Q2000"
    assert hit.url == "https://www.wikidata.org/wiki/Q1"
    assert (hit.score, len(hit.evidence_sha256)) == (100.0, 64)
    assert "Wikidata id given" in hit.explanation


def test_an_owner_in_hong_kong_with_a_minority_share_is_an_equity_investment():
    owner = item("Q20", "Beijing Enterprises Holdings", country("Q8646"))
    [hit] = hits_for(
        statement("P127", "Q20", start="2017-03", end="2020-06-10", share="+0.3"),
        counterparts=(owner,),
    )

    assert hit.kind == Finding.Kind.EQUITY_INVESTMENT
    assert hit.counterparty_country == "HK"
    assert (hit.event_date, hit.event_date_precision) == (datetime.date(2017, 3, 1), "month")
    assert hit.excerpt == (
        "Wikidata: Example — owned by (P127) Beijing Enterprises Holdings since 2017-03, "
        "until 2020-06-10, a share of 30%."
    )


def test_subsidiaries_and_holdings_in_china_are_subsidiary_leads():
    macau = item("Q30", "Example Macau Ltd", country("Q14773"))
    shanghai = item("Q31", "上海示例有限公司", country("Q148"), language="zh")
    hits = hits_for(
        statement("P355", "Q30", start="2019"),
        statement("P1830", "Q31", start="2020-02-02"),
        counterparts=(macau, shanghai),
    )

    assert [(h.kind, h.counterparty_name, h.counterparty_country) for h in hits] == [
        (Finding.Kind.SUBSIDIARY, "Example Macau Ltd", "MO"),
        (Finding.Kind.SUBSIDIARY, "上海示例有限公司", "CN"),
    ]
    assert hits[0].event_date_precision == "year"
    assert "owner of (P1830)" in hits[1].excerpt


def test_owners_in_taiwan_singapore_or_no_known_country_give_nothing():
    taiwan = item("Q40", "Example Taipei Corp", country("Q865"))
    singapore = item("Q41", "Razer Inc.", country("Q334"))
    nowhere = item("Q42", "Somebody Holdings")
    assert (
        hits_for(
            statement("P127", "Q40", start="2017-01-01"),
            statement("P749", "Q41", start="2016-10-17"),
            statement("P127", "Q42", start="2018-01-01"),
            statement("P127", "Q43", start="2018-01-01"),  # missing from Wikidata
            counterparts=(taiwan, singapore, nowhere),
        )
        == []
    )


def test_an_owner_that_is_the_chinese_state_itself_is_in_china():
    prc = item("Q148", "People's Republic of China")  # a country item has no P17 of its own
    [hit] = hits_for(statement("P127", "Q148", start="2019-05-01"), counterparts=(prc,))
    assert (hit.counterparty_name, hit.counterparty_country) == ("People's Republic of China", "CN")
    taiwan = item("Q865", "Taiwan")
    assert hits_for(statement("P127", "Q865", start="2019-05-01"), counterparts=(taiwan,)) == []


def test_a_relation_with_no_start_is_a_lead_with_no_date():
    [hit] = hits_for(statement("P749", "Q2000"), counterparts=(CHEMCHINA,))

    assert (hit.event_date, hit.event_date_precision) == (None, "")
    assert hit.excerpt.endswith("ChemChina, with no start date.")


def test_a_counterparty_on_the_dod_list_is_flagged(monkeypatch):
    monkeypatch.setattr(
        matching, "dod_1260h_flag", lambda name: "dod_1260h: ChemChina" * (name == "ChemChina")
    )
    [hit] = hits_for(statement("P749", "Q2000", start="2017-01-01"), counterparts=(CHEMCHINA,))
    assert hit.flags == ("dod_1260h: ChemChina",)


# ------------------------------------------------------------------------ search()


@pytest.fixture
def client():
    return HttpClient(
        source="wikidata", rate_per_second=None, limiter=LocalRateLimiter(), sleep=lambda s: None
    )


@pytest.fixture
def mocked(settings):
    settings.WISHLIST_SOURCE_URLS = {"wikidata": ""}
    with responses.RequestsMock() as mock:
        yield mock


def asks(**params) -> list:
    return [matchers.query_param_matcher(params, strict_match=False)]


def get_entities(mocked, ids: str, body: dict | bytes) -> None:
    answer = {"body": body} if isinstance(body, bytes) else {"json": body}
    mocked.get(API, match=asks(action="wbgetentities", ids=ids, format="json"), **answer)


def german(name: str, **fields) -> Entity:
    return Entity(name=name, country="DE", kind=Entity.Kind.COMPANY, **fields)


def test_an_entity_with_its_id_reads_its_item_then_its_counterparts(mocked, client):
    get_entities(mocked, "Q1000", entities(KRAUSS))
    get_entities(mocked, "Q2000", entities(CHEMCHINA))

    result = wd.SOURCE.search(german("KraussMaffei", wikidata_id="Q1000"), SINCE, client)

    [hit] = result.hits
    assert (hit.counterparty_name, hit.event_date) == ("ChemChina", datetime.date(2016, 6, 21))
    assert result.query.startswith("item Q1000 (KraussMaffei): Wikidata id given")
    assert "maxlag=5" in result.query and "props=labels" in result.query
    assert len(mocked.calls) == 2


def test_an_entity_without_an_id_is_searched_by_name_then_by_its_name_key(mocked, client):
    for term, found in (("KraussMaffei Group GmbH", ()), ("kraussmaffei group", ("Q9", "Q1000"))):
        searched = asks(action="wbsearchentities", search=term)
        mocked.get(API, match=searched, json=search_body(*found))
    namesake = item("Q9", "KraussMaffei Technologies", country("Q30"))
    get_entities(mocked, "Q9|Q1000", entities(namesake, KRAUSS))
    get_entities(mocked, "Q2000", entities(CHEMCHINA))

    result = wd.SOURCE.search(german("KraussMaffei Group GmbH"), SINCE, client)

    [hit] = result.hits
    assert hit.external_id == "wikidata:Q1000:P749:Q2000"
    assert hit.score == 100 and "found by 'kraussmaffei group'" in hit.explanation
    search = mocked.calls[1].request.params
    assert (search["language"], search["type"], int(search["limit"])) == ("en", "item", 20)


def test_the_terms_are_the_name_its_key_then_other_names_at_most_three():
    assert wd.entity_terms(["Dendreon Corporation", "Dendreon", "Provenge maker"]) == [
        "Dendreon Corporation",
        "dendreon",
        "Dendreon",
    ]
    assert wd.entity_terms(["LEDVANCE", "朗德万斯"]) == ["LEDVANCE", "朗德万斯"]  # case is ignored


def test_a_term_whose_items_do_not_match_gives_way_to_the_next(mocked, client):
    searched = asks(action="wbsearchentities", search="Example Lighting Ltd")
    mocked.get(API, match=searched, json=search_body("Q9"))
    get_entities(mocked, "Q9", entities(item("Q9", "Example Lighting Ltd", country("Q30"))))
    searched = asks(action="wbsearchentities", search="example lighting")
    mocked.get(API, match=searched, json=search_body("Q9"))  # read already: not asked again
    mocked.get(API, match=asks(search="朗德万斯"), json=search_body("Q1000"))
    get_entities(mocked, "Q1000", entities(item("Q1000", "朗德万斯", country("Q183"))))

    entity = german("Example Lighting Ltd", name_native="朗德万斯")
    result = wd.SOURCE.search(entity, SINCE, client)

    assert result.query.startswith("item Q1000 (朗德万斯)")
    assert len(mocked.calls) == 5


def test_no_item_matching_well_enough_files_nothing_and_asks_no_more(mocked, client):
    mocked.get(API, match=asks(action="wbsearchentities"), json=search_body("Q9"))
    get_entities(mocked, "Q9", entities(item("Q9", "Kraus Logistics", country("Q183"))))

    result = wd.SOURCE.search(german("KraussMaffei"), SINCE, client)

    assert result.hits == [] and "no item matched" in result.query
    assert len(mocked.calls) == 2


def test_an_item_with_nothing_in_the_span_reads_no_counterparts(mocked, client):
    old = item("Q1000", "KraussMaffei", country("Q183"), statement("P749", "Q2000", start="2012"))
    get_entities(mocked, "Q1000", entities(old))

    result = wd.SOURCE.search(german("KraussMaffei", wikidata_id="Q1000"), SINCE, client)

    assert result.hits == [] and len(mocked.calls) == 1


def test_counterparts_are_read_fifty_to_a_request(mocked, client):
    subsidiaries = [statement("P355", f"Q{5000 + n}", start="2018-01-01") for n in range(60)]
    big = item("Q1000", "KraussMaffei", country("Q183"), *subsidiaries)
    get_entities(mocked, "Q1000", entities(big))
    first = "|".join(f"Q{5000 + n}" for n in range(50))
    rest = "|".join(f"Q{5000 + n}" for n in range(50, 60))
    china = [item(f"Q{5000 + n}", f"Sub {n}", country("Q148")) for n in range(60)]
    get_entities(mocked, first, entities(*china[:50]))
    get_entities(mocked, rest, entities(*china[50:]))

    result = wd.SOURCE.search(german("KraussMaffei", wikidata_id="Q1000"), SINCE, client)

    assert len(result.hits) == 60 and len(mocked.calls) == 3


def test_a_span_reads_only_what_began_within_it(mocked, client):
    two = item(
        "Q1000",
        "KraussMaffei",
        country("Q183"),
        statement("P355", "Q30", start="2017-02-01"),
        statement("P355", "Q31", start="2019-02-01"),
    )
    get_entities(mocked, "Q1000", entities(two))
    get_entities(mocked, "Q30", entities(item("Q30", "Early", country("Q148"))))

    result = wd.SOURCE.search(
        german("KraussMaffei", wikidata_id="Q1000"),
        SINCE,
        client,
        until=datetime.date(2018, 12, 31),
    )

    assert [hit.counterparty_name for hit in result.hits] == ["Early"]


def test_the_entitys_item_missing_from_wikidata_is_an_error(mocked, client):
    get_entities(mocked, "Q1000", entities(missing=["Q1000"]))

    with pytest.raises(PermanentHttpError, match="Q1000 is missing"):
        wd.SOURCE.search(german("KraussMaffei", wikidata_id="Q1000"), SINCE, client)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<!DOCTYPE html><html><body>Wikimedia Error</body></html>",
        json.dumps(entities(KRAUSS)).encode()[:200],  # truncated
        json.dumps({"error": {"code": "badvalue", "info": "Unrecognized value"}}).encode(),
        json.dumps({"success": 1}).encode(),
    ],
    ids=["empty", "html", "truncated", "error", "no-entities"],
)
def test_a_body_that_is_not_entities_is_an_error_and_files_nothing(mocked, client, body):
    mocked.get(API, body=body, status=200)

    with pytest.raises(PermanentHttpError):
        wd.SOURCE.search(german("KraussMaffei", wikidata_id="Q1000"), SINCE, client)


def test_a_counterpart_batch_that_fails_fails_the_search(mocked, client):
    get_entities(mocked, "Q1000", entities(KRAUSS))
    get_entities(mocked, "Q2000", b"<html>")

    with pytest.raises(PermanentHttpError):
        wd.SOURCE.search(german("KraussMaffei", wikidata_id="Q1000"), SINCE, client)


def test_the_base_url_setting_moves_every_request(mocked, client, settings):
    settings.WISHLIST_SOURCE_URLS = {"wikidata": "http://mirror.test/w/"}
    mirror = "http://mirror.test/w/api.php"
    mocked.get(mirror, match=asks(ids="Q1000"), json=entities(KRAUSS))
    mocked.get(mirror, match=asks(ids="Q2000"), json=entities(CHEMCHINA))

    assert len(wd.SOURCE.search(german("x", wikidata_id="Q1000"), SINCE, client).hits) == 1


def test_individuals_are_skipped():
    person = Entity(name="Jane Doe", country="DE", kind=Entity.Kind.INDIVIDUAL)
    assert "organisations" in wd.SOURCE.skip_reason(person)
    assert wd.SOURCE.skip_reason(german("KraussMaffei")) == ""


def test_the_source_says_what_it_detects():
    assert set(wd.SOURCE.detects) == {
        Finding.Kind.ACQUISITION,
        Finding.Kind.EQUITY_INVESTMENT,
        Finding.Kind.SUBSIDIARY,
    }
    assert wd.SOURCE.windows(SINCE, TODAY) == [(SINCE, TODAY)]


@pytest.mark.django_db
def test_a_check_files_the_parent_as_a_lead_after_the_referral_once(mocked, client, use_sources):
    use_sources(wd.SOURCE)
    entity = EntityFactory(name="KraussMaffei Group GmbH", country="DE", wikidata_id="Q1000")
    ReferralFactory(entity=entity, date=datetime.date(2015, 9, 1), date_precision="month")
    case = CaseFactory(entity=entity)
    derived.case_index_dates_refresh(case_ids=[case.id])
    for _ in range(2):
        get_entities(mocked, "Q1000", entities(KRAUSS))
        get_entities(mocked, "Q2000", entities(CHEMCHINA))

    [run_id] = checks_services.checks_queue(pairs=[(case.id, "wikidata")])
    run = checks_services.check_execute(check_run_id=run_id, client=client)

    assert (run.status, run.leads_created) == (CheckRun.Status.OK, 1)
    lead = Finding.objects.get(case=case)
    assert (lead.kind, lead.counterparty_name) == (Finding.Kind.ACQUISITION, "ChemChina")
    assert lead.timing == Finding.Timing.AFTER

    [again] = checks_services.checks_queue(pairs=[(case.id, "wikidata")])
    rerun = checks_services.check_execute(check_run_id=again, client=client)
    assert (rerun.status, rerun.leads_created) == (CheckRun.Status.OK, 0)


# ------------------------------------------------------- the yield replay server

YIELD = REGISTRIES.parent.parent / "yield"


@pytest.fixture
def replay():
    """The base URL of replay.py serving the dev corpus on a free loopback port."""
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
    try:
        # replay.py prints "READY <port> ..." once its socket listens.
        ready = server.stdout.readline().split()
        assert ready[:1] == ["READY"], f"replay.py did not start: {ready}"
        yield f"http://127.0.0.1:{ready[1]}/wikidata/w"
    finally:
        server.terminate()
        server.wait(timeout=30)


def check(case) -> None:
    call_command(
        "run_checks", "--sync", "--case", str(case.id), "--source", "wikidata", stdout=StringIO()
    )


@pytest.mark.django_db
def test_the_replayed_wikidata_yields_the_chinese_buyer_by_name_alone(replay, settings):
    entity = EntityFactory(name="EEW Energy from Waste GmbH", country="DE")
    ReferralFactory(entity=entity, date=datetime.date(2015, 10, 1), date_precision="month")
    case = CaseFactory(entity=entity)
    derived.case_index_dates_refresh(case_ids=[case.id])
    settings.WISHLIST_SOURCE_URLS = {"wikidata": replay}
    settings.WISHLIST_SOURCE_RATES = {"wikidata": 100.0}  # a local server needs no pause

    check(case)

    lead = Finding.objects.get(case=case, source="wikidata")
    assert (lead.counterparty_name, lead.counterparty_country) == (
        "Beijing Enterprises Holdings",
        "HK",
    )
    assert lead.kind == Finding.Kind.ACQUISITION
    assert (lead.event_date, lead.event_date_precision) == (datetime.date(2016, 3, 31), "day")
    assert lead.timing == Finding.Timing.AFTER
    run = CheckRun.objects.get(case=case, source="wikidata")
    assert "wbsearchentities" in run.query and "eew energy from waste" in run.query


@pytest.mark.django_db
def test_the_replayed_western_owner_listed_in_hong_kong_is_no_lead(replay, settings):
    entity = EntityFactory(name="THX Ltd.", country="US")
    ReferralFactory(entity=entity, date=datetime.date(2016, 3, 1), date_precision="month")
    case = CaseFactory(entity=entity)
    derived.case_index_dates_refresh(case_ids=[case.id])
    settings.WISHLIST_SOURCE_URLS = {"wikidata": replay}
    settings.WISHLIST_SOURCE_RATES = {"wikidata": 100.0}

    check(case)

    assert not Finding.objects.filter(case=case).exists()
    run = CheckRun.objects.get(case=case, source="wikidata")
    assert run.status == CheckRun.Status.NO_RESULTS and "item Q210000110" in run.query
