"""The review queue from the keyboard, in Debian's headless Chromium (as
tests/test_browser.py): the best lead is selected on load, `j`/`k` move, `x` picks a lead
for the bulk action, `c` confirms the current one; the shared queue script runs under the
strict Content-Security-Policy without a complaint."""

import pytest
from playwright.sync_api import expect

from cases.models import Finding
from tests.factories import AnalystFactory, CaseFactory, FindingFactory, TeamFactory
from tests.test_browser import PASSWORD, _sign_in, artifacts, browser, chromium  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_analyst_works_the_review_queue_from_the_keyboard(browser, live_server, artifacts):  # noqa: F811
    page, traffic = browser
    team = TeamFactory(name="Optics team")
    analyst = AnalystFactory(username="ana", password=PASSWORD, teams=[team])
    case = CaseFactory(team=team)
    best, other = (
        FindingFactory(
            case=case,
            source="gdelt",
            review_state=Finding.ReviewState.LEAD,
            match_score=score,
            external_id=f"lead-{score}",
        )
        for score in (99, 90)
    )

    _sign_in(page, live_server.url, analyst.username, "/review/")
    current = page.locator("tr.lead-row.current")
    expect(current).to_have_id(f"lead-{best.pk}")
    page.keyboard.press("j")
    expect(current).to_have_id(f"lead-{other.pk}")
    page.keyboard.press("x")
    expect(page.locator(f"#lead-{other.pk} input[type=checkbox]")).to_be_checked()
    page.keyboard.press("x")
    expect(page.locator(f"#lead-{other.pk} input[type=checkbox]")).not_to_be_checked()
    page.keyboard.press("k")
    expect(current).to_have_id(f"lead-{best.pk}")
    page.keyboard.press("c")
    expect(page.locator("tr.lead-row")).to_have_count(1)

    best.refresh_from_db()
    other.refresh_from_db()
    assert (best.review_state, best.reviewed_by_id) == ("confirmed", analyst.pk)
    assert other.review_state == "lead"
    page.screenshot(path=str(artifacts / "review-queue.png"), full_page=True)
    assert traffic.errors == []


def test_reject_all_without_a_reason_keeps_the_picks_and_shows_why(browser, live_server):  # noqa: F811
    page, traffic = browser
    team = TeamFactory(name="Optics team")
    analyst = AnalystFactory(username="ana", password=PASSWORD, teams=[team])
    case = CaseFactory(team=team)
    first, second, left = (
        FindingFactory(case=case, source="gdelt", match_score=score, external_id=f"lead-{score}")
        for score in (99, 90, 80)
    )

    _sign_in(page, live_server.url, analyst.username, "/review/")
    # The queue's script marks the first row current once it runs; keys before that are lost.
    page.locator("tr[data-queue-row].current").wait_for()
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.get_by_role("button", name="Reject all").click()

    expect(page.locator(".messages li.error")).to_contain_text("Say why the leads are rejected.")
    for lead in (first, second):
        expect(page.locator(f"#lead-{lead.pk} input[type=checkbox]")).to_be_checked()
    expect(page.locator(f"#lead-{left.pk} input[type=checkbox]")).not_to_be_checked()
    page.get_by_label("Reason for rejecting the picked leads").fill("Namesakes.")
    page.get_by_role("button", name="Reject all").click()

    expect(page.locator(".messages li").first).to_contain_text("Rejected 2 lead(s).")
    expect(page.locator("tr.lead-row")).to_have_count(1)
    assert Finding.objects.filter(review_state="rejected", review_note="Namesakes.").count() == 2
    assert traffic.errors == []
