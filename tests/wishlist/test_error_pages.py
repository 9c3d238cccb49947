"""The site's own 404 and 403 pages (wishlist/middleware.py, ErrorPageMiddleware): styled,
the same with DEBUG on as off, and never Django's technical 404 with its URL map."""

import re

import pytest
from django.template.loader import render_to_string
from django.test import override_settings
from django.urls import reverse

from tests.factories import CaseFactory, FindingFactory

pytestmark = pytest.mark.django_db

# Words of Django's technical 404 page, and the names of routes it would list.
TECHNICAL = (
    "URLconf",
    "Using the URLconf",
    "Raised by",
    "admin/",
    "accounts/login/",
    "DEBUG = True",
)


def body(response) -> str:
    return response.content.decode()


def unmasked(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body(response))


def assert_styled_404(response) -> None:
    html = body(response)
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in html
    assert "cases/app.css" in html
    assert "of a team you are not in" in html
    for word in TECHNICAL:
        assert word not in html


@pytest.fixture
def foreign_case(other_team):
    return CaseFactory(team=other_team)


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_another_teams_case_is_the_styled_404_without_the_url_map(
    client, analyst, foreign_case, debug
):
    client.force_login(analyst)
    client.raise_request_exception = False

    with override_settings(DEBUG=debug):
        response = client.get(foreign_case.get_absolute_url())

    assert_styled_404(response)
    assert foreign_case.entity.name not in body(response)


def test_another_teams_case_reads_as_one_that_does_not_exist(client, analyst, foreign_case):
    client.force_login(analyst)

    with override_settings(DEBUG=True):
        foreign = client.get(foreign_case.get_absolute_url())
        missing = client.get(reverse("cases:case_detail", args=[foreign_case.pk + 1000]))

    assert foreign.status_code == missing.status_code == 404
    # The same page, but for the masked CSRF token of the sign-out form.
    assert unmasked(foreign) == unmasked(missing)


def test_another_teams_lead_is_the_styled_404_on_a_post(client, analyst, other_team):
    lead = FindingFactory(case=CaseFactory(team=other_team), source="gdelt")
    client.force_login(analyst)

    with override_settings(DEBUG=True):
        response = client.post(
            reverse("cases:finding_review", args=[lead.pk]), {"decision": "confirmed"}
        )

    assert_styled_404(response)


@pytest.mark.parametrize("path", ["/no/such/page/", "/cases/abc/", "/cases/1/nothing/"])
@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "anonymous"])
def test_a_path_no_route_matches_is_the_styled_404_with_debug_on(client, analyst, path, signed_in):
    if signed_in:
        client.force_login(analyst)

    with override_settings(DEBUG=True):
        response = client.get(path)

    assert_styled_404(response)


def test_a_path_without_its_slash_is_still_redirected(client, analyst):
    client.force_login(analyst)

    with override_settings(DEBUG=True):
        response = client.get("/cases")

    assert response.status_code == 301
    assert response.url == "/cases/"


def test_the_404_page_has_the_sites_navigation_for_a_signed_in_user(client, analyst):
    client.force_login(analyst)

    with override_settings(DEBUG=True):
        html = body(client.get("/no/such/page/"))

    assert 'href="/cases/"' in html
    assert "Sign out" in html


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_analytics_for_an_analyst_is_the_styled_403_naming_the_role(client, analyst, debug):
    client.force_login(analyst)
    client.raise_request_exception = False

    with override_settings(DEBUG=debug):
        response = client.get(reverse("cases:analytics"))

    html = body(response)
    assert response.status_code == 403
    assert "<h1>Your role does not allow this</h1>" in html
    assert "cases/app.css" in html
    assert "Analytics, cohorts and control cases are for supervisors (and admins)." in html
    assert "You are signed in as <strong>alice</strong>, an analyst." in html
    assert "ask an admin" in html
    assert 'href="/my/"' in html or reverse("cases:my_work") in html
    assert "403 Forbidden" not in html


def test_a_supervisors_write_is_the_styled_403(client, supervisor, team):
    case = CaseFactory(team=team)
    client.force_login(supervisor)

    with override_settings(DEBUG=True):
        response = client.post(reverse("cases:case_check_now", args=[case.pk]))

    assert response.status_code == 403
    assert "Your role does not allow this change." in body(response)
    assert ", a supervisor." in body(response)


def test_the_admin_keeps_djangos_own_pages(admin_client):
    """Only staff reach the admin; under DEBUG they keep Django's technical page."""
    with override_settings(DEBUG=True):
        response = admin_client.get("/admin/cases/nosuchmodel/")

    assert response.status_code == 404
    assert "of a team you are not in" not in body(response)
    assert "Raised by" in body(response)


def test_the_500_page_is_plain_and_needs_no_request():
    html = render_to_string("500.html")

    assert "<h1>Something went wrong</h1>" in html
    assert "cases/app.css" in html
