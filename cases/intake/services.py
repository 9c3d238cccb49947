"""Writing a checked referral file: posts, entities, cases and referrals in bulk, all or none,
with the possible-duplicate report and a history row for every row written.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from cases import blocs, normalize, rules
from cases.bulk import bulk_insert, chunks, filter_in
from cases.derived import case_index_dates_refresh, controls_referred_flag
from cases.intake.files import gc_paused, read_table
from cases.intake.rows import CheckedFile, ReferralRecord, RowError, check_rows
from cases.intake.selectors import (
    PossibleDuplicate,
    entity_possible_duplicates,
    stored_referral_values,
)
from cases.models import Case, Entity, Post, Referral


@dataclass
class ImportResult:
    rows_read: int = 0
    repeated_rows: int = 0
    posts_created: int = 0
    entities_created: int = 0
    cases_created: int = 0
    referrals_created: int = 0
    referrals_unchanged: int = 0
    aliases_added: int = 0
    cases_touched: int = 0
    # Control cases whose entity the file refers: they leave their pairs.
    controls_referred: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    duplicates: list[PossibleDuplicate] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def changed_anything(self) -> bool:
        return bool(
            self.posts_created
            or self.entities_created
            or self.referrals_created
            or self.aliases_added
        )


# Column orders of the rows the import writes with bulk_insert.
ENTITY_COLUMNS = [
    "name", "name_native", "name_key", "country", "kind", "technology_fields", "aliases",
    "is_demo", "created_at", "updated_at",
]  # fmt: skip


CASE_COLUMNS = [
    "entity_id", "status", "index_date", "index_date_precision", "index_period_end",
    "index_referral_id", "priority", "notes", "created_at", "updated_at",
]  # fmt: skip


REFERRAL_COLUMNS = [
    "external_id", "entity_id", "post_id", "date", "date_precision", "host_country",
    "alliance_bloc", "technology_field", "cooperation_methods", "proposed_amount", "currency",
    "summary", "original_text", "source_url", "source_reference", "created_at",
]  # fmt: skip


def _entities_in_countries(countries: set[str]):
    """Yield (id, name key, country, kind, name, aliases) of every entity in these countries.

    One scan instead of IN lists of name keys: an import touches most countries anyway.
    """
    return (
        Entity.objects.filter(country__in=sorted(countries))
        .values_list("id", "name_key", "country", "kind", "name", "aliases")
        .iterator(chunk_size=10000)
    )


@dataclass(frozen=True)
class HistoryStamp:
    """What the history rows of an import say: why (naming the import) and who."""

    reason: str = "import"
    user_id: int | None = None


def referrals_import_file(
    *,
    data: bytes,
    file_name: str,
    dry_run: bool = False,
    stamp: HistoryStamp = HistoryStamp(),
    on_progress: Callable[[int], None] | None = None,
    progress_every: int = 5000,
    wrap_rows: Callable[[Iterable], Iterable] | None = None,
) -> ImportResult:
    """Read, check and import a referral file (see referrals_import).

    on_progress(rows checked) is called every progress_every rows and once at the end of
    the check; wrap_rows wraps the rows too (the command's progress bar). A file that
    cannot be read at all raises ImportFileError.
    """
    rows = read_table(data, file_name)
    if on_progress is not None:
        rows = _rows_reporting(rows, on_progress, progress_every)
    checked = check_rows(rows, progress=wrap_rows)
    if on_progress is not None:
        on_progress(checked.rows_read)
    return referrals_import(checked=checked, dry_run=dry_run, stamp=stamp)


def _rows_reporting(
    rows: Iterable, on_progress: Callable[[int], None], every: int
) -> Iterator[tuple[int, dict[str, str]]]:
    for done, item in enumerate(rows, start=1):
        yield item
        if done % every == 0:
            on_progress(done)


def referrals_import(
    *, checked: CheckedFile, dry_run: bool = False, stamp: HistoryStamp = HistoryStamp()
) -> ImportResult:
    """Write checked referral records: posts, entities, cases and referrals, in bulk.

    All or nothing: if the file had errors, or a referral id already exists with other
    content, nothing is written. Existing posts and entities (by name key and country)
    are reused, identical referrals are left alone, and index dates are recomputed for
    every case touched. Every row created or changed gets its history row, with the
    stamp's reason and user. With dry_run the same work is done (but the history) and
    then rolled back, so the counts reported are exact.
    """
    result = ImportResult(
        rows_read=checked.rows_read,
        repeated_rows=checked.repeated_rows,
        dry_run=dry_run,
        # What reading changed without refusing (invisible characters removed).
        warnings=list(checked.warnings),
    )
    if checked.errors:
        result.errors = list(checked.errors)
        return result
    with gc_paused(), transaction.atomic():
        new_records = _records_not_stored(checked.records, result)
        if result.errors:
            return result
        # A dry run is rolled back: its history rows would be too.
        _records_write(new_records, result, None if dry_run else stamp)
        if dry_run:
            transaction.set_rollback(True)
    return result


def _records_not_stored(
    records: list[ReferralRecord], result: ImportResult
) -> list[ReferralRecord]:
    """Return the records whose referral ids are not stored yet.

    A referral stored with the same values is counted as unchanged; one stored with other
    values is an error.
    """
    stored = stored_referral_values(external_ids=[r.external_id for r in records])
    new_records = []
    for record in records:
        values = stored.get(record.external_id)
        if values is None:
            new_records.append(record)
            continue
        incoming = record.referral_values()
        differences = [name for name, value in incoming.items() if values[name] != value]
        if differences:
            result.errors.append(
                RowError(
                    record.line,
                    "referral_id",
                    f"referral id {record.external_id!r} is already stored with a "
                    f"different {', '.join(differences)}",
                )
            )
        else:
            result.referrals_unchanged += 1
    return new_records


def _records_write(
    records: list[ReferralRecord], result: ImportResult, stamp: HistoryStamp | None
) -> None:
    """Write new records with their posts, entities and cases; refresh the index dates of
    the cases touched, write the history rows and report possible duplicates of the
    entities created."""
    posts, new_post_ids = _posts_get_or_create(records, result)
    entities, new_entity_ids, changed_entity_ids = _entities_get_or_create(records, result)
    result.referrals_created = _referrals_create(records, posts, entities)
    referral_ids = _referral_ids([r.external_id for r in records])
    refresh_ids = _cases_ensure(entities, new_entity_ids, records, referral_ids, result)
    result.cases_touched = result.cases_created + len(refresh_ids)
    if refresh_ids:
        # Flagged here, not only by the refresh below, so the report can say how many.
        for chunk in chunks(sorted(refresh_ids)):
            result.controls_referred += controls_referred_flag(Case.objects.filter(id__in=chunk))
        case_index_dates_refresh(case_ids=refresh_ids)
    if stamp is not None:
        # Written last, so each history row holds the row as the import left it.
        history = _HistoryWriter(stamp)
        history.write(Post, new_post_ids, "+")
        history.write(Entity, new_entity_ids, "+")
        history.write(Entity, changed_entity_ids, "~")
        history.write(Case, new_entity_ids, "+", column="entity_id")
        history.write(Case, refresh_ids, "~")
        history.write(Referral, referral_ids.values(), "+")
    result.duplicates = entity_possible_duplicates(
        entity_ids=new_entity_ids,
        threshold=settings.WISHLIST_DUPLICATE_THRESHOLD,
        countries={country for _, country in entities},
    )


def _referrals_create(
    records: list[ReferralRecord],
    posts: dict[tuple[str, str], int],
    entities: dict[tuple[str, str], int],
) -> int:
    """Insert a referral per record; return how many."""
    now = timezone.now()
    referrals = [
        (
            r.external_id,
            entities[(r.entity_key, r.host_country)],
            posts[(r.post_name, r.host_country)] if r.post_name else None,
            r.date.value,
            r.date.precision,
            r.host_country,
            blocs.bloc_on(r.host_country, r.date.value),
            r.technology_field,
            r.cooperation_methods,
            r.proposed_amount,
            r.currency,
            r.summary,
            "",
            r.source_url,
            r.source_reference,
            now,
        )
        for r in records
    ]
    bulk_insert(Referral, REFERRAL_COLUMNS, referrals)
    return len(referrals)


def _post_ids(names: Iterable[str]) -> dict[tuple[str, str], int]:
    """(name, host country): id of the stored posts with these names."""
    found = {}
    for queryset in filter_in(Post.objects.all(), "name", sorted(set(names))):
        for pk, name, country in queryset.values_list("id", "name", "host_country"):
            found[(name, country)] = pk
    return found


def _posts_get_or_create(
    records: list[ReferralRecord], result: ImportResult
) -> tuple[dict[tuple[str, str], int], list[int]]:
    """Return (name, host country): id of the posts of these records, and the ids of
    those created."""
    wanted = {(r.post_name, r.host_country) for r in records if r.post_name}
    found = _post_ids(name for name, _ in wanted)
    missing = [
        Post(
            name=name,
            host_country=country,
            kind=normalize.post_kind(name),
            city=normalize.post_city(name),
        )
        for name, country in sorted(wanted - found.keys())
    ]
    created: list[int] = []
    if missing:
        Post.objects.bulk_create(missing, batch_size=2000)
        result.posts_created = len(missing)
        new = {(post.name, post.host_country) for post in missing}
        for key, pk in _post_ids(post.name for post in missing).items():
            if key in new:
                created.append(pk)
            found[key] = pk
    return found, created


@dataclass
class _FileEntity:
    """One entity (name key, country) as the file gives it: the first record naming it
    and what the other records add."""

    first: ReferralRecord
    name_native: str = ""
    technology_fields: set[str] = field(default_factory=set)
    # Other spellings of the same entity in the file become aliases, so none is lost.
    spellings: dict[str, None] = field(default_factory=dict)  # an ordered set


def _file_entities(records: list[ReferralRecord]) -> dict[tuple[str, str], _FileEntity]:
    entities: dict[tuple[str, str], _FileEntity] = {}
    for r in records:
        key = (r.entity_key, r.host_country)
        entity = entities.get(key)
        if entity is None:
            entity = entities[key] = _FileEntity(first=r)
        entity.spellings[r.entity_name] = None
        if r.entity_name_native and not entity.name_native:
            entity.name_native = r.entity_name_native
        if r.technology_field:
            entity.technology_fields.add(r.technology_field)
    return entities


def _entities_get_or_create(
    records: list[ReferralRecord], result: ImportResult
) -> tuple[dict[tuple[str, str], int], list[int], list[int]]:
    """Return (name key, country): id of the entities of these records, the ids of those
    created and the ids of stored ones given new aliases."""
    in_file = _file_entities(records)
    found, changed = _entities_stored_match(in_file, result)
    created = _entities_create(in_file, sorted(in_file.keys() - found.keys()), result)
    found.update(created)
    return found, list(created.values()), changed


def _entities_stored_match(
    in_file: dict[tuple[str, str], _FileEntity], result: ImportResult
) -> tuple[dict[tuple[str, str], int], list[int]]:
    """Return (name key, country): id of the stored entities of the file, and the ids of
    those given new aliases.

    Their stored kind is kept (a different kind in the file is a warning) and the file's
    new spellings of their names are added to their aliases.
    """
    found: dict[tuple[str, str], int] = {}
    alias_updates = []
    for pk, key, country, kind, name, aliases in _entities_in_countries({c for _, c in in_file}):
        entity = in_file.get((key, country))
        if entity is None:
            continue
        found[(key, country)] = pk
        record = entity.first
        if record.entity_kind != kind:
            result.warnings.append(
                f"line {record.line}: {record.entity_name!r} is stored as {name!r}, "
                f"a {kind}; the file says {record.entity_kind}. The stored kind is kept."
            )
        known = {name, *normalize.split_list(aliases, "\n")}
        new_spellings = [n for n in entity.spellings if n not in known]
        if new_spellings:
            alias_updates.append(
                Entity(id=pk, aliases="\n".join(filter(None, [aliases, *new_spellings])))
            )
            result.aliases_added += len(new_spellings)
    Entity.objects.bulk_update(alias_updates, ["aliases"], batch_size=1000)
    return found, [entity.id for entity in alias_updates]


def _entities_create(
    in_file: dict[tuple[str, str], _FileEntity],
    keys: list[tuple[str, str]],
    result: ImportResult,
) -> dict[tuple[str, str], int]:
    """Insert the entities of the file with these keys; return their (name key, country): id."""
    now = timezone.now()
    rows = []
    for key in keys:
        entity = in_file[key]
        name = entity.first.entity_name
        rows.append(
            (
                name,
                entity.name_native,
                key[0],
                key[1],
                entity.first.entity_kind,
                "; ".join(sorted(entity.technology_fields))[:500],
                "\n".join(n for n in entity.spellings if n != name),
                False,
                now,
                now,
            )
        )
    bulk_insert(Entity, ENTITY_COLUMNS, rows)
    result.entities_created = len(keys)
    created: dict[tuple[str, str], int] = {}
    if keys:
        wanted = set(keys)
        for pk, key, country, *_ in _entities_in_countries({c for _, c in wanted}):
            if (key, country) in wanted:
                created[(key, country)] = pk
    return created


def _cases_ensure(
    entities: dict[tuple[str, str], int],
    new_entity_ids: list[int],
    records: list[ReferralRecord],
    referral_ids: dict[str, int],
    result: ImportResult,
) -> list[int]:
    """Create the cases of new entities with their index dates and index referrals taken
    from the file (inserted after the referrals, so no case is updated afterwards).

    Return the ids of the cases of existing entities, whose index dates must be
    recomputed from every stored referral.
    """
    new_ids = set(new_entity_ids)
    earliest: dict[int, tuple] = {}
    index_referral: dict[int, int] = {}
    periods: dict[int, list] = {}
    for r in records:
        entity_id = entities[(r.entity_key, r.host_country)]
        if entity_id in new_ids:
            periods.setdefault(entity_id, []).append((r.date.value, r.date.precision))
            candidate = (
                *rules.index_referral_key(r.date.value, r.date.precision),
                r.date.precision,
            )
            # Strictly earlier: on a tie the first in the file, the lowest id, as
            # rules.index_referral_order breaks it.
            if entity_id not in earliest or candidate < earliest[entity_id]:
                earliest[entity_id] = candidate
                index_referral[entity_id] = referral_ids[r.external_id]
    now = timezone.now()
    new_cases = [
        (
            entity_id,
            Case.Status.OPEN,
            earliest[entity_id][0] if entity_id in earliest else None,
            earliest[entity_id][2] if entity_id in earliest else "",
            rules.index_period_end(periods.get(entity_id, ())),
            index_referral.get(entity_id),
            Case.Priority.NORMAL,
            "",
            now,
            now,
        )
        for entity_id in new_entity_ids
    ]
    bulk_insert(Case, CASE_COLUMNS, new_cases)
    result.cases_created = len(new_cases)

    old_ids = sorted(set(entities.values()) - new_ids)
    refresh = _case_ids(old_ids)
    orphans = [Case(entity_id=pk) for pk in old_ids if pk not in refresh]
    if orphans:  # entities made outside the services, without their case
        Case.objects.bulk_create(orphans)
        result.cases_created += len(orphans)
        refresh.update(_case_ids([c.entity_id for c in orphans]))
    return list(refresh.values())


def _case_ids(entity_ids: list[int]) -> dict[int, int]:
    """entity id: case id, for these entities."""
    found = {}
    for queryset in filter_in(Case.objects.all(), "entity_id", entity_ids):
        found.update(queryset.values_list("entity_id", "id"))
    return found


def _referral_ids(external_ids: list[str]) -> dict[str, int]:
    """external id: id, of these referrals."""
    found = {}
    for queryset in filter_in(Referral.objects.all(), "external_id", external_ids):
        found.update(queryset.values_list("external_id", "id"))
    return found


class _HistoryWriter:
    """Write django-simple-history rows for rows the import wrote in bulk.

    bulk_insert and bulk_update send no signals, so simple_history records nothing by
    itself; building historical instances in Python (bulk_history_create) would cost as
    much as the import. INSERT ... SELECT copies the rows as stored inside the database.
    """

    def __init__(self, stamp: HistoryStamp):
        self.stamp = stamp
        self.when = connection.ops.adapt_datetimefield_value(timezone.now())

    def write(
        self,
        model: type[models.Model],
        ids: Iterable[int],
        history_type: str,
        *,
        column: str = "id",
    ) -> None:
        """Copy the rows of `model` whose `column` is one of `ids` into its history."""
        ids = list(ids)
        if not ids:
            return
        historical = model.history.model
        extra = {"history_id", "history_date", "history_change_reason", "history_type"}
        columns = [
            f.column
            for f in historical._meta.concrete_fields
            if f.name not in extra and f.name != "history_user"
        ]
        quote = connection.ops.quote_name
        names = ", ".join(quote(c) for c in columns)
        sql = (
            f"INSERT INTO {quote(historical._meta.db_table)} ({names}, history_date, "
            "history_change_reason, history_type, history_user_id) "
            f"SELECT {names}, %s, %s, %s, %s FROM {quote(model._meta.db_table)} "
            f"WHERE {quote(column)} "
        )
        stamp = [self.when, self.stamp.reason, history_type, self.stamp.user_id]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(sql + "= ANY(%s)", [*stamp, ids])
                return
            for chunk in chunks(ids):
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(sql + f"IN ({marks})", [*stamp, *chunk])
