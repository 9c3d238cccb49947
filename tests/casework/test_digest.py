"""The email digest: composed from My work's numbers, sent at most once per day or week
and only when there is something to say; the settings page that chooses it; the command
and the beat task that send it. Mail goes to Django's locmem outbox in tests."""

import datetime
import re
import smtplib
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from cases import tasks
from cases.casework import digest, preferences
from cases.models import Case, Finding, SecondCoding, UserPreferences
from tests.clients import Client
from tests.factories import AnalystFactory, CaseFactory, EntityFactory, FindingFactory

pytestmark = pytest.mark.django_db

BASE = "https://wishlist.example.org"
DAY = datetime.timedelta(days=1)
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.WISHLIST_BASE_URL = BASE


def make_case(name: str, team, **fields) -> Case:
    return CaseFactory(entity=EntityFactory(name=name), team=team, **fields)


def lead(case: Case, external_id: str) -> Finding:
    return FindingFactory(case=case, source="gdelt", external_id=external_id)


def choose(user, digest_choice: str) -> UserPreferences:
    return preferences.preferences_digest_set(user=user, digest=digest_choice)


@pytest.fixture
def mine(analyst, team):
    """alice chose the daily digest; one of her open cases has a new lead."""
    choose(analyst, "daily")
    case = make_case("Secret Robotics Ltd", team, assignee=analyst)
    lead(case, "A")
    return case


def recorded() -> list[tuple]:
    return sorted(
        UserPreferences.objects.values_list("user_id", "digest", "digest_period", "digest_sent_at")
    )


# ------------------------------------------------------------------ content and sending


def test_it_sends_the_numbers_in_words_with_absolute_links(analyst, mine, supervisor, team):
    SecondCoding.objects.create(
        case=make_case("Read Ltd", team, status=Case.Status.CONCLUDED),
        coder=analyst,
        assigned_by=supervisor,
    )

    run = digest.digests_send(frequency="daily")

    assert run.sent == ["alice"]
    (message,) = mail.outbox
    assert message.to == ["alice@example.org"]
    assert message.from_email == django_settings.DEFAULT_FROM_EMAIL
    assert message.subject == "Wishlist: 1 new lead, 1 second reading to record"
    assert "1 new lead arrived on 1 case of yours" in message.body
    assert f"{BASE}{reverse('cases:my_work')}" in message.body
    assert f"1 second reading is waiting for you: {BASE}{reverse('cases:coding_queue')}" in (
        message.body
    )
    assert f"You have 1 open case in all: {BASE}{reverse('cases:case_list')}?assignee=" in (
        message.body
    )
    assert f"{BASE}{reverse('cases:preferences')}" in message.body
    assert "daily digest" in message.body
    # An email leaves the access rules behind: counts and links only, no case names.
    assert "Secret Robotics" not in message.body
    assert "Read Ltd" not in message.body


def test_a_second_run_in_the_same_day_sends_nothing(analyst, mine):
    now = timezone.now()
    digest.digests_send(frequency="daily", now=now)
    lead(mine, "B")

    # An hour later, but within the day when the test runs just before midnight.
    later = min(now + datetime.timedelta(hours=1), now.replace(hour=23, minute=59, second=59))
    again = digest.digests_send(frequency="daily", now=later)

    assert again.sent == []
    assert len(mail.outbox) == 1
    prefs = UserPreferences.objects.get(user=analyst)
    assert prefs.digest_period == timezone.localdate(now).isoformat()
    assert prefs.digest_sent_at == now


def test_the_next_day_tells_only_what_came_since_the_last_digest(analyst, mine):
    now = timezone.now()
    digest.digests_send(frequency="daily", now=now)

    quiet = digest.digests_send(frequency="daily", now=now + DAY)
    lead(mine, "B")
    lead(mine, "C")
    news = digest.digests_send(frequency="daily", now=now + DAY)

    assert quiet.sent == [] and quiet.nothing_to_say == 1
    assert news.sent == ["alice"]
    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject == "Wishlist: 2 new leads"


def test_nothing_to_say_sends_nothing_and_records_nothing(analyst, team):
    choose(analyst, "daily")
    make_case("Quiet Ltd", team, assignee=analyst)  # open, but nothing new or idle
    before = recorded()

    run = digest.digests_send(frequency="daily")

    assert (run.sent, run.nothing_to_say) == ([], 1)
    assert mail.outbox == []
    assert recorded() == before


