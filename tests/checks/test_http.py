"""The one HTTP client: timeouts, User-Agent, retries with backoff, permanent errors."""

import pytest
import requests
import responses

from cases.checks import http
from cases.checks.http import HttpClient, PermanentHttpError, RateLimitedError, TransientHttpError
from cases.checks.ratelimit import RateLimiter

URL = "https://registry.example.org/api/thing"


class CountingLimiter(RateLimiter):
    def __init__(self):
        self.calls = []

    def acquire(self, key, per_second):
        self.calls.append((key, per_second))


@pytest.fixture
def waits():
    return []


@pytest.fixture
def client(waits):
    return HttpClient(
        source="test",
        rate_per_second=5,
        limiter=CountingLimiter(),
        sleep=waits.append,
        max_attempts=4,
        backoff=0.5,
    )


@responses.activate
def test_it_names_the_tool_and_a_contact_in_the_user_agent(client, settings):
    responses.get(URL, json={"ok": True})
    client.get(URL)
    agent = responses.calls[0].request.headers["User-Agent"]
    assert agent.startswith("Wishlist/") and settings.WISHLIST_CONTACT in agent


@responses.activate
def test_it_takes_a_rate_limit_slot_before_every_attempt(client):
    responses.get(URL, status=503)
    responses.get(URL, json={})
    client.get(URL)
    assert client.limiter.calls == [("test", 5), ("test", 5)]


@responses.activate
def test_it_honours_retry_after_on_429_then_succeeds(client, waits):
    responses.get(URL, status=429, headers={"Retry-After": "7"})
    responses.get(URL, json={"n": 1})
    data, body = client.get_json(URL)
    assert data == {"n": 1}
    assert waits == [7.0]


@responses.activate
def test_it_retries_a_500_with_jittered_exponential_backoff(client, waits):
    responses.get(URL, status=500)
    responses.get(URL, status=502)
    responses.get(URL, json=[1])
    assert client.get_json(URL)[0] == [1]
    assert len(waits) == 2
    assert 0 <= waits[0] <= 0.5 and 0 <= waits[1] <= 1.0


@responses.activate
def test_it_retries_timeouts_and_gives_up_after_the_bound(client, waits):
    responses.get(URL, body=requests.Timeout("read timed out"))
    with pytest.raises(TransientHttpError, match="after 4 tries"):
        client.get(URL)
    assert len(responses.calls) == 4
    assert len(waits) == 3


@responses.activate
def test_connection_errors_are_transient(client):
    responses.get(URL, body=requests.ConnectionError("refused"))
    with pytest.raises(TransientHttpError) as caught:
        client.get(URL)
    assert not isinstance(caught.value, PermanentHttpError)
    # Said in words an analyst reads: which host, what went wrong.
    host = URL.split("/")[2]
    assert str(caught.value).startswith(f"{host} could not connect (ConnectionError) after ")


@responses.activate
def test_a_404_is_permanent_and_not_retried(client, waits):
    responses.get(URL, status=404)
    with pytest.raises(PermanentHttpError) as caught:
        client.get(URL)
    assert caught.value.status == 404
    assert len(responses.calls) == 1 and waits == []


@pytest.mark.parametrize("status", [400, 401, 403])
@responses.activate
def test_other_client_errors_are_permanent(client, status):
    responses.get(URL, status=status)
    with pytest.raises(PermanentHttpError):
        client.get(URL)
    assert len(responses.calls) == 1


@responses.activate
def test_errors_never_carry_a_key_sent_in_the_query(client):
    responses.get(URL, status=403)
    responses.get(URL, body=b"<html>", status=200)
    for call in (client.get, client.get_json):
        with pytest.raises(PermanentHttpError) as caught:
            call(URL, params={"api_key": "s3cr3t-value", "q": "acme"})
        assert "s3cr3t-value" not in str(caught.value) + caught.value.url
        assert "api_key=%2A%2A%2A" in caught.value.url and "q=acme" in caught.value.url


@responses.activate
def test_a_body_past_the_limit_is_refused_unread():
    small = HttpClient(source="t", limiter=CountingLimiter(), sleep=lambda s: None, max_bytes=1000)
    responses.get(URL, body=b"x" * 1001)
    with pytest.raises(PermanentHttpError, match="more than the 1,000 bytes"):
        small.get(URL)
    responses.replace(responses.GET, URL, body=b"x" * 1000)
    assert len(small.get(URL).content) == 1000


@responses.activate
def test_malformed_json_is_permanent(client):
    responses.get(URL, body=b'{"data": [1, 2', content_type="application/json")
    with pytest.raises(PermanentHttpError, match="not JSON"):
        client.get_json(URL)
    assert len(responses.calls) == 1


@responses.activate
def test_a_plain_text_body_with_status_200_is_not_json(client):
    responses.get(URL, body="Please limit requests to one every 5 seconds", status=200)
    with pytest.raises(PermanentHttpError, match="Please limit"):
        client.get_json(URL)


