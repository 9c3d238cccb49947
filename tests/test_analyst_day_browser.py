"""An analyst's day through the real pages, in Debian's headless Chromium (as
tests/test_browser.py) on the embedded default (tasks in-process): my work, a comment that
mentions a teammate, a confirmed lead whose page is kept, a file attached, the
confirmation undone with a reason, a tag, a saved search shared with the team and a bulk
assignment; then the teammate reads what they were told, and a supervisor the backlog.

The lead's page is served from loopback (tests/evidence/conftest.py), which captures are
allowed to read here as in a lab; the browser itself never leaves the app's own server.
"""

import datetime
import hashlib

import pytest
from playwright.sync_api import Browser, Page, expect

from cases import derived
from cases.accounts import services as accounts_services
from cases.casework import tags
from cases.models import Case, Comment, Evidence, Finding, Notification, SavedSearch
from tests.evidence.conftest import PDF, hostile  # noqa: F401
from tests.factories import (
    AnalystFactory,
    CaseFactory,
    EntityFactory,
    FindingFactory,
    ReferralFactory,
    SupervisorFactory,
    TeamFactory,
)
from tests.test_browser import (  # noqa: F401
    PASSWORD,
    Traffic,
    _console_error,
    _sign_in,
    artifacts,
    browser,
    chromium,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MOU_PAGE = (
    b"<!doctype html><html><head><meta charset='utf-8'><title>Kestrel signs MOU</title></head>"
    b"<body><h1>Kestrel Photonics and Hangzhou Lightwave</h1>"
    b"<p>Kestrel Photonics signed a memorandum of understanding with Hangzhou Lightwave.</p>"
    b"</body></html>"
)
# The widest row of My work: at 800 px its table has no room to spare for the dates.
LONG_NAME = "Lindqvist Alloys and Advanced Powder Metallurgy Research Laboratories AB"
LEAD = "partnership or MOU with Hangzhou Lightwave Co., Ltd."
REOPEN_REASON = "The MOU was with Kestrel Marine, not this Kestrel."


def _scenario(page_url: str):
    """A team with two analysts and a supervisor; three cases given to ana, two with a
    lead waiting, one of them tagged "escalate" by ben already."""
    team = TeamFactory(name="Optics team")
    ana = AnalystFactory(username="ana", password=PASSWORD, teams=[team])
    ben = AnalystFactory(username="ben", password=PASSWORD, teams=[team])
    sam = SupervisorFactory(username="sam", password=PASSWORD, teams=[team])
    kestrel, harrow, lindqvist = (
        CaseFactory(entity=EntityFactory(name=name), team=team, assignee=ana)
        for name in ("Kestrel Photonics Ltd", "Harrow Robotics Ltd", LONG_NAME)
    )
    for n, case in enumerate((kestrel, harrow, lindqvist)):
        ReferralFactory(
            entity=case.entity, date=datetime.date(2017, 5, 13 + n), date_precision="day"
        )
    lead = FindingFactory(
        case=kestrel,
        kind=Finding.Kind.PARTNERSHIP,
        counterparty_name="Hangzhou Lightwave Co., Ltd.",
        event_date=datetime.date(2018, 6, 1),
        event_date_precision="month",
        review_state=Finding.ReviewState.LEAD,
        source="gdelt",
        external_id="gdelt-1",
        match_score=94,
        source_url=page_url,
        excerpt="Kestrel Photonics signed a memorandum of understanding with Hangzhou Lightwave.",
    )
    FindingFactory(
        case=harrow, source="gdelt", external_id="gdelt-2", review_state=Finding.ReviewState.LEAD
    )
    tags.case_tag_add(case=harrow, name="escalate", actor=ben)
    derived.case_index_dates_refresh(case_ids=[kestrel.pk, harrow.pk, lindqvist.pk])
    return ana, ben, sam, kestrel, harrow, lead


def _new_page(chrome: Browser, traffic: Traffic) -> Page:
    """A page of a fresh context (another person's browser), its traffic recorded too."""
    page = chrome.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(15_000)
    page.on("request", lambda request: traffic.requests.append(request.url))
    page.on("requestfailed", lambda request: traffic.failed.append(request.url))
    page.on("pageerror", lambda error: traffic.errors.append(str(error)))
    page.on("console", lambda message: _console_error(traffic, message))
    return page


def _lines(page: Page, selector: str) -> int:
    """How many lines the text of the first element matching `selector` takes."""
    return page.locator(selector).first.evaluate(
        """cell => {
            const range = document.createRange();
            range.selectNodeContents(cell);
            return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
        }"""
    )


def _text_height(page: Page, selector: str) -> float:
    return page.locator(selector).first.evaluate(
        """cell => {
            const range = document.createRange();
            range.selectNodeContents(cell);
            return range.getBoundingClientRect().height;
        }"""
    )


def _my_work(page: Page) -> None:
    """My work lists ana's three cases and the two new leads, its dates on one line at
    800 px."""
    expect(page.locator("#open-block")).to_contain_text("3 open cases assigned to you")
    expect(page.locator("#new-block")).to_contain_text("2 new leads")
    expect(page.locator("#new-lead-cases")).to_contain_text("Kestrel Photonics Ltd: 1")
    rows = page.locator("#my-cases tbody tr")
    expect(rows).to_have_count(3)
    for name in ("Kestrel Photonics Ltd", "Harrow Robotics Ltd", LONG_NAME):
        expect(rows.filter(has_text=name)).to_have_count(1)

    page.set_viewport_size({"width": 800, "height": 900})
    date = "#my-cases tbody tr:first-child td:nth-child(3)"  # Referred
    priority = "#my-cases tbody tr:first-child td:nth-child(5)"
    expect(page.locator(date)).to_have_text("2017-05-13")
    # One line, as tall as the one word of the Priority cell beside it.
    assert _lines(page, date) == 1
    assert _text_height(page, date) == _text_height(page, priority)
    assert page.locator(date).evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    page.set_viewport_size({"width": 1280, "height": 900})


def _comment_and_edit(page: Page, case: Case) -> Comment:
    comments = page.locator("#comments")
    comments.get_by_label("Comment on the case").fill("@ben could you read the Hangzhou MOU?")
    comments.get_by_role("button", name="Comment").click()
    expect(page.locator(".messages")).to_contain_text("Comment added. ben notified.")
    comment = Comment.objects.get(case=case)
    article = page.locator(f"#comment-{comment.pk}")
    expect(article.locator(".comment-author")).to_have_text("ana")

    article.get_by_text("Edit", exact=True).click()
    article.get_by_label("Your comment").fill(
        "@ben could you read the Hangzhou MOU? It may be Kestrel Marine's."
    )
    article.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Comment saved.")
    expect(article.locator(".comment-body")).to_have_text(
        "@ben could you read the Hangzhou MOU? It may be Kestrel Marine's."
    )
    expect(article.locator(".edited")).to_be_visible()
    comment.refresh_from_db()
    assert comment.edited_at is not None
    return comment


def _confirm_keep_and_attach(page: Page, base: str, lead: Finding) -> None:
    page.locator(f"#lead-{lead.pk}").get_by_role("button", name="Confirm").click()
    expect(page.locator(".messages")).to_contain_text("Confirmed:")
    expect(page.locator("#outcome")).to_contain_text("Outcome: positive")

    # The capture ran once the confirmation committed, in the request: the page is kept.
    kept = Evidence.objects.get(finding=lead, kind=Evidence.Kind.CAPTURE)
    assert kept.state == Evidence.State.OK
    assert kept.sha256 == hashlib.sha256(MOU_PAGE).hexdigest()
    panel = page.locator(f"#evidence-{lead.pk}")
    item = panel.locator(f"#evidence-item-{kept.pk}")
    expect(item).to_contain_text("HTTP 200")
    expect(item.locator(".sha256 code")).to_have_text(kept.sha256)
    # Debian's Chromium drew the kept copy; the screenshot is served back as an image.
    assert kept.screenshot, kept.screenshot_note
    shot = item.get_by_role("link", name="screenshot", exact=True)
    assert page.request.get(base + shot.get_attribute("href")).body().startswith(b"\x89PNG")

    item.get_by_role("link", name="text", exact=True).click()
    expect(page).to_have_url(f"{base}/evidence/{kept.pk}/text/")
    expect(page.locator("body")).to_contain_text(
        "Kestrel Photonics signed a memorandum of understanding with Hangzhou Lightwave."
    )
    page.go_back()

    panel.get_by_label(f"File to attach to the {LEAD}").set_input_files(
        {"name": "mou-scan.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    panel.get_by_role("button", name="Attach file").click()
    expect(page.locator(".messages")).to_contain_text(f"Attached mou-scan.pdf to the {LEAD}")
    attached = Evidence.objects.get(finding=lead, kind=Evidence.Kind.ATTACHMENT)
    assert attached.sha256 == hashlib.sha256(PDF).hexdigest()
    item = page.locator(f"#evidence-item-{attached.pk}")
    expect(item.locator(".filename")).to_have_text("mou-scan.pdf")
    expect(item.locator(".sha256 code")).to_have_text(attached.sha256)
    expect(page.locator(f"#evidence-{lead.pk} summary")).to_contain_text("2 kept")


def _reopen(page: Page, lead: Finding) -> None:
    row = page.locator("#findings tbody tr", has_text="Hangzhou Lightwave")
    row.get_by_label(f"Reason for reopening the {LEAD}").fill(REOPEN_REASON)
    row.get_by_role("button", name="Reopen").click()
    expect(page.locator(".messages")).to_contain_text("it is a lead again.")
    expect(page.locator(f"#lead-{lead.pk} .reopened")).to_have_text(f"Reopened: {REOPEN_REASON}")
    expect(page.locator("#outcome")).to_contain_text("Outcome: none confirmed")
    lead.refresh_from_db()
    assert (lead.review_state, lead.review_note) == (Finding.ReviewState.LEAD, REOPEN_REASON)

    history = page.locator("#change-history")
    expect(history).to_contain_text("ana confirmed the partnership or MOU lead from gdelt")
    expect(history).to_contain_text(
        f"ana reopened the partnership or MOU lead from gdelt: {REOPEN_REASON}"
    )
    text = history.inner_text()
    for raw in ("review_state", "reviewed_by", "review_note", "None", "_id"):
        assert raw not in text, (raw, text)


def _tag(page: Page, case: Case) -> None:
    page.get_by_label("Add a tag").fill("escalate")
    page.locator("#tag-add").get_by_role("button", name="Tag").click()
    expect(page.locator("#tags .tag")).to_contain_text("escalate")
    assert list(case.tags.values_list("name", flat=True)) == ["escalate"]


def _save_search_and_assign(page: Page, kestrel: Case, harrow: Case, ben) -> SavedSearch:
    page.get_by_role("link", name="Cases", exact=True).click()
    rows = page.locator("#case-table tbody tr")
    expect(rows).to_have_count(3)
    page.locator("#id_tag").select_option("escalate")
    page.locator("#case-filters").get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=LONG_NAME)).to_have_count(0)

    searches = page.locator("#saved-searches")
    searches.get_by_label("Save this filter as").fill("Escalations")
    searches.get_by_label("Share with").last.select_option(label="Optics team")
    searches.get_by_role("button", name="Save search").click()
    expect(page.locator(".messages")).to_contain_text(
        "Saved the search “Escalations”, shared with Optics team."
    )
    expect(searches.locator(".saved-search")).to_contain_text("shared with Optics team")
    expect(rows).to_have_count(2)  # back on the filtered list
    search = SavedSearch.objects.get()
    assert search.query == "tag=escalate" and search.team == kestrel.team

    page.get_by_label("Pick Kestrel Photonics Ltd").check()
    page.get_by_label("Pick Harrow Robotics Ltd").check()
    expect(page.locator("#bulk-count")).to_have_text("2 picked;")
    page.locator("#bulk_action").select_option("assign")
    page.locator("#bulk_assignee").select_option(label="ben")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".messages")).to_contain_text("2 cases assigned to ben.")
    for name in ("Kestrel Photonics Ltd", "Harrow Robotics Ltd"):
        expect(rows.filter(has_text=name)).to_contain_text("ben")
    assigned = Case.objects.filter(pk__in=[kestrel.pk, harrow.pk]).values_list(
        "assignee", flat=True
    )
    assert list(assigned) == [ben.pk, ben.pk]
    return search


