"""Kept evidence in the Django admin: listed and shown, never edited by hand."""

import pytest
from django.urls import reverse

from cases.models import Evidence
from tests.factories import FindingFactory

pytestmark = pytest.mark.django_db


def test_the_admin_lists_evidence_read_only(admin_client):
    evidence = Evidence.objects.create(
        finding=FindingFactory(),
        kind=Evidence.Kind.CAPTURE,
        url="https://news.example.org/a",
        state=Evidence.State.FAILED,
        error="HTTP 404 from https://news.example.org/a",
    )

    listing = admin_client.get(reverse("admin:cases_evidence_changelist"))
    shown = admin_client.get(reverse("admin:cases_evidence_change", args=[evidence.pk]))
    add = admin_client.get(reverse("admin:cases_evidence_add"))

    assert listing.status_code == 200
    assert evidence.finding.case.entity.name in listing.content.decode()
    assert shown.status_code == 200 and 'name="_save"' not in shown.content.decode()
    assert add.status_code == 403
