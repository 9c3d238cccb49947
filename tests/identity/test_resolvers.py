"""Each resolver's parser: on the recorded real responses where there are some
(GLEIF, SEC EDGAR, Companies House, OpenAlex), on bodies in the documented shapes for
ROR and Wikidata, and refusing bodies that are not what the registry documents."""

import json

import pytest

from cases.checks.http import PermanentHttpError
from cases.identity.resolvers import (
    best_first,
    companies_house,
    gleif,
    openalex,
    ror,
    sec_edgar,
    wikidata,
)
from tests.identity import bodies


def load(recorded, name: str) -> object:
    return json.loads(recorded(name))


def test_gleif_candidates_from_the_recorded_lei_records(recorded):
    data = load(recorded, "gleif/multi_lei_records.json")
    found = gleif.candidates_from(data, ["Amazon Digital UK Ltd"], "GB")
    assert len(found) == len(data["data"])
    best = best_first(found)[0]
    assert (best.identifier, best.name, best.country) == (
        "254900LNRYNOQ9YPU758",
        "Amazon Digital UK Limited",
        "GB",
    )
    assert best.score == 100
    assert "legal name" in best.explanation and "country GB agrees" in best.explanation


def test_gleif_a_record_in_another_country_scores_less(recorded):
    data = load(recorded, "gleif/multi_lei_records.json")
    found = gleif.candidates_from(data, ["Amazon Digital UK Ltd"], "DE")
    amazon = next(c for c in found if c.identifier == "254900LNRYNOQ9YPU758")
    assert amazon.score == 75 and "not DE" in amazon.explanation


def test_gleif_other_names_match_too():
    record = bodies.lei_record(
        bodies.LEI_BMW, "Bayerische Motoren Werke Aktiengesellschaft", "DE", ("BMW AG",)
    )
    [found] = gleif.candidates_from(bodies.lei_records(record), ["BMW AG"], "DE")
    assert found.score == 100 and found.explanation.startswith(f"GLEIF {bodies.LEI_BMW}: other")
    assert found.names == ("Bayerische Motoren Werke Aktiengesellschaft", "BMW AG")


def test_sec_edgar_reads_the_recorded_submissions_file(recorded):
    cik, names, country = sec_edgar.parse_profile(
        load(recorded, "sec_edgar/submissions_CIK0001318605_tesla.json")
    )
    assert (cik, names, country) == ("1318605", ("Tesla, Inc.", "TESLA MOTORS INC"), "US")


def test_sec_edgar_tickers_file_one_row_per_company():
    body = {
        "0": {"cik_str": 1318605, "ticker": "TSLA", "title": "Tesla, Inc."},
        "1": {"cik_str": 1652044, "ticker": "GOOGL", "title": "Alphabet Inc."},
        "2": {"cik_str": 1652044, "ticker": "GOOG", "title": "Alphabet Inc."},
    }
    rows = sec_edgar.parse_tickers(body)
    assert rows == [("1318605", "Tesla, Inc."), ("1652044", "Alphabet Inc.")]
    assert sec_edgar.shortlist(rows, ["Tesla Inc"])[0] == ("1318605", "Tesla, Inc.")


@pytest.mark.parametrize(
    ("code", "country"), [("CA", "US"), ("X0", "GB"), ("F4", "CN"), ("2M", "DE"), ("Z9", "")]
)
def test_sec_edgar_state_codes_place_a_registrant(code, country):
    assert sec_edgar.edgar_country(code) == country


def test_companies_house_candidates_from_the_recorded_search(recorded):
    found = companies_house.candidates_from(
        load(recorded, "companies_house/search_result_you.json"), ["You Ltd"], "GB"
    )
    best = best_first(found)[0]
    assert (best.identifier, best.name, best.score, best.country) == (
        "04475590",
        "YOU LIMITED",
        100,
        "GB",
    )


def test_openalex_candidates_from_the_recorded_institution(recorded):
    record = load(recorded, "openalex/institution_I27837315.json")
    [found] = openalex.candidates_from({"results": [record]}, ["Université du Michigan"], "US")
    assert (found.identifier, found.name, found.country) == (
        "I27837315",
        "University of Michigan",
        "US",
    )
    assert found.score == 100 and found.claims == {"ror": "00jmfr291"}


def test_ror_reads_names_country_and_wikidata_claim():
    body = bodies.ror_items(
        bodies.ror_item(
            "00jmfr291", "University of Michigan", "US", aliases=("UMich",), wikidata="Q230492"
        ),
        bodies.ror_item("0abcdef12", "Withdrawn Institute", "US", status="withdrawn"),
    )
    [found] = ror.candidates_from(body, ["University of Michigan"], "US")
    assert (found.identifier, found.names, found.claims) == (
        "00jmfr291",
        ("University of Michigan", "UMich"),
        {"wikidata": "Q230492"},
    )


def test_wikidata_reads_labels_aliases_country_and_identifier_claims():
    item = bodies.wikidata_item(
        "Q26678",
        "BMW",
        aliases=("Bayerische Motoren Werke AG",),
        claims={"P17": "Q183", "P1278": bodies.LEI_BMW, "P5531": "0001010816"},
    )
    assert wikidata.parse_search(bodies.wikidata_search("Q26678")) == ["Q26678"]
    [found] = wikidata.candidates_from(bodies.wikidata_entities(item), ["BMW AG"], "DE")
    assert found.identifier == "Q26678" and found.country == "DE" and found.score == 100
    assert found.claims == {"gleif": bodies.LEI_BMW, "sec_edgar": "0001010816"}
    assert f"carries gleif {bodies.LEI_BMW}" in found.explanation


def test_wikidata_skips_missing_items():
    body = {"entities": {"Q1": {"id": "Q1", "missing": ""}}, "success": 1}
    assert wikidata.parse_entities(body) == []


@pytest.mark.parametrize(
    ("parse", "body"),
    [
        (lambda body: gleif.candidates_from(body, ["x"], "GB"), {"errors": [{"status": "500"}]}),
        (lambda body: gleif.candidates_from(body, ["x"], "GB"), ["not", "a", "document"]),
        (sec_edgar.parse_tickers, ["rows"]),
        (sec_edgar.parse_tickers, {"0": {"ticker": "X"}}),
        (sec_edgar.parse_profile, {"cik": "1"}),
        (lambda body: companies_house.candidates_from(body, ["x"], "GB"), "items"),
        (lambda body: openalex.candidates_from(body, ["x"], "US"), {"meta": {}}),
        (ror.parse_organizations, {"items": [{"id": "not-a-ror-url"}]}),
        (ror.parse_organizations, {"errors": ["bad query"]}),
        (wikidata.parse_search, {"error": {"code": "badvalue", "info": "Unrecognized value"}}),
        (wikidata.parse_entities, {"search": []}),
    ],
)
def test_bodies_that_are_not_what_the_registry_documents_are_refused(parse, body):
    with pytest.raises(PermanentHttpError):
        parse(body)


def test_wikidata_searches_the_name_then_its_key_without_the_legal_form():
    assert wikidata.search_terms("Dendreon Corporation") == ["Dendreon Corporation", "dendreon"]
    assert wikidata.search_terms("dendreon") == ["dendreon"]
