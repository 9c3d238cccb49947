"""Proposing and judging identifiers: registries mocked at the HTTP seam (`responses`),
the real database, and every refusal compared with the database before it."""

import pytest
from django.core.exceptions import ValidationError
from responses import matchers

from cases.casework.services import EditConflict
from cases.identity import services
from cases.models import Entity, IdentifierCandidate, ResolutionAttempt
from tests.factories import AnalystFactory, CaseFactory, EntityFactory
from tests.identity import bodies

GLEIF = "https://api.gleif.org/api/v1/lei-records"
WIKIDATA = "https://www.wikidata.org/w/api.php"
pytestmark = pytest.mark.django_db


def snapshot() -> tuple:
    """What a refusal must leave as it was: every candidate and entity, row by row."""
    return (
        list(IdentifierCandidate.objects.order_by("id").values()),
        list(Entity.objects.order_by("id").values()),
    )


@pytest.fixture
def bmw():
    return CaseFactory(entity=EntityFactory(name="BMW AG", country="DE")).entity


def gleif_answers(mocked, *records, legal_name="BMW AG"):
    mocked.get(
        GLEIF,
        json=bodies.lei_records(*records),
        match=[
            matchers.query_param_matcher(
                {"filter[entity.legalName]": legal_name}, strict_match=False
            )
        ],
    )


BMW_RECORD = bodies.lei_record(
    bodies.LEI_BMW, "Bayerische Motoren Werke Aktiengesellschaft", "DE", ("BMW AG",)
)


def candidate(entity, registry="gleif", identifier=bodies.LEI_BMW, score=95.0, names=("BMW AG",)):
    return IdentifierCandidate.objects.create(
        entity=entity,
        registry=registry,
        identifier=identifier,
        registry_name=names[0],
        score=score,
        explanation="test",
        evidence={"names": list(names), "claims": {}},
    )


def test_it_proposes_gleif_records_with_score_explanation_and_evidence(mocked, bmw):
    gleif_answers(mocked, BMW_RECORD)
    resolution = services.identifiers_propose(entity_id=bmw.pk, registries=["gleif"])
    [found] = resolution.proposed
    assert (found.registry, found.identifier, found.state, found.score) == (
        "gleif",
        bodies.LEI_BMW,
        "suggested",
        100,
    )
    assert "other name" in found.explanation and "country DE agrees" in found.explanation
    assert found.evidence["asked"][0].startswith(f"GET {GLEIF}?")
    assert found.evidence["country"] == "DE"
    [attempt] = resolution.attempts
    assert (attempt.status, attempt.requests, attempt.proposed) == ("ok", 1, 1)


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ({"body": "<html>Service unavailable</html>", "status": 200}, "error"),
        ({"json": {"unexpected": "shape"}, "status": 200}, "error"),
        ({"json": {"errors": []}, "status": 429}, "rate_limited"),
        ({"json": {"errors": []}, "status": 500}, "error"),
    ],
)
def test_a_registry_answering_nonsense_a_429_or_an_error_records_the_attempt_and_proposes_nothing(
    mocked, bmw, answer, status
):
    mocked.get(GLEIF, **answer)
    before = snapshot()
    resolution = services.identifiers_propose(entity_id=bmw.pk, registries=["gleif"])
    assert snapshot() == before
    assert resolution.proposed == []
    attempt = ResolutionAttempt.objects.get(entity=bmw)
    assert attempt.status == status and attempt.error and attempt.proposed == 0
    assert attempt.requests >= 1


def test_a_wikidata_error_answered_with_200_proposes_nothing(mocked, bmw):
    mocked.get(WIKIDATA, json={"error": {"code": "maxlag", "info": "Waiting for a server"}})
    before = snapshot()
    services.identifiers_propose(entity_id=bmw.pk, registries=["wikidata"])
    assert snapshot() == before
    attempt = ResolutionAttempt.objects.get(entity=bmw)
    assert attempt.status == "error" and "Waiting for a server" in attempt.error


def test_a_candidate_with_an_invalid_identifier_is_never_stored(mocked, bmw):
    bad = bodies.lei_record("YEH5ZCD6E441RHVHD758", "BMW AG", "DE")  # check digits wrong
    gleif_answers(mocked, bad)
    before = snapshot()
    services.identifiers_propose(entity_id=bmw.pk, registries=["gleif"])
    assert snapshot() == before
    attempt = ResolutionAttempt.objects.get(entity=bmw)
    assert attempt.status == "ok" and "YEH5ZCD6E441RHVHD758" in attempt.error


