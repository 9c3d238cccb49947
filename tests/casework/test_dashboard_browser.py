"""My work's dashboard and the digest setting in Debian's headless Chromium (as
tests/test_browser.py): the blocks fit an 800 px window, and choosing a digest on the
settings page is a click on a radio button that sits on its own label's line."""

import pytest
from playwright.sync_api import expect

from cases.models import UserPreferences
from tests.factories import AnalystFactory, CaseFactory, EntityFactory, FindingFactory, TeamFactory
from tests.test_browser import PASSWORD, _sign_in, artifacts, browser, chromium  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_analyst_reads_my_work_and_chooses_a_weekly_digest(browser, live_server, artifacts):  # noqa: F811
    page, traffic = browser
    team = TeamFactory(name="Optics team")
    analyst = AnalystFactory(username="ana", password=PASSWORD, teams=[team])
    for n in range(3):
        case = CaseFactory(
            entity=EntityFactory(name=f"Long Name Photonics Holdings Limited {n}"),
            team=team,
            assignee=analyst,
        )
        FindingFactory(case=case, source="gdelt", external_id=f"lead-{n}")

    page.set_viewport_size({"width": 800, "height": 900})
    _sign_in(page, live_server.url, analyst.username, "/my/")
    expect(page.locator("#new-block")).to_contain_text("3 new leads")
    expect(page.locator("#open-block")).to_contain_text("3 open cases assigned to you")
    width = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=str(artifacts / "my-work-800.png"), full_page=True)
    assert width <= 800

    page.get_by_role("link", name="Email me a digest of this").click()
    weekly = page.get_by_label("weekly")
    label = page.locator("label", has=weekly).bounding_box()
    box = weekly.bounding_box()
    assert label["y"] <= box["y"] and box["y"] + box["height"] <= label["y"] + label["height"]
    assert box["x"] < label["x"] + 40  # the box starts its label, not pushed off to a side
    weekly.check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Your settings are saved.")
    expect(page.get_by_label("weekly")).to_be_checked()
    page.screenshot(path=str(artifacts / "settings.png"), full_page=True)

    assert UserPreferences.objects.get(user=analyst).digest == "weekly"
    assert traffic.errors == []
