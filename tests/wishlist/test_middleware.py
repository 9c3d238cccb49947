"""Headers and limits of every response (wishlist/middleware.py, django-csp's settings)."""

import datetime

import pytest
from django.contrib.staticfiles import finders
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def directives(header: str) -> dict[str, str]:
    parts = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return dict(parts)


# ------------------------------------------------------------------------------ headers


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_every_page_has_a_strict_content_security_policy(client, analyst, signed_in):
    if signed_in:
        client.force_login(analyst)
    path = reverse("cases:case_list") if signed_in else reverse("login")

    response = client.get(path)

    assert response.status_code == 200
    assert directives(response["Content-Security-Policy"]) == POLICY


def test_the_admin_has_the_same_policy(admin_client):
    response = admin_client.get("/admin/cases/case/")

    assert response.status_code == 200
    assert directives(response["Content-Security-Policy"]) == POLICY


def test_every_page_switches_off_the_browser_features_it_never_uses(client):
    response = client.get(reverse("login"))

    features = dict(part.strip().split("=") for part in response["Permissions-Policy"].split(","))
    for name in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert features[name] == "()"
    assert set(features.values()) == {"()"}


def test_the_pages_have_no_inline_script_or_style(client, world_pages):
    """What the policy would block: it must block nothing the app serves."""
    assert world_pages[reverse("cases:analytics")].count("<svg") == 2
    for path, body in world_pages.items():
        assert "<script>" not in body, path
        assert "<style" not in body, path
        assert " style=" not in body, path
        assert " onclick=" not in body.lower(), path


@pytest.fixture
def world_pages(client, supervisor, analyst, team):
    from cases import derived
    from cases.models import Finding
    from tests.factories import CheckRunFactory, EntityFactory, FindingFactory, ReferralFactory

    entity = EntityFactory(name="Alpha Robotics Ltd")
    ReferralFactory(entity=entity)
    case = CaseFactory(entity=entity, team=team)
    FindingFactory(case=case, source="gleif", external_id="A-1", match_score=90)
    # A positive outcome and a check, so that both charts are drawn.
    FindingFactory(
        case=case, review_state=Finding.ReviewState.CONFIRMED, reviewed_at=timezone.now()
    )
    # A check that searched the whole period for every kind: the case is followed.
    CheckRunFactory(
        case=case,
        searched_from=datetime.date(2000, 1, 1),
        searched_to=datetime.date.today(),
        detects=list(Finding.Kind.values),
    )
    derived.case_index_dates_refresh()
    pages = {}
    for user, paths in (
        (
            analyst,
            [
                reverse("cases:case_list"),
                case.get_absolute_url(),
                reverse("cases:review_queue"),
                reverse("cases:my_work"),
            ],
        ),
        (supervisor, [reverse("cases:analytics")]),
    ):
        client.force_login(user)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            pages[path] = response.content.decode()
    client.logout()
    pages[reverse("login")] = client.get(reverse("login")).content.decode()
    return pages


# ------------------------------------------------------------------------------ no-store


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_case_pages_exports_and_downloads_are_not_stored(client, analyst, supervisor, team):
    case = CaseFactory(team=team)
    client.force_login(analyst)
    for path in (
        reverse("cases:case_list"),
        reverse("cases:case_list") + "?format=csv",
        case.get_absolute_url(),
        reverse("cases:review_queue"),
        reverse("cases:my_work"),
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert no_store(response), path
        assert "private" in response["Cache-Control"], path
    client.force_login(supervisor)
    for kind in ("rates", "survival", "control", "agreement"):
        response = client.get(reverse("cases:analytics") + f"?download={kind}")
        assert response.status_code == 200, kind
        assert no_store(response), kind


def test_the_admins_export_is_not_stored(admin_client):
    CaseFactory()

    response = admin_client.get(reverse("admin:cases_case_export", args=["csv"]))

    assert response.status_code == 200
    assert no_store(response)


@override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True)
def test_static_files_keep_their_cache_lifetime(client, analyst):
    """Static files are served by WhiteNoise before the no-store middleware sees them (the
    suite has no collected files: WhiteNoise serves them from the apps, as runserver does)."""
    assert finders.find("cases/queue_keys.js")
    client.force_login(analyst)

    response = client.get("/static/cases/queue_keys.js")

    assert response.status_code == 200
    assert not no_store(response)


# ------------------------------------------------------------------------------ body limit


def test_an_anonymous_large_post_is_refused_before_it_is_read(client):
    """A 199 MB POST to the sign-in page was read whole; now only its length is looked at
    (the test client's input would raise if more were read than it holds)."""
    response = client.post(
        reverse("login"),
        b"username=x&password=y",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(199 * 1024 * 1024),
    )

    assert response.status_code == 413
    assert not response.wsgi_request.environ["wsgi.input"].read_started


@override_settings(ANONYMOUS_MAX_BODY_BYTES=1024)
def test_the_anonymous_limit_is_the_setting(client):
    small = client.post(reverse("login"), {"username": "x", "password": "y" * 500})
    large = client.post(reverse("login"), {"username": "x", "password": "y" * 1100})

    assert small.status_code == 200  # the form, with its "wrong password" error
    assert large.status_code == 413


def test_a_signed_in_person_may_send_more(client, analyst):
    client.force_login(analyst)

    response = client.post(reverse("logout"), {"padding": "x" * (200 * 1024)})

    assert response.status_code == 302
