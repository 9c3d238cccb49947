"""The admin of cases: counts and search on the list, the case page, its save, and the
assign and status actions."""

import datetime

import pytest
from django.utils import timezone

from cases import derived
from cases.models import Case, Finding
from tests.admin.helpers import HOSTILE, HOSTILE_ESCAPED, VALID_LEI, refresh, url
from tests.factories import (
    AdminFactory,
    CaseFactory,
    EntityFactory,
    FindingFactory,
    ReferralFactory,
)

pytestmark = pytest.mark.django_db


def test_case_changelist_counts_referrals_and_findings(admin_client, row):
    ReferralFactory(entity=row.entity)
    FindingFactory(case=row, review_state=Finding.ReviewState.REJECTED, reviewed_at=timezone.now())

    response = admin_client.get(url("case", "changelist"))

    listed = response.context["cl"].result_list[0]
    assert (listed.referral_count, listed.lead_count, listed.confirmed_count) == (2, 1, 1)


def test_case_search_by_referral_id_does_not_inflate_counts(admin_client, row):
    second = ReferralFactory(entity=row.entity, external_id="R-SEARCH-2")

    response = admin_client.get(url("case", "changelist"), {"q": second.external_id})

    listed = list(response.context["cl"].result_list)
    assert [case.pk for case in listed] == [row.pk]
    assert (listed[0].referral_count, listed[0].lead_count) == (2, 1)


@pytest.mark.parametrize("term", ["Deep Blue Automation", "深蓝", VALID_LEI])
def test_case_search_finds_the_entity_aliases_native_name_and_lei(admin_client, term):
    wanted = CaseFactory(
        entity=EntityFactory(
            name="Oceanic Machines GmbH",
            name_native="深蓝自动化",
            aliases="Deep Blue Automation",
            lei=VALID_LEI,
        )
    )
    CaseFactory()

    response = admin_client.get(url("case", "changelist"), {"q": term})

    assert [case.pk for case in response.context["cl"].result_list] == [wanted.pk]


def test_case_page_lists_findings_and_the_entitys_referrals(admin_client, row):
    finding = row.findings.first()
    referral = row.entity.referrals.get()

    page = admin_client.get(url("case", "change", row.pk)).content.decode()

    assert url("finding", "change", finding.pk) in page
    assert url("referral", "change", referral.pk) in page
    assert referral.external_id in page


def test_case_page_escapes_hostile_referral_values(admin_client, row):
    ReferralFactory(entity=row.entity, external_id=HOSTILE, technology_field=HOSTILE)

    page = admin_client.get(url("case", "change", row.pk)).content.decode()

    assert HOSTILE not in page
    assert HOSTILE_ESCAPED in page


def test_saving_the_case_page_keeps_its_read_only_findings(admin_client, row):
    findings = list(row.findings.all())
    data = {
        "status": "monitoring",
        "priority": "4",
        "assignee": "",
        "notes": "Watch the 2019 joint venture.",
        "kind": "referred",
        "findings-TOTAL_FORMS": str(len(findings)),
        "findings-INITIAL_FORMS": str(len(findings)),
        "findings-MIN_NUM_FORMS": "0",
        "findings-MAX_NUM_FORMS": "1000",
    }
    for index, finding in enumerate(findings):
        data[f"findings-{index}-id"] = finding.pk
        data[f"findings-{index}-case"] = row.pk

    response = admin_client.post(url("case", "change", row.pk), data)

    assert response.status_code == 302
    row = refresh(row)
    assert (row.status, row.priority) == ("monitoring", Case.Priority.URGENT)
    assert row.findings.count() == len(findings)


def case_change_data(**overrides) -> dict:
    """The change form of a case without findings."""
    data = {
        "status": "open",
        "priority": "2",
        "assignee": "",
        "notes": "",
        "kind": "referred",
        "matched_case": "",
        "findings-TOTAL_FORMS": "0",
        "findings-INITIAL_FORMS": "0",
        "findings-MIN_NUM_FORMS": "0",
        "findings-MAX_NUM_FORMS": "1000",
    }
    return {**data, **overrides}


def test_a_status_changed_on_the_case_page_is_logged_and_raises_the_version(
    admin_client, superuser
):
    case = CaseFactory()

    response = admin_client.post(
        url("case", "change", case.pk), case_change_data(status="concluded")
    )

    assert response.status_code == 302
    assert refresh(case).version == 2
    assert list(case.status_changes.values_list("from_status", "to_status", "changed_by")) == [
        ("open", "concluded", superuser.pk)
    ]
    assert case.history.first().history_user == superuser