def test_idle_cases_are_news(analyst, team):
    choose(analyst, "weekly")
    case = make_case("Sleepy Ltd", team, assignee=analyst)
    Case.objects.filter(pk=case.pk).update(created_at=timezone.now() - 40 * DAY)

    digest.digests_send(frequency="weekly")

    (message,) = mail.outbox
    assert message.subject == "Wishlist: 1 idle case"
    assert "1 open case of yours has had no finding, review or status change for 30 days" in (
        message.body
    )
    assert f"{BASE}{reverse('cases:my_work')}?idle_days=30" in message.body


def test_only_those_who_chose_the_frequency_and_can_be_reached_get_it(
    analyst, colleague, mine, team
):
    lead(make_case("Bob's Ltd", team, assignee=colleague), "B")
    choose(colleague, "weekly")
    nobody = AnalystFactory(username="nomail", email="", teams=[team])
    choose(nobody, "daily")
    lead(make_case("No Mail Ltd", team, assignee=nobody), "N")
    gone = AnalystFactory(username="gone", is_active=False, teams=[team])
    choose(gone, "daily")
    lead(make_case("Gone Ltd", team, assignee=gone), "G")
    off = AnalystFactory(username="off", teams=[team])
    choose(off, "off")
    lead(make_case("Off Ltd", team, assignee=off), "O")

    daily = digest.digests_send(frequency="daily")
    weekly = digest.digests_send(frequency="weekly")

    assert daily.sent == ["alice"]
    assert weekly.sent == ["bob"]
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.org", "bob@example.org"]


def test_a_lead_on_a_case_moved_out_of_my_teams_is_not_news(analyst, other_team):
    choose(analyst, "daily")
    lead(make_case("Moved Ltd", other_team, assignee=analyst), "M")

    assert digest.digests_send(frequency="daily").sent == []


def test_a_dry_run_composes_and_sends_and_records_nothing(analyst, mine):
    before = recorded()

    run = digest.digests_send(frequency="daily", dry_run=True)

    assert list(run.would_send) == ["alice"]
    assert run.would_send["alice"].subject == "Wishlist: 1 new lead"
    assert mail.outbox == []
    assert recorded() == before


def test_a_failed_send_records_nothing_and_the_next_run_sends(analyst, mine):
    before = recorded()
    refused = smtplib.SMTPServerDisconnected("the server hung up")

    with mock.patch("cases.casework.digest.send_mail", side_effect=refused):
        run = digest.digests_send(frequency="daily")

    assert (run.sent, run.failed) == ([], ["alice"])
    assert recorded() == before
    assert digest.digests_send(frequency="daily").sent == ["alice"]
    assert len(mail.outbox) == 1


def test_a_period_claimed_by_another_run_is_not_sent_again(analyst, mine):
    now = timezone.now()
    # Another worker recorded the period after this run read its list.
    prefs = UserPreferences.objects.get(user=analyst)
    UserPreferences.objects.filter(pk=prefs.pk).update(
        digest_period=digest.digest_period("daily", now), digest_sent_at=now
    )
    message = digest.DigestMessage(subject="s", body="b")
    period = digest.digest_period("daily", now)

    outcome = digest._send_once(prefs, message, frequency="daily", period=period, now=now)

    assert outcome == "taken"
    assert mail.outbox == []


def test_the_periods_are_the_day_and_the_iso_week():
    wednesday = datetime.datetime(2026, 12, 2, 18, 0, tzinfo=datetime.UTC)

    assert digest.digest_period("daily", wednesday) == "2026-12-02"
    assert digest.digest_period("weekly", wednesday) == "2026-W49"
    assert digest.digest_period("weekly", wednesday + 4 * DAY) == "2026-W49"  # Sunday
    assert digest.digest_period("weekly", wednesday + 5 * DAY) == "2026-W50"


def test_it_refuses_an_unknown_frequency(analyst, mine):
    with pytest.raises(ValueError):
        digest.digests_send(frequency="hourly")
    assert mail.outbox == []


# ------------------------------------------------------------------ command and task


def test_the_command_sends_and_says_how_many(analyst, mine, capsys):
    call_command("send_digests", "--frequency", "daily")

    out = capsys.readouterr().out
    assert "1 sent, 0 with nothing to say, 0 failed" in out
    assert len(mail.outbox) == 1


