"""The admin: every page renders, lists do not grow queries with rows, actions and saves
go through the services, and bad or hostile input is refused or escaped."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import derived, normalize
from cases.models import Case, Entity, Finding, Referral
from tests.factories import (
    CaseFactory,
    CheckRunFactory,
    EntityFactory,
    FindingFactory,
    PostFactory,
    ReferralFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"
HOSTILE_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def url(model: str, view: str, *args) -> str:
    return reverse(f"admin:cases_{model}_{view}", args=args)


def with_lei_check_digits(base: str) -> str:
    """Return a valid LEI for an 18-character base (ISO 7064 mod 97-10)."""
    digits = "".join(str(int(ch, 36)) for ch in base + "00")
    return f"{base}{98 - int(digits) % 97:02d}"


VALID_LEI = with_lei_check_digits("5299000EXAMPLE0001")


def make_row(n: int, assignee=None) -> Case:
    """An entity with everything a list can show: case, referral, lead, confirmed, run."""
    entity = EntityFactory(name=f"Row {n} Robotics Ltd", country="DE")
    case = CaseFactory(entity=entity, assignee=assignee)
    ReferralFactory(entity=entity, post=PostFactory(name=f"Consulate {n}"))
    FindingFactory(case=case)
    FindingFactory(
        case=case, review_state=Finding.ReviewState.CONFIRMED, reviewed_at=timezone.now()
    )
    CheckRunFactory(case=case)
    return case


def entity_form_data(**overrides) -> dict:
    data = {
        "name": "Acme Robotics Ltd.",
        "name_native": "",
        "aliases": "",
        "kind": Entity.Kind.COMPANY,
        "country": "GB",
        "city": "",
        "website": "",
        "technology_fields": "",
        "lei": "",
        "sec_cik": "",
        "uk_company_number": "",
        "ror_id": "",
        "openalex_id": "",
        "wikidata_id": "",
        "referrals-TOTAL_FORMS": "0",
        "referrals-INITIAL_FORMS": "0",
        "referrals-MIN_NUM_FORMS": "0",
        "referrals-MAX_NUM_FORMS": "1000",
    }
    return {**data, **overrides}


def referral_form_data(entity, post, **overrides) -> dict:
    data = {
        "external_id": "R-NEW-1",
        "entity": entity.pk,
        "post": post.pk,
        "date": "2017-05-01",
        "date_precision": "month",
        "host_country": "GB",
        "technology_field": "robotics",
        "cooperation_methods": ["joint_venture", "patent_licence"],
        "proposed_amount": "",
        "currency": "",
        "summary": "",
        "original_text": "",
        "source_url": "",
        "source_reference": "",
    }
    return {**data, **overrides}


def finding_form_data(case, **overrides) -> dict:
    data = {
        "case": case.pk,
        "kind": Finding.Kind.JOINT_VENTURE,
        "counterparty_name": "Shenzhen Example Co.",
        "counterparty_country": "CN",
        "event_date": "2019-03-01",
        "event_date_precision": "day",
        "confidence": Finding.Confidence.MEDIUM,
        "source": Finding.MANUAL,
        "source_url": "",
        "external_id": "",
        "retrieved_at_0": "",
        "retrieved_at_1": "",
        "excerpt": "",
        "created_by": "",
    }
    return {**data, **overrides}


def refresh(obj):
    obj.refresh_from_db()
    return obj


@pytest.fixture
def row():
    return make_row(0)


@pytest.fixture
def objects(row):
    return {
        "entity": row.entity,
        "post": row.entity.referrals.get().post,
        "referral": row.entity.referrals.get(),
        "case": row,
        "finding": row.findings.first(),
        "checkrun": row.check_runs.get(),
    }


# Every page renders --------------------------------------------------------------------

MODELS = ["entity", "post", "referral", "case", "finding", "checkrun"]
HISTORY_MODELS = ["entity", "post", "referral", "case", "finding"]


@pytest.mark.parametrize("model", MODELS)
def test_changelist_renders(admin_client, objects, model):
    response = admin_client.get(url(model, "changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@pytest.mark.parametrize("model", MODELS)
def test_change_page_renders(admin_client, objects, model):
    response = admin_client.get(url(model, "change", objects[model].pk))

    assert response.status_code == 200


@pytest.mark.parametrize("model", HISTORY_MODELS)
def test_add_page_renders(admin_client, model):
    response = admin_client.get(url(model, "add"))

    assert response.status_code == 200


@pytest.mark.parametrize("model", HISTORY_MODELS)
def test_history_page_renders(admin_client, objects, model):
    response = admin_client.get(url(model, "history", objects[model].pk))

    assert response.status_code == 200


def test_check_runs_are_read_only(admin_client, objects):
    run = objects["checkrun"]

    assert admin_client.get(url("checkrun", "add")).status_code == 403
    assert admin_client.post(url("checkrun", "change", run.pk), {"source": "x"}).status_code == 403
    assert admin_client.post(url("checkrun", "delete", run.pk), {"post": "yes"}).status_code == 403
    assert refresh(run).source == "gleif"


def test_site_header_names_the_app(admin_client):
    response = admin_client.get(reverse("admin:index"))

    assert "Wishlist administration" in response.content.decode()


# Lists do not grow queries with rows ---------------------------------------------------


def count_queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(path)
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("model", MODELS)
def test_changelist_query_count_does_not_grow_with_rows(admin_client, model):
    assignee = UserFactory(username="analyst", is_staff=True)
    path = url(model, "changelist")
    for n in range(3):
        make_row(n, assignee=assignee)
    admin_client.get(path)  # warm caches (content types, session) outside the measure
    few = count_queries(admin_client, path)
    for n in range(3, 20):
        make_row(n, assignee=assignee)

    many = count_queries(admin_client, path)

    assert admin_client.get(path).context["cl"].result_count >= 20
    assert many == few


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


# Search and filters --------------------------------------------------------------------


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


def test_autocomplete_finds_cases_and_users(admin_client, row):
    UserFactory(username="casey", is_staff=True)
    autocomplete = reverse("admin:autocomplete")

    cases = admin_client.get(
        autocomplete,
        {"app_label": "cases", "model_name": "finding", "field_name": "case", "term": "Row 0"},
    ).json()
    users = admin_client.get(
        autocomplete,
        {"app_label": "cases", "model_name": "case", "field_name": "assignee", "term": "case"},
    ).json()

    assert [result["id"] for result in cases["results"]] == [str(row.pk)]
    assert [result["text"] for result in users["results"]] == ["casey"]


# Case page -----------------------------------------------------------------------------


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


# Actions -------------------------------------------------------------------------------


def test_assign_action_asks_for_a_user_then_assigns(admin_client):
    cases = [CaseFactory(), CaseFactory()]
    other = CaseFactory()
    analyst = UserFactory(username="analyst", is_staff=True)
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
    case = CaseFactory(assignee=UserFactory(is_staff=True))

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


# Saves go through the services ---------------------------------------------------------


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


def test_a_name_clashing_with_another_entitys_name_key_is_a_form_error(admin_client):
    EntityFactory(name="Acme Robotics Limited", country="GB")

    response = admin_client.post(url("entity", "add"), entity_form_data(name="ACME ROBOTICS LTD"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"]
    assert Entity.objects.count() == 1


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


# Deleting ------------------------------------------------------------------------------


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


# Bad and hostile input -----------------------------------------------------------------


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
