"""The admin's referral import (upload, preview, confirm) and case export download."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.models import Entity, Referral
from tests.factories import CaseFactory, UserFactory

HEADER = "referral_id,referral_date,post,host_country,entity_name,entity_type\n"
GOOD = HEADER + "A1,2017-05,Embassy in Japan,Japan,Kyoto Photonics K.K.,company\n"
BAD = HEADER + "A1,2017-02-30,Embassy in Japan,Narnia,,robot\n"

pytestmark = pytest.mark.django_db


def upload(client, content: str, name: str = "referrals.csv"):
    url = reverse("admin:cases_referral_import")
    return client.post(url, {"file": SimpleUploadedFile(name, content.encode("utf-8"))})


def test_it_previews_without_writing_then_imports_on_confirmation(admin_client):
    preview = upload(admin_client, GOOD)
    assert preview.status_code == 200
    assert b"would create 1 referral" in preview.content
    assert Referral.objects.count() == 0
    token = preview.context["token"]

    done = admin_client.post(reverse("admin:cases_referral_import"), {"token": token})
    assert done.status_code == 302
    assert Referral.objects.get().entity.name == "Kyoto Photonics K.K."


def test_a_token_can_be_confirmed_only_once(admin_client):
    token = upload(admin_client, GOOD).context["token"]
    url = reverse("admin:cases_referral_import")
    admin_client.post(url, {"token": token})
    again = admin_client.post(url, {"token": token}, follow=True)
    assert b"expired or was already imported" in again.content
    assert Referral.objects.count() == 1


def test_a_token_from_another_session_is_refused(admin_client, client):
    token = upload(admin_client, GOOD).context["token"]
    other = UserFactory(username="other-admin", is_staff=True, is_superuser=True)
    client.force_login(other)
    client.post(reverse("admin:cases_referral_import"), {"token": token})
    assert Referral.objects.count() == 0


def test_it_lists_every_bad_row_and_offers_no_confirmation(admin_client):
    response = upload(admin_client, BAD)
    assert response.status_code == 200
    assert "token" not in response.context
    content = response.content.decode()
    assert "line 2, column referral_date" in content
    assert "unknown country" in content
    assert "line 2, column entity_name: missing" in content
    assert Entity.objects.count() == 0


def test_it_refuses_other_file_types(admin_client):
    response = upload(admin_client, GOOD, name="referrals.exe")
    assert "Give a .csv or .xlsx file." in response.content.decode()


def test_it_escapes_hostile_content_in_the_report(admin_client):
    hostile = HEADER + "A1,2017,Embassy,Japan,Acme,<script>alert(1)</script>\n"
    content = upload(admin_client, hostile).content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;" in content


def test_the_import_page_requires_staff(client):
    response = client.get(reverse("admin:cases_referral_import"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_staff_without_add_permission_cannot_import(client):
    client.force_login(UserFactory(username="viewer", is_staff=True))
    response = upload(client, GOOD)
    assert response.status_code == 403
    assert Referral.objects.count() == 0


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
