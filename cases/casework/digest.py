"""The email digest: My work's numbers in words, with links, sent daily or weekly to those
who chose it (cases.casework.preferences), at most once a day or week, and only when
there is something to say.

The message holds counts and links, never a case's name: an email leaves the app's
access rules behind, and the links lead back through them.
"""

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cases.casework import dashboard
from cases.models import UserPreferences

logger = logging.getLogger(__name__)

PERIOD_LENGTH = {
    UserPreferences.Digest.DAILY: timedelta(days=1),
    UserPreferences.Digest.WEEKLY: timedelta(weeks=1),
}


def digest_period(frequency: str, now: datetime) -> str:
    """The period a digest sent at `now` covers: its day (2026-12-02) or ISO week
    (2026-W49), in the site's time zone."""
    day = timezone.localdate(now)
    if frequency == UserPreferences.Digest.WEEKLY:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return day.isoformat()


def _absolute(path: str, query: dict | None = None) -> str:
    url = settings.WISHLIST_BASE_URL.rstrip("/") + path
    return f"{url}?{urlencode(query, doseq=True)}" if query else url


def _counted(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


@dataclass(frozen=True)
class DigestMessage:
    subject: str
    body: str


def digest_compose(
    user: AbstractBaseUser, *, frequency: str, since: datetime, now: datetime
) -> DigestMessage | None:
    """The user's digest of what is new since `since`, or None when there is nothing to
    say: no new lead, no second reading owed and no idle case."""
    idle_days = settings.WISHLIST_IDLE_DAYS
    summary = dashboard.my_work_summary(user, new_since=since, idle_days=idle_days, now=now)
    if not summary.has_news:
        return None
    news, lines = [], []
    if summary.new_lead_count:
        leads = _counted(summary.new_lead_count, "new lead", "new leads")
        cases = _counted(len(summary.new_lead_cases), "case", "cases")
        if len(summary.new_lead_cases) >= dashboard.LIST_LIMIT:
            cases = f"{dashboard.LIST_LIMIT} or more cases"
        news.append(leads)
        lines.append(
            f"{leads} arrived on {cases} of yours. See them on My work: "
            f"{_absolute(reverse('cases:my_work'))}"
        )
    if summary.reading_count:
        readings = _counted(summary.reading_count, "second reading", "second readings")
        news.append(f"{readings} to record")
        lines.append(
            f"{readings} {'is' if summary.reading_count == 1 else 'are'} waiting for you: "
            f"{_absolute(reverse('cases:coding_queue'))}"
        )
    if summary.idle_count:
        idle = _counted(summary.idle_count, "open case", "open cases")
        news.append(_counted(summary.idle_count, "idle case", "idle cases"))
        lines.append(
            f"{idle} of yours {'has' if summary.idle_count == 1 else 'have'} had no finding, "
            f"review or status change for {idle_days} days: "
            f"{_absolute(reverse('cases:my_work'), {'idle_days': idle_days})}"
        )
    lines.append(
        f"You have {_counted(summary.open_count, 'open case', 'open cases')} in all: "
        f"{_absolute(reverse('cases:case_list'))}?{dashboard.my_open_cases_query(user)}"
    )
    when = timezone.localtime(since).strftime("%d %B %Y %H:%M %Z").lstrip("0")
    body = "\n".join(
        [
            f"Hello {user.get_username()},",
            "",
            f"Since {when}:",
            "",
            *(f"- {line}" for line in lines),
            "",
            f"This is your {frequency} digest from Wishlist. To change how often it comes, "
            f"or to stop it: {_absolute(reverse('cases:preferences'))}",
        ]
    )
    return DigestMessage(subject=f"Wishlist: {', '.join(news)}", body=body + "\n")


@dataclass
class DigestRun:
    period: str
    sent: list[str] = field(default_factory=list)  # usernames
    would_send: dict[str, DigestMessage] = field(default_factory=dict)  # a dry run's
    nothing_to_say: int = 0
    failed: list[str] = field(default_factory=list)  # to be tried again by the next run


def digests_send(
    *, frequency: str, now: datetime | None = None, dry_run: bool = False
) -> DigestRun:
    """Send the period's digest to each active user with an address who chose
    `frequency` and has not had it yet. A user's period is recorded in the transaction
    that sends the message, by a conditional UPDATE, so a second run, a retry or a
    concurrent worker sends nothing again; a failed send records nothing and is tried
    again by the next run. A dry run composes the messages and sends and records none."""
    if frequency not in PERIOD_LENGTH:
        raise ValueError(f"frequency must be one of {', '.join(PERIOD_LENGTH)}, not {frequency!r}")
    now = now or timezone.now()
    period = digest_period(frequency, now)
    run = DigestRun(period=period)
    due = (
        UserPreferences.objects.filter(digest=frequency, user__is_active=True)
        .exclude(user__email="")
        .exclude(digest_period=period)
        .select_related("user")
        .order_by("user_id")
    )
    for preferences in due:
        user = preferences.user
        since = preferences.digest_sent_at or now - PERIOD_LENGTH[frequency]
        message = digest_compose(user, frequency=frequency, since=since, now=now)
        if message is None:
            run.nothing_to_say += 1
        elif dry_run:
            run.would_send[user.get_username()] = message
        else:
            outcome = _send_once(preferences, message, frequency=frequency, period=period, now=now)
            if outcome == "sent":
                run.sent.append(user.get_username())
            elif outcome == "failed":
                run.failed.append(user.get_username())
    return run


def _send_once(
    preferences: UserPreferences,
    message: DigestMessage,
    *,
    frequency: str,
    period: str,
    now: datetime,
) -> str:
    """Claim the user's period and send: "sent", "taken" when another run claimed the
    period first (nothing sent), or "failed" (nothing recorded)."""
    try:
        with transaction.atomic():
            claimed = (
                UserPreferences.objects.filter(pk=preferences.pk, digest=frequency)
                .exclude(digest_period=period)
                .update(digest_period=period, digest_sent_at=now)
            )
            if not claimed:
                return "taken"
            send_mail(
                message.subject,
                message.body,
                settings.DEFAULT_FROM_EMAIL,
                [preferences.user.email],
            )
    except (smtplib.SMTPException, OSError):
        logger.warning("digest to user %s not sent", preferences.user_id, exc_info=True)
        return "failed"
    return "sent"
