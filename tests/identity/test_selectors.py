"""The reads the resolution panel and the /identities/ queue are built on."""

import pytest

from cases.identity import selectors, services
from cases.models import IdentifierCandidate
from tests.factories import AdminFactory, AnalystFactory, CaseFactory, EntityFactory, TeamFactory
from tests.identity import bodies

pytestmark = pytest.mark.django_db


def candidate(entity, registry, identifier, score, state="suggested"):
    return IdentifierCandidate.objects.create(
        entity=entity,
        registry=registry,
        identifier=identifier,
        registry_name="x",
        score=score,
        explanation="x",
        state=state,
    )


def test_open_candidates_are_suggested_then_unsure_best_first():
    entity = EntityFactory()
    low = candidate(entity, "gleif", bodies.LEI_OTHER, 70)
    high = candidate(entity, "wikidata", "Q1", 90)
    unsure = candidate(entity, "ror", "00jmfr291", 99, state="unsure")
    candidate(entity, "openalex", "I1234", 99, state="rejected")
    assert list(selectors.entity_candidates_open(entity=entity)) == [high, low, unsure]


def test_a_confirmed_identifier_closes_its_registrys_other_candidates():
    entity = EntityFactory()
    first = candidate(entity, "gleif", bodies.LEI_BMW, 90)
    second = candidate(entity, "gleif", bodies.LEI_OTHER, 80)
    wikidata = candidate(entity, "wikidata", "Q1", 60)
    services.candidate_confirm(candidate=first, user=None)
    assert list(selectors.entity_candidates_open(entity=entity)) == [wikidata]
    assert second in selectors.entity_candidates(entity=entity)


def test_the_queue_holds_the_users_teams_entities_best_first():
    team, other_team = TeamFactory(), TeamFactory()
    analyst = AnalystFactory()
    team.members.add(analyst)
    ours_low = CaseFactory(entity=EntityFactory(name="Low"), team=team).entity
    ours_high = CaseFactory(entity=EntityFactory(name="High"), team=team).entity
    theirs = CaseFactory(entity=EntityFactory(name="Theirs"), team=other_team).entity
    judged = CaseFactory(entity=EntityFactory(name="Judged"), team=team).entity
    candidate(ours_low, "gleif", bodies.LEI_BMW, 70)
    candidate(ours_high, "wikidata", "Q1", 95)
    candidate(ours_high, "ror", "00jmfr291", 60)
    candidate(theirs, "wikidata", "Q2", 99)
    candidate(judged, "wikidata", "Q3", 99, state="rejected")

    queue = list(selectors.identity_queue(user=analyst))
    assert queue == [ours_high, ours_low]
    assert (queue[0].best_score, queue[0].open_count) == (95, 2)
    assert [e.name for e in selectors.identity_queue(user=AdminFactory())] == [
        "Theirs",
        "High",
        "Low",
    ]


def test_resolution_progress_counts_entities_with_an_attempt_since_the_start():
    from django.utils import timezone

    from cases.models import ResolutionAttempt

    first, second = EntityFactory(), EntityFactory()
    started = timezone.now()
    ResolutionAttempt.objects.create(entity=first, registry="gleif", status="ok")
    ResolutionAttempt.objects.create(entity=first, registry="wikidata", status="error")
    assert selectors.resolution_progress(entity_ids=[first.pk, second.pk], since=started) == (1, 2)
