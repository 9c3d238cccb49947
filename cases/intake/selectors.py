"""Reads of the import: the stored copies of incoming referrals, and entities whose names
are alike enough to be one (possible duplicates)."""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy
from rapidfuzz import fuzz, process

from cases import normalize
from cases.bulk import filter_in
from cases.models import DistinctPair, Entity, Referral

# A blocking token shared by more names than this says little about identity
# ("technology", "university"), so its block is not compared pair by pair.
MAX_BLOCK = 400


@dataclass(frozen=True)
class PossibleDuplicate:
    entity_id: int
    entity_name: str
    other_id: int
    other_name: str
    country: str
    score: float
    matched: str  # which names matched, for the report

    def __str__(self) -> str:
        return (
            f"{self.entity_name!r} looks like {self.other_name!r} ({self.country}, "
            f"score {self.score:.0f}: {self.matched})"
        )


# The duplicate report's look-alike key; kept under this name for its callers.
confusable_key = normalize.confusable_key


def _blocks(items: list[tuple[int, str, str, str]], folded: list[str]) -> Iterator[list[int]]:
    """Group item indexes by country and each word of 3+ letters of their confusable
    keys; a name with no such word is grouped by its first three letters."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, ((_, _, _, country), key) in enumerate(zip(items, folded, strict=True)):
        words = {w for w in key.split(" ") if len(w) >= 3} or {"~" + key[:3]}
        for word in words:
            groups[(country, word)].append(index)
    for members in groups.values():
        if 1 < len(members) <= MAX_BLOCK:
            yield members


# Referral columns compared as stored, under the names ReferralRecord.referral_values uses.
_PLAIN_VALUES = (
    "date", "date_precision", "host_country", "technology_field", "proposed_amount",
    "currency", "summary", "source_url", "source_reference",
)  # fmt: skip


def stored_referral_values(*, external_ids: Sequence[str]) -> dict[str, dict]:
    """Return external id: values of the stored referrals with these ids, in the form of
    `ReferralRecord.referral_values`, so that a row compares with its stored copy."""
    columns = (
        "external_id", "entity__name_key", "entity__country", "post__name",
        "cooperation_methods", *_PLAIN_VALUES,
    )  # fmt: skip
    stored = {}
    for queryset in filter_in(Referral.objects.all(), "external_id", external_ids):
        for external_id, key, country, post, methods, *plain in queryset.values_list(*columns):
            stored[external_id] = {
                "entity": (key, country),
                "post": post or "",
                "cooperation_methods": sorted(methods),
                **dict(zip(_PLAIN_VALUES, plain, strict=True)),
            }
    return stored


def entity_possible_duplicates(
    *, entity_ids: Iterable[int], threshold: int, countries: Iterable[str] | None = None
) -> list[PossibleDuplicate]:
    """Return pairs of differently keyed entities whose names are alike, one of which is
    in `entity_ids` (typically the entities an import just created).

    Names are compared within blocks (same country and a shared word or prefix) by
    `duplicate_score`, so the work grows with block sizes, not with the square of the
    number of entities. Aliases of the entities take part as names. Names are also
    compared by their confusable keys, so a look-alike spelled in other scripts scores
    as the name it imitates.
    """
    new_ids = set(entity_ids)
    if not new_ids:
        return []
    if countries is None:
        countries = _countries_of(new_ids)
    items = _names_in_countries(countries)
    folded = [confusable_key(item[2]) for item in items]
    best: dict[tuple[int, int], PossibleDuplicate] = {}
    for members in _blocks(items, folded):
        if not any(items[i][0] in new_ids for i in members):
            continue
        keys = [folded[i] for i in members]
        for duplicate in _alike(items, members, keys, new_ids, threshold):
            pair = tuple(sorted((duplicate.entity_id, duplicate.other_id)))
            if pair not in best or best[pair].score < duplicate.score:
                best[pair] = duplicate
    for pair in _judged_distinct(best):
        del best[pair]
    return sorted(best.values(), key=lambda d: (-d.score, d.entity_name))


def _judged_distinct(pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """The pairs (lower id first) a person has judged not the same: never reported again."""
    pairs = set(pairs)
    ids = sorted({pk for pair in pairs for pk in pair})
    judged = set()
    for queryset in filter_in(DistinctPair.objects.all(), "low_id", ids):
        judged.update(queryset.values_list("low_id", "high_id"))
    return judged & pairs


def _countries_of(entity_ids: set[int]) -> set[str]:
    countries = set()
    for queryset in filter_in(Entity.objects.all(), "id", sorted(entity_ids)):
        countries.update(queryset.values_list("country", flat=True).distinct())
    return countries


def _names_in_countries(countries: Iterable[str]) -> list[tuple[int, str, str, str]]:
    """Return (entity id, shown name, name key, country) for every name and alias of the
    entities in these countries."""
    items = []
    rows = Entity.objects.filter(country__in=sorted(countries)).values_list(
        "id", "name", "name_key", "aliases", "country"
    )
    for entity_id, name, key, aliases, country in rows.iterator(chunk_size=5000):
        items.append((entity_id, name, key, country))
        # A key stored before the folding changed, kept because the new one was taken
        # (migration 0010_name_keys): the name also takes part under its key of today.
        fresh = normalize.name_key(name)
        if fresh and fresh != key:
            items.append((entity_id, name, fresh, country))
        if not aliases:
            continue
        for alias in normalize.split_list(aliases, "\n"):
            alias_key = normalize.name_key(alias)
            if alias_key and alias_key != key:
                items.append((entity_id, alias, alias_key, country))
    return items


def duplicate_score(key: str, other: str) -> normalize.KeyComparison:
    """Compare two name keys for the duplicate report: names that look alike (their
    confusable keys agree) score 100; otherwise the better of comparing the keys and
    their confusable keys (`normalize.compare_keys`: word order and a company's short form
    are the same name, a different word is not)."""
    if key == other:  # an alias, or a key kept from before, of another entity
        return normalize.KeyComparison(100.0, "the same name key")
    skeleton, other_skeleton = confusable_key(key), confusable_key(other)
    if skeleton == other_skeleton:
        return normalize.KeyComparison(100.0, "look-alike characters")
    found = normalize.compare_keys(key, other)
    if (skeleton, other_skeleton) != (key, other):
        by_look = normalize.compare_keys(skeleton, other_skeleton)
        if by_look.score > found.score:
            found = normalize.KeyComparison(by_look.score, f"look-alike characters, {by_look.how}")
    return found


# Pairs are first found with rapidfuzz's token-set ratio, which scores a reordered name
# or a short form 100 and is cheap over a whole block; only those are compared in full.
_PREFILTER = 75


def _alike(
    items: list[tuple[int, str, str, str]],
    members: list[int],
    keys: list[str],
    new_ids: set[int],
    threshold: int,
) -> Iterator[PossibleDuplicate]:
    """Yield the pairs of a block's names (of two entities, with two keys) scoring at
    least `threshold`, each led by a name of an entity in `new_ids`."""
    # One thread: blocks are small, and starting threads costs more than it saves.
    scores = process.cdist(
        keys,
        keys,
        scorer=fuzz.token_set_ratio,
        score_cutoff=min(threshold, _PREFILTER),
        workers=1,
        dtype=numpy.uint8,
    )
    for a, b in zip(*numpy.triu(scores, 1).nonzero(), strict=True):
        left, right = items[members[a]], items[members[b]]
        if left[0] == right[0]:
            continue
        if left[0] not in new_ids:
            left, right = right, left
        found = duplicate_score(left[2], right[2])
        if found.score < threshold:
            continue
        matched = f"name keys {left[2]!r} and {right[2]!r}"
        if found.how.startswith("look-alike characters"):
            matched = f"{found.how}: {matched}"
        else:
            matched = f"{matched}: {found.how}"
        yield PossibleDuplicate(
            entity_id=left[0],
            entity_name=left[1],
            other_id=right[0],
            other_name=right[1],
            country=left[3],
            score=found.score,
            matched=matched,
        )
