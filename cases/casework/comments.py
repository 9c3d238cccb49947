"""Comments on a case and on its leads: writing one (with the mentions it makes), an
author's edit of their own, and reading them for the case page.

Anyone the case exists for comments on it: analysts and admins, and supervisors too, as
a comment is a note to colleagues, not a change to the research record (their read-only
role is about reviews, status and identifiers). Bodies are plain text, stored as typed
and escaped wherever shown.
"""

from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cases import access
from cases.casework.services import _lock
from cases.models import COMMENT_BODY_MAX, Case, Comment, Finding
from cases.notifications import selectors as notification_selectors
from cases.notifications import services as notification_services
from cases.notifications.mentions import mentioned_usernames

BODY_MAX = COMMENT_BODY_MAX
# More names than a note to colleagues needs: a comment naming the whole building is
# refused rather than sent to everyone.
MENTIONS_MAX = 20
NOT_ON_CASE = "That lead is not on this case; the comment was not saved."


def can_comment(user: access.User) -> bool:
    """Comment on the cases one sees (a role is needed to see any)."""
    return access.is_analyst(user) or access.is_supervisor(user)


@dataclass
class CommentResult:
    comment: Comment
    notified: list[str] = field(default_factory=list)
    # Said to the author: the mentions that told nobody, and why.
    not_notified: list[str] = field(default_factory=list)


def _body_clean(body: str) -> str:
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise ValidationError({"body": "Write something; an empty comment was not saved."})
    if len(body) > BODY_MAX:
        raise ValidationError(
            {
                "body": f"A comment holds at most {BODY_MAX:,} characters; this one has "
                f"{len(body):,}, so it was not saved."
            }
        )
    if "\x00" in body:
        # PostgreSQL cannot store it in text; nobody types it.
        raise ValidationError({"body": "The comment holds a NUL character; it was not saved."})
    return body


def _mentions_checked(body: str) -> list[str]:
    names = mentioned_usernames(body)
    if len(names) > MENTIONS_MAX:
        raise ValidationError(
            {
                "body": f"A comment mentions at most {MENTIONS_MAX} people; this one mentions "
                f"{len(names)}, so it was not saved."
            }
        )
    return names


def _mentioned_people(
    case: Case, names: list[str], author: AbstractBaseUser
) -> tuple[list[AbstractBaseUser], list[str]]:
    """The mentioned users who can see the case, and a sentence for each mention that
    tells nobody."""
    if not names:
        return [], []
    wanted = reduce(or_, (Q(username__iexact=name) for name in names))
    by_name = {u.get_username().casefold(): u for u in get_user_model().objects.filter(wanted)}
    people, refused = [], []
    for name in names:
        user = by_name.get(name.casefold())
        if user is None:
            refused.append(f"Nobody is called @{name[:60]}; not notified.")
        elif user.pk == author.pk:
            continue
        elif not notification_selectors.can_see_case(user, case):
            refused.append(f"{user.get_username()} cannot see this case; not notified.")
        else:
            people.append(user)
    return people, refused


@transaction.atomic
def comment_add(
    *, case: Case, author: AbstractBaseUser, body: str, finding: Finding | None = None
) -> CommentResult:
    """Leave a comment on the case (on one of its findings, if given), telling the
    teammates it mentions and the case's watchers."""
    body = _body_clean(body)
    if finding is not None and finding.case_id != case.pk:
        raise ValidationError(NOT_ON_CASE)
    names = _mentions_checked(body)
    comment = Comment(case=case, finding=finding, author=author, body=body)
    comment._history_user = author
    comment.save()
    people, refused = _mentioned_people(case, names, author)
    notification_services.notify_mentioned(comment=comment, people=people)
    notification_services.notify_watchers_of_comment(comment=comment, told=people)
    return CommentResult(comment, notified=[u.get_username() for u in people], not_notified=refused)


@transaction.atomic
def comment_edit(
    *, comment: Comment, editor: AbstractBaseUser, body: str, version: int | None = None
) -> CommentResult:
    """Change one's own comment. Only people newly mentioned are told; a save from a
    form opened before the last edit is refused (EditConflict)."""
    body = _body_clean(body)
    locked = _lock(Comment, comment.pk, version, "The comment")
    if locked.author_id != editor.pk:
        raise PermissionDenied("Only its author edits a comment.")
    before = {name.casefold() for name in mentioned_usernames(locked.body)}
    names = [name for name in _mentions_checked(body) if name.casefold() not in before]
    locked.body = body
    locked.edited_at = timezone.now()
    locked.version += 1
    locked._history_user = editor
    locked.save(update_fields=["body", "edited_at", "version"])
    people, refused = _mentioned_people(locked.case, names, editor)
    notification_services.notify_mentioned(comment=locked, people=people)
    for name in ("body", "edited_at", "version"):
        setattr(comment, name, getattr(locked, name))
    return CommentResult(comment, notified=[u.get_username() for u in people], not_notified=refused)


def case_page_comments(user: access.User, case: Case, leads: list[Finding]) -> dict:
    """What the case page shows of comments: those on the case itself and on findings no
    longer waiting (under "Comments"), each lead's own (as `lead.comment_list`, under the
    lead), whether the user may comment, and whether they watch the case."""
    comments = list(case.comments.select_related("author", "finding"))
    by_lead = {lead.pk: lead for lead in leads}
    for lead in leads:
        lead.comment_list = []
    general = []
    for comment in comments:
        lead = by_lead.get(comment.finding_id)
        if lead is None:
            general.append(comment)
        else:
            lead.comment_list.append(comment)
    return {
        "comments": general,
        "can_comment": can_comment(user),
        "comment_body_max": BODY_MAX,
        "watching": notification_selectors.is_watching(user, case),
    }
