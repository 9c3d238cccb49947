"""Comments and notifications in Debian's headless Chromium (as tests/test_browser.py):
alice comments on a case mentioning bob (and olga, of another team, who is not told);
bob sees the unread count in the navigation, reads the notification, opens the comment,
and the count is gone. A hostile comment shows as text, and nothing complains under the
strict Content-Security-Policy."""

import pytest
from playwright.sync_api import expect

from cases.models import Comment, Notification
from tests.factories import AnalystFactory, CaseFactory, EntityFactory, TeamFactory
from tests.test_browser import PASSWORD, _sign_in, artifacts, browser, chromium  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_alice_mentions_bob_and_bob_reads_it(browser, live_server, artifacts):  # noqa: F811
    page, traffic = browser
    base = live_server.url
    team = TeamFactory(name="Optics team")
    alice = AnalystFactory(username="alice", password=PASSWORD, teams=[team])
    bob = AnalystFactory(username="bob", password=PASSWORD, teams=[team])
    AnalystFactory(username="olga", password=PASSWORD, teams=[TeamFactory(name="Other team")])
    case = CaseFactory(entity=EntityFactory(name="Kestrel Photonics Ltd"), team=team)
    case_path = case.get_absolute_url()

    _sign_in(page, base, alice.username, case_path)
    expect(page.locator("#unread-count")).to_have_count(0)
    form = page.locator("#comments form.comment-form")
    form.locator("textarea").fill(
        "@bob could you check the 2019 filing?\n<script>alert('x')</script> @olga too"
    )
    form.get_by_role("button", name="Comment").click()

    messages = page.locator("ul.messages")
    expect(messages).to_contain_text("Comment added. bob notified.")
    expect(messages).to_contain_text("olga cannot see this case; not notified.")
    comment = Comment.objects.get()
    shown = page.locator(f"#comment-{comment.pk}")
    expect(shown.locator(".comment-author")).to_have_text("alice")
    expect(shown.locator(".comment-body")).to_contain_text("<script>alert('x')</script>")
    assert shown.locator(".comment-body br").count() == 1
    assert shown.locator(".comment-body script").count() == 0
    shown.screenshot(path=str(artifacts / "comment.png"))
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, base, bob.username, "/my/")
    badge = page.locator("#nav-notifications #unread-count")
    expect(badge).to_have_text("1")
    page.locator("#nav-notifications").click()
    note = Notification.objects.get()
    item = page.locator(f"#notification-{note.pk}")
    expect(item).to_contain_text("alice mentioned you on Kestrel Photonics Ltd")
    expect(item).to_contain_text("could you check the 2019 filing?")
    page.screenshot(path=str(artifacts / "notifications.png"), full_page=True)
    item.get_by_role("button", name="Open the case").click()

    expect(page).to_have_url(f"{base}{case_path}#comment-{comment.pk}")
    expect(page.locator(f"#comment-{comment.pk} .comment-body")).to_contain_text("could you check")
    expect(page.locator("#unread-count")).to_have_count(0)
    # bob watches the case from here on; alice is not told of her own comments.
    page.get_by_role("button", name="Watch this case").click()
    expect(page.get_by_role("button", name="Stop watching")).to_be_visible()
    assert Notification.objects.filter(read_at__isnull=True).count() == 0
    assert not Notification.objects.filter(recipient=alice).exists()
    assert traffic.errors == []
