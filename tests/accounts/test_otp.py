"""The second factor (django-otp): required for staff and supervisors, who are sent to the
verify step from every page until they give a code; optional for analysts."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases.accounts import services as accounts_services
from cases.models import AuditEvent
from tests.accounts.conftest import sign_in, signed_in

pytestmark = pytest.mark.django_db


def code_of(device: TOTPDevice) -> str:
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


@pytest.fixture
def sam_app(supervisor) -> TOTPDevice:
    return TOTPDevice.objects.create(user=supervisor, name="phone", confirmed=True)


def assert_sent_to(response, name: str, next_path: str) -> None:
    assert response.status_code == 302
    parts = urlsplit(response.url)
    assert parts.path == reverse(name)
    assert parse_qs(parts.query)["next"] == [next_path]


@pytest.mark.parametrize("path", ["/my/", "/cases/", "/analytics/", "/review/"])
def test_a_supervisor_signed_in_with_a_password_only_is_sent_to_the_verify_step(
    client, sam_app, path
):
    sign_in(client, "sam")

    assert_sent_to(client.get(path), "otp_verify", path)


def test_the_password_step_leads_to_the_verify_step(client, sam_app):
    response = sign_in(client, "sam")

    assert signed_in(client)
    assert response.status_code == 302
    assert_sent_to(client.get(response.url), "otp_verify", reverse("cases:my_work"))


def test_staff_are_sent_to_the_verify_step_from_the_admin(client, staff):
    TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    client.force_login(staff, otp=False)

    assert_sent_to(client.get("/admin/"), "otp_verify", "/admin/")
    assert_sent_to(client.get("/admin/cases/case/"), "otp_verify", "/admin/cases/case/")


def test_a_wrong_code_is_refused(client, sam_app):
    sign_in(client, "sam")

    response = client.post(reverse("otp_verify"), {"token": "000000", "next": "/cases/"})

    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert_sent_to(client.get("/cases/"), "otp_verify", "/cases/")
    assert AuditEvent.objects.filter(action="otp_failed", actor_name="sam").count() == 1


def test_the_right_totp_code_signs_in(client, sam_app):
    sign_in(client, "sam")

    response = client.post(reverse("otp_verify"), {"token": code_of(sam_app), "next": "/cases/"})

    assert response.status_code == 302
    assert response.url == "/cases/"
    assert client.get("/analytics/").status_code == 200
    assert AuditEvent.objects.filter(action="otp_verified", actor_name="sam").exists()


def test_a_totp_code_is_refused_a_second_time(client, sam_app):
    code = code_of(sam_app)
    sign_in(client, "sam")
    client.post(reverse("otp_verify"), {"token": code})
    client.post(reverse("logout"))
    sign_in(client, "sam")

    client.post(reverse("otp_verify"), {"token": code})

    assert_sent_to(client.get("/cases/"), "otp_verify", "/cases/")


def test_a_backup_code_works_once(client, supervisor):
    code = accounts_services.backup_codes_reset(user=supervisor)[0]
    sign_in(client, "sam")

    client.post(reverse("otp_verify"), {"token": code})

    assert client.get("/analytics/").status_code == 200
    assert not StaticToken.objects.filter(token=code).exists()
    assert StaticToken.objects.filter(device__user=supervisor).count() == 9
    client.post(reverse("logout"))
    sign_in(client, "sam")
    response = client.post(reverse("otp_verify"), {"token": code})
    assert response.status_code == 200
    assert_sent_to(client.get("/cases/"), "otp_verify", "/cases/")


def test_the_verify_step_does_not_send_anyone_elsewhere(client, sam_app):
    sign_in(client, "sam")

    response = client.post(
        reverse("otp_verify"), {"token": code_of(sam_app), "next": "https://evil.example/"}
    )

    assert response.url == reverse("cases:my_work")


def test_a_supervisor_without_a_device_is_sent_to_set_one_up(client, supervisor):
    sign_in(client, "sam")

    assert_sent_to(client.get("/cases/"), "otp_setup", "/cases/")
    page = client.get(reverse("otp_setup") + "?next=/cases/")
    body = page.content.decode()
    device = TOTPDevice.objects.get(user=supervisor, confirmed=False)
    assert device.config_url in body.replace("&amp;", "&")
    assert "otpauth://totp/Wishlist%3Asam?secret=" in body
    assert "<img" not in body


def test_setting_up_an_app_confirms_it_verifies_the_session_and_shows_backup_codes(
    client, supervisor
):
    sign_in(client, "sam")
    client.get(reverse("otp_setup"))
    device = TOTPDevice.objects.get(user=supervisor)

    response = client.post(reverse("otp_setup"), {"token": code_of(device), "next": "/cases/"})

    device.refresh_from_db()
    assert device.confirmed
    codes = StaticToken.objects.filter(device__user=supervisor).values_list("token", flat=True)
    assert len(codes) == 10
    body = response.content.decode()
    assert all(code in body for code in codes)
    assert client.get("/analytics/").status_code == 200
    assert AuditEvent.objects.filter(action="otp_device_added", actor_name="sam").exists()


def test_a_wrong_code_sets_nothing_up(client, supervisor):
    sign_in(client, "sam")
    client.get(reverse("otp_setup"))

    response = client.post(reverse("otp_setup"), {"token": "000000"})

    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=supervisor, confirmed=True).exists()
    assert not StaticDevice.objects.filter(user=supervisor).exists()
    assert_sent_to(client.get("/cases/"), "otp_setup", "/cases/")


def test_the_set_up_page_shows_the_same_secret_until_confirmed(client, supervisor):
    sign_in(client, "sam")

    first = client.get(reverse("otp_setup")).context["secret"]
    second = client.get(reverse("otp_setup")).context["secret"]

    assert TOTPDevice.objects.filter(user=supervisor).count() == 1
    assert first == second
    assert first in client.get(reverse("otp_setup")).content.decode()


def test_an_analyst_without_a_device_is_not_asked(client, analyst):
    sign_in(client, "alice")

    assert client.get("/cases/").status_code == 200


def test_an_analyst_who_set_up_an_app_is_asked_for_it(client, analyst):
    device = TOTPDevice.objects.create(user=analyst, name="phone", confirmed=True)
    sign_in(client, "alice")

    assert_sent_to(client.get("/cases/"), "otp_verify", "/cases/")
    client.post(reverse("otp_verify"), {"token": code_of(device)})
    assert client.get("/cases/").status_code == 200


def test_an_unverified_user_may_still_sign_out(client, sam_app):
    sign_in(client, "sam")

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert not signed_in(client)


def test_a_device_of_someone_else_in_the_session_verifies_nothing(
    client, sam_app, other_supervisor
):
    """The session names a device; the middleware checks it is the user's."""
    sign_in(client, "sue")
    session = client.session
    session["otp_device_id"] = sam_app.persistent_id
    session.save()

    assert_sent_to(client.get("/cases/"), "otp_setup", "/cases/")
