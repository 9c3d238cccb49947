"""The admin of findings: the confirm and reject actions, saves deriving the timing, and
the date-precision check."""

import datetime

import pytest
from django.utils import timezone

from cases import derived
from cases.models import Finding
from tests.admin.helpers import finding_form_data, refresh, url
from tests.factories import CaseFactory, FindingFactory, ReferralFactory

pytestmark = pytest.mark.django_db


def test_confirm_action_confirms_leads_only(admin_client, superuser):
    case = CaseFactory()
    lead = FindingFactory(case=case)
    rejected = FindingFactory(
        case=case, review_state=Finding.ReviewState.REJECTED, reviewed_at=timezone.now()
    )

    response = admin_client.post(
        url("finding", "changelist"),
        {"action": "confirm_leads", "_selected_action": [lead.pk, rejected.pk], "index": "0"},
    )

    assert response.status_code == 302
    lead = refresh(lead)
    assert lead.review_state == Finding.ReviewState.CONFIRMED
    assert lead.reviewed_by == superuser
    assert lead.reviewed_at is not None
    assert refresh(rejected).review_state == Finding.ReviewState.REJECTED


def test_reject_action_asks_for_a_note_then_rejects(admin_client, superuser):
    leads = [FindingFactory(), FindingFactory()]
    selected = [lead.pk for lead in leads]
    changelist = url("finding", "changelist")

    page = admin_client.post(
        changelist, {"action": "reject_leads", "_selected_action": selected, "index": "0"}
    )
    done = admin_client.post(
        changelist,
        {
            "action": "reject_leads",
            "_selected_action": selected,
            "apply": "1",
            "note": "Different company with a similar name.",
        },
    )

    assert page.status_code == 200
    assert 'name="note"' in page.content.decode()
    assert done.status_code == 302
    for lead in leads:
        lead = refresh(lead)
        assert lead.review_state == Finding.ReviewState.REJECTED
        assert lead.review_note == "Different company with a similar name."
        assert lead.reviewed_by == superuser


@pytest.mark.parametrize("note", ["", "   "])
def test_reject_action_without_a_note_is_refused_and_changes_nothing(admin_client, note):
    lead = FindingFactory()

    response = admin_client.post(
        url("finding", "changelist"),
        {"action": "reject_leads", "_selected_action": [lead.pk], "apply": "1", "note": note},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["note"]
    lead = refresh(lead)
    assert lead.review_state == Finding.ReviewState.LEAD
    assert lead.reviewed_at is None


def test_adding_a_finding_derives_its_timing(admin_client, superuser):
    case = CaseFactory()
    ReferralFactory(entity=case.entity, date=datetime.date(2017, 5, 1), date_precision="month")
    derived.case_index_dates_refresh(case_ids=[case.pk])

    response = admin_client.post(
        url("finding", "add"), finding_form_data(case, created_by=superuser.pk)
    )

    assert response.status_code == 302
    finding = Finding.objects.get(case=case)
    assert finding.timing == Finding.Timing.AFTER
    assert finding.review_state == Finding.ReviewState.LEAD
    assert finding.created_by == superuser


def test_the_finding_add_form_defaults_to_the_current_user(admin_client, superuser):
    response = admin_client.get(url("finding", "add"))

    assert response.context["adminform"].form.initial["created_by"] == superuser.pk


def test_a_finding_date_without_precision_is_a_form_error(admin_client):
    case = CaseFactory()

    response = admin_client.post(
        url("finding", "add"), finding_form_data(case, event_date_precision="")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["event_date_precision"]
    assert not Finding.objects.exists()
