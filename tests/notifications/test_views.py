"""The notifications page (newest first, one or all marked read, links to the case), the
unread count in the navigation, and the case page's watch toggle."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.casework import comments
from cases.models import Notification, Watch
from tests.factories import CaseFactory, FindingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(team):
    return CaseFactory(team=team)


def notify(user, case, text, *, minutes_ago=0, **fields):
    return Notification.objects.create(
        recipient=user,
        case=case,
        kind=fields.pop("kind", "mention"),
        text=text,
        created_at=timezone.now() - datetime.timedelta(minutes=minutes_ago),
        **fields,
    )


def unread(user) -> list[str]:
    return sorted(
        Notification.objects.filter(recipient=user, read_at__isnull=True).values_list(
            "text", flat=True
        )
    )


def test_the_page_lists_ones_own_newest_first(client, analyst, colleague, case):
    notify(analyst, case, "older one", minutes_ago=10)
    notify(analyst, case, "newer one")
    notify(colleague, case, "bob's own")
    client.force_login(analyst)

    page = client.get(reverse("cases:notification_list")).content.decode()

    assert page.index("newer one") < page.index("older one")
    assert "bob's own" not in page
    assert '<span class="badge" id="unread-count" aria-label="2 unread">2</span>' in page


def test_a_notification_is_escaped(client, analyst, case):
    notify(analyst, case, "<script>alert(1)</script>")
    client.force_login(analyst)

    page = client.get(reverse("cases:notification_list")).content.decode()

    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_no_badge_when_everything_is_read(client, analyst, case):
    notify(analyst, case, "seen", read_at=timezone.now())
    client.force_login(analyst)

    page = client.get(reverse("cases:my_work")).content.decode()

    assert 'id="nav-notifications"' in page
    assert 'id="unread-count"' not in page


def test_marking_one_read_and_opening_it_goes_to_the_case(client, analyst, case):
    first = notify(analyst, case, "first")
    notify(analyst, case, "second")
    client.force_login(analyst)

    response = client.post(reverse("cases:notification_read", args=[first.pk]), {"open": "1"})

    assert response.url == case.get_absolute_url()
    assert unread(analyst) == ["second"]


def test_opening_a_mention_goes_to_its_comment(client, analyst, colleague, case):
    comments.comment_add(case=case, author=colleague, body="@alice look")
    note = Notification.objects.get(recipient=analyst)
    client.force_login(analyst)

    response = client.post(reverse("cases:notification_read", args=[note.pk]), {"open": "1"})

    assert response.url == case.get_absolute_url() + f"#comment-{note.comment_id}"


def test_someone_elses_notification_is_not_found(client, analyst, colleague, case):
    theirs = notify(colleague, case, "bob's")
    client.force_login(analyst)

    response = client.post(reverse("cases:notification_read", args=[theirs.pk]))

    assert response.status_code == 404
    assert unread(colleague) == ["bob's"]


def test_a_case_no_longer_visible_is_not_opened(client, analyst, other_team, case):
    note = notify(analyst, case, "about a case that moved")
    case.team = other_team
    case.save()
    client.force_login(analyst)

    response = client.post(reverse("cases:notification_read", args=[note.pk]), {"open": "1"})

    assert response.status_code == 404


def test_mark_all_read_marks_only_ones_own(client, analyst, colleague, case):
    notify(analyst, case, "a")
    notify(analyst, case, "b")
    notify(colleague, case, "c")
    client.force_login(analyst)

    response = client.post(reverse("cases:notifications_read_all"))

    assert response.url == reverse("cases:notification_list")
    assert unread(analyst) == []
    assert unread(colleague) == ["c"]


def test_the_case_page_toggles_watching(client, analyst, case):
    client.force_login(analyst)
    url = reverse("cases:case_watch", args=[case.pk])

    assert "Watch this case" in client.get(case.get_absolute_url()).content.decode()
    client.post(url, {"watch": "1"})
    assert Watch.objects.filter(user=analyst, case=case).exists()
    assert "Stop watching" in client.get(case.get_absolute_url()).content.decode()
    client.post(url, {"watch": "0"})
    assert not Watch.objects.exists()


def test_the_case_page_reads_comments_in_a_constant_number_of_queries(client, analyst, case):
    def queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            assert client.get(case.get_absolute_url()).status_code == 200
        return len(seen)

    client.force_login(analyst)
    lead = FindingFactory(case=case, source="gdelt", external_id="q-1")
    comments.comment_add(case=case, author=analyst, body="one")
    before = queries()
    for n in range(5):
        comments.comment_add(case=case, author=analyst, body=f"case {n}")
        comments.comment_add(case=case, author=analyst, body=f"lead {n}", finding=lead)

    assert queries() == before
