"""Bulk actions of the case list: assign, set status, move to a team, add or remove a tag,
over picked cases or all the filter matches, case by case through the services, with
refusals counted and said in words. Supervisors only assign; moving teams is the
admins'. Every refusal of the whole action leaves the database as it was."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from cases.casework import bulk_actions, tags
from cases.models import Case, CaseStatusChange, CaseTag, Tag
from tests.clients import Client
from tests.factories import AnalystFactory, CaseFactory, EntityFactory, TeamFactory

pytestmark = pytest.mark.django_db


def snapshot() -> tuple:
    return (
        list(Case.objects.order_by("id").values()),
        list(Case.history.order_by("history_id").values_list("history_id", flat=True)),
        list(CaseStatusChange.objects.order_by("id").values()),
        list(Tag.objects.order_by("id").values()),
        list(CaseTag.objects.order_by("id").values()),
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def bulk(client, cases=(), **data):
    data.setdefault("filter_query", "")
    payload = {"cases": [str(getattr(c, "pk", c)) for c in cases], **data}
    return client.post(reverse("cases:case_bulk"), payload)


def named(name, team, **fields):
    return CaseFactory(entity=EntityFactory(name=name), team=team, **fields)


@pytest.fixture
def pair(team):
    return named("Alpha Ltd", team), named("Beta Ltd", team)


def test_an_analyst_sets_the_status_of_picked_cases(analyst, pair, team):
    untouched = named("Gamma Ltd", team)

    response = bulk(signed_in(analyst), pair, action="status", status="monitoring")

    assert said(response) == ["2 cases set to monitoring."]
    assert response.url == reverse("cases:case_list")
    for case in pair:
        case.refresh_from_db()
        assert case.status == "monitoring"
        change = case.status_changes.get()
        assert (change.from_status, change.to_status, change.changed_by) == (
            "open",
            "monitoring",
            analyst,
        )
        assert case.history.first().history_user == analyst
    untouched.refresh_from_db()
    assert untouched.status == "open"


def test_cases_already_there_are_counted_apart(analyst, pair):
    Case.objects.filter(pk=pair[0].pk).update(status="monitoring")

    response = bulk(signed_in(analyst), pair, action="status", status="monitoring")

    assert said(response) == ["1 case set to monitoring; 1 already monitoring."]
    assert CaseStatusChange.objects.count() == 1


def test_assigning_refuses_case_by_case_with_the_reason(analyst, colleague, team):
    second = TeamFactory(name="Second")
    second.members.add(analyst)  # alice sees both teams; bob is on the first only
    ours = named("Alpha Ltd", team)
    theirs = [named("Gamma Ltd", second), named("Delta Ltd", second)]

    response = bulk(
        signed_in(analyst), [ours, *theirs], action="assign", assignee=str(colleague.pk)
    )

    assert said(response) == [
        "1 case assigned to bob; 2 refused: bob is not on the case's team (Gamma Ltd, Delta Ltd)."
    ]
    ours.refresh_from_db()
    assert ours.assignee == colleague
    assert Case.objects.filter(pk__in=[c.pk for c in theirs], assignee__isnull=False).count() == 0


def test_a_picked_case_outside_ones_teams_is_refused_without_naming_it(analyst, pair, other_team):
    hidden = named("Secret Ltd", other_team)

    response = bulk(signed_in(analyst), [*pair, hidden], action="status", status="closed")

    assert said(response) == ["2 cases set to closed; 1 refused: 1 case not among your cases."]
    hidden.refresh_from_db()
    assert hidden.status == "open"


def test_every_case_matching_the_filter(analyst, team):
    open_ones = [named("Alpha Ltd", team), named("Beta Ltd", team)]
    closed = named("Gamma Ltd", team, status="closed")

    response = bulk(
        signed_in(analyst),
        action="tag_add",
        tag="escalate",
        all_matching="on",
        filter_query="status=open",
    )

    assert said(response) == ["2 cases tagged “escalate”."]
    assert set(Tag.objects.get().cases.all()) == set(open_ones)
    assert not closed.tags.exists()
    assert response.url == reverse("cases:case_list") + "?status=open"


def test_more_cases_than_a_bulk_action_takes_are_refused_whole(analyst, team, pair, monkeypatch):
    monkeypatch.setattr(bulk_actions, "MAX_CASES", 1)
    before = snapshot()

    response = bulk(signed_in(analyst), pair, action="status", status="closed")

    assert snapshot() == before
    assert said(response) == [
        "A bulk action works on at most 1 cases; narrow the filter first. Nothing was changed."
    ]


def test_tags_are_added_and_removed_in_bulk_per_team(staff, analyst, team, other_team):
    ours, theirs = named("Alpha Ltd", team), named("Beta Ltd", other_team)
    loose = named("Loose Ltd", None)
    tags.case_tag_add(case=ours, name="Escalate", actor=analyst)
    admin = signed_in(staff)

    added = bulk(admin, [ours, theirs, loose], action="tag_add", tag="ESCALATE")

    assert said(added) == [
        "1 case tagged “ESCALATE”; 1 already tagged “ESCALATE”; 1 refused: A case without a "
        "team takes no tag: move it to a team first (Loose Ltd)."
    ]
    assert sorted(Tag.objects.values_list("team__name", "name")) == [
        ("Team A", "Escalate"),
        ("Team B", "ESCALATE"),
    ]

    removed = bulk(admin, [ours, theirs], action="tag_remove", tag="escalate")

    assert said(removed)[-1] == "2 cases no longer tagged “escalate”."
    assert CaseTag.objects.count() == 0


def test_an_admin_moves_cases_to_a_team(staff, analyst, team, other_team, pair):
    tags.case_tag_add(case=pair[0], name="escalate", actor=analyst)
    Case.objects.filter(pk=pair[0].pk).update(assignee=analyst)

    response = bulk(signed_in(staff), pair, action="team", team=str(other_team.pk))

    assert said(response) == ["2 cases moved to Team B."]
    first = Case.objects.get(pk=pair[0].pk)
    assert (first.team, first.assignee) == (other_team, None)
    assert not CaseTag.objects.exists()
    assert first.history.first().history_user == staff


def test_an_analyst_may_not_move_teams(analyst, pair, other_team):
    before = snapshot()

    response = bulk(signed_in(analyst), pair, action="team", team=str(other_team.pk))

    assert snapshot() == before
    assert said(response)[0].startswith("Select a valid choice. team is not one")


@pytest.mark.parametrize(
    "data",
    [
        {"action": "status", "status": "monitoring"},
        {"action": "tag_add", "tag": "escalate"},
        {"action": "team", "team": "1"},
    ],
)
def test_a_supervisor_only_assigns(supervisor, pair, data):
    before = snapshot()

    response = bulk(signed_in(supervisor), pair, **data)

    assert snapshot() == before
    assert said(response)[0].startswith("Select a valid choice.")


def test_a_supervisor_assigns_in_bulk(supervisor, colleague, pair):
    response = bulk(signed_in(supervisor), pair, action="assign", assignee=str(colleague.pk))

    assert said(response) == ["2 cases assigned to bob."]
    assert set(Case.objects.values_list("assignee__username", flat=True)) == {"bob"}


def test_a_supervisor_sees_the_bar_with_assign_only(supervisor, pair):
    page = signed_in(supervisor).get(reverse("cases:case_list")).content.decode()
    bar = page.split('id="bulk-form"', 1)[1].split("</form>", 1)[0]

    assert '<option value="assign">' in bar
    assert '<option value="status">' not in bar and 'name="tag"' not in bar


def test_people_without_a_role_get_no_bar_and_are_refused(no_role, pair):
    client = signed_in(no_role)
    before = snapshot()

    assert 'id="bulk-form"' not in client.get(reverse("cases:case_list")).content.decode()
    assert bulk(client, pair, action="status", status="closed").status_code == 403
    assert snapshot() == before


def test_it_needs_a_sign_in(client, pair):
    response = bulk(client, pair, action="status", status="closed")

    assert response.status_code == 302 and "login" in response.url


@pytest.mark.parametrize(
    ("cases", "data", "message"),
    [
        ([], {"action": "status", "status": "closed"}, "Pick at least one case"),
        (["abc"], {"action": "status", "status": "closed"}, "The selection could not be read"),
        (["1; DROP TABLE"], {"action": "status", "status": "closed"}, "The selection could"),
        (None, {"status": "closed"}, "Choose an action."),
        (None, {"action": "status"}, "Choose the status to set."),
        (None, {"action": "status", "status": "bogus"}, "Select a valid choice. bogus"),
        (None, {"action": "tag_add", "tag": ""}, "Give the tag to add."),
        (None, {"action": "tag_add", "tag": "<script>"}, "A tag name holds letters"),
        (None, {"action": "tag_add", "tag": "x" * 500}, "Ensure this value has at most 200"),
        (None, {"action": "assign", "assignee": "999999"}, "Select a valid choice."),
        (
            [],
            {
                "action": "status",
                "status": "closed",
                "all_matching": "on",
                "filter_query": "x=1&year=abc",
            },
            "The case filter could not be read",
        ),
    ],
)
def test_a_bad_request_is_refused_whole(analyst, pair, cases, data, message):
    before = snapshot()

    response = bulk(signed_in(analyst), pair if cases is None else cases, **data)

    assert response.status_code == 302
    assert snapshot() == before
    assert said(response)[0].startswith(message), said(response)


def test_the_list_has_a_box_per_case_tied_to_the_bar(analyst, pair):
    page = signed_in(analyst).get(reverse("cases:case_list")).content.decode()

    for case in pair:
        assert f'name="cases" value="{case.pk}" form="bulk-form"' in page
    assert "all 2 matching this filter" in page
    assert 'src="/static/cases/bulk_pick.js"' in page


def test_the_message_names_a_few_and_counts_the_rest():
    outcome = bulk_actions.BulkOutcome(done=3, unseen=2)
    outcome.refused["no"] = [f"Case {i}" for i in range(7)]

    assert outcome.message("done", "same") == (
        "3 cases done; 9 refused: no (Case 0, Case 1, Case 2, Case 3, Case 4 and 2 more); "
        "2 cases not among your cases."
    )


def test_assignable_people_are_the_analysts_of_ones_teams(analyst, colleague, other_analyst):
    from cases.casework.list_forms import assignable_users

    AnalystFactory(username="zed", teams=[TeamFactory(name="Far")])

    assert [u.username for u in assignable_users(analyst)] == ["alice", "bob"]
    assert other_analyst not in assignable_users(analyst)