@responses.activate
def test_a_source_that_keeps_answering_429_is_rate_limited(client):
    responses.get(URL, status=429)
    with pytest.raises(RateLimitedError):
        client.get(URL)
    assert len(responses.calls) == 4


@responses.activate
def test_a_retry_after_longer_than_the_cap_is_reported_not_slept(client, waits):
    responses.get(URL, status=429, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimitedError, match="3600"):
        client.get(URL)
    assert waits == []


@responses.activate
def test_it_sends_timeouts_on_every_request(client, monkeypatch):
    seen = {}
    original = requests.Session.send

    def send(self, request, **kwargs):
        seen["timeout"] = kwargs.get("timeout")
        return original(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", send)
    responses.get(URL, json={})
    client.get(URL)
    assert seen["timeout"] == client.timeout
    assert all(value > 0 for value in client.timeout)


@responses.activate
def test_a_source_unreachable_several_times_in_a_row_fails_fast(client):
    responses.get(URL, body=requests.ConnectionError("Name or service not known"))
    for _ in range(http.BREAKER_THRESHOLD):
        with pytest.raises(TransientHttpError):
            client.get(URL)
    sent = len(responses.calls)
    with pytest.raises(TransientHttpError, match="unreachable"):
        client.get(URL)
    assert len(responses.calls) == sent


@responses.activate
def test_an_answer_closes_the_breaker(client):
    responses.get(URL, body=requests.ConnectionError("down"))
    with pytest.raises(TransientHttpError):
        client.get(URL)
    responses.replace(responses.GET, URL, json={})
    client.get(URL)
    assert http._network_failures == {}


@responses.activate
def test_server_errors_do_not_open_the_breaker(client):
    responses.get(URL, status=503)
    for _ in range(http.BREAKER_THRESHOLD + 1):
        with pytest.raises(TransientHttpError) as caught:
            client.get(URL)
        assert "unreachable" not in str(caught.value)


@responses.activate
def test_it_keeps_the_urls_asked_with_credentials_masked(client):
    responses.get(URL, json={})
    client.get(URL, params={"search": "Acme", "api_key": "s3cret"})
    assert client.asked == [f"{URL}?search=Acme&api_key=%2A%2A%2A"]
    assert "s3cret" not in " ".join(client.asked)


@responses.activate
def test_a_declared_length_past_the_limit_is_refused_before_reading():
    small = HttpClient(source="t", limiter=CountingLimiter(), sleep=lambda s: None, max_bytes=1000)
    responses.get(URL, body=b"x" * 10, headers={"Content-Length": "5000000"})
    with pytest.raises(PermanentHttpError, match="5,000,000 bytes"):
        small.get(URL)


@responses.activate
def test_a_redirect_to_another_host_does_not_carry_the_api_key(client):
    responses.get(URL, status=302, headers={"Location": "https://elsewhere.example/x"})
    responses.get("https://elsewhere.example/x", body=b"{}")
    client.get(URL, headers={"X-API-KEY": "s3cr3t", "Accept": "application/json"})
    followed = responses.calls[-1].request
    assert followed.url == "https://elsewhere.example/x"
    assert "X-API-KEY" not in followed.headers and followed.headers["Accept"]


@responses.activate
def test_other_request_failures_are_permanent_and_readable(client):
    responses.get(URL, body=requests.exceptions.TooManyRedirects("30 redirects"))
    with pytest.raises(PermanentHttpError, match="TooManyRedirects from "):
        client.get(URL)
    assert len(responses.calls) == 1


@responses.activate
def test_a_body_that_breaks_off_is_asked_again_not_called_a_200_error(client, monkeypatch):
    # Before, a 2xx whose body broke off fell through to the permanent branch and was
    # reported as "HTTP 200 from ...", never retried.
    responses.get(URL, json={"ok": True})
    read_whole, broken = http._read_whole, []

    def breaks_off_once(response, limit):
        if not broken:
            broken.append(response)
            raise TransientHttpError("the body broke off", url=URL)
        return read_whole(response, limit)

    monkeypatch.setattr(http, "_read_whole", breaks_off_once)

    response = client.get(URL)

    assert response.json() == {"ok": True}
    assert len(responses.calls) == 2


@responses.activate
def test_a_server_error_that_outlasts_the_retries_keeps_its_status(client):
    for _ in range(client.max_attempts):
        responses.get(URL, status=503)

    with pytest.raises(TransientHttpError) as raised:
        client.get(URL)

    assert raised.value.status == 503
    assert str(raised.value) == f"HTTP 503 after {client.max_attempts} tries"


@responses.activate
def test_a_network_failure_after_a_server_error_has_no_status(client):
    responses.get(URL, status=502)
    for _ in range(client.max_attempts - 1):
        responses.get(URL, body=requests.ConnectionError("refused"))

    with pytest.raises(TransientHttpError) as raised:
        client.get(URL)

    assert raised.value.status is None
    assert "could not connect" in str(raised.value)
