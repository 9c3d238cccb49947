"""Where people judge identifiers: the case page's panel, the queue, and "find
identifiers" as a job. Registries answer through the HTTP seam (`responses`); every
refusal is compared with the database before it."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from responses import matchers

from cases.identity import jobs, services
from cases.identity.resolvers import gleif, override
from cases.models import (
    Case,
    Entity,
    IdentifierCandidate,
    ResolutionAttempt,
    ResolutionJob,
)
from tests.checks.redis_server import free_port
from tests.factories import CaseFactory, EntityFactory
from tests.identity import bodies

GLEIF = "https://api.gleif.org/api/v1/lei-records"
pytestmark = pytest.mark.django_db


def snapshot() -> tuple:
    """Everything a judgement or a job may change, row by row."""
    return (
        list(IdentifierCandidate.objects.order_by("id").values()),
        list(IdentifierCandidate.history.order_by("history_id").values()),
        list(Entity.objects.order_by("id").values()),
        list(ResolutionAttempt.objects.order_by("id").values()),
        list(ResolutionJob.objects.order_by("id").values()),
    )


def candidate(entity, registry="gleif", identifier=bodies.LEI_BMW, score=95.0, **fields):
    values = {
        "registry_name": "Bayerische Motoren Werke Aktiengesellschaft",
        "explanation": f"legal name matched at {score:.0f}; country DE agrees",
        "evidence": {
            "names": ["Bayerische Motoren Werke Aktiengesellschaft"],
            "claims": {},
            "country": "DE",
            "url": f"https://search.gleif.org/#/record/{identifier}",
        },
        **fields,
    }
    return IdentifierCandidate.objects.create(
        entity=entity, registry=registry, identifier=identifier, score=score, **values
    )


@pytest.fixture
def bmw(team):
    return CaseFactory(entity=EntityFactory(name="BMW AG", country="DE"), team=team).entity


@pytest.fixture
def foreign(other_team):
    entity = EntityFactory(name="Bravo Motoren AG", country="DE")
    CaseFactory(entity=entity, team=other_team)
    return entity


def judge(client, cand, decision, *, version=None, reason="", follow=False):
    data = {"decision": decision, "version": cand.version if version is None else version}
    if reason:
        data["reason"] = reason
    return client.post(reverse("cases:candidate_judge", args=[cand.pk]), data, follow=follow)


def notices(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def page(client, entity) -> str:
    response = client.get(entity.case.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


# ------------------------------------------------------------------ the case page's panel


def test_the_panel_shows_open_candidates_best_first_with_their_evidence(client, analyst, bmw):
    low = candidate(bmw, identifier=bodies.LEI_OTHER, score=71.0, registry_name="BMW Holding")
    high = candidate(bmw, score=96.0)
    rejected = candidate(bmw, registry="wikidata", identifier="Q26678", score=99.0)
    services.candidate_reject(candidate=rejected, user=analyst)
    ResolutionAttempt.objects.create(
        entity=bmw, registry="sec_edgar", status="error", error="HTTP 503 after 4 tries"
    )
    client.force_login(analyst)

    body = page(client, bmw)

    panel = body[body.index('id="identity"') :]
    rows = re.findall(r'id="candidate-(\d+)"', panel)
    assert rows == [str(high.pk), str(low.pk)]
    assert "Bayerische Motoren Werke Aktiengesellschaft" in panel
    assert "legal name matched at 96; country DE agrees" in panel
    assert f'href="https://search.gleif.org/#/record/{bodies.LEI_BMW}"' in panel
    assert f'name="version" value="{high.version}"' in panel
    assert "HTTP 503 after 4 tries" in panel  # the last attempt of SEC EDGAR
    assert "Rejected" in panel and "Q26678" in panel  # listed as judged, not to judge


def test_the_panel_marks_identifiers_confirmed_automatically(client, analyst, bmw):
    auto = candidate(bmw)
    services.candidate_confirm(candidate=auto, user=None, automatic=True)
    Entity.objects.filter(pk=bmw.pk).update(wikidata_id="Q26678")  # typed in by hand
    client.force_login(analyst)

    body = page(client, bmw)

    confirmed = body[body.index('class="confirmed-identifiers"') :]
    assert f'<code>{bodies.LEI_BMW}</code> — <strong class="automatic">' in confirmed
    assert "<code>Q26678</code> — entered by hand" in confirmed
    assert f'id="candidate-{auto.pk}"' not in body


def test_the_panel_does_not_vouch_for_an_identifier_replaced_by_hand(client, analyst, bmw):
    services.candidate_confirm(candidate=candidate(bmw), user=analyst)
    Entity.objects.filter(pk=bmw.pk).update(lei=bodies.LEI_OTHER)
    client.force_login(analyst)

    body = page(client, bmw)

    assert f"<code>{bodies.LEI_OTHER}</code> — entered by hand" in body


def test_confirming_fills_the_identifier_and_records_the_aliases(client, analyst, bmw):
    cand = candidate(bmw)
    client.force_login(analyst)

    response = judge(client, cand, "confirmed")

    assert response.status_code == 302
    assert response.url == bmw.case.get_absolute_url() + "#identity"
    bmw.refresh_from_db()
    cand.refresh_from_db()
    assert bmw.lei == bodies.LEI_BMW
    assert "Bayerische Motoren Werke Aktiengesellschaft" in bmw.alias_list
    assert (cand.state, cand.judged_by, cand.automatic) == ("confirmed", analyst, False)
    assert notices(response) == [f"Confirmed: GLEIF (LEI) {bodies.LEI_BMW} for BMW AG."]


def test_rejecting_keeps_the_reason_on_the_candidates_history(client, analyst, bmw):
    cand = candidate(bmw)
    client.force_login(analyst)

    judge(client, cand, "rejected", reason="  a holding,  not the  maker ")

    cand.refresh_from_db()
    bmw.refresh_from_db()
    assert (cand.state, cand.judged_by, bmw.lei) == ("rejected", analyst, "")
    latest = cand.history.order_by("-history_id").first()
    assert (latest.state, latest.history_change_reason) == ("rejected", "a holding, not the maker")
    assert f'id="candidate-{cand.pk}"' not in page(client, bmw)


def test_rejecting_without_a_reason_is_allowed(client, analyst, bmw):
    cand = candidate(bmw)
    client.force_login(analyst)

    judge(client, cand, "rejected")

    cand.refresh_from_db()
    assert cand.state == "rejected"
    assert cand.history.order_by("-history_id").first().history_change_reason is None


def test_unsure_keeps_the_candidate_open_after_the_suggested_ones(client, analyst, bmw):
    unsure = candidate(bmw, score=99.0)
    other = candidate(bmw, identifier=bodies.LEI_OTHER, score=70.0)
    client.force_login(analyst)

    judge(client, unsure, "unsure")

    unsure.refresh_from_db()
    assert unsure.state == "unsure"
    rows = re.findall(r'id="candidate-(\d+)"', page(client, bmw))
    assert rows == [str(other.pk), str(unsure.pk)]


def test_a_stale_judgement_is_refused_with_who_judged_it_and_when(client, analyst, colleague, bmw):
    cand = candidate(bmw)
    read_at = cand.version  # alice opens the page...
    services.candidate_reject(candidate=cand, user=colleague, version=read_at)  # ...bob judges
    client.force_login(analyst)
    before = snapshot()

    response = judge(client, cand, "confirmed", version=read_at, follow=True)

    body = response.content.decode()
    # Back at the top of the case page, not its #identity panel, where the message is.
    assert response.redirect_chain == [(bmw.case.get_absolute_url(), 302)]
    assert snapshot() == before
    assert "was marked rejected by bob at" in body
    assert "after you opened it, so your judgement was not saved" in body
    assert 'class="error"' in body


@pytest.mark.parametrize(
    ("data", "notice"),
    [
        ({"decision": "confirmed", "version": "abc"}, "version"),
        ({"decision": "confirmed"}, "version"),
        ({"decision": "suggested", "version": 1}, "decision"),  # a tampered state
        ({"decision": "deleted", "version": 1}, "decision"),
        ({"decision": "confirmed", "version": 1, "reason": "x" * 501}, "reason"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(client, analyst, bmw, data, notice):
    cand = candidate(bmw)
    client.force_login(analyst)
    before = snapshot()

    response = client.post(reverse("cases:candidate_judge", args=[cand.pk]), data)

    assert response.status_code == 302
    assert snapshot() == before
    [message] = notices(response)
    assert f"Candidate {cand.pk}: {notice}" in message and "Nothing saved" in message


def test_a_wrong_version_number_is_refused_as_stale(client, analyst, bmw):
    cand = candidate(bmw)
    client.force_login(analyst)
    before = snapshot()

    response = judge(client, cand, "confirmed", version=cand.version + 5)

    assert snapshot() == before
    assert "after you opened it" in notices(response)[0]


def test_marking_a_rejected_candidate_unsure_is_refused(client, analyst, bmw):
    cand = candidate(bmw)
    services.candidate_reject(candidate=cand, user=analyst)
    cand.refresh_from_db()
    client.force_login(analyst)
    before = snapshot()

    response = judge(client, cand, "unsure")

    assert snapshot() == before
    assert "only an open one can be unsure" in notices(response)[0]


def test_an_unknown_candidate_is_a_404(client, analyst, bmw):
    candidate(bmw)
    client.force_login(analyst)
    before = snapshot()

    response = client.post(
        reverse("cases:candidate_judge", args=[999999]), {"decision": "confirmed", "version": 1}
    )

    assert response.status_code == 404
    assert snapshot() == before


def test_another_teams_candidate_is_a_404(client, analyst, foreign):
    cand = candidate(foreign)
    client.force_login(analyst)
    before = snapshot()

    response = judge(client, cand, "confirmed")

    assert response.status_code == 404
    assert "Bravo" not in response.content.decode()
    assert snapshot() == before


def test_a_supervisor_reads_the_panel_and_may_not_judge(client, supervisor, bmw):
    cand = candidate(bmw)
    client.force_login(supervisor)
    before = snapshot()

    body = page(client, bmw)
    response = judge(client, cand, "confirmed")
    resolve = client.post(reverse("cases:case_resolve", args=[bmw.case.pk]))

    assert f'id="candidate-{cand.pk}"' in body
    assert reverse("cases:candidate_judge", args=[cand.pk]) not in body
    assert reverse("cases:case_resolve", args=[bmw.case.pk]) not in body
    assert (response.status_code, resolve.status_code) == (403, 403)
    assert snapshot() == before


# ------------------------------------------------------------------ find identifiers (one case)


def gleif_answers(mocked, name, *records):
    mocked.get(
        GLEIF,
        json=bodies.lei_records(*records),
        match=[
            matchers.query_param_matcher({"filter[entity.legalName]": name}, strict_match=False)
        ],
    )


BMW_RECORD = bodies.lei_record(
    bodies.LEI_BMW, "Bayerische Motoren Werke Aktiengesellschaft", "DE", ("BMW AG",)
)


def test_find_identifiers_runs_here_without_a_queue_and_says_how_long_it_waited(
    client, analyst, bmw, mocked, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    gleif_answers(mocked, "BMW AG", BMW_RECORD)
    client.force_login(analyst)

    with override(gleif.RESOLVER):
        response = client.post(reverse("cases:case_resolve", args=[bmw.case.pk]), follow=True)

    body = response.content.decode()
    [found] = IdentifierCandidate.objects.filter(entity=bmw)
    assert found.identifier == bodies.LEI_BMW
    assert re.search(r"this page waited \d+ s for them: 1 new candidate", body)
    assert f'id="candidate-{found.pk}"' in body
    job = ResolutionJob.objects.get()
    assert (job.state, job.done_count, job.case_count, job.user) == ("done", 1, 1, analyst)


def test_find_identifiers_says_which_registry_failed(client, analyst, bmw, mocked, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    mocked.get(GLEIF, status=503)
    client.force_login(analyst)

    with override(gleif.RESOLVER):
        response = client.post(reverse("cases:case_resolve", args=[bmw.case.pk]), follow=True)

    body = response.content.decode()
    assert "gleif failed (see the attempts below)" in body
    assert "offline holds the page for minutes" in body
    assert not IdentifierCandidate.objects.exists()
    assert ResolutionAttempt.objects.get(entity=bmw).status == "error"


def test_the_panel_warns_that_without_a_queue_the_page_waits(client, analyst, bmw, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    client.force_login(analyst)

    assert "minutes when one is offline" in page(client, bmw)


@pytest.mark.django_db(transaction=True)  # as in production: the job row commits at once
def test_find_identifiers_with_the_queue_down_says_so(client, analyst, bmw, settings, broker_at):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    broker_at(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    client.force_login(analyst)

    response = client.post(reverse("cases:case_resolve", args=[bmw.case.pk]))

    job = ResolutionJob.objects.get()
    assert job.state == "failed" and "task queue could not be reached" in job.error
    assert "task queue could not be reached" in notices(response)[0]
    assert not ResolutionAttempt.objects.exists()


# ------------------------------------------------------------------ the queue


@pytest.fixture
def queued(team, bmw, foreign):
    """Three of the team's entities with candidates, one of another team's."""
    siemens = CaseFactory(entity=EntityFactory(name="Siemens AG", country="DE"), team=team).entity
    basf = CaseFactory(entity=EntityFactory(name="BASF SE", country="DE"), team=team).entity
    done = CaseFactory(entity=EntityFactory(name="Done GmbH", country="DE"), team=team).entity
    return {
        "bmw": candidate(bmw, score=80.0),
        "bmw_wikidata": candidate(bmw, registry="wikidata", identifier="Q26678", score=99.0),
        "siemens": candidate(siemens, identifier=bodies.LEI_OTHER, score=92.0),
        "basf": candidate(basf, registry="ror", identifier="05dxps055", score=70.0),
        "done": candidate(done, identifier="529900W18LQJJN6SJ336", score=100.0, state="rejected"),
        "foreign": candidate(foreign, identifier="5493001KJTIIGC8Y1R12", score=100.0),
    }


def queue_rows(client, query: str = "") -> list[str]:
    response = client.get(reverse("cases:identity_queue") + query)
    assert response.status_code == 200
    return re.findall(r'id="candidate-(\d+)"', response.content.decode())


def ids(queued, *names) -> list[str]:
    return [str(queued[name].pk) for name in names]


def test_the_queue_lists_open_candidates_best_entity_first(client, analyst, queued):
    client.force_login(analyst)

    # BMW's best candidate (99) puts it first, with both its candidates best first.
    assert queue_rows(client) == ids(queued, "bmw_wikidata", "bmw", "siemens", "basf")


def test_the_queue_filters_by_registry(client, analyst, queued):
    client.force_login(analyst)

    assert queue_rows(client, "?registry=gleif") == ids(queued, "siemens", "bmw")
    assert queue_rows(client, "?registry=ror") == ids(queued, "basf")
    assert queue_rows(client, "?registry=nonsense") == queue_rows(client)


def test_the_queue_offers_the_keyboard_without_inline_script(client, analyst, queued):
    client.force_login(analyst)

    body = client.get(reverse("cases:identity_queue")).content.decode()

    assert '<script src="/static/cases/queue_keys.js" defer></script>' in body
    assert "<script>" not in body and "style=" not in body and "<style" not in body
    assert 'title="confirm (c)"' in body and 'title="unsure (u)"' in body


def test_a_supervisor_reads_the_queue_without_forms(client, supervisor, queued):
    client.force_login(supervisor)

    body = client.get(reverse("cases:identity_queue")).content.decode()

    assert "You see the queue read-only" in body
    assert reverse("cases:candidate_judge", args=[queued["bmw"].pk]) not in body
    assert "queue_keys.js" not in body


def test_the_other_team_sees_only_its_own_candidates(client, other_analyst, queued):
    client.force_login(other_analyst)

    assert queue_rows(client) == ids(queued, "foreign")


def test_judging_from_the_queue_returns_to_it(client, analyst, queued):
    client.force_login(analyst)
    back = reverse("cases:identity_queue") + "?registry=gleif"
    cand = queued["siemens"]

    response = client.post(
        reverse("cases:candidate_judge", args=[cand.pk]),
        {"decision": "rejected", "version": cand.version, "next": back},
    )

    assert response.url == back
    assert queue_rows(client, "?registry=gleif") == ids(queued, "bmw")


# ------------------------------------------------------------------ a job over the case list


@pytest.fixture
def embedded(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.WISHLIST_RESOLVE_IN_THREAD = False  # the job runs in the test, once committed


def test_a_job_resolves_the_filtered_cases_and_its_page_follows_it(
    client, analyst, team, bmw, mocked, embedded, django_capture_on_commit_callbacks
):
    closed = CaseFactory(
        entity=EntityFactory(name="Closed AG", country="DE"), team=team, status="closed"
    )
    gleif_answers(mocked, "BMW AG", BMW_RECORD)
    client.force_login(analyst)

    with override(gleif.RESOLVER):
        response = client.post(
            reverse("cases:resolution_job_start"), {"filter_query": "status=open"}
        )
        job = ResolutionJob.objects.get()
        queued_page = client.get(response.url).content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("cases:resolution_job_start"), {"filter_query": "status=open"})

    assert response.url == reverse("cases:resolution_job", args=[job.pk])
    assert (job.user, job.filter_query, job.entity_ids) == (analyst, "status=open", [bmw.pk])
    assert '<meta http-equiv="refresh" content="2">' in queued_page
    assert '<progress max="1" value="0">' in queued_page
    second = ResolutionJob.objects.latest("id")
    assert (second.state, second.done_count, second.proposed_count) == ("done", 1, 1)
    done_page = client.get(reverse("cases:resolution_job", args=[second.pk])).content.decode()
    assert "Done: 1 of 1 case(s)" in done_page
    assert 'http-equiv="refresh"' not in done_page
    assert not ResolutionAttempt.objects.filter(entity=closed.entity).exists()


def test_a_running_job_shows_its_progress(client, analyst, team, bmw):
    others = [
        CaseFactory(entity=EntityFactory(name=f"Firm {n} AG", country="DE"), team=team)
        for n in range(3)
    ]
    job = jobs.resolution_job_create(
        user=analyst, entity_ids=[bmw.pk, *(case.entity_id for case in others)]
    )
    with override():  # no registry: each entity resolves at once, asking nothing
        assert jobs.resolution_job_step(job_id=job.pk, limit=3) is True
    client.force_login(analyst)

    body = client.get(reverse("cases:resolution_job", args=[job.pk])).content.decode()

    assert "Resolving: 3 of 4 case(s) done." in body
    assert '<progress max="4" value="3">' in body
    assert '<meta http-equiv="refresh" content="2">' in body
    with override():
        assert jobs.resolution_job_step(job_id=job.pk, limit=3) is False
    job.refresh_from_db()
    assert (job.state, job.done_count) == ("done", 4)


def test_a_job_goes_on_past_an_entity_deleted_meanwhile(analyst, bmw):
    job = jobs.resolution_job_create(user=analyst, entity_ids=[999999, bmw.pk])

    with override():
        job = jobs.resolution_job_run(job_id=job.pk)

    assert (job.state, job.done_count, job.failed_count) == ("done", 2, 0)


def test_a_job_with_the_queue_down_fails_with_the_reason(
    client, analyst, bmw, settings, broker_at, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    broker_at(f"redis://127.0.0.1:{free_port()}/0")
    client.force_login(analyst)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("cases:resolution_job_start"), {"filter_query": ""})

    job = ResolutionJob.objects.get()
    assert job.state == "failed"
    body = client.get(response.url).content.decode()
    assert "task queue could not be reached" in body
    assert 'http-equiv="refresh"' not in body


@pytest.mark.parametrize(
    ("filter_query", "notice"),
    [
        ("status=nonsense", "could not be read"),
        ("q=nothing+matches+this", "nothing to resolve"),
        ("x" * 2001, "too long"),
    ],
)
def test_a_job_is_not_started_from_a_bad_or_empty_filter(
    client, analyst, bmw, filter_query, notice
):
    client.force_login(analyst)
    before = snapshot()

    response = client.post(reverse("cases:resolution_job_start"), {"filter_query": filter_query})

    assert response.status_code == 302
    assert response.url.startswith(reverse("cases:case_list"))
    assert notice in notices(response)[0]
    assert snapshot() == before


def test_a_job_is_followed_by_its_starter_only(client, analyst, colleague, staff, bmw):
    job = jobs.resolution_job_create(user=analyst, entity_ids=[bmw.pk])
    path = reverse("cases:resolution_job", args=[job.pk])

    client.force_login(colleague)
    assert client.get(path).status_code == 404
    client.force_login(staff)
    assert client.get(path).status_code == 200


def test_the_case_list_offers_a_job_for_its_filter(client, analyst, supervisor, bmw):
    client.force_login(analyst)
    body = client.get(reverse("cases:case_list") + "?status=open").content.decode()

    assert reverse("cases:resolution_job_start") in body
    assert 'name="filter_query" value="status=open"' in body
    assert "Find identifiers for these 1 case(s)" in body
    client.force_login(supervisor)
    assert (
        reverse("cases:resolution_job_start")
        not in client.get(reverse("cases:case_list")).content.decode()
    )


def test_a_job_counts_the_cases_not_their_repeats(analyst, bmw):
    job = jobs.resolution_job_create(user=analyst, entity_ids=[bmw.pk, bmw.pk])

    assert (job.case_count, job.entity_ids) == (1, [bmw.pk])
    assert Case.objects.count() == 1


def test_confirming_an_identifier_another_entity_holds_is_refused(client, analyst, bmw, foreign):
    Entity.objects.filter(pk=foreign.pk).update(lei=bodies.LEI_BMW)
    cand = candidate(bmw)
    client.force_login(analyst)
    before = snapshot()

    response = judge(client, cand, "confirmed")

    assert snapshot() == before
    [message] = notices(response)
    assert "This LEI is already recorded on another entity" in message
    assert "Bravo" not in message


def count_queries(client, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        assert client.get(path).status_code == 200
    return len(context.captured_queries)


def test_the_queue_and_the_panel_do_not_grow_queries_with_rows(client, analyst, team, bmw):
    def add(n: int) -> None:
        entity = EntityFactory(name=f"Firm {n} AG", country="DE")
        CaseFactory(entity=entity, team=team)
        lei = f"{n:018d}00"
        for registry, identifier in (("gleif", lei), ("wikidata", f"Q{n + 1}")):
            cand = candidate(entity, registry=registry, identifier=identifier)
            services.candidate_mark_unsure(candidate=cand, user=analyst)
        candidate(bmw, registry="ror", identifier=f"0{n:02d}dxps05")
        ResolutionAttempt.objects.create(entity=bmw, registry="ror", status="ok")

    client.force_login(analyst)
    queue_path = reverse("cases:identity_queue")
    case_path = bmw.case.get_absolute_url()
    add(0)
    client.get(queue_path)  # warm the session and content types outside the measure
    few = (count_queries(client, queue_path), count_queries(client, case_path))
    for n in range(1, 6):
        add(n)

    assert (count_queries(client, queue_path), count_queries(client, case_path)) == few


def test_the_task_runs_a_step_and_counts_an_entity_that_fails(analyst, bmw):
    from cases import tasks

    job = jobs.resolution_job_create(user=analyst, entity_ids=[bmw.pk, "not an id"])

    with override():
        tasks.run_resolution_job.apply(args=[job.pk])

    job.refresh_from_db()
    assert (job.state, job.done_count, job.failed_count) == ("done", 2, 1)
    assert job.error.startswith("entity not an id: ValueError")


@pytest.mark.django_db(transaction=True)
def test_in_embedded_mode_a_job_runs_in_a_thread(client, analyst, bmw, settings):
    import threading

    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.WISHLIST_RESOLVE_IN_THREAD = True
    client.force_login(analyst)

    with override():
        response = client.post(reverse("cases:resolution_job_start"), {"filter_query": ""})
        # Joined before this thread reads the job: SQLite's shared-cache test database
        # locks a table being written at once ("database table is locked"), without
        # waiting, so a read here while the job's thread writes failed under load.
        for thread in threading.enumerate():  # none left if it has finished already
            if thread.name.startswith("resolution-job-"):
                thread.join(timeout=60)
        job = ResolutionJob.objects.get()

    assert response.url == reverse("cases:resolution_job", args=[job.pk])
    job.refresh_from_db()
    assert (job.state, job.done_count, job.case_count) == ("done", 1, 1)


def test_each_step_queues_the_next_and_a_refused_one_fails_the_job_where_it_stopped(
    analyst, team, broker_at
):
    from cases import tasks

    cases = [
        CaseFactory(entity=EntityFactory(name=f"Step {n} AG", country="DE"), team=team)
        for n in range(jobs.STEP + 2)
    ]
    job = jobs.resolution_job_create(user=analyst, entity_ids=[c.entity_id for c in cases])
    broker_at(f"redis://127.0.0.1:{free_port()}/0")  # the next step cannot be queued

    with override():
        tasks.run_resolution_job.apply(args=[job.pk])

    job.refresh_from_db()
    assert (job.state, job.done_count, job.case_count) == ("failed", jobs.STEP, jobs.STEP + 2)
    assert "task queue could not be reached" in job.error
    assert "done so far keep their candidates" in job.error