def _ben_reads_his_notifications(page: Page, base: str, kestrel: Case, harrow: Case) -> None:
    _sign_in(page, base, "ben", "/notifications/")
    unread = Notification.objects.filter(recipient__username="ben", read_at__isnull=True)
    assert sorted(unread.values_list("kind", flat=True)) == ["assigned", "assigned", "mention"]
    expect(page.locator("#unread-count")).to_have_text("3")
    expect(page.locator("h1")).to_contain_text("3 unread")
    items = page.locator(".notification.is-unread")
    expect(items).to_have_count(3)
    expect(items.filter(has_text="Mention")).to_contain_text(
        f"ana mentioned you on Kestrel Photonics Ltd (case {kestrel.pk}): "
        "“@ben could you read the Hangzhou MOU?”"
    )
    for case in (kestrel, harrow):
        expect(
            items.filter(has_text=f"ana assigned {case.entity.name} (case {case.pk}) to you.")
        ).to_have_count(1)
    expect(page.locator(".notifications time.date").first).to_have_css("white-space", "nowrap")

    # Opening the mention marks it read and shows the comment, as edited since.
    items.filter(has_text="Mention").get_by_role("button", name="Open the case").click()
    comment = Comment.objects.get(case=kestrel)
    expect(page).to_have_url(f"{base}/cases/{kestrel.pk}/#comment-{comment.pk}")
    expect(page.locator(f"#comment-{comment.pk} .comment-body")).to_contain_text("Kestrel Marine")
    expect(page.locator("#unread-count")).to_have_text("2")
    assert unread.count() == 2

    page.get_by_role("link", name="Cases", exact=True).click()
    shared = page.locator("#saved-searches .saved-search", has_text="Escalations")
    expect(shared).to_contain_text("ana’s, shared with Optics team")
    shared.get_by_role("link", name="Escalations").click()
    rows = page.locator("#case-table tbody tr")
    expect(rows).to_have_count(2)
    for name in ("Kestrel Photonics Ltd", "Harrow Robotics Ltd"):
        expect(rows.filter(has_text=name)).to_contain_text("ben")