def test_a_case_made_a_control_on_the_case_page_takes_its_matched_cases_index_date(
    admin_client,
):
    referred = CaseFactory()
    # Same country, kind and field as the referral: a comparable entity.
    control = CaseFactory(entity=EntityFactory(technology_fields="Robotics"))
    ReferralFactory(entity=referred.entity, date=datetime.date(2015, 1, 1), date_precision="year")
    derived.case_index_dates_refresh(case_ids=[referred.pk])

    response = admin_client.post(
        url("case", "change", control.pk),
        case_change_data(kind="control", matched_case=referred.pk),
    )

    assert response.status_code == 302
    control = refresh(control)
    assert (control.index_date, control.index_date_precision) == (
        datetime.date(2015, 1, 1),
        "year",
    )
    assert control.match_criteria == ["host_country", "entity_kind", "technology_field"]
    assert not control.status_changes.exists()


def test_a_control_that_misses_a_criterion_is_refused_on_the_case_page_unless_relaxed(
    admin_client,
):
    referred = CaseFactory()
    control = CaseFactory(entity=EntityFactory(country="FR", technology_fields="robotics"))
    ReferralFactory(entity=referred.entity)
    derived.case_index_dates_refresh(case_ids=[referred.pk])
    change = url("case", "change", control.pk)

    refused = admin_client.post(change, case_change_data(kind="control", matched_case=referred.pk))

    assert refused.status_code == 200
    assert "same host country (FR against GB)" in refused.content.decode()
    assert refresh(control).kind == Case.Kind.REFERRED

    relaxed = admin_client.post(
        change,
        case_change_data(
            kind="control",
            matched_case=referred.pk,
            match_relaxed=["host_country"],
            match_note="The French subsidiary stands for the British group.",
        ),
    )

    assert relaxed.status_code == 302
    control = refresh(control)
    assert (control.kind, control.match_relaxed) == (Case.Kind.CONTROL, ["host_country"])
    assert control.match_criteria == ["entity_kind", "technology_field"]


def test_assign_action_asks_for_a_user_then_assigns(admin_client):
    cases = [CaseFactory(), CaseFactory()]
    other = CaseFactory()
    analyst = AdminFactory(username="analyst")
    selected = [case.pk for case in cases]
    changelist = url("case", "changelist")

    page = admin_client.post(
        changelist, {"action": "assign", "_selected_action": selected, "index": "0"}
    )
    done = admin_client.post(
        changelist,
        {"action": "assign", "_selected_action": selected, "apply": "1", "assignee": analyst.pk},
    )

    assert page.status_code == 200
    assert "admin/cases/action_form.html" in [t.name for t in page.templates]
    assert done.status_code == 302
    assert [refresh(case).assignee for case in cases] == [analyst, analyst]
    assert refresh(other).assignee is None


def test_assign_action_can_unassign(admin_client):
    case = CaseFactory(assignee=AdminFactory())

    admin_client.post(
        url("case", "changelist"),
        {"action": "assign", "_selected_action": [case.pk], "apply": "1", "assignee": ""},
    )

    assert refresh(case).assignee is None


def test_status_action_sets_the_status_and_records_history(admin_client):
    case = CaseFactory()

    response = admin_client.post(
        url("case", "changelist"),
        {"action": "set_status_in_review", "_selected_action": [case.pk], "index": "0"},
    )

    assert response.status_code == 302
    assert refresh(case).status == Case.Status.IN_REVIEW
    assert case.history.first().status == Case.Status.IN_REVIEW


def test_adding_a_case_for_an_entity_with_referrals_sets_its_index_date(admin_client):
    entity = EntityFactory()
    ReferralFactory(entity=entity, date=datetime.date(2016, 3, 1), date_precision="month")

    response = admin_client.post(
        url("case", "add"),
        {
            "entity": entity.pk,
            "kind": "referred",
            "status": "open",
            "priority": "2",
            "assignee": "",
            "notes": "",
        },
    )

    assert response.status_code == 302
    assert Case.objects.get(entity=entity).index_date == datetime.date(2016, 3, 1)


def test_an_assignee_set_in_the_admin_is_told_once(admin_client, superuser, team, analyst):
    from cases.models import Notification

    case = CaseFactory(team=team)
    change = url("case", "change", case.pk)

    mine = case_change_data(team=team.pk, assignee=analyst.pk)
    first = admin_client.post(change, mine)
    again = admin_client.post(change, {**mine, "notes": "Still hers."})

    assert first.status_code == again.status_code == 302
    assert refresh(case).assignee == analyst
    [told] = Notification.objects.filter(recipient=analyst, kind=Notification.Kind.ASSIGNED)
    assert told.case == case and told.actor == superuser
