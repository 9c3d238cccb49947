"""The admin's case export download (the referral import is in test_imports.py)."""

import csv
import datetime
import io
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import derived, rules
from cases.models import Case, Finding, MatchCriterion
from tests.factories import CaseFactory, FindingFactory, ReferralFactory, TeamFactory

pytestmark = pytest.mark.django_db


def test_the_case_list_offers_export_downloads(admin_client):
    CaseFactory(entity__name="=cmd|' /C calc'!A0")
    page = admin_client.get(reverse("admin:cases_case_changelist"))
    assert reverse("admin:cases_case_export", args=["csv"]).encode() in page.content

    csv_response = admin_client.get(reverse("admin:cases_case_export", args=["csv"]))
    assert csv_response["Content-Disposition"].startswith("attachment;")
    assert "'=cmd" in csv_response.content.decode()

    json_response = admin_client.get(reverse("admin:cases_case_export", args=["json"]))
    assert json.loads(json_response.content)[0]["entity_name"].startswith("=cmd")


def test_an_unknown_export_format_is_not_exported(admin_client):
    response = admin_client.get("/admin/cases/case/export/xml/")
    assert "Content-Disposition" not in response


def export_rows(admin_client, query: str = "") -> dict[int, dict]:
    url = reverse("admin:cases_case_export", args=["csv"]) + query
    text = admin_client.get(url).content.decode("utf-8-sig")
    return {int(row["case_id"]): row for row in csv.DictReader(io.StringIO(text))}


@pytest.fixture
def listed():
    """Two open cases of a team and a concluded control; one name to search for."""
    team = TeamFactory(name="Berlin desk")
    robotics = CaseFactory(entity__name="Acme Robotics", team=team)
    optics = CaseFactory(entity__name="Quiet Optics", team=team)
    control = CaseFactory(
        entity__name="Acme Control Robotics",
        kind=Case.Kind.CONTROL,
        matched_case=robotics,
        match_criteria=list(MatchCriterion.values),
        status=Case.Status.CONCLUDED,
    )
    for case in (robotics, optics):
        ReferralFactory(entity=case.entity, date=datetime.date(2017, 5, 1))
    derived.case_index_dates_refresh()
    return {"robotics": robotics, "optics": optics, "control": control}


def test_the_export_lists_the_cases_the_changelist_shows(admin_client, listed):
    everything = export_rows(admin_client)
    filtered = export_rows(
        admin_client, f"?status__exact=open&team__id__exact={listed['optics'].team_id}"
    )
    searched = export_rows(admin_client, "?q=robotics")
    both = export_rows(admin_client, "?q=robotics&status__exact=open")

    assert set(everything) == {case.pk for case in listed.values()}
    assert set(filtered) == {listed["robotics"].pk, listed["optics"].pk}
    assert set(searched) == {listed["robotics"].pk, listed["control"].pk}
    assert set(both) == {listed["robotics"].pk}


def test_the_changelist_links_its_filter_to_the_export(admin_client, listed):
    page = admin_client.get(
        reverse("admin:cases_case_changelist") + "?q=robotics&status__exact=open"
    )

    link = reverse("admin:cases_case_export", args=["csv"]) + "?q=robotics&amp;status__exact=open"
    assert link.encode() in page.content


def test_an_export_filter_the_changelist_cannot_apply_goes_back_to_it(admin_client, listed):
    response = admin_client.get(reverse("admin:cases_case_export", args=["csv"]) + "?nonsense=1")

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:cases_case_changelist") + "?e=1"


def test_the_export_has_team_kind_and_outcome(admin_client, listed):
    FindingFactory(
        case=listed["robotics"],
        review_state=Finding.ReviewState.CONFIRMED,
        reviewed_at=timezone.now(),
    )
    derived.case_index_dates_refresh()

    rows = export_rows(admin_client)

    robotics, optics = rows[listed["robotics"].pk], rows[listed["optics"].pk]
    control = rows[listed["control"].pk]
    assert (robotics["team"], robotics["kind"], robotics["outcome"]) == (
        "Berlin desk",
        "referred",
        "positive",
    )
    assert (optics["team"], optics["kind"], optics["outcome"]) == (
        "Berlin desk",
        "referred",
        "not reviewed",
    )
    assert (control["team"], control["kind"], control["outcome"]) == ("", "control", "negative")


def test_confirmed_counts_follow_the_outcome_rule(admin_client, listed):
    """A confirmed finding before the referral, or with a Taiwanese counterparty, is
    context: it is not counted and does not make the case positive."""
    case = listed["optics"]
    confirmed = {
        "case": case,
        "review_state": Finding.ReviewState.CONFIRMED,
        "reviewed_at": timezone.now(),
    }
    before = FindingFactory(**confirmed, event_date=datetime.date(2015, 1, 10))
    taiwan = FindingFactory(**confirmed, counterparty_country="TW", external_id="tw")
    derived.case_index_dates_refresh()
    before.refresh_from_db()
    assert before.timing == Finding.Timing.BEFORE

    row = export_rows(admin_client)[case.pk]

    assert row["confirmed_total"] == row["confirmed_joint_venture"] == "0"
    assert row["outcome"] == "not reviewed"
    assert not rules.positive_findings().filter(pk__in=[before.pk, taiwan.pk]).exists()

    counted = FindingFactory(**confirmed, external_id="cn")
    derived.case_index_dates_refresh()
    row = export_rows(admin_client)[case.pk]
    assert row["confirmed_total"] == row["confirmed_joint_venture"] == "1"
    assert rules.positive_findings().filter(case=case).get() == counted
    assert row["outcome"] == "positive"


def test_the_csv_export_starts_with_a_bom_and_the_json_does_not(admin_client):
    """Excel reads a CSV file as UTF-8 only behind a byte order mark; a JSON parser
    refuses one."""
    CaseFactory(entity__name="Zürich Instruments AG 北京", entity__name_native="苏黎世仪器")

    data = admin_client.get(reverse("admin:cases_case_export", args=["csv"])).content
    json_data = admin_client.get(reverse("admin:cases_case_export", args=["json"])).content

    assert data.startswith(b"\xef\xbb\xbfcase_id,")
    [row] = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    assert (row["entity_name"], row["entity_name_native"]) == (
        "Zürich Instruments AG 北京",
        "苏黎世仪器",
    )
    assert not json_data.startswith(b"\xef\xbb\xbf")
    assert json.loads(json_data)[0]["entity_name"] == "Zürich Instruments AG 北京"
