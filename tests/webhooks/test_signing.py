"""Signing and address rules of webhook deliveries (pure functions)."""

import pytest

from cases.webhooks import addresses, signing


def test_signature_matches_an_independent_hmac():
    # printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac s3cret
    expected = "sha256=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940"
    assert signing.signature("s3cret", 1700000000, b'{"a":1}') == expected


def test_body_is_the_same_whatever_the_key_order_and_keeps_non_ascii():
    one = signing.body_bytes({"b": 1, "a": "Zürich 华为"})
    two = signing.body_bytes({"a": "Zürich 华为", "b": 1})
    assert one == two == '{"a":"Zürich 华为","b":1}'.encode()


def test_verify_refuses_a_tampered_body_another_secret_and_an_old_timestamp():
    body = signing.body_bytes({"event": "ping"})
    header = signing.signature("s3cret", 1000, body)
    assert signing.verify("s3cret", 1000, body, header, now=1100)
    assert not signing.verify("s3cret", 1000, body + b" ", header, now=1100)
    assert not signing.verify("other", 1000, body, header, now=1100)
    assert not signing.verify("s3cret", 1000, body, header, now=1000 + 301)
    assert not signing.verify("s3cret", 1000, body, "sha256=" + "0" * 64, now=1000)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.10",
        "172.16.5.5",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "::1",
        "fc00::1",
        "fe80::1%eth0",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ],
)
def test_private_loopback_and_reserved_addresses_are_refused(address):
    why = addresses.refusal([address], allow_private=False)
    assert "private, loopback or reserved" in why
    assert addresses.refusal([address], allow_private=True) == ""


def test_a_public_address_passes_but_one_private_among_them_refuses():
    assert addresses.refusal(["93.184.216.34"], allow_private=False) == ""
    assert addresses.refusal(["93.184.216.34", "10.0.0.1"], allow_private=False)


def test_a_name_that_does_not_resolve_is_refused_even_where_private_is_allowed():
    assert "does not resolve" in addresses.refusal([], allow_private=True)
    assert addresses.resolve("no-such-host.invalid") == []
