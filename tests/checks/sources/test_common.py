"""The helpers every source shares: reading a day, and a JSON API read page by page with
HTTP mocked by `responses`."""

import datetime

import pytest
import responses
from responses import matchers

from cases.checks.http import HttpClient, PermanentHttpError
from cases.checks.ratelimit import LocalRateLimiter
from cases.checks.sources.common import JsonReader, describe, parse_day

BASE = "http://mirror.test/api"
PUBLIC = "https://api.example.org/v1"


@pytest.fixture
def reader():
    client = HttpClient(
        source="test", rate_per_second=None, limiter=LocalRateLimiter(), sleep=lambda s: None
    )
    return JsonReader(client, BASE, public_url=PUBLIC, hidden_params={"api_key": "s3cret"})


@pytest.mark.parametrize(
    "value, day",
    [
        ("2024-06-15", datetime.date(2024, 6, 15)),
        (" 2024-06-15 ", datetime.date(2024, 6, 15)),
        ("2024-06-15T12:00:00.000Z", datetime.date(2024, 6, 15)),
        # The day as written, not moved to UTC.
        ("2024-06-15T00:30:00+08:00", datetime.date(2024, 6, 15)),
        ("2024-02-30", None),
        ("15/06/2024", None),
        ("", None),
        (None, None),
        (20240615, None),
    ],
)
def test_a_day_is_read_from_the_start_of_a_date_or_timestamp(value, day):
    assert parse_day(value) == day


def test_a_day_can_be_read_in_another_layout():
    assert parse_day("20240615T233000Z", "%Y%m%d") == datetime.date(2024, 6, 15)
    assert parse_day("2024-06-15", "%Y%m%d") is None


def test_parameters_are_described_in_order():
    assert describe({"q": '"acme" China', "from": 100}) == 'q="acme" China from=100'


@responses.activate
def test_a_get_is_noted_without_the_hidden_parameters(reader):
    responses.get(
        f"{BASE}/things",
        json={"ok": True},
        match=[matchers.query_param_matcher({"q": "Acme", "api_key": "s3cret"})],
    )
    data, raw = reader.get("/things", {"q": "Acme"})
    assert data == {"ok": True} and raw == b'{"ok": true}'
    assert reader.asked == [f"GET {BASE}/things?q=Acme"]


@responses.activate
def test_a_404_is_nothing_only_when_asked(reader):
    responses.get(f"{BASE}/missing", status=404)
    assert reader.get("/missing", none_if_missing=True) is None
    with pytest.raises(PermanentHttpError):
        reader.get("/missing")


def follow_next(data, url, params):
    return (data["next"], None) if data.get("next") else None


@responses.activate
def test_pages_follow_links_on_the_public_host_to_the_base_url(reader):
    responses.get(f"{BASE}/list", json={"next": f"{PUBLIC}/list/2"})
    responses.get(f"{BASE}/list/2", json={"next": ""})
    pages = reader.pages("/list", None, follow_next, max_pages=10)
    assert [data for data, _ in pages] == [{"next": f"{PUBLIC}/list/2"}, {"next": ""}]
    assert (pages.read, pages.cut_short) == (2, False)
    assert reader.asked == [f"GET {BASE}/list", f"GET {BASE}/list/2"]


@responses.activate
def test_pages_stop_at_the_limit_and_say_so(reader):
    responses.get(f"{BASE}/list", json={"next": f"{BASE}/list"})
    pages = reader.pages("/list", None, follow_next, max_pages=3)
    assert len(list(pages)) == 3
    assert (pages.read, pages.cut_short) == (3, True)
    assert reader.asked[-1] == "(stopped after 3 pages of /list)"


@responses.activate
def test_a_missing_list_has_no_pages(reader):
    responses.get(f"{BASE}/list", status=404)
    pages = reader.pages("/list", None, follow_next, max_pages=3, none_if_missing=True)
    assert list(pages) == [] and pages.read == 0


@responses.activate
def test_a_source_that_notes_the_list_itself_gets_no_notes(reader):
    responses.get(f"{BASE}/list", json={"next": f"{BASE}/list"})
    pages = reader.pages("/list", None, follow_next, max_pages=2, note=False)
    assert len(list(pages)) == 2 and pages.cut_short
    assert reader.asked == []
