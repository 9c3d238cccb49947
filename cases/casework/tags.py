"""Tags on cases: a tag name's cleaning (a pure function), putting a team's tag on a case
and taking it off, and the reads the case list and the case page need.

A tag belongs to the case's team (models.Tag says why); tagging a case with a name the
team has not used yet makes the tag. A case without a team takes no tag until an admin
moves it to one.
"""

import re
import unicodedata
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet

from cases import access, normalize
from cases.models import Case, CaseTag, Tag

# Letters and digits of any script, spaces and the punctuation labels use; no markup, no
# quotes that break out of an attribute, no control characters.
_ALLOWED_RE = re.compile(r"^\w[\w .&'/+#()-]*$")


@dataclass(frozen=True)
class TagName:
    name: str  # as shown: spaces tidied
    key: str  # what makes two names the same tag


def tag_name_clean(raw: str) -> TagName:
    """Return the name with its runs of spaces made one and its compatibility forms
    folded ("ＥＳＣＡＬＡＴＥ" is "ESCALATE"), and its case-folded key; refuse a name that
    is empty, too long or holds characters a label has no need of."""
    text, _ = normalize.strip_invisible(raw or "")
    name = " ".join(unicodedata.normalize("NFKC", text).split())
    if not name:
        raise ValidationError({"name": "Give the tag a name."})
    key = name.casefold()
    if len(name) > Tag.NAME_LENGTH or len(key) > Tag.NAME_LENGTH:
        raise ValidationError({"name": f"A tag name has at most {Tag.NAME_LENGTH} characters."})
    if not _ALLOWED_RE.match(name):
        raise ValidationError(
            {
                "name": "A tag name holds letters, digits, spaces and . & ' / + # ( ) - only, "
                "and starts with a letter or digit."
            }
        )
    return TagName(name=name, key=key)


class AlreadyTagged(ValidationError):
    """The case carries the tag already; nothing was changed."""


class NotTagged(ValidationError):
    """The case does not carry the tag; nothing was changed."""


def _team_tag(*, case: Case, name: TagName, actor: AbstractBaseUser | None) -> Tag:
    """The case team's tag of this name, made if the team has none yet."""
    if case.team_id is None:
        raise ValidationError("A case without a team takes no tag: move it to a team first.")
    tag = Tag.objects.filter(team_id=case.team_id, key=name.key).first()
    if tag is not None:
        return tag
    try:
        with transaction.atomic():
            return Tag.objects.create(
                team_id=case.team_id, name=name.name, key=name.key, created_by=actor
            )
    except IntegrityError:  # made at the same moment by someone else
        return Tag.objects.get(team_id=case.team_id, key=name.key)


@transaction.atomic
def case_tag_add(*, case: Case, name: str, actor: AbstractBaseUser | None) -> Tag:
    """Put the tag named `name` (any case, any spacing) on the case; refuse it if the case
    has it already (AlreadyTagged)."""
    cleaned = tag_name_clean(name)
    tag = _team_tag(case=case, name=cleaned, actor=actor)
    try:
        with transaction.atomic():
            CaseTag.objects.create(case=case, tag=tag, added_by=actor)
    except IntegrityError:
        raise AlreadyTagged(f"The case is tagged “{tag.name}” already.") from None
    return tag


@transaction.atomic
def case_tag_remove(*, case: Case, name: str) -> Tag:
    """Take the tag named `name` off the case; refuse a tag the case does not carry. The
    team keeps the tag for its other cases (an admin deletes tags)."""
    cleaned = tag_name_clean(name)
    link = (
        CaseTag.objects.select_related("tag")
        .filter(case=case, tag__team_id=case.team_id, tag__key=cleaned.key)
        .first()
    )
    if link is None:
        raise NotTagged(f"The case is not tagged “{cleaned.name}”.")
    link.delete()
    return link.tag


def case_tags_drop_other_teams(*, case_ids: list[int], team_id: int) -> int:
    """Take off the cases the tags of teams other than `team_id` (after a move: the old
    team's words are not the new team's); return how many were taken off."""
    deleted, _ = CaseTag.objects.filter(case_id__in=case_ids).exclude(tag__team_id=team_id).delete()
    return deleted


# Reads ------------------------------------------------------------------------------------


def tags_prefetch() -> Prefetch:
    """The tags of each case of a list, in one query for the page."""
    return Prefetch("tags", queryset=Tag.objects.order_by("key"))


def case_tags(case: Case) -> list[Tag]:
    return list(case.tags.order_by("key"))


def team_tags(team_id: int | None) -> QuerySet[Tag]:
    """The tags a team has made, offered when tagging one of its cases."""
    if team_id is None:
        return Tag.objects.none()
    return Tag.objects.filter(team_id=team_id).order_by("key")


def visible_tags(user: AbstractBaseUser) -> QuerySet[Tag]:
    """The tags of the user's teams (every team's for an admin)."""
    return Tag.objects.filter(team__in=access.visible_teams(user).values("id")).order_by("key")


def tag_choices(user: AbstractBaseUser) -> list[tuple[str, str]]:
    """The case list's tag filter: one choice per name, however many of the user's teams
    use it (the filter's value is the key, so "Escalate" and "escalate" are one)."""
    choices: dict[str, str] = {}
    for key, name in visible_tags(user).values_list("key", "name"):
        choices.setdefault(key, name)
    return sorted(choices.items())


@transaction.atomic
def tag_rename(*, tag: Tag, name: str) -> Tag:
    """Rename a team's tag (the admin's form); refuse a name the team uses already."""
    cleaned = tag_name_clean(name)
    if Tag.objects.filter(team_id=tag.team_id, key=cleaned.key).exclude(pk=tag.pk).exists():
        raise ValidationError({"name": f"{tag.team} has a tag “{cleaned.name}” already."})
    tag.name, tag.key = cleaned.name, cleaned.key
    tag.save(update_fields=["name", "key"])
    return tag
