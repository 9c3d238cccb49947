"""The admin's list filters: leads waiting, index year, countries, referral year, post kind."""

import datetime

import pytest

from cases import derived
from tests.admin.helpers import make_row, url
from tests.factories import CaseFactory, EntityFactory, PostFactory, ReferralFactory

pytestmark = pytest.mark.django_db


def test_case_filters_by_leads_index_year_and_country(admin_client):
    with_lead = make_row(1)
    derived.case_index_dates_refresh(case_ids=[with_lead.pk])
    without_lead = CaseFactory(entity=EntityFactory(country="FR"))
    changelist = url("case", "changelist")

    def listed(params):
        response = admin_client.get(changelist, params)
        assert response.status_code == 200
        return [case.pk for case in response.context["cl"].result_list]

    assert listed({"has_leads": "yes"}) == [with_lead.pk]
    assert listed({"has_leads": "no"}) == [without_lead.pk]
    assert listed({"index_year": "2017"}) == [with_lead.pk]
    assert listed({"entity__country": "FR"}) == [without_lead.pk]


def test_referral_filters_by_year_host_country_and_post_kind(admin_client):
    old = ReferralFactory(date=datetime.date(2016, 1, 1), date_precision="year")
    ReferralFactory(
        date=datetime.date(2019, 2, 1),
        host_country="FR",
        post=PostFactory(name="Consulate in Lyon", kind="consulate", host_country="FR"),
    )
    changelist = url("referral", "changelist")

    def listed(params):
        response = admin_client.get(changelist, params)
        assert response.status_code == 200
        return {referral.pk for referral in response.context["cl"].result_list}

    assert listed({"year": "2016"}) == {old.pk}
    assert old.pk not in listed({"host_country": "FR"})
    assert old.pk not in listed({"post_kind": "consulate"})
    assert len(listed({"host_country": "FR"})) == 1
