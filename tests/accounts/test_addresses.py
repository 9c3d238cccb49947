"""The address throttled and audited (cases/accounts/addresses.py)."""

import pytest
from django.test import RequestFactory, override_settings
from django.urls import reverse

from cases.accounts.addresses import client_ip
from cases.models import AuditEvent

PROXIED = ("HTTP_X_FORWARDED_PROTO", "https")


def request(**meta):
    return RequestFactory().get("/", **meta)


def test_it_is_the_remote_address():
    assert client_ip(request(REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="1.2.3.4")) == (
        "198.51.100.4"
    )


@override_settings(SECURE_PROXY_SSL_HEADER=PROXIED)
def test_behind_a_proxy_it_is_the_address_the_proxy_appended():
    forged_then_real = "6.6.6.6, 198.51.100.4"

    assert client_ip(request(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forged_then_real)) == (
        "198.51.100.4"
    )


@pytest.mark.parametrize("meta", [{"REMOTE_ADDR": "not an address"}, {"REMOTE_ADDR": ""}])
def test_what_is_not_an_address_is_none(meta):
    assert client_ip(request(**meta)) is None


@override_settings(SECURE_PROXY_SSL_HEADER=PROXIED)
def test_a_garbage_forwarded_header_is_none():
    assert (
        client_ip(request(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, <script>")) is None
    )


@pytest.mark.django_db
@override_settings(AXES_ENABLED=True, SECURE_PROXY_SSL_HEADER=PROXIED)
def test_a_sign_in_from_a_garbage_address_is_refused_cleanly_and_audited(client, analyst):
    """PostgreSQL's inet columns (axes' and the audit log's) would refuse the text."""
    response = client.post(
        reverse("login"), {"username": "alice", "password": "wrong"}, HTTP_X_FORWARDED_FOR="<x>"
    )

    assert response.status_code == 200
    assert AuditEvent.objects.get(action="sign_in_failed").ip is None
