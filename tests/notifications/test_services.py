"""Who is told of what: new leads filed by checks, assignments, refused edits; watching
a case; the database refusing a notification of one's own action."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.urls import reverse

from cases.casework import services as casework_services
from cases.checks.services import leads_file
from cases.context_processors import notifications as notifications_context
from cases.models import Case, Notification, Watch
from cases.notifications import services
from tests.checks.fakes import hit
from tests.factories import AnalystFactory, CaseFactory, FindingFactory, SupervisorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(team):
    return CaseFactory(team=team)


def told(kind: str | None = None) -> list[str]:
    notes = Notification.objects.all()
    if kind:
        notes = notes.filter(kind=kind)
    return sorted(notes.values_list("recipient__username", flat=True))


# ------------------------------------------------------------------------------ new leads


def test_new_leads_on_an_assigned_case_tell_its_assignee_and_watchers(
    analyst, colleague, supervisor, case
):
    Case.objects.filter(pk=case.pk).update(assignee=analyst)
    case.refresh_from_db()
    services.watch_start(user=supervisor, case=case)

    assert leads_file(case=case, source="gdelt", hits=[hit("a"), hit("b")]) == 2

    assert told() == ["alice", "sam"]  # not bob: the case is alice's
    note = Notification.objects.filter(recipient=analyst).get()
    assert note.kind == Notification.Kind.NEW_LEADS
    assert note.actor is None
    assert (
        note.text == f"Checks filed 2 new leads on {case.entity.name} (case {case.pk}) from gdelt."
    )


def test_new_leads_on_an_unassigned_case_tell_the_teams_analysts(
    analyst, colleague, supervisor, other_analyst, case
):
    leads_file(case=case, source="gdelt", hits=[hit("a")])

    assert told() == ["alice", "bob"]
    assert "a new lead" in Notification.objects.first().text


def test_evidence_filed_before_tells_nobody_again(analyst, case):
    leads_file(case=case, source="gdelt", hits=[hit("a")])
    Notification.objects.all().delete()

    assert leads_file(case=case, source="gdelt", hits=[hit("a")]) == 0

    assert told() == []


def test_a_case_without_a_team_tells_only_its_watching_admins(staff, analyst):
    case = CaseFactory(team=None)
    services.watch_start(user=staff, case=case)

    services.notify_new_leads(case, [FindingFactory.build(case=case, source="gleif")])

    assert told() == ["root"]


def test_no_findings_no_notification(analyst, case):
    assert services.notify_new_leads(case, []) == []
    assert told() == []


# ------------------------------------------------------------------------------ assignment


def test_the_new_assignee_is_told_who_gave_them_the_case(client, supervisor, analyst, case):
    client.force_login(supervisor)

    client.post(
        reverse("cases:case_assign", args=[case.pk]),
        {"assignee": analyst.pk, "version": case.version},
    )

    note = Notification.objects.get()
    assert (note.recipient, note.kind, note.actor) == (analyst, "assigned", supervisor)
    assert note.text == f"sam assigned {case.entity.name} (case {case.pk}) to you."


def test_taking_a_case_oneself_or_assigning_it_again_tells_nobody(analyst, colleague, case):
    casework_services.case_assign(case=case, assignee=analyst, actor=analyst)
    casework_services.case_assign(case=case, assignee=analyst, actor=colleague)
    casework_services.case_assign(case=case, assignee=None, actor=colleague)

    assert told() == []


def test_a_refused_assignment_leaves_no_notification(analyst, other_analyst, case):
    with pytest.raises(ValidationError, match="not on the case's team"):
        casework_services.case_assign(case=case, assignee=other_analyst, actor=analyst)

    assert told() == []


# ------------------------------------------------------------------------------ refused edits


def test_a_refused_stale_edit_tells_the_person_whose_edit_was_kept(
    client, analyst, colleague, case
):
    opened_at = case.version
    casework_services.case_set_status(case=case, status="monitoring", actor=analyst)
    client.force_login(colleague)

    response = client.post(
        reverse("cases:case_status", args=[case.pk]),
        {"status": "closed", "version": opened_at},
    )

    assert response.status_code == 409
    assert Case.objects.get(pk=case.pk).status == "monitoring"
    note = Notification.objects.get()
    assert (note.recipient, note.kind, note.actor) == (analyst, "refused_edit", colleague)
    assert note.text == (
        f"bob tried to change {case.entity.name} (case {case.pk}) after your change; their "
        "save was refused and yours was kept."
    )


def test_a_refused_review_names_the_lead(client, analyst, colleague, case):
    lead = FindingFactory(case=case, source="gdelt", external_id="x", counterparty_name="ZTE")
    casework_services.finding_review(
        finding=lead, state="confirmed", reviewer=analyst, version=lead.version
    )
    client.force_login(colleague)

    client.post(
        reverse("cases:finding_review", args=[lead.pk]),
        {"decision": "rejected", "note": "not them", "version": 1},
    )

    note = Notification.objects.get()
    assert note.recipient == analyst
    assert note.text.startswith(
        f"bob tried to change the joint venture with ZTE on {case.entity.name} (case {case.pk})"
    )


def test_refusing_ones_own_stale_edit_tells_nobody(client, analyst, case):
    casework_services.case_set_status(case=case, status="monitoring", actor=analyst)
    client.force_login(analyst)

    client.post(reverse("cases:case_status", args=[case.pk]), {"status": "closed", "version": 1})

    assert told() == []


# ------------------------------------------------------------------------------ rules


def test_the_database_refuses_notifying_the_actor(analyst, case):
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            recipient=analyst, actor=analyst, case=case, kind="mention", text="me"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(recipient=analyst, case=case, kind="gossip", text="x")


def test_watching_twice_is_watching_once_and_stopping_twice_is_harmless(analyst, case):
    services.watch_start(user=analyst, case=case)
    services.watch_start(user=analyst, case=case)

    assert Watch.objects.count() == 1
    assert services.watch_stop(user=analyst, case=case) is True
    assert services.watch_stop(user=analyst, case=case) is False
    with pytest.raises(IntegrityError), transaction.atomic():
        Watch.objects.bulk_create([Watch(user=analyst, case=case)] * 2)


def test_a_supervisor_is_not_a_team_analyst_for_new_leads(team, case):
    SupervisorFactory(username="sid", teams=[team])
    AnalystFactory(username="ann", teams=[team])

    services.notify_new_leads(case, [FindingFactory.build(case=case, source="gdelt")])

    assert told() == ["ann"]


def test_the_unread_count_takes_one_query(django_assert_num_queries, analyst, colleague, case):
    for n in range(3):
        Notification.objects.create(recipient=analyst, case=case, kind="assigned", text=f"n{n}")
    Notification.objects.create(recipient=colleague, case=case, kind="assigned", text="bob's")
    own = Notification.objects.filter(recipient=analyst).first()
    services.notification_mark_read(user=analyst, pk=own.pk)
    request = RequestFactory().get("/")
    request.user = analyst

    with django_assert_num_queries(1):
        assert notifications_context(request) == {"unread_notifications": 2}
