"""Recompute every entity's name key with the folding of legal forms from rigour.

Keys now fold many more legal forms ("Aktiengesellschaft", "JSC", "ООО", "有限公司"), so
two entities of one country can now have the same key. They are never merged here: the
one that already had the key, or else the older one, takes it; the other keeps its old
key, and the pair is printed and logged. The duplicate report then shows them (it compares
each name's current key), where a person can merge them or say they differ.
"""

import logging

from django.db import migrations

from cases import normalize

logger = logging.getLogger("cases.migrations")

BATCH = 2000


def _claim(entities, keys):
    """Return {entity id: final key} for the entities whose key changes, and the
    collisions as (entity id, name, country, kept key, wanted key, holder id)."""
    # The key each (country, key) ends with: first the rows that keep their key, then
    # the ones whose new key is free, oldest first; a row whose new key is taken keeps
    # its old one when that is free, else its old one marked with its id.
    taken = {}
    for entity_id, _, old, country in entities:
        if keys[entity_id] == old:
            taken[(country, old)] = entity_id
    changes, collisions, blocked = {}, [], []
    for entity_id, name, old, country in entities:
        new = keys[entity_id]
        if new == old:
            continue
        holder = taken.get((country, new))
        if holder is None:
            taken[(country, new)] = entity_id
            changes[entity_id] = new
        else:
            blocked.append((entity_id, name, old, country, new, holder))
    for entity_id, name, old, country, new, holder in blocked:
        kept = old
        if (country, old) in taken:
            kept = f"{old[: normalize.NAME_KEY_LENGTH - 12]} ~{entity_id}"
        taken[(country, kept)] = entity_id
        if kept != old:
            changes[entity_id] = kept
        collisions.append((entity_id, name, country, kept, new, holder))
    return changes, collisions


def recompute_name_keys(apps, schema_editor):
    Entity = apps.get_model("cases", "Entity")
    entities = list(
        Entity.objects.order_by("id").values_list("id", "name", "name_key", "country")
    )
    keys = {}
    for entity_id, name, old, _ in entities:
        keys[entity_id] = normalize.name_key(name) or old
    changes, collisions = _claim(entities, keys)
    ids = sorted(changes)
    # Two passes, so that no row takes a key another row still holds (the key is unique
    # per country): first a placeholder unique to the row, then the final key.
    for final in (False, True):
        for start in range(0, len(ids), BATCH):
            batch = list(Entity.objects.filter(id__in=ids[start : start + BATCH]))
            for entity in batch:
                entity.name_key = changes[entity.id] if final else f"~renaming {entity.id}"
            Entity.objects.bulk_update(batch, ["name_key"], batch_size=BATCH)
    for entity_id, name, country, kept, new, holder in collisions:
        message = (
            f"entity {entity_id} {name!r} ({country}) keeps the name key {kept!r}: its name "
            f"now folds to {new!r}, the key of entity {holder}. Possible duplicates, not "
            "merged."
        )
        logger.warning(message)
        print(f"\n  {message}", end="")
    if changes:
        print(f"\n  {len(changes)} name key(s) recomputed, {len(collisions)} collision(s).", end="")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0009_import_records"),
    ]

    operations = [
        migrations.RunPython(recompute_name_keys, migrations.RunPython.noop, elidable=True),
    ]
