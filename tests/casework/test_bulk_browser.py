"""The case list's bulk bar in Debian's headless Chromium (as tests/test_browser.py): an
analyst picks two cases with their boxes and tags them; the labels show in their rows and
the tag filter finds them; the bar's script runs under the strict Content-Security-Policy
without a complaint."""

import pytest
from playwright.sync_api import expect

from cases.models import Tag
from tests.factories import AnalystFactory, CaseFactory, EntityFactory, TeamFactory
from tests.test_browser import PASSWORD, _sign_in, artifacts, browser, chromium  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_analyst_picks_two_cases_and_tags_them(browser, live_server, artifacts):  # noqa: F811
    page, traffic = browser
    team = TeamFactory(name="Optics team")
    analyst = AnalystFactory(username="ana", password=PASSWORD, teams=[team])
    first, second, third = (
        CaseFactory(entity=EntityFactory(name=name), team=team)
        for name in ("Kestrel Photonics Ltd", "Harrow Robotics Ltd", "Lindqvist Alloys AB")
    )

    _sign_in(page, live_server.url, analyst.username, "/cases/")
    count = page.locator("#bulk-count")
    page.get_by_label("Pick every case of this page").check()
    expect(count).to_have_text("3 picked;")
    page.get_by_label("Pick every case of this page").uncheck()
    expect(count).to_have_text("Pick cases with the boxes, or")
    page.get_by_label("Pick Kestrel Photonics Ltd").check()
    page.get_by_label("Pick Harrow Robotics Ltd").check()
    expect(count).to_have_text("2 picked;")
    page.locator("#bulk_action").select_option("tag_add")
    page.locator("#bulk_tag").fill("Needs translation")
    page.get_by_role("button", name="Apply").click()

    expect(page.locator(".messages")).to_contain_text("2 cases tagged “Needs translation”.")
    rows = page.locator("#case-table tbody tr")
    for name in ("Kestrel Photonics Ltd", "Harrow Robotics Ltd"):
        expect(rows.filter(has_text=name).locator(".tag")).to_have_text("Needs translation")
    expect(rows.filter(has_text="Lindqvist Alloys AB").locator(".tag")).to_have_count(0)
    tag = Tag.objects.get()
    assert set(tag.cases.all()) == {first, second}
    assert not third.tags.exists()

    page.locator("#id_tag").select_option("needs translation")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)
    page.screenshot(path=str(artifacts / "bulk-tags.png"), full_page=True)
    assert traffic.errors == []
