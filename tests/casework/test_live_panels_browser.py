"""The case page's live panels in Debian's headless Chromium (as tests/test_browser.py), on
the embedded default: "Check now" returns at once and the Checks panel follows the source
until it answers; "Capture page" returns at once and Kept evidence shows the kept copy
once it is fetched; neither needs a reload, and the page stays the same document."""

import threading

import pytest
from playwright.sync_api import expect

from cases import derived
from cases.checks import sources
from cases.models import CheckRun, Evidence
from tests.casework.test_check_now import HeldSource
from tests.evidence.conftest import PAGE, held, hostile  # noqa: F401
from tests.factories import (
    AnalystFactory,
    CaseFactory,
    FindingFactory,
    ReferralFactory,
    TeamFactory,
)
from tests.test_browser import PASSWORD, _sign_in, browser, chromium  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def embedded(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.WISHLIST_CHECK_IN_THREAD = True
    settings.WISHLIST_CAPTURE_IN_THREAD = True
    settings.WISHLIST_CAPTURE_ALLOW_PRIVATE = True  # the page is on loopback, as in a lab
    settings.WISHLIST_CHROMIUM = "/nowhere/chromium"  # the screenshot is not this test's
    from wishlist.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


def scenario():
    team = TeamFactory(name="Optics team")
    analyst = AnalystFactory(username="ana", password=PASSWORD, teams=[team])
    referral = ReferralFactory()
    case = CaseFactory(entity=referral.entity, team=team)
    derived.case_index_dates_refresh(case_ids=[case.id])
    return analyst, case


def join(prefix: str) -> None:
    for thread in [t for t in threading.enumerate() if t.name.startswith(prefix)]:
        thread.join(timeout=60)


def test_check_now_returns_and_the_panel_follows_the_source(browser, live_server, embedded):  # noqa: F811
    page, traffic = browser
    base = live_server.url
    analyst, case = scenario()
    source = HeldSource()
    with sources.override(source):
        _sign_in(page, base, analyst.username, case.get_absolute_url())
        page.evaluate("window.sameDocument = true")  # gone if the page is loaded again
        page.get_by_role("button", name="Check now").click()

        expect(page.locator(".messages")).to_contain_text("Checking held:")
        assert source.asked.wait(timeout=30)
        row = page.locator('#checks tr[data-source="held"]')
        expect(row).to_contain_text("running")
        expect(page.get_by_role("button", name="Check now")).to_be_disabled()
        page.evaluate("window.sameDocument = true")

        source.answer.set()
        expect(row).to_contain_text("1 new lead", timeout=30_000)
        expect(page.locator("[data-check-done]")).to_contain_text("The checks filed 1 new lead")
        expect(page.get_by_role("button", name="Check now")).to_be_enabled()
        assert page.evaluate("window.sameDocument") is True  # no reload
        join("checks-")

        page.get_by_role("link", name="reload the page").click()
        expect(page.locator("#leads")).to_contain_text("Shenzhen Example Technology")
    assert CheckRun.objects.get(case=case).status == CheckRun.Status.OK
    assert traffic.errors == [] and traffic.failed == []


def test_a_capture_shows_once_kept_without_a_reload(browser, live_server, embedded, hostile):  # noqa: F811
    page, traffic = browser
    base = live_server.url
    analyst, case = scenario()
    hostile.routes["/held"] = held(hostile.release, body=PAGE)
    finding = FindingFactory(
        case=case, source="gdelt", external_id="g-1", source_url=hostile.url + "/held"
    )

    _sign_in(page, base, analyst.username, case.get_absolute_url())
    panel = page.locator(f"#evidence-{finding.pk}")
    panel.locator("summary").click()  # nothing kept yet: the finding's entry is closed
    panel.get_by_role("button", name="Capture page").click()

    expect(page.locator(".messages")).to_contain_text("it shows under Kept evidence when done")
    expect(panel).to_contain_text("being captured")
    page.evaluate("window.sameDocument = true")
    hostile.release.set()

    kept_item = panel.locator(".evidence-ok")
    expect(kept_item).to_contain_text("SHA-256", timeout=30_000)
    expect(panel.locator("summary")).to_contain_text("1 kept")
    assert page.evaluate("window.sameDocument") is True
    join("capture-")
    kept = Evidence.objects.get(finding=finding)
    expect(kept_item.locator(".sha256 code")).to_have_text(kept.sha256)
    assert traffic.errors == [] and traffic.failed == []
