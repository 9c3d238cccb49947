"""End to end in a real headless Chromium against the app served on 127.0.0.1: an analyst
filters the list, reviews a case's leads and records a finding; another team cannot see it.

Chromium is Debian's package at /usr/bin/chromium, never a browser Playwright downloads.
Without it the test skips with a reason, except under CI (CI=true), where it fails.
"""

import datetime
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connections
from playwright.sync_api import ConsoleMessage, Page, expect, sync_playwright

from cases import derived
from cases.models import Case, Finding
from tests.factories import (
    AnalystFactory,
    CaseFactory,
    EntityFactory,
    FindingFactory,
    ReferralFactory,
    TeamFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps calling Google's services, which
# on a closed network is a flood of refused connections; the page needs none of them.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"
REPO = Path(__file__).resolve().parents[1]


@dataclass
class Traffic:
    """What the browser asked for and complained about while the test drove it."""

    requests: list[str] = field(default_factory=list)
    responses: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture
def artifacts() -> Path:
    path = Path(os.environ.get("WISHLIST_TEST_ARTIFACTS") or REPO / "test-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def browser(chromium, live_server, monkeypatch):
    """Yield a page of a fresh headless Chromium and the traffic it records."""
    # Playwright's sync API runs an event loop in this thread, so Django takes the test's
    # own ORM calls for calls from a coroutine; they are plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    traffic = Traffic()
    with sync_playwright() as playwright:
        chrome = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        page = chrome.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15_000)
        page.on("request", lambda request: traffic.requests.append(request.url))
        page.on(
            "response", lambda response: traffic.responses.update({response.url: response.status})
        )
        page.on("requestfailed", lambda request: traffic.failed.append(request.url))
        page.on("pageerror", lambda error: traffic.errors.append(str(error)))
        page.on("console", lambda message: _console_error(traffic, message))
        try:
            yield page, traffic
        finally:
            # With Playwright's loop running, Django keeps this test's connections apart
            # from the thread's own; left open, they stop the test database being dropped.
            connections.close_all()
            chrome.close()


def _console_error(traffic: Traffic, message: ConsoleMessage) -> None:
    # The app serves no favicon, so Chromium's own request for one is a 404 on every page.
    if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
        traffic.errors.append(f"{message.text} ({message.location['url']})")


def _scenario():
    """Two teams, an analyst on each, and team 1's cases: one to work on, two to filter out."""
    team, other_team = TeamFactory(name="Optics team"), TeamFactory(name="Materials team")
    analyst = AnalystFactory(username="ana", password=PASSWORD, teams=[team])
    outsider = AnalystFactory(username="otto", password=PASSWORD, teams=[other_team])

    case = CaseFactory(entity=EntityFactory(name="Kestrel Photonics Ltd"), team=team)
    same_name_closed = CaseFactory(
        entity=EntityFactory(name="Kestrel Marine Ltd"), team=team, status=Case.Status.CLOSED
    )
    other_name = CaseFactory(entity=EntityFactory(name="Harrow Robotics Ltd"), team=team)
    elsewhere = CaseFactory(entity=EntityFactory(name="Lindqvist Alloys AB"), team=other_team)
    for each in (case, same_name_closed, other_name, elsewhere):
        ReferralFactory(entity=each.entity, date=datetime.date(2017, 5, 1), date_precision="month")

    # A confirmed partnership from before the referral: on the timeline, never an outcome.
    FindingFactory(
        case=case,
        kind=Finding.Kind.PARTNERSHIP,
        counterparty_name="Wuhan Optics Valley Institute",
        event_date=datetime.date(2016, 3, 1),
        event_date_precision="month",
        review_state=Finding.ReviewState.CONFIRMED,
        reviewed_by=analyst,
        reviewed_at=datetime.datetime(2024, 1, 8, 9, 30, tzinfo=datetime.UTC),
        source_url="https://www.example.com/2016/kestrel-wuhan",
    )
    to_confirm = FindingFactory(
        case=case,
        kind=Finding.Kind.PARTNERSHIP,
        counterparty_name="Hangzhou Lightwave Co., Ltd.",
        event_date=datetime.date(2018, 6, 1),
        event_date_precision="month",
        review_state=Finding.ReviewState.LEAD,
        source="gdelt",
        external_id="gdelt-1",
        match_score=94,
        source_url="https://www.example.com/2018/kestrel-hangzhou-mou",
        excerpt="Kestrel Photonics signed a memorandum of understanding with Hangzhou Lightwave.",
    )
    to_reject = FindingFactory(
        case=case,
        kind=Finding.Kind.ACQUISITION,
        counterparty_name="Ningbo Harbour Holdings",
        event_date=datetime.date(2019, 2, 1),
        event_date_precision="month",
        review_state=Finding.ReviewState.LEAD,
        source="gdelt",
        external_id="gdelt-2",
        match_score=71,
        source_url="https://www.example.com/2019/kestrel-marine-sold",
        excerpt="Ningbo Harbour Holdings bought Kestrel Marine's ship repair yard.",
    )
    # Gives each case its index date and each finding its timing, as an import would.
    derived.case_index_dates_refresh(
        case_ids=[c.pk for c in (case, same_name_closed, other_name, elsewhere)]
    )
    to_confirm.refresh_from_db()
    to_reject.refresh_from_db()
    assert to_confirm.timing == to_reject.timing == Finding.Timing.AFTER
    return analyst, outsider, case, to_confirm, to_reject


def _sign_in(page: Page, base: str, username: str, next_path: str) -> None:
    page.goto(f"{base}{next_path}")
    expect(page).to_have_url(f"{base}/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}{next_path}")


def test_analyst_reviews_a_case_and_another_team_cannot_see_it(browser, live_server, artifacts):
    page, traffic = browser
    base = live_server.url
    analyst, outsider, case, to_confirm, to_reject = _scenario()
    outcome = page.locator("#outcome")
    rows = page.locator("#case-table tbody")

    _sign_in(page, base, analyst.username, "/cases/")
    # The app's own stylesheet is served and applied (nothing comes from a CDN).
    assert traffic.responses.get(f"{base}/static/cases/app.css") == 200
    assert page.locator("header.top").evaluate("e => getComputedStyle(e).display") == "flex"
    for name in ("Kestrel Photonics Ltd", "Kestrel Marine Ltd", "Harrow Robotics Ltd"):
        expect(rows).to_contain_text(name)
    expect(rows).not_to_contain_text("Lindqvist Alloys AB")

    filters = page.locator("#case-filters")
    filters.get_by_label("Search names").fill("Kestrel")
    filters.get_by_role("checkbox", name="open", exact=True).check()
    filters.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/cases/\?.*status=open"))
    query = parse_qs(urlsplit(page.url).query)
    assert (query["q"], query["status"]) == (["Kestrel"], ["open"])
    expect(rows).to_contain_text("Kestrel Photonics Ltd")
    expect(rows).not_to_contain_text("Kestrel Marine Ltd")  # closed
    expect(rows).not_to_contain_text("Harrow Robotics Ltd")  # another name
    expect(page.locator("h1")).to_contain_text("1 found")

    rows.get_by_role("link", name="Kestrel Photonics Ltd").click()
    expect(page).to_have_url(f"{base}/cases/{case.pk}/")
    expect(page.locator("h1")).to_have_text("Kestrel Photonics Ltd")
    # The partnership confirmed before the referral does not count.
    expect(outcome).to_contain_text("Outcome: none confirmed")
    expect(page.locator("svg.timeline .mark")).to_have_count(3)

    # A rejection needs a reason: the browser will not send the form without one.
    reject_box = page.locator(f"#lead-{to_reject.pk}")
    reject_box.get_by_role("button", name="Reject").click()
    assert reject_box.locator("input[name=note]").evaluate("e => e.validity.valueMissing")

    reject_box.locator("input[name=note]").fill("About Kestrel Marine, a different company.")
    reject_box.get_by_role("button", name="Reject").click()
    expect(page.locator(".messages")).to_contain_text("Rejected:")
    expect(page.locator(f"#lead-{to_reject.pk}")).to_have_count(0)
    # A rejected lead never makes an outcome.
    expect(outcome).to_contain_text("Outcome: none confirmed")

    # The outcome turns positive at this step: confirming the 2018 partnership, the first
    # confirmed finding with a Chinese party after the 2017-05 referral.
    page.locator(f"#lead-{to_confirm.pk}").get_by_role("button", name="Confirm").click()
    expect(page.locator(".messages")).to_contain_text("Confirmed:")
    expect(outcome).to_contain_text("Outcome: positive")
    expect(outcome).to_contain_text("first 2018-06")
    expect(outcome).to_have_class("outcome is-positive")
    expect(page.locator("#leads")).to_contain_text("No leads waiting.")

    page.get_by_text("Add a finding by hand").click()
    form = page.locator("#add-finding form")
    form.get_by_label("Kind").select_option(Finding.Kind.JOINT_VENTURE)
    form.get_by_label("Counterparty name").fill("Suzhou Kestrel Optoelectronics Co., Ltd.")
    form.get_by_label("Counterparty country").fill("CN")
    form.get_by_label("Date").fill("2020-04")
    form.get_by_label("Evidence URL").fill("https://www.example.com/2020/kestrel-suzhou-jv")
    form.get_by_label("Excerpt").fill(
        "Kestrel Photonics and Suzhou partners formed a joint venture."
    )
    form.get_by_label("Confidence").select_option(Finding.Confidence.HIGH)
    form.get_by_role("button", name="Record finding").click()
    expect(page.locator(".messages")).to_contain_text("Finding recorded.")

    reviewed = page.locator("#findings table tbody")
    expect(reviewed.locator("tr")).to_have_count(4)
    expect(reviewed).to_contain_text("Suzhou Kestrel Optoelectronics Co., Ltd. (CN)")
    expect(reviewed).to_contain_text("About Kestrel Marine, a different company.")
    expect(outcome).to_contain_text("Outcome: positive")
    expect(outcome).to_contain_text("partnership or MOU (2018-06)")
    expect(outcome).to_contain_text("joint venture (2020-04)")
    expect(page.locator("svg.timeline .mark")).to_have_count(4)

    states = dict(case.findings.values_list("counterparty_name", "review_state"))
    assert states == {
        "Wuhan Optics Valley Institute": "confirmed",
        "Hangzhou Lightwave Co., Ltd.": "confirmed",
        "Ningbo Harbour Holdings": "rejected",
        "Suzhou Kestrel Optoelectronics Co., Ltd.": "confirmed",
    }

    screenshot = artifacts / "case-page.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 0

    assert traffic.errors == []

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base}/accounts/login/")

    _sign_in(page, base, outsider.username, "/cases/")
    expect(rows).to_contain_text("Lindqvist Alloys AB")
    expect(rows).not_to_contain_text("Kestrel")
    response = page.goto(f"{base}/cases/{case.pk}/")
    assert response is not None
    assert response.status == 404

    # The 404 is logged as a failed resource; anything else would be a fault of the page.
    assert all("404" in error for error in traffic.errors), traffic.errors
    assert traffic.failed == []
    outside = [url for url in traffic.requests if not url.startswith(f"{base}/")]
    assert outside == []
