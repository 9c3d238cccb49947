"""The admin's case export download (the referral import is in test_imports.py)."""

import json

import pytest
from django.urls import reverse

from tests.factories import CaseFactory

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
