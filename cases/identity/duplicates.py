"""Reads for the possible-duplicates page: pairs of entities a person can see whose names
are alike (the import's own comparison, cases.intake.selectors), without the pairs judged
not the same, and the merge records they may undo."""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, QuerySet

from cases import access
from cases.intake.selectors import entity_possible_duplicates
from cases.models import Entity, EntityMerge


@dataclass(frozen=True)
class DuplicatePair:
    first: Entity  # the one the comparison started from
    second: Entity
    score: float
    matched: str

    @property
    def entities(self) -> tuple[Entity, Entity]:
        return (self.first, self.second)


def visible_entities(user: access.User) -> QuerySet[Entity]:
    """The entities whose cases the user sees, with their cases and referral counts."""
    return (
        Entity.objects.filter(case__in=access.visible_cases(user).values("pk"))
        .select_related("case", "case__team")
        .annotate(referral_count=Count("referrals"))
    )


def possible_duplicate_pairs(user: access.User, *, limit: int = 200) -> list[DuplicatePair]:
    """Pairs of the user's entities that may be one, best first, at most `limit`.

    Both entities of a pair must be visible: a pair with another team's entity would tell
    the user that entity exists. Pairs judged not the same are left out by the comparison.
    """
    entities = visible_entities(user)
    ids = set(entities.values_list("pk", flat=True))
    if not ids:
        return []
    found = entity_possible_duplicates(
        entity_ids=ids, threshold=settings.WISHLIST_DUPLICATE_THRESHOLD
    )
    found = [d for d in found if d.entity_id in ids and d.other_id in ids][:limit]
    shown = entities.in_bulk({pk for d in found for pk in (d.entity_id, d.other_id)})
    return [DuplicatePair(shown[d.entity_id], shown[d.other_id], d.score, d.matched) for d in found]


def visible_merges(user: access.User) -> QuerySet[EntityMerge]:
    """Merge records whose survivor the user sees, newest first."""
    return EntityMerge.objects.filter(
        survivor__case__in=access.visible_cases(user).values("pk")
    ).select_related("survivor__case", "merged_by", "undone_by")


def merge_or_none(user: access.User, pk: int) -> EntityMerge | None:
    return visible_merges(user).filter(pk=pk).first()
