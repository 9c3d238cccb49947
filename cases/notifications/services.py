"""Writes of the notifications: who is told of what happened to a case, watching a case,
marking notifications read.

Each notification's text is written in words when it is made. Nobody is told of their
own action, and nobody is told about a case that does not exist for them (someone who
left the team, a blind second coder), whatever list they are on.
"""

from collections.abc import Iterable, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import Truncator

from cases.models import Case, Comment, Finding, Notification, Watch
from cases.notifications import selectors


def _case_words(case: Case) -> str:
    return f"{case.entity.name} (case {case.pk})"


def _who(user: AbstractBaseUser | None) -> str:
    return user.get_username() if user is not None else "An automated check"


def _notify(
    recipients: Iterable[AbstractBaseUser],
    *,
    kind: str,
    case: Case,
    actor: AbstractBaseUser | None,
    text: str,
    comment: Comment | None = None,
) -> list[Notification]:
    """Notify each recipient once, leaving out the actor and those who cannot see the case."""
    actor_pk = actor.pk if actor is not None else None
    people = selectors.who_sees(case, (u for u in recipients if u.pk != actor_pk))
    text = Truncator(text).chars(Notification._meta.get_field("text").max_length)
    return Notification.objects.bulk_create(
        Notification(
            recipient=person, kind=kind, case=case, actor=actor, text=text, comment=comment
        )
        for person in people
    )


def notify_new_leads(case: Case, findings: Sequence[Finding]) -> list[Notification]:
    """Tell the case's assignee and watchers that checks filed new leads on it, and the
    team's analysts too while nobody is assigned (someone should pick it up)."""
    if not findings:
        return []
    count = len(findings)
    sources = sorted({f.source for f in findings})
    leads = "a new lead" if count == 1 else f"{count} new leads"
    text = f"Checks filed {leads} on {_case_words(case)} from {', '.join(sources)}."
    recipients = list(selectors.case_watchers(case))
    if case.assignee_id is not None:
        recipients.insert(0, case.assignee)
    else:
        recipients += list(selectors.team_analysts(case))
    return _notify(recipients, kind=Notification.Kind.NEW_LEADS, case=case, actor=None, text=text)


def notify_assigned(
    *, case: Case, assignee: AbstractBaseUser | None, actor: AbstractBaseUser | None
) -> list[Notification]:
    """Tell the new assignee that the case is theirs (not when they took it themselves)."""
    if assignee is None:
        return []
    text = f"{_who(actor)} assigned {_case_words(case)} to you."
    return _notify([assignee], kind=Notification.Kind.ASSIGNED, case=case, actor=actor, text=text)


def _excerpt(comment: Comment) -> str:
    return Truncator(" ".join(comment.body.split())).chars(120)


def notify_mentioned(*, comment: Comment, people: Iterable[AbstractBaseUser]) -> list[Notification]:
    """Tell the people a comment mentions (who can see its case) that it did."""
    case = comment.case
    where = "a lead on " if comment.finding_id else ""
    text = (
        f"{_who(comment.author)} mentioned you on {where}{_case_words(case)}: “{_excerpt(comment)}”"
    )
    return _notify(
        people,
        kind=Notification.Kind.MENTION,
        case=case,
        actor=comment.author,
        text=text,
        comment=comment,
    )


def notify_watchers_of_comment(
    *, comment: Comment, told: Iterable[AbstractBaseUser] = ()
) -> list[Notification]:
    """Tell the case's watchers of a new comment, less those told already (mentioned)."""
    told_pks = {u.pk for u in told}
    case = comment.case
    watchers = [u for u in selectors.case_watchers(case) if u.pk not in told_pks]
    text = (
        f"{_who(comment.author)} commented on {_case_words(case)}, which you watch: "
        f"“{_excerpt(comment)}”"
    )
    return _notify(
        watchers,
        kind=Notification.Kind.COMMENT_ON_WATCHED,
        case=case,
        actor=comment.author,
        text=text,
        comment=comment,
    )


def notify_refused_edit(
    *,
    case: Case,
    kept_for: AbstractBaseUser | None,
    refused: AbstractBaseUser | None,
    what: str = "",
) -> list[Notification]:
    """Tell the person whose edit was kept that a colleague's later save over it was
    refused (`what` names the part of the case, a lead for instance; empty for the case
    itself). The refused person reads the refusal on their own page at once; the other
    one would not otherwise know that someone was working on the same thing."""
    if kept_for is None:
        return []
    what = f"{what} on " if what else ""
    text = (
        f"{_who(refused)} tried to change {what}{_case_words(case)} after your change; "
        "their save was refused and yours was kept."
    )
    return _notify(
        [kept_for], kind=Notification.Kind.REFUSED_EDIT, case=case, actor=refused, text=text
    )


def watch_start(*, user: AbstractBaseUser, case: Case) -> Watch:
    """Follow a case; watching it twice is watching it."""
    try:
        with transaction.atomic():
            return Watch.objects.get_or_create(user=user, case=case)[0]
    except IntegrityError:  # the same click twice at the same moment
        return Watch.objects.get(user=user, case=case)


def watch_stop(*, user: AbstractBaseUser, case: Case) -> bool:
    """Stop following a case; return whether the user was following it."""
    deleted, _ = Watch.objects.filter(user=user, case=case).delete()
    return bool(deleted)


def notification_mark_read(*, user: AbstractBaseUser, pk: int) -> bool:
    """Mark one of the user's notifications read; another person's is not found."""
    return bool(
        Notification.objects.filter(recipient=user, pk=pk, read_at__isnull=True).update(
            read_at=timezone.now()
        )
    )


def notifications_mark_all_read(*, user: AbstractBaseUser) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
