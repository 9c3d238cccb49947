"""The supervisors' backlog per team: unassigned open cases, waiting leads and their age,
reviews per person per week, and for admins the cases on no team. The permission table
(tests/test_permissions.py) has the page's row for every role."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.casework import dashboard
from cases.models import Case, Finding
from tests.clients import Client
from tests.factories import CaseFactory, EntityFactory, FindingFactory, TeamFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_case(name: str, team, **fields) -> Case:
    return CaseFactory(entity=EntityFactory(name=name), team=team, **fields)


def lead(case: Case, external_id: str, *, age: datetime.timedelta = DAY) -> Finding:
    finding = FindingFactory(case=case, source="gdelt", external_id=external_id)
    Finding.objects.filter(pk=finding.pk).update(created_at=timezone.now() - age)
    return finding


def reviewed(case: Case, external_id: str, reviewer, *, ago: datetime.timedelta) -> Finding:
    finding = FindingFactory(case=case, source="gdelt", external_id=external_id)
    Finding.objects.filter(pk=finding.pk).update(
        review_state=Finding.ReviewState.CONFIRMED,
        reviewed_by=reviewer,
        reviewed_at=timezone.now() - ago,
    )
    return finding


def row_of(backlog: dashboard.Backlog, name: str):
    return next(
        (row, oldest, median) for row, oldest, median in backlog.rows() if row.team.name == name
    )


def test_it_counts_unassigned_open_cases_and_waiting_leads_per_team(
    supervisor, analyst, team, other_team
):
    make_case("Free One", team)
    make_case("Free Two", team, status=Case.Status.IN_REVIEW)
    make_case("Free Closed", team, status=Case.Status.CLOSED)
    make_case("Free Concluded", team, status=Case.Status.CONCLUDED)
    taken = make_case("Taken", team, assignee=analyst)
    for external_id, days in [("A", 10), ("B", 4), ("C", 2)]:
        lead(taken, external_id, age=days * DAY)
    reviewed(taken, "D", analyst, ago=DAY)
    make_case("Other Free", other_team)
    lead(make_case("Other Lead", other_team), "O", age=50 * DAY)

    response = signed_in(supervisor).get(reverse("cases:backlog"))

    assert response.status_code == 200
    backlog = response.context["backlog"]
    assert [row.team.name for row in backlog.teams] == ["Team A"]
    row, oldest, median = row_of(backlog, "Team A")
    assert (row.unassigned, row.leads, oldest, median) == (2, 3, 10, 4)
    page = response.content.decode()
    assert "Team B" not in page
    assert 'id="no-team"' not in page


def test_the_median_of_an_even_backlog_is_the_older_middle(staff, team):
    case = make_case("Leads", team)
    for external_id, days in [("A", 10), ("B", 6), ("C", 4), ("D", 2)]:
        lead(case, external_id, age=days * DAY)

    _, oldest, median = row_of(dashboard.backlog(staff), "Team A")

    assert (oldest, median) == (10, 6)


def test_a_team_with_no_backlog_shows_zero_and_no_age(supervisor, team):
    response = signed_in(supervisor).get(reverse("cases:backlog"))

    row, oldest, median = row_of(response.context["backlog"], "Team A")
    assert (row.unassigned, row.leads, oldest, median) == (0, 0, None, None)
    assert "No reviews in these weeks." in response.content.decode()


def test_it_counts_reviews_per_person_per_week_for_eight_weeks(
    supervisor, analyst, colleague, team, other_team, other_analyst
):
    case = make_case("Reviewed", team, assignee=analyst)
    reviewed(case, "A1", analyst, ago=datetime.timedelta(minutes=5))
    reviewed(case, "A2", analyst, ago=datetime.timedelta(minutes=10))
    reviewed(case, "A3", analyst, ago=21 * DAY)
    reviewed(case, "A4", analyst, ago=70 * DAY)  # before the eight weeks
    reviewed(case, "B1", colleague, ago=7 * DAY)
    lead(case, "WAITING")
    reviewed(make_case("Theirs", other_team), "O1", other_analyst, ago=DAY)

    backlog = dashboard.backlog(supervisor)

    assert len(backlog.weeks) == 8
    assert backlog.weeks[-1] == timezone.localdate() - datetime.timedelta(
        days=timezone.localdate().weekday()
    )
    assert all(week.weekday() == 0 for week in backlog.weeks)
    assert row_of(backlog, "Team A")[0].reviews == [
        ("alice", [0, 0, 0, 0, 1, 0, 0, 2]),
        ("bob", [0, 0, 0, 0, 0, 0, 1, 0]),
    ]


def test_admins_see_every_team_and_the_cases_on_no_team(staff, team, other_team):
    CaseFactory(entity=EntityFactory(name="Imported One"), team=None)
    CaseFactory(entity=EntityFactory(name="Imported Two"), team=None, status=Case.Status.CLOSED)

    response = signed_in(staff).get(reverse("cases:backlog"))

    backlog = response.context["backlog"]
    assert [row.team.name for row in backlog.teams] == ["Team A", "Team B"]
    assert (backlog.no_team_open, backlog.no_team_total) == (1, 2)
    page = response.content.decode()
    assert 'id="no-team"' in page
    assert reverse("admin:cases_case_changelist") + "?team__isnull=True" in page


def test_supervisors_do_not_see_the_cases_on_no_team(supervisor, team):
    CaseFactory(entity=EntityFactory(name="Imported"), team=None)

    backlog = dashboard.backlog(supervisor)

    assert backlog.no_team_open is None


def test_the_unassigned_link_lists_the_team_s_unassigned_open_cases(supervisor, analyst, team):
    make_case("Free One", team)
    make_case("Free Closed", team, status=Case.Status.CLOSED)
    make_case("Taken", team, assignee=analyst)
    client = signed_in(supervisor)
    page = client.get(reverse("cases:backlog")).content.decode()
    href = page.split('<td><a href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")

    listed = client.get(href).context["page"].object_list

    assert [c.entity.name for c in listed] == ["Free One"]


def test_the_nav_links_the_backlog_for_supervisors_only(supervisor, analyst):
    backlog = f'href="{reverse("cases:backlog")}"'

    assert backlog in signed_in(supervisor).get(reverse("cases:my_work")).content.decode()
    assert backlog not in signed_in(analyst).get(reverse("cases:my_work")).content.decode()


def _world(teams: range, analyst) -> None:
    for t in teams:
        team = TeamFactory(name=f"Team {t:02d}")
        for c in range(3):
            case = make_case(f"Case {t}-{c}", team)
            lead(case, f"L{t}-{c}", age=(c + 1) * DAY)
            reviewed(case, f"R{t}-{c}", analyst, ago=c * 7 * DAY)
        CaseFactory(entity=EntityFactory(name=f"No team {t}"), team=None)


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("cases:backlog"))
    assert response.status_code == 200
    return len(queries)


def test_the_backlog_makes_as_many_queries_for_30_teams_as_for_5(staff, analyst):
    client = signed_in(staff)
    _world(range(5), analyst)
    few = _queries(client)

    _world(range(5, 30), analyst)
    many = _queries(client)

    assert many == few
    backlog = dashboard.backlog(staff)
    assert len(backlog.teams) == 31  # with alice's Team A
    assert row_of(backlog, "Team 07")[1:] == (3, 2)