def test_an_entity_with_its_identifier_is_skipped_without_a_request(mocked, bmw):
    bmw.lei = bodies.LEI_BMW
    bmw.save()
    services.identifiers_propose(entity_id=bmw.pk, registries=["gleif"])
    assert len(mocked.calls) == 0
    assert ResolutionAttempt.objects.get(entity=bmw).status == "skipped"


def test_a_rejected_candidate_is_never_proposed_again(mocked, bmw):
    gleif_answers(mocked, BMW_RECORD)
    [found] = services.identifiers_propose(entity_id=bmw.pk, registries=["gleif"]).proposed
    services.candidate_reject(candidate=found, user=AnalystFactory(), version=found.version)

    again = services.identifiers_propose(entity_id=bmw.pk, registries=["gleif"])
    assert again.proposed == []
    assert list(IdentifierCandidate.objects.values_list("state", flat=True)) == ["rejected"]
    assert ResolutionAttempt.objects.filter(entity=bmw).count() == 2


def test_two_registries_agreeing_by_identifier_confirm_automatically(mocked, bmw):
    gleif_answers(mocked, BMW_RECORD)
    mocked.get(
        WIKIDATA,
        json=bodies.wikidata_search("Q26678"),
        match=[matchers.query_param_matcher({"action": "wbsearchentities"}, strict_match=False)],
    )
    item = bodies.wikidata_item(
        "Q26678", "BMW", aliases=("BMW AG",), claims={"P17": "Q183", "P1278": bodies.LEI_BMW}
    )
    mocked.get(
        WIKIDATA,
        json=bodies.wikidata_entities(item),
        match=[matchers.query_param_matcher({"action": "wbgetentities"}, strict_match=False)],
    )

    resolution = services.identifiers_propose(entity_id=bmw.pk, registries=["gleif", "wikidata"])

    confirmed = {(c.registry, c.identifier) for c in resolution.confirmed_automatically}
    assert confirmed == {("gleif", bodies.LEI_BMW), ("wikidata", "Q26678")}
    assert all(c.automatic and c.judged_by is None for c in resolution.confirmed_automatically)
    bmw.refresh_from_db()
    assert (bmw.lei, bmw.wikidata_id) == (bodies.LEI_BMW, "Q26678")
    assert "Bayerische Motoren Werke Aktiengesellschaft" in bmw.alias_list


def test_registries_agreeing_on_a_poor_name_match_wait_for_a_person(bmw):
    gleif = candidate(bmw, score=70)
    wikidata = candidate(bmw, registry="wikidata", identifier="Q26678", score=70)
    wikidata.evidence = {"names": ["BMW"], "claims": {"gleif": bodies.LEI_BMW}}
    wikidata.save()
    assert services.candidates_confirm_agreeing(entity_id=bmw.pk) == []
    gleif.refresh_from_db()
    assert gleif.state == "suggested"


def test_a_claim_equal_to_the_entitys_confirmed_identifier_confirms_automatically(bmw):
    bmw.lei = bodies.LEI_BMW
    bmw.save()
    wikidata = candidate(bmw, registry="wikidata", identifier="Q26678", names=("BMW",))
    wikidata.evidence = {"names": ["BMW"], "claims": {"gleif": bodies.LEI_BMW}}
    wikidata.save()
    [confirmed] = services.candidates_confirm_agreeing(entity_id=bmw.pk)
    assert confirmed.pk == wikidata.pk and confirmed.automatic


def test_confirming_fills_the_identifier_and_records_the_registrys_names_as_aliases(bmw):
    analyst = AnalystFactory()
    found = candidate(bmw, names=("Bayerische Motoren Werke Aktiengesellschaft", "BMW AG"))
    services.candidate_confirm(candidate=found, user=analyst, version=found.version)
    bmw.refresh_from_db()
    found.refresh_from_db()
    assert bmw.lei == bodies.LEI_BMW
    assert bmw.alias_list == ["Bayerische Motoren Werke Aktiengesellschaft"]  # BMW AG is its name
    record = bmw.history.first()
    assert record.history_user == analyst
    assert "aliases from gleif" in record.history_change_reason
    assert (found.state, found.judged_by, found.automatic, found.version) == (
        "confirmed",
        analyst,
        False,
        2,
    )
    assert found.judged_at is not None


