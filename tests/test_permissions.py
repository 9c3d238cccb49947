"""The same permission table for every research page: who may see a case, who may change
it, and that a refused request changes nothing.

Roles: anonymous, an analyst of another team, an analyst of the case's team, a
supervisor of the case's team, an admin (staff, on no team) and a team member with no
role. A case outside the user's teams is a 404; a role that may not edit is a 403.
"""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.contrib.messages import get_messages
from django.urls import reverse

from cases.checks.sources import get_sources
from cases.models import Case, CaseStatusChange, CheckRun, Finding
from tests.factories import (
    AnalystFactory,
    CaseFactory,
    EntityFactory,
    FindingFactory,
    ReferralFactory,
    SupervisorFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CASE_NAME = "Alpha Robotics Ltd"
LEAD_NAME = "Alpha Lead Counterparty"
FOREIGN_CASE_NAME = "Bravo Foreign Ltd"
FOREIGN_LEAD_NAME = "Bravo Lead Counterparty"
ROLES = ("anonymous", "other_analyst", "analyst", "supervisor", "admin", "no_role")


def with_lei_check_digits(base: str) -> str:
    """Return a valid LEI for an 18-character base (ISO 7064 mod 97-10)."""
    digits = "".join(str(int(ch, 36)) for ch in base + "00")
    return f"{base}{98 - int(digits) % 97:02d}"


VALID_LEI = with_lei_check_digits("5299000EXAMPLE0001")


@pytest.fixture(autouse=True)
def _no_internet():
    """Checks queued by "check now" must never reach a real source."""
    with responses.RequestsMock(assert_all_requests_are_fired=False):
        yield


@dataclass
class World:
    case: Case
    lead: Finding
    foreign_case: Case
    foreign_lead: Finding
    users: dict


@pytest.fixture
def world(db) -> World:
    team = TeamFactory(name="Team A")
    other_team = TeamFactory(name="Team B")
    no_role = UserFactory(username="nora")
    team.members.add(no_role)
    users = {
        "anonymous": None,
        "other_analyst": AnalystFactory(username="olga", teams=[other_team]),
        "analyst": AnalystFactory(username="alice", teams=[team]),
        "supervisor": SupervisorFactory(username="sam", teams=[team]),
        "admin": UserFactory(username="root", is_staff=True),
        "no_role": no_role,
    }
    case = CaseFactory(entity=EntityFactory(name=CASE_NAME), team=team)
    ReferralFactory(entity=case.entity, technology_field="team a robotics")
    lead = FindingFactory(
        case=case,
        source="gleif",
        external_id="A-1",
        counterparty_name=LEAD_NAME,
        match_score=90,
    )
    foreign_case = CaseFactory(entity=EntityFactory(name=FOREIGN_CASE_NAME), team=other_team)
    ReferralFactory(entity=foreign_case.entity, technology_field="Secret Quantum Sensing")
    foreign_lead = FindingFactory(
        case=foreign_case,
        source="gleif",
        external_id="B-1",
        counterparty_name=FOREIGN_LEAD_NAME,
        match_score=90,
    )
    return World(case, lead, foreign_case, foreign_lead, users)


def client_for(client, world: World, role: str):
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    return client


def snapshot(world: World) -> dict:
    """Everything a research-page POST may change."""
    case = Case.objects.select_related("entity").get(pk=world.case.pk)
    return {
        "case": (case.status, case.assignee_id, case.version, case.updated_at),
        "entity": (case.entity.lei, case.entity.aliases, case.entity.updated_at),
        "findings": sorted(
            Finding.objects.values_list("id", "review_state", "version", "reviewed_by")
        ),
        "check_runs": CheckRun.objects.count(),
        "status_changes": CaseStatusChange.objects.count(),
    }


def assert_login_redirect(response, path: str) -> None:
    assert response.status_code == 302
    parts = urlsplit(response.url)
    assert parts.path == reverse("login")
    assert parse_qs(parts.query)["next"] == [path]


def texts(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


# ------------------------------------------------------------------ pages (GET)


@dataclass(frozen=True)
class Page:
    path: Callable[[World], str]
    marker: str  # what shows that the team's case (or lead) is visible


PAGES = {
    "case_list": Page(lambda w: reverse("cases:case_list"), CASE_NAME),
    "case_csv": Page(lambda w: reverse("cases:case_list") + "?format=csv", CASE_NAME),
    "case_detail": Page(lambda w: reverse("cases:case_detail", args=[w.case.pk]), CASE_NAME),
    "review_queue": Page(lambda w: reverse("cases:review_queue"), LEAD_NAME),
    "my_work": Page(lambda w: reverse("cases:my_work"), CASE_NAME),
}

# "shown": 200 with the team's case; "hidden": 200 without it; "login": to sign in.
PAGE_TABLE = {
    #               anonymous other_analyst analyst  supervisor admin    no_role
    "case_list": ("login", "hidden", "shown", "shown", "shown", "hidden"),
    "case_csv": ("login", "hidden", "shown", "shown", "shown", "hidden"),
    "case_detail": ("login", 404, "shown", "shown", "shown", 404),
    "review_queue": ("login", "hidden", "shown", "shown", "shown", 403),
    "my_work": ("login", "hidden", "shown", "shown", "shown", "hidden"),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("view", sorted(PAGE_TABLE))
def test_it_guards_every_page(client, world, view, role):
    page = PAGES[view]
    expected = PAGE_TABLE[view][ROLES.index(role)]
    if world.users[role] is not None:
        # My work lists the cases assigned to the user, wherever they are.
        Case.objects.filter(pk=world.case.pk).update(assignee=world.users[role])
    path = page.path(world)

    response = client_for(client, world, role).get(path)

    if expected == "login":
        assert_login_redirect(response, path)
    elif expected in ("shown", "hidden"):
        assert response.status_code == 200
        body = texts(response)
        assert (page.marker in body) == (expected == "shown")
        assert FOREIGN_CASE_NAME not in body or role in ("admin", "other_analyst")
        assert FOREIGN_LEAD_NAME not in body or role in ("admin", "other_analyst")
    else:
        assert response.status_code == expected
        assert CASE_NAME not in texts(response)


@pytest.mark.parametrize("view", ["case_list", "case_csv", "review_queue"])
def test_it_shows_the_other_team_its_own_cases(client, world, view):
    """The other team's analyst is not simply shown an empty page."""
    response = client_for(client, world, "other_analyst").get(PAGES[view].path(world))

    body = texts(response)
    assert response.status_code == 200
    assert (FOREIGN_LEAD_NAME if view == "review_queue" else FOREIGN_CASE_NAME) in body
    assert CASE_NAME not in body
    assert LEAD_NAME not in body


def test_it_gives_a_user_without_a_role_empty_pages(client, world):
    client_for(client, world, "no_role")

    listing = client.get(reverse("cases:case_list"))
    csv_lines = texts(client.get(reverse("cases:case_list") + "?format=csv")).splitlines()
    mine = client.get(reverse("cases:my_work"))

    assert listing.status_code == 200
    assert list(listing.context["page"].object_list) == []
    assert len(csv_lines) == 1  # the header only
    assert mine.status_code == 200
    assert list(mine.context["cases"]) == []
    assert client.get(world.case.get_absolute_url()).status_code == 404


def test_it_treats_an_inactive_analyst_as_signed_out(client, world):
    analyst = world.users["analyst"]
    client.force_login(analyst)
    analyst.is_active = False
    analyst.save()
    path = world.case.get_absolute_url()

    assert_login_redirect(client.get(path), path)


def test_it_does_not_offer_other_teams_technology_fields(client, world):
    """The filter's choices come from referrals: another team's must not show."""
    response = client_for(client, world, "analyst").get(reverse("cases:case_list"))

    body = response.content.decode()
    assert "team a robotics" in body
    assert "Secret Quantum Sensing" not in body


# ------------------------------------------------------------------ login page


@pytest.mark.parametrize("role", ROLES)
def test_it_shows_the_login_page_only_to_anonymous_users(client, world, role):
    response = client_for(client, world, role).get(reverse("login"))

    if role == "anonymous":
        assert response.status_code == 200
        assert 'name="password"' in response.content.decode()
    else:
        assert response.status_code == 302
        assert response.url == reverse("cases:my_work")


# ------------------------------------------------------------------ actions (POST)


@dataclass(frozen=True)
class Action:
    path: Callable[[World], str]
    data: Callable[[World], dict]
    done: Callable[[World], bool]  # the change was made


def entity_data(world: World) -> dict:
    return {
        "name_native": "",
        "aliases": "Alpha Robotics\nAlpha Robo",
        "website": "",
        "lei": VALID_LEI,
        "sec_cik": "",
        "uk_company_number": "",
        "ror_id": "",
        "openalex_id": "",
        "wikidata_id": "",
        "version": world.case.version,
    }


def finding_data(world: World) -> dict:
    return {
        "kind": Finding.Kind.JOINT_VENTURE,
        "counterparty_name": "Hand Recorded Co.",
        "counterparty_country": "CN",
        "event_date": "2019-03",
        "source_url": "https://news.example.org/item",
        "excerpt": "They formed a joint venture.",
        "confidence": Finding.Confidence.HIGH,
    }


def reviewed(world: World) -> bool:
    world.lead.refresh_from_db()
    return world.lead.review_state == Finding.ReviewState.CONFIRMED


def case_now(world: World) -> Case:
    return Case.objects.select_related("entity").get(pk=world.case.pk)


ACTIONS = {
    "case_status": Action(
        lambda w: reverse("cases:case_status", args=[w.case.pk]),
        lambda w: {"status": Case.Status.MONITORING, "version": w.case.version},
        lambda w: case_now(w).status == Case.Status.MONITORING,
    ),
    "case_assign": Action(
        lambda w: reverse("cases:case_assign", args=[w.case.pk]),
        lambda w: {"assignee": w.users["analyst"].pk, "version": w.case.version},
        lambda w: case_now(w).assignee_id == w.users["analyst"].pk,
    ),
    "case_entity": Action(
        lambda w: reverse("cases:case_entity", args=[w.case.pk]),
        entity_data,
        lambda w: case_now(w).entity.lei == VALID_LEI,
    ),
    "case_finding_add": Action(
        lambda w: reverse("cases:case_finding_add", args=[w.case.pk]),
        finding_data,
        lambda w: w.case.findings.filter(counterparty_name="Hand Recorded Co.").exists(),
    ),
    "case_check_now": Action(
        lambda w: reverse("cases:case_check_now", args=[w.case.pk]),
        lambda w: {},
        lambda w: CheckRun.objects.filter(case=w.case).count() == len(get_sources()),
    ),
    "finding_review": Action(
        lambda w: reverse("cases:finding_review", args=[w.lead.pk]),
        lambda w: {"decision": Finding.ReviewState.CONFIRMED, "version": w.lead.version},
        reviewed,
    ),
    "review_bulk": Action(
        lambda w: reverse("cases:review_bulk"),
        lambda w: {
            "findings": [f"{w.lead.pk}:{w.lead.version}"],
            "decision": Finding.ReviewState.CONFIRMED,
        },
        reviewed,
    ),
}

# "done": 302 and the change made; "refused": 302 back with an error, nothing changed.
ACTION_TABLE = {
    #                   anonymous other_analyst analyst supervisor admin   no_role
    "case_status": ("login", 404, "done", 403, "done", 404),
    "case_assign": ("login", 404, "done", "done", "done", 404),
    "case_entity": ("login", 404, "done", 403, "done", 404),
    "case_finding_add": ("login", 404, "done", 403, "done", 404),
    "case_check_now": ("login", 404, "done", 403, "done", 404),
    "finding_review": ("login", 404, "done", 403, "done", 404),
    "review_bulk": ("login", "refused", "done", 403, "done", 403),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("view", sorted(ACTION_TABLE))
def test_it_guards_every_action(client, world, view, role):
    action = ACTIONS[view]
    expected = ACTION_TABLE[view][ROLES.index(role)]
    path = action.path(world)
    before = snapshot(world)

    response = client_for(client, world, role).post(path, action.data(world))

    if expected == "done":
        assert response.status_code == 302, texts(response)[:2000]
        assert action.done(world)
        assert snapshot(world) != before
        return
    if expected == "login":
        assert_login_redirect(response, path)
    elif expected == "refused":
        assert response.status_code == 302
        assert response.url == reverse("cases:review_queue")
        assert any("not yours" in str(m) for m in get_messages(response.wsgi_request))
    else:
        assert response.status_code == expected
    assert not action.done(world)
    assert snapshot(world) == before


@pytest.mark.parametrize("role", ["anonymous", "analyst"])
@pytest.mark.parametrize("view", sorted(ACTION_TABLE))
def test_it_refuses_get_on_actions(client, world, view, role):
    before = snapshot(world)

    response = client_for(client, world, role).get(ACTIONS[view].path(world))

    assert response.status_code == 405
    assert snapshot(world) == before


@pytest.mark.parametrize(
    "view", ["case_status", "case_assign", "case_entity", "case_finding_add", "case_check_now"]
)
def test_it_answers_404_for_a_case_that_does_not_exist(client, world, view):
    client_for(client, world, "admin")

    response = client.post(reverse(f"cases:{view}", args=[999999]), {})

    assert response.status_code == 404


def test_it_lets_the_other_team_act_on_its_own_case(client, world):
    """The 404s above come from the team, not from a broken view."""
    client_for(client, world, "other_analyst")
    foreign = world.foreign_case

    response = client.post(
        reverse("cases:case_status", args=[foreign.pk]),
        {"status": Case.Status.IN_REVIEW, "version": foreign.version},
    )

    assert response.status_code == 302
    foreign.refresh_from_db()
    assert foreign.status == Case.Status.IN_REVIEW


def test_it_does_not_review_a_foreign_lead_in_bulk_with_a_visible_one(client, world):
    client_for(client, world, "analyst")
    before = snapshot(world)
    foreign_before = (world.foreign_lead.review_state, world.foreign_lead.version)

    response = client.post(
        reverse("cases:review_bulk"),
        {
            "findings": [
                f"{world.lead.pk}:{world.lead.version}",
                f"{world.foreign_lead.pk}:{world.foreign_lead.version}",
            ],
            "decision": Finding.ReviewState.CONFIRMED,
        },
    )

    assert response.status_code == 302
    world.foreign_lead.refresh_from_db()
    assert (world.foreign_lead.review_state, world.foreign_lead.version) == foreign_before
    assert snapshot(world) == before