def _sam_reads_the_backlog(page: Page, base: str, backup_code: str) -> None:
    # A supervisor gives a second factor after the password: here one of the backup codes.
    page.goto(f"{base}/backlog/")
    expect(page).to_have_url(f"{base}/accounts/login/?next=/backlog/")
    page.fill("#id_username", "sam")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_have_text("Second step")
    page.fill("#id_token", backup_code)
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{base}/backlog/")
    row = page.locator("#backlog-teams tbody tr", has_text="Optics team")
    cells = row.locator("td")
    # Nobody's case is unassigned; two leads wait (the reopened one and Harrow's).
    expect(cells.nth(1)).to_have_text("0")
    expect(cells.nth(2)).to_have_text("2")
    # The reopened lead's review does not count as one.
    expect(page.locator(".reviews-per-week")).to_contain_text("No reviews in these weeks.")
    expect(page.locator(".reviews-per-week th.date").first).to_have_css("white-space", "nowrap")


def test_an_analysts_day_from_my_work_to_a_teammates_notifications(
    browser,  # noqa: F811
    live_server,
    artifacts,  # noqa: F811
    hostile,  # noqa: F811
    chromium,  # noqa: F811
    settings,
):
    # The embedded default, whatever the run's broker: tasks in-process, and the capture
    # in the confirming request once it commits (no thread to wait for).
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.WISHLIST_CAPTURE_ON_CONFIRM = True
    settings.WISHLIST_CAPTURE_IN_THREAD = False
    settings.WISHLIST_CAPTURE_ALLOW_PRIVATE = True  # the page is on loopback, as in a lab
    settings.WISHLIST_CHROMIUM = str(chromium)
    page, traffic = browser
    base = live_server.url
    ana, ben, sam, kestrel, harrow, lead = _scenario(hostile.page("/mou", MOU_PAGE))

    _sign_in(page, base, ana.username, "/my/")
    _my_work(page)
    page.screenshot(path=str(artifacts / "day-my-work.png"), full_page=True)

    page.locator("#my-cases").get_by_role("link", name="Kestrel Photonics Ltd").click()
    expect(page).to_have_url(f"{base}/cases/{kestrel.pk}/")
    _comment_and_edit(page, kestrel)
    _confirm_keep_and_attach(page, base, lead)
    assert hostile.hits == ["/mou"]  # fetched by the server once, never by the browser
    _reopen(page, lead)
    _tag(page, kestrel)
    page.screenshot(path=str(artifacts / "day-case.png"), full_page=True)
    _save_search_and_assign(page, kestrel, harrow, ben)

    chrome = page.context.browser
    _ben_reads_his_notifications(_new_page(chrome, traffic), base, kestrel, harrow)
    sam_page = _new_page(chrome, traffic)
    _sam_reads_the_backlog(sam_page, base, accounts_services.backup_codes_reset(user=sam)[0])
    sam_page.screenshot(path=str(artifacts / "day-backlog.png"), full_page=True)

    assert traffic.errors == []
    assert traffic.failed == []
    outside = [url for url in traffic.requests if not url.startswith(f"{base}/")]
    assert outside == []
