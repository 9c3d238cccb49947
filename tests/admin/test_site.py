"""The admin site as a whole: every page renders, lists do not grow queries with rows,
the header names the app and autocomplete finds cases and users."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.admin.helpers import make_row, url
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

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


def test_site_header_names_the_app(admin_client):
    response = admin_client.get(reverse("admin:index"))

    assert "Wishlist administration" in response.content.decode()


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