def test_the_command_dry_run_says_who_would_get_what(analyst, mine, capsys):
    before = recorded()

    call_command("send_digests", "--dry-run")

    out = capsys.readouterr().out
    assert "Would send to alice: Wishlist: 1 new lead" in out
    assert "1 would be sent" in out
    assert mail.outbox == []
    assert recorded() == before


def test_the_command_refuses_an_unknown_frequency(analyst, mine):
    before = recorded()

    with pytest.raises(CommandError):
        call_command("send_digests", "--frequency", "hourly")

    assert mail.outbox == []
    assert recorded() == before


def test_the_task_sends_once_per_period(analyst, mine):
    assert tasks.send_digests("daily") == 1
    assert tasks.send_digests("daily") == 0
    assert len(mail.outbox) == 1


def test_beat_sends_the_daily_and_weekly_digests():
    schedule = django_settings.CELERY_BEAT_SCHEDULE

    assert schedule["send-daily-digests"]["task"] == "cases.send_digests"
    assert schedule["send-daily-digests"]["kwargs"] == {"frequency": "daily"}
    assert schedule["send-weekly-digests"]["kwargs"] == {"frequency": "weekly"}
    assert schedule["send-weekly-digests"]["schedule"].day_of_week == {1}


def test_the_embedded_default_prints_mail_to_the_console():
    # Tests swap in locmem; the setting itself is what a fresh start uses.
    from wishlist import settings as project_settings

    if project_settings.EMAIL_HOST:
        pytest.skip("EMAIL_HOST is set in this environment")
    assert project_settings.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"


# ------------------------------------------------------------------ the settings page


@pytest.fixture
def alice(analyst):
    client = Client()
    client.force_login(analyst)
    return client


def test_the_settings_page_offers_the_three_choices(alice, analyst):
    page = alice.get(reverse("cases:preferences")).content.decode()

    for value in ("off", "daily", "weekly"):
        assert f'value="{value}"' in page
    assert "alice@example.org" in page


def test_choosing_a_digest_saves_it(alice, analyst):
    response = alice.post(reverse("cases:preferences"), {"digest": "weekly"})

    assert response.status_code == 302
    assert response.url == reverse("cases:preferences")
    assert UserPreferences.objects.get(user=analyst).digest == "weekly"
    page = alice.get(reverse("cases:preferences")).content.decode()
    assert re.search(r'<input[^>]*value="weekly"[^>]*checked', page)


@pytest.mark.parametrize(
    "data",
    [
        {"digest": "hourly"},
        {"digest": ""},
        {},
        {"digest": HOSTILE},
        {"digest": "DAILY"},
        {"digest": "daily\x00"},
        {"digest": ["daily", "weekly"]},
        {"digest": "x" * 10_000},
    ],
)
def test_it_refuses_a_bad_choice_and_changes_nothing(alice, analyst, data):
    choose(analyst, "off")
    before = recorded()

    response = alice.post(reverse("cases:preferences"), data)

    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert HOSTILE not in response.content.decode()
    assert recorded() == before


def test_the_service_refuses_a_bad_choice_too(analyst):
    before = recorded()

    with pytest.raises(ValidationError):
        preferences.preferences_digest_set(user=analyst, digest="hourly")

    assert recorded() == before


def test_the_database_refuses_a_bad_choice(analyst):
    prefs = preferences.preferences_of(analyst)
    with pytest.raises(IntegrityError), transaction.atomic():
        UserPreferences.objects.filter(pk=prefs.pk).update(digest="hourly")
    assert UserPreferences.objects.get(pk=prefs.pk).digest == "off"


def test_my_work_links_the_settings(alice):
    assert reverse("cases:preferences") in alice.get(reverse("cases:my_work")).content.decode()


def test_the_admin_lists_preferences_and_adds_none(admin_client, analyst):
    choose(analyst, "weekly")

    listed = admin_client.get(reverse("admin:cases_userpreferences_changelist"))

    assert listed.status_code == 200
    assert "alice" in listed.content.decode()
    assert admin_client.get(reverse("admin:cases_userpreferences_add")).status_code == 403
    prefs = UserPreferences.objects.get(user=analyst)
    change = reverse("admin:cases_userpreferences_change", args=[prefs.pk])
    assert admin_client.get(change).status_code == 200
