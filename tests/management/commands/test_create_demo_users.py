"""create_demo_users gets a newcomer in: a password for each demo user and backup codes
for those whose role needs a second factor (the admin and the supervisor)."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.accounts.conftest import sign_in

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("create_demo_users", *args, stdout=out)
    return out.getvalue()


def passwords(output: str) -> dict[str, str]:
    return dict(re.findall(r"^\s*http://\S+\s+(demo-\S+)\s+(\S+)", output, re.MULTILINE))


def backup_codes(output: str) -> dict[str, list[str]]:
    return {
        name: codes.split()
        for name, codes in re.findall(r"backup codes for (\S+): (.+)$", output, re.MULTILINE)
    }


def test_it_prints_backup_codes_for_the_admin_and_the_supervisor_only():
    codes = backup_codes(run())

    assert set(codes) == {"demo-admin", "demo-supervisor"}
    assert all(len(user_codes) == 5 for user_codes in codes.values())


@pytest.mark.parametrize(
    ("username", "page"), [("demo-supervisor", "/analytics/"), ("demo-admin", "/admin/")]
)
def test_the_printed_password_and_a_backup_code_sign_in(client, username, page):
    output = run()

    sign_in(client, username, passwords(output)[username])
    refused = client.get(page)
    client.post(reverse("otp_verify"), {"token": backup_codes(output)[username][0]})

    assert refused.status_code == 302
    assert refused.url.startswith(reverse("otp_verify"))
    assert client.get(page).status_code == 200


def test_an_analyst_signs_in_with_the_password_alone(client):
    output = run()

    sign_in(client, "demo-analyst", passwords(output)["demo-analyst"])

    assert client.get("/cases/").status_code == 200


def test_running_again_keeps_the_password_and_the_codes(client):
    first = run()

    second = run()

    assert backup_codes(second) == {}
    assert "demo-supervisor  (unchanged)" in second
    sign_in(client, "demo-supervisor", passwords(first)["demo-supervisor"])
    client.post(reverse("otp_verify"), {"token": backup_codes(first)["demo-supervisor"][0]})
    assert client.get("/analytics/").status_code == 200


def test_a_reset_replaces_the_codes(client):
    old = backup_codes(run())["demo-supervisor"][0]
    output = run("--reset")

    sign_in(client, "demo-supervisor", passwords(output)["demo-supervisor"])
    client.post(reverse("otp_verify"), {"token": old})

    assert client.get("/analytics/").status_code == 302