def test_confirming_an_identifier_another_entity_has_is_refused_and_saves_nothing(bmw):
    EntityFactory(name="Someone Else", lei=bodies.LEI_BMW)
    found = candidate(bmw)
    before = snapshot()
    with pytest.raises(ValidationError):
        services.candidate_confirm(candidate=found, user=AnalystFactory(), version=found.version)
    assert snapshot() == before


def test_confirming_over_another_identifier_of_the_entity_is_refused(bmw):
    bmw.lei = bodies.LEI_OTHER
    bmw.save()
    found = candidate(bmw)
    before = snapshot()
    with pytest.raises(ValidationError, match="already has"):
        services.candidate_confirm(candidate=found, user=AnalystFactory())
    assert snapshot() == before


@pytest.mark.parametrize("second", ["confirm", "reject", "mark_unsure"])
def test_a_second_judgement_of_the_same_candidate_is_refused_with_who_and_when(bmw, second):
    first_analyst = AnalystFactory(username="first")
    found = candidate(bmw)
    shown_at = found.version
    services.candidate_mark_unsure(candidate=found, user=first_analyst, version=shown_at)
    before = snapshot()
    judge = getattr(services, f"candidate_{second}")
    with pytest.raises(EditConflict, match=r"marked unsure by first at \d{4}-\d\d-\d\d \d\d:\d\d"):
        judge(candidate=found, user=AnalystFactory(), version=shown_at)
    assert snapshot() == before


def test_rejecting_a_confirmed_candidate_clears_the_identifier(bmw):
    found = candidate(bmw)
    found = services.candidate_confirm(candidate=found, user=None)
    services.candidate_reject(candidate=found, user=AnalystFactory(), version=found.version)
    bmw.refresh_from_db()
    assert bmw.lei == ""


def test_a_reason_given_for_rejecting_a_confirmed_candidate_is_the_persons(bmw):
    found = services.candidate_confirm(candidate=candidate(bmw), user=None)
    services.candidate_reject(
        candidate=found, user=AnalystFactory(), version=found.version, reason="another BMW"
    )

    latest = found.history.order_by("-history_id").first()
    assert (latest.state, latest.history_change_reason) == ("rejected", "another BMW")
    assert bmw.history.order_by("-history_id").first().history_change_reason == (
        f"gleif {bodies.LEI_BMW} rejected after confirmation"
    )


def test_agreement_on_an_identifier_another_entity_has_is_left_for_a_person(bmw):
    EntityFactory(name="BMW Duplicate", lei=bodies.LEI_BMW)
    gleif = candidate(bmw)
    wikidata = candidate(bmw, registry="wikidata", identifier="Q26678", names=("BMW",))
    wikidata.evidence = {"names": ["BMW"], "claims": {"gleif": bodies.LEI_BMW}}
    wikidata.save()
    confirmed = services.candidates_confirm_agreeing(entity_id=bmw.pk)
    assert [c.registry for c in confirmed] == ["wikidata"]
    gleif.refresh_from_db()
    bmw.refresh_from_db()
    assert (gleif.state, bmw.lei, bmw.wikidata_id) == ("suggested", "", "Q26678")


def test_the_task_proposes_for_each_entity_it_is_given(mocked, bmw):
    from cases.tasks import resolve_identifiers

    gleif_answers(mocked, BMW_RECORD)
    assert resolve_identifiers([bmw.pk], ["gleif"]) == 1
    assert resolve_identifiers([bmw.pk], ["gleif"]) == 0  # a second delivery adds nothing


@pytest.mark.parametrize(
    ("registry", "identifier"),
    [
        ("gleif", "not-an-lei"),
        ("sec_edgar", "CIK123"),
        ("wikidata", "Q0"),
        ("ror", "00JMFR291"),
    ],
)
def test_the_database_refuses_a_candidate_with_a_malformed_identifier(bmw, registry, identifier):
    from django.db import IntegrityError, transaction

    before = snapshot()
    with pytest.raises(IntegrityError), transaction.atomic():
        candidate(bmw, registry=registry, identifier=identifier)
    assert snapshot() == before
