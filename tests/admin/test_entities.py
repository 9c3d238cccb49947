"""The admin of entities: search, saves through the services, the referral inline, refused
deletes, and bad or hostile input refused or escaped."""

import datetime

import pytest

from cases import normalize
from cases.models import Case, Entity, Finding, Referral
from tests.admin.helpers import HOSTILE, HOSTILE_ESCAPED, VALID_LEI, entity_form_data, refresh, url
from tests.factories import CaseFactory, EntityFactory, FindingFactory, PostFactory, ReferralFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "term", ["Deep Blue Automation", "深蓝自动化", VALID_LEI, "Q4242", "R-FIND-ME"]
)
def test_entity_search_finds_aliases_native_names_and_identifiers(admin_client, term):
    wanted = EntityFactory(
        name="Oceanic Machines GmbH",
        name_native="深蓝自动化有限公司",
        aliases="Blue Ocean Machines\nDeep Blue Automation",
        lei=VALID_LEI,
        wikidata_id="Q4242",
    )
    ReferralFactory(entity=wanted, external_id="R-FIND-ME")
    EntityFactory(name="Unrelated Widgets Ltd")

    response = admin_client.get(url("entity", "changelist"), {"q": term})

    assert [entity.pk for entity in response.context["cl"].result_list] == [wanted.pk]


def test_adding_an_entity_sets_its_name_key_and_creates_its_case(admin_client):
    response = admin_client.post(url("entity", "add"), entity_form_data())

    assert response.status_code == 302
    entity = Entity.objects.get(name="Acme Robotics Ltd.")
    assert entity.name_key == normalize.name_key("Acme Robotics Ltd.") == "acme robotics"
    assert Case.objects.filter(entity=entity).exists()


def test_renaming_an_entity_recomputes_its_name_key_and_records_who(admin_client, superuser):
    entity = CaseFactory().entity

    admin_client.post(url("entity", "change", entity.pk), entity_form_data(name="Zenith Labs Inc"))

    assert refresh(entity).name_key == "zenith labs"
    assert entity.history.first().history_user == superuser


def test_adding_an_entity_with_a_referral_inline_sets_the_index_date(admin_client):
    post = PostFactory()
    data = entity_form_data(
        **{
            "referrals-TOTAL_FORMS": "1",
            "referrals-0-external_id": "R-INLINE",
            "referrals-0-date": "2018-02-01",
            "referrals-0-date_precision": "month",
            "referrals-0-post": post.pk,
            "referrals-0-host_country": "gb",
            "referrals-0-technology_field": "lasers",
        }
    )

    response = admin_client.post(url("entity", "add"), data)

    assert response.status_code == 302
    case = Case.objects.get(entity__name="Acme Robotics Ltd.")
    assert (case.index_date, case.index_date_precision) == (datetime.date(2018, 2, 1), "month")
    assert Referral.objects.get(external_id="R-INLINE").host_country == "GB"


def test_a_name_clashing_with_another_entitys_name_key_is_a_form_error(admin_client):
    EntityFactory(name="Acme Robotics Limited", country="GB")

    response = admin_client.post(url("entity", "add"), entity_form_data(name="ACME ROBOTICS LTD"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"]
    assert Entity.objects.count() == 1


def test_deleting_an_entity_with_findings_is_refused(admin_client):
    finding = FindingFactory()
    entity = finding.case.entity
    delete = url("entity", "delete", entity.pk)

    page = admin_client.get(delete)
    response = admin_client.post(delete, {"post": "yes"})

    assert page.status_code == 200
    assert "protected related objects" in page.content.decode()
    assert response.status_code == 200
    assert Entity.objects.filter(pk=entity.pk).exists()
    assert Finding.objects.filter(pk=finding.pk).exists()


def test_bulk_deleting_an_entity_with_findings_is_refused(admin_client):
    finding = FindingFactory()
    entity = finding.case.entity

    response = admin_client.post(
        url("entity", "changelist"),
        {"action": "delete_selected", "_selected_action": [entity.pk], "post": "yes"},
    )

    assert response.status_code == 200
    assert "protected related objects" in response.content.decode()
    assert Entity.objects.filter(pk=entity.pk).exists()
    assert Case.objects.filter(entity=entity).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lei", VALID_LEI[:-1] + str((int(VALID_LEI[-1]) + 1) % 10)),
        ("lei", "NOT-AN-LEI"),
        ("country", "XX"),
        ("wikidata_id", "4242"),
        ("website", "javascript:alert(1)"),
    ],
)
def test_invalid_entity_input_is_a_form_error(admin_client, field, value):
    response = admin_client.post(url("entity", "add"), entity_form_data(**{field: value}))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field]
    assert not Entity.objects.exists()


def test_a_lower_case_country_code_is_accepted(admin_client):
    admin_client.post(url("entity", "add"), entity_form_data(country="gb", lei=VALID_LEI))

    assert Entity.objects.get().country == "GB"


def test_a_hostile_entity_name_saved_in_the_admin_is_escaped_in_every_list(admin_client):
    admin_client.post(
        url("entity", "add"), entity_form_data(name=HOSTILE, name_native=HOSTILE, aliases=HOSTILE)
    )
    entity = Entity.objects.get()
    ReferralFactory(entity=entity, technology_field=HOSTILE)
    FindingFactory(case=entity.case, counterparty_name=HOSTILE)

    for model in ["entity", "case", "referral", "finding"]:
        page = admin_client.get(url(model, "changelist")).content.decode()
        assert HOSTILE not in page, model
        assert HOSTILE_ESCAPED in page, model
