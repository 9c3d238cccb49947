"""The identifier queue from the keyboard, in Debian's headless Chromium (as
tests/test_browser.py): the first candidate is selected on load, `c` confirms it, `j`
moves on, `r` opens the reason box and Enter rejects; the page's script runs under the
strict Content-Security-Policy without a complaint."""

import pytest
from playwright.sync_api import expect

from cases.models import Entity, IdentifierCandidate
from tests.factories import AnalystFactory, CaseFactory, EntityFactory, TeamFactory
from tests.test_browser import PASSWORD, _sign_in, artifacts, browser, chromium  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LEI_BMW = "YEH5ZCD6E441RHVHD759"


def test_an_analyst_judges_the_queue_from_the_keyboard(browser, live_server, artifacts):  # noqa: F811
    page, traffic = browser
    team = TeamFactory(name="Motors team")
    analyst = AnalystFactory(username="ana", password=PASSWORD, teams=[team])
    bmw = CaseFactory(entity=EntityFactory(name="BMW AG", country="DE"), team=team).entity
    basf = CaseFactory(entity=EntityFactory(name="BASF SE", country="DE"), team=team).entity
    first = IdentifierCandidate.objects.create(
        entity=bmw, registry="gleif", identifier=LEI_BMW, score=98, explanation="legal name"
    )
    second = IdentifierCandidate.objects.create(
        entity=basf, registry="wikidata", identifier="Q9401", score=90, explanation="label"
    )

    _sign_in(page, live_server.url, analyst.username, "/identities/")
    screenshot = artifacts / "identity-queue.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 0
    current = page.locator("tr.candidate-row.current")
    expect(current).to_have_id(f"candidate-{first.pk}")
    page.keyboard.press("j")
    expect(current).to_have_id(f"candidate-{second.pk}")
    page.keyboard.press("k")
    expect(current).to_have_id(f"candidate-{first.pk}")
    page.keyboard.press("c")
    expect(page.locator("ul.messages")).to_contain_text(f"Confirmed: GLEIF (LEI) {LEI_BMW}")
    expect(page.locator("tr.candidate-row")).to_have_count(1)
    page.keyboard.press("r")
    page.keyboard.type("another company")
    page.keyboard.press("Enter")
    expect(page.locator("ul.messages")).to_contain_text("Rejected: Wikidata (QID) Q9401")
    expect(page.locator("#identity-table")).to_contain_text("No identifier waiting")

    assert Entity.objects.get(pk=bmw.pk).lei == LEI_BMW
    second.refresh_from_db()
    assert (second.state, second.judged_by_id) == ("rejected", analyst.pk)
    latest = second.history.order_by("-history_id").first()
    assert latest.history_change_reason == "another company"
    page.goto(f"{live_server.url}{bmw.case.get_absolute_url()}#identity")
    expect(page.locator("#identity .confirmed-identifiers")).to_contain_text(LEI_BMW)
    page.screenshot(path=str(artifacts / "identity-panel.png"), full_page=True)
    assert traffic.errors == []
