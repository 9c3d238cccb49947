"""The audit log (AuditEvent, cases/audit/): append-only, visible and filterable in the
admin, and written for sign-ins, failed sign-ins, sign-outs, exports, downloads and admin
changes."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from cases.audit.services import audit_record
from cases.models import AuditEvent, AuditEventImmutable, Team
from tests import commented_csv
from tests.accounts.conftest import sign_in
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


def rows() -> list:
    return sorted(AuditEvent.objects.values_list())


@pytest.fixture
def event(analyst) -> AuditEvent:
    return audit_record(actor=analyst, action="export", target="cases.csv", detail={"rows": 3})


# ---------------------------------------------------------------------- append-only


def test_an_event_cannot_be_changed(event):
    before = rows()
    event.target = "nothing happened"

    with pytest.raises(AuditEventImmutable):
        event.save()

    assert rows() == before


def test_an_event_cannot_be_deleted(event):
    before = rows()

    with pytest.raises(AuditEventImmutable):
        event.delete()
    with pytest.raises(AuditEventImmutable):
        AuditEvent.objects.all().delete()
    with pytest.raises(AuditEventImmutable):
        AuditEvent.objects.update(target="nothing happened")

    assert rows() == before


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE cases_auditevent SET target = 'nothing happened'",
        "UPDATE cases_auditevent SET actor_id = NULL, target = 'x'",
        "DELETE FROM cases_auditevent",
    ],
)
def test_the_database_refuses_raw_updates_and_deletes(event, sql):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the trigger is PostgreSQL's")
    before = rows()

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)

    assert rows() == before


def test_deleting_a_user_keeps_their_events_under_their_name(event, analyst):
    analyst.delete()

    event = AuditEvent.objects.get(pk=event.pk)
    assert event.actor is None
    assert event.actor_name == "alice"
    assert event.target == "cases.csv"


def test_an_unknown_action_is_refused(analyst):
    with pytest.raises(ValueError):
        audit_record(actor=analyst, action="made_up")

    assert AuditEvent.objects.count() == 0


# ---------------------------------------------------------------------- sign-in events


def test_signing_in_failing_and_signing_out_are_recorded(client, analyst):
    sign_in(client, "alice", "wrong password guess", address="198.51.100.4")
    sign_in(client, "alice", address="198.51.100.4")
    client.post(reverse("logout"), REMOTE_ADDR="198.51.100.4")

    events = list(AuditEvent.objects.order_by("id").values_list("action", "actor", "target", "ip"))
    assert events == [
        ("sign_in_failed", None, "alice", "198.51.100.4"),
        ("sign_in", analyst.pk, "", "198.51.100.4"),
        ("sign_out", analyst.pk, "", "198.51.100.4"),
    ]
    assert "wrong password guess" not in str(list(AuditEvent.objects.values()))


def test_a_failed_sign_in_of_an_unknown_name_is_recorded(client, db):
    sign_in(client, "mallory", "guess")

    assert AuditEvent.objects.get(action="sign_in_failed").target == "mallory"


# ---------------------------------------------------------------------- exports, downloads


def test_the_case_list_export_records_its_filter_and_rows(client, analyst, team):
    CaseFactory.create_batch(3, team=team)
    client.force_login(analyst)

    response = client.get(reverse("cases:case_list") + "?status=open&format=csv")
    b"".join(response.streaming_content)

    event = AuditEvent.objects.get(action="export")
    assert event.actor == analyst
    assert event.target == "cases.csv"
    assert event.detail == {"path": "/cases/", "query": "status=open&format=csv", "rows": 3}


@pytest.mark.parametrize("kind", ["rates", "survival", "control", "agreement"])
def test_an_analytics_download_records_its_filter_and_rows(client, supervisor, team, kind):
    CaseFactory.create_batch(2, team=team)
    client.force_login(supervisor)

    response = client.get(
        reverse("cases:analytics") + f"?dimension=year&outcome=any&download={kind}"
    )

    assert response.status_code == 200
    event = AuditEvent.objects.get(action="download")
    assert event.actor == supervisor
    # The rows of the table: the BOM, the metadata block and the header apart.
    assert event.detail["rows"] == len(commented_csv.table(response.content.decode())) - 1
    assert event.detail["query"] == f"dimension=year&outcome=any&download={kind}"
    assert event.target in response["Content-Disposition"]


@pytest.mark.parametrize("format", ["csv", "json"])
def test_the_admin_export_records_its_rows(admin_client, superuser, format):
    CaseFactory.create_batch(2)

    response = admin_client.get(reverse("admin:cases_case_export", args=[format]))

    assert response.status_code == 200
    event = AuditEvent.objects.get(action="export")
    assert event.actor == superuser
    assert event.detail["rows"] == 2
    assert event.target in response["Content-Disposition"]


# ---------------------------------------------------------------------- admin changes


def test_an_admin_change_is_recorded(admin_client, superuser):
    team = Team.objects.create(name="Team Old")

    admin_client.post(reverse("admin:cases_team_change", args=[team.pk]), {"name": "Team New"})

    event = AuditEvent.objects.get(action="admin_action")
    assert event.actor == superuser
    assert event.detail["change"] == "changed"
    assert event.detail["model"] == "cases.Team"
    assert event.target == f"cases.Team {team.pk}: Team New"


def test_an_admin_bulk_action_is_recorded(admin_client, superuser):
    teams = [Team.objects.create(name=f"Team {n}") for n in range(3)]

    response = admin_client.post(
        reverse("admin:cases_team_changelist"),
        {"action": "delete_selected", "_selected_action": [t.pk for t in teams], "post": "yes"},
    )

    assert response.status_code == 302
    assert not Team.objects.filter(pk__in=[t.pk for t in teams]).exists()
    bulk = AuditEvent.objects.get(action="admin_action", detail__admin_action="delete_selected")
    assert bulk.actor == superuser
    assert bulk.detail["rows"] == 3


def test_an_action_awaiting_confirmation_or_refused_is_not_recorded(admin_client):
    team = Team.objects.create(name="Team Kept")
    changelist = reverse("admin:cases_team_changelist")

    confirm = admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [team.pk]}
    )
    nothing_selected = admin_client.post(changelist, {"action": "delete_selected", "index": 0})
    unknown = admin_client.post(
        changelist, {"action": "made_up", "_selected_action": [team.pk], "index": 0}
    )

    assert confirm.status_code == 200
    assert nothing_selected.status_code == unknown.status_code == 302
    assert Team.objects.filter(pk=team.pk).exists()
    assert not AuditEvent.objects.filter(action="admin_action").exists()


# ---------------------------------------------------------------------- the admin's view


def test_admins_read_and_filter_the_log(admin_client, event):
    audit_record(actor=None, action="sign_in_failed", target="mallory")
    changelist = reverse("admin:cases_auditevent_changelist")

    everything = admin_client.get(changelist)
    failed = admin_client.get(changelist + "?action__exact=sign_in_failed")

    assert everything.context["cl"].result_count == AuditEvent.objects.count()
    assert list(failed.context["cl"].result_list.values_list("target", flat=True)) == ["mallory"]
    assert admin_client.get(changelist + f"?actor__id__exact={event.actor_id}").status_code == 200
    assert admin_client.get(changelist + f"?at__year={event.at.year}").status_code == 200


def test_no_one_may_add_change_or_delete_an_event_in_the_admin(admin_client, event):
    before = rows()

    add = admin_client.post(reverse("admin:cases_auditevent_add"), {"action": "export"})
    change = admin_client.post(
        reverse("admin:cases_auditevent_change", args=[event.pk]), {"target": "forged"}
    )
    delete = admin_client.post(
        reverse("admin:cases_auditevent_delete", args=[event.pk]), {"post": "yes"}
    )
    bulk = admin_client.post(
        reverse("admin:cases_auditevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes", "index": 0},
    )

    assert add.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 403
    assert bulk.status_code == 200  # the log offers no actions: the list is shown again
    assert rows() == before


def test_the_log_is_for_admins_only(client, staff, event):
    """Staff without permission on the log do not see it."""
    client.force_login(UserFactory(username="viewer", is_staff=True))

    assert client.get(reverse("admin:cases_auditevent_changelist")).status_code == 403
