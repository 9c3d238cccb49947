"""The admin of referrals: saves, moves and deletes re-derive the index dates of the cases
concerned; bad input is a form error."""

import datetime
import re

import pytest

from cases import derived
from cases.models import Finding, Referral
from tests.admin.helpers import referral_form_data, refresh, url
from tests.factories import CaseFactory, FindingFactory, PostFactory, ReferralFactory

pytestmark = pytest.mark.django_db


def test_adding_a_referral_sets_the_case_index_date_and_finding_timing(admin_client):
    case = CaseFactory()
    finding = FindingFactory(case=case, event_date=datetime.date(2019, 3, 1))

    response = admin_client.post(
        url("referral", "add"), referral_form_data(case.entity, PostFactory())
    )

    assert response.status_code == 302
    case = refresh(case)
    assert (case.index_date, case.index_date_precision) == (datetime.date(2017, 5, 1), "month")
    assert refresh(finding).timing == Finding.Timing.AFTER
    referral = Referral.objects.get(external_id="R-NEW-1")
    assert referral.cooperation_methods == ["joint_venture", "patent_licence"]


def test_referral_form_shows_the_saved_cooperation_methods_checked(admin_client):
    referral = ReferralFactory(cooperation_methods=["joint_rd", "investment"])

    page = admin_client.get(url("referral", "change", referral.pk)).content.decode()

    checked = set(
        re.findall(
            r'<input type="checkbox" name="cooperation_methods" value="(\w+)"'
            r"[^>]*checked",
            page,
        )
    )
    assert checked == {"joint_rd", "investment"}


def test_moving_a_referral_to_another_entity_refreshes_both_cases(admin_client):
    old_case, new_case = CaseFactory(), CaseFactory()
    referral = ReferralFactory(entity=old_case.entity)
    derived.case_index_dates_refresh(case_ids=[old_case.pk])

    response = admin_client.post(
        url("referral", "change", referral.pk),
        referral_form_data(new_case.entity, referral.post, external_id=referral.external_id),
    )

    assert response.status_code == 302
    assert refresh(old_case).index_date is None
    assert refresh(new_case).index_date == datetime.date(2017, 5, 1)


def test_deleting_a_referral_refreshes_the_case_index_date(admin_client):
    case = CaseFactory()
    early = ReferralFactory(
        entity=case.entity, date=datetime.date(2015, 1, 1), date_precision="year"
    )
    ReferralFactory(entity=case.entity, date=datetime.date(2018, 6, 1))
    derived.case_index_dates_refresh(case_ids=[case.pk])

    response = admin_client.post(url("referral", "delete", early.pk), {"post": "yes"})

    assert response.status_code == 302
    assert refresh(case).index_date == datetime.date(2018, 6, 1)


def test_bulk_deleting_referrals_refreshes_the_case_index_date(admin_client):
    case = CaseFactory()
    referral = ReferralFactory(entity=case.entity)
    derived.case_index_dates_refresh(case_ids=[case.pk])

    response = admin_client.post(
        url("referral", "changelist"),
        {"action": "delete_selected", "_selected_action": [referral.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert refresh(case).index_date is None


def test_an_unknown_referral_host_country_is_a_form_error(admin_client):
    entity = CaseFactory().entity

    response = admin_client.post(
        url("referral", "add"), referral_form_data(entity, PostFactory(), host_country="XX")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["host_country"]
    assert not Referral.objects.exists()


def test_an_unknown_cooperation_method_is_a_form_error(admin_client):
    entity = CaseFactory().entity

    response = admin_client.post(
        url("referral", "add"),
        referral_form_data(entity, PostFactory(), cooperation_methods=["bribery"]),
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["cooperation_methods"]
