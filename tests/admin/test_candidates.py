"""The admin of identity judgements: candidates with their history (who, when, why),
registry attempts and resolution jobs, all read-only."""

import pytest

from cases.identity import judging, services
from cases.models import IdentifierCandidate, ResolutionAttempt, ResolutionJob
from tests.admin.helpers import HOSTILE, HOSTILE_ESCAPED, refresh, url
from tests.factories import AnalystFactory, CaseFactory, EntityFactory

pytestmark = pytest.mark.django_db

LEI = "YEH5ZCD6E441RHVHD759"


@pytest.fixture
def judged():
    """A GLEIF candidate rejected with a reason, an automatic confirmation, an attempt
    and a job."""
    entity = CaseFactory(entity=EntityFactory(name="BMW AG", country="DE")).entity
    analyst = AnalystFactory(username="alice")
    rejected = IdentifierCandidate.objects.create(
        entity=entity,
        registry="gleif",
        identifier=LEI,
        registry_name=HOSTILE,
        score=91.0,
        explanation="legal name matched",
    )
    judging.candidate_judge(
        candidate=rejected,
        decision="rejected",
        user=analyst,
        version=1,
        reason="the holding, not the maker",
    )
    auto = IdentifierCandidate.objects.create(
        entity=entity, registry="wikidata", identifier="Q26678", score=97.0, explanation="label"
    )
    services.candidate_confirm(candidate=auto, user=None, automatic=True)
    attempt = ResolutionAttempt.objects.create(
        entity=entity, registry="sec_edgar", status="error", error="HTTP 503 after 4 tries"
    )
    job = ResolutionJob.objects.create(
        user=analyst, filter_query="status=open", entity_ids=[entity.pk], case_count=1
    )
    return {"rejected": refresh(rejected), "auto": refresh(auto), "attempt": attempt, "job": job}


def test_the_candidate_list_shows_judgements(admin_client, judged):
    body = admin_client.get(url("identifiercandidate", "changelist")).content.decode()

    assert LEI in body and "Q26678" in body
    assert "alice" in body  # judged_by
    assert HOSTILE not in body  # the registry's text is escaped wherever shown


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("?registry__exact=gleif", LEI, "Q26678"),
        ("?state__exact=confirmed", "Q26678", LEI),
        ("?automatic__exact=1", "Q26678", LEI),
        ("?q=Q266", "Q26678", LEI),
    ],
)
def test_the_candidate_list_filters_and_searches(admin_client, judged, query, shown, hidden):
    response = admin_client.get(url("identifiercandidate", "changelist") + query)

    body = response.content.decode()
    assert response.context["cl"].result_count == 1
    assert shown in body
    assert f">{hidden}<" not in body


def test_a_candidates_history_says_who_judged_it_when_and_why(admin_client, judged):
    cand = judged["rejected"]

    body = admin_client.get(url("identifiercandidate", "history", cand.pk)).content.decode()

    assert "the holding, not the maker" in body
    assert "alice" in body
    assert "rejected" in body


def test_a_candidates_page_escapes_the_registrys_text(admin_client, judged):
    body = admin_client.get(
        url("identifiercandidate", "change", judged["rejected"].pk)
    ).content.decode()

    assert HOSTILE_ESCAPED in body and HOSTILE not in body


@pytest.mark.parametrize(
    ("model", "key"),
    [
        ("identifiercandidate", "rejected"),
        ("resolutionattempt", "attempt"),
        ("resolutionjob", "job"),
    ],
)
def test_judgements_attempts_and_jobs_are_read_only(admin_client, judged, model, key):
    row = judged[key]
    before = list(type(row).objects.order_by("pk").values())

    assert admin_client.get(url(model, "add")).status_code == 403
    assert (
        admin_client.post(url(model, "change", row.pk), {"state": "confirmed"}).status_code == 403
    )
    assert admin_client.post(url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    assert admin_client.get(url(model, "change", row.pk)).status_code == 200
    assert list(type(row).objects.order_by("pk").values()) == before


def test_attempts_and_jobs_are_listed(admin_client, judged):
    attempts = admin_client.get(url("resolutionattempt", "changelist"))
    job_list = admin_client.get(url("resolutionjob", "changelist"))

    assert attempts.context["cl"].result_count == 1
    assert "sec_edgar" in attempts.content.decode()
    assert job_list.context["cl"].result_count == 1
    assert "status=open" in job_list.content.decode()
