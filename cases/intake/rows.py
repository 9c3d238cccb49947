"""Checking the rows of a referral file before anything is written.

`check_rows` validates every row and the file as a whole and returns the clean records
with every error found, so a file with bad rows can be refused whole with each bad row
named. Writing the records is `cases.intake.services.referrals_import`.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache

from cases import normalize
from cases.intake.files import gc_paused
from cases.models import CooperationMethod, Entity, Post, Referral

# Column widths, taken from the models so the check and the database agree.
_MAX_LENGTH = {
    "referral_id": Referral._meta.get_field("external_id").max_length,
    "post": Post._meta.get_field("name").max_length,
    "entity_name": Entity._meta.get_field("name").max_length,
    "entity_name_native": Entity._meta.get_field("name_native").max_length,
    "technology_field": Referral._meta.get_field("technology_field").max_length,
    "source_url": Referral._meta.get_field("source_url").max_length,
    "summary": 20000,
}


@cache
def _parse_date(text: str, today: date) -> normalize.PartialDate:
    """Cached: a file of 100,000 rows holds a few thousand distinct dates."""
    return normalize.parse_partial_date(text, today=today)


@cache
def _choice_key(text: str) -> str:
    """Fold case, spaces, underscores and hyphens so "Joint_R&D" finds "joint r&d"."""
    return re.sub(r"[\s_\-]+", " ", text.casefold()).strip()


_REFERENCE_LENGTH = Referral._meta.get_field("source_reference").max_length


_ENTITY_TYPES = {}


for _value, _label in Entity.Kind.choices:
    _ENTITY_TYPES[_choice_key(_value)] = _value
    _ENTITY_TYPES[_choice_key(str(_label))] = _value


_ENTITY_TYPES.update(
    {
        "institute": Entity.Kind.RESEARCH_INSTITUTE,
        "research institution": Entity.Kind.RESEARCH_INSTITUTE,
        "government laboratory": Entity.Kind.GOVERNMENT_LAB,
        "person": Entity.Kind.INDIVIDUAL,
        "enterprise": Entity.Kind.COMPANY,
    }
)


_METHODS = {}


for _value, _label in CooperationMethod.choices:
    _METHODS[_choice_key(_value)] = _value
    _METHODS[_choice_key(str(_label))] = _value


_METHODS.update(
    {
        "equity": CooperationMethod.EQUITY_PURCHASE,
        "patent license": CooperationMethod.PATENT_LICENCE,
        "licence": CooperationMethod.PATENT_LICENCE,
        "license": CooperationMethod.PATENT_LICENCE,
        "joint r and d": CooperationMethod.JOINT_RD,
        "joint research": CooperationMethod.JOINT_RD,
        "r&d staff": CooperationMethod.RD_STAFF_HIRING,
    }
)


_AMOUNT_RE = re.compile(r"^\d{1,3}(,\d{3})+(\.\d{1,2})?$|^\d+(\.\d{1,2})?$")


_URL_RE = re.compile(r"^https?://[^\s/?#@]+(?:[/?#]\S*)?$", re.IGNORECASE)


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        column = f", column {self.column}" if self.column else ""
        return f"{where}{column}: {self.reason}"


@dataclass
class ReferralRecord:
    """One checked row, ready to write."""

    line: int
    external_id: str
    date: normalize.PartialDate
    post_name: str
    host_country: str
    entity_name: str
    entity_name_native: str
    entity_kind: str
    entity_key: str
    technology_field: str
    cooperation_methods: list[str]
    proposed_amount: Decimal | None
    currency: str
    summary: str
    source_url: str
    source_reference: str

    def referral_values(self) -> dict:
        """The values compared with an existing referral of the same id."""
        return {
            "entity": (self.entity_key, self.host_country),
            "date": self.date.value,
            "date_precision": self.date.precision,
            "post": self.post_name,
            "host_country": self.host_country,
            "technology_field": self.technology_field,
            "cooperation_methods": sorted(self.cooperation_methods),
            "proposed_amount": self.proposed_amount,
            "currency": self.currency,
            "summary": self.summary,
            "source_url": self.source_url,
            "source_reference": self.source_reference,
        }


@dataclass
class CheckedFile:
    records: list[ReferralRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    repeated_rows: int = 0  # identical copies of an earlier row, skipped
    rows_read: int = 0


def _check_row(
    line: int, row: dict[str, str], errors: list[RowError], today: date
) -> ReferralRecord | None:
    if "__extra__" in row:
        errors.append(
            RowError(line, "", f"the row has more cells than the header ({row['__extra__']})")
        )
        return None
    before = len(errors)

    values = {column: value.strip() for column, value in row.items()}
    too_long = False
    for column, limit in _MAX_LENGTH.items():
        if len(values.get(column, "")) > limit:
            errors.append(RowError(line, column, f"longer than {limit} characters"))
            too_long = True
    if too_long:  # checked no further: a blank would also be reported as missing
        return None
    cell = values.get

    def fail(column: str, reason: str) -> None:
        errors.append(RowError(line, column, reason))

    external_id = cell("referral_id", "")
    if not external_id:
        fail("referral_id", "missing")

    partial = None
    raw_date = cell("referral_date", "")
    if not raw_date:
        fail("referral_date", "missing")
    else:
        try:
            partial = _parse_date(raw_date, today)
        except ValueError as exc:
            fail("referral_date", str(exc))

    host_country = ""
    raw_country = cell("host_country", "")
    if not raw_country:
        fail("host_country", "missing")
    else:
        host_country = normalize.parse_country(raw_country) or ""
        if not host_country:
            fail("host_country", f"unknown country {raw_country!r}")

    entity_name = cell("entity_name", "")
    entity_key = normalize.name_key(entity_name) if entity_name else ""
    if not entity_name:
        fail("entity_name", "missing")
    elif not entity_key:
        fail("entity_name", f"{entity_name!r} has no letters or digits")

    raw_kind = cell("entity_type", "")
    kind = Entity.Kind.OTHER
    if raw_kind:
        kind = _ENTITY_TYPES.get(_choice_key(raw_kind))
        if not kind:
            choices = ", ".join(Entity.Kind.values)
            fail("entity_type", f"unknown entity type {raw_kind!r} (one of: {choices})")

    methods: list[str] = []
    for part in cell("cooperation_method", "").split(";"):
        part = part.strip()
        if not part:
            continue
        method = _METHODS.get(_choice_key(part))
        if method:
            if method not in methods:
                methods.append(method)
        else:
            fail("cooperation_method", f"unknown cooperation method {part!r}")

    amount = None
    raw_amount = cell("proposed_amount", "")
    currency = cell("currency", "").upper()
    if raw_amount:
        compact = raw_amount.replace(" ", "").replace("\u00a0", "")
        if not _AMOUNT_RE.match(compact):
            fail(
                "proposed_amount",
                f"{raw_amount!r} is not an amount (digits, at most 2 decimals, no sign)",
            )
        else:
            try:
                amount = Decimal(compact.replace(",", ""))
            except InvalidOperation:
                fail("proposed_amount", f"{raw_amount!r} is not an amount")
            if amount is not None and amount >= Decimal("1e16"):
                fail("proposed_amount", f"{raw_amount!r} is too large")
                amount = None
        if not currency:
            fail("currency", "an amount needs its currency (ISO 4217 code such as USD)")
    if currency and not normalize.is_currency_code(currency):
        fail("currency", f"unknown currency {currency!r} (ISO 4217 code such as USD)")

    source = cell("source_url", "")
    source_url = source_reference = ""
    if source.casefold().startswith(("http://", "https://")):
        # A light check: the full URL validator costs more than the rest of the row.
        if not _URL_RE.match(source):
            fail("source_url", f"{source!r} is not a valid URL")
        else:
            source_url = source
    elif len(source) > _REFERENCE_LENGTH:
        fail("source_url", f"a document reference is at most {_REFERENCE_LENGTH} characters")
    else:
        source_reference = source

    if len(errors) > before:
        return None
    return ReferralRecord(
        line=line,
        external_id=external_id,
        date=partial,
        post_name=" ".join(cell("post", "").split()),
        host_country=host_country,
        entity_name=" ".join(entity_name.split()),
        entity_name_native=cell("entity_name_native", ""),
        entity_kind=kind,
        entity_key=entity_key,
        technology_field=" ".join(cell("technology_field", "").casefold().split()),
        cooperation_methods=methods,
        proposed_amount=amount,
        currency=currency,
        summary=cell("summary", ""),
        source_url=source_url,
        source_reference=source_reference,
    )


def check_rows(
    rows: Iterable[tuple[int, dict[str, str]]],
    progress: Callable[[Iterable], Iterable] | None = None,
) -> CheckedFile:
    """Check every row and the rows against each other; collect every error."""
    with gc_paused():
        checked = CheckedFile()
        today = date.today()
        first_seen: dict[str, ReferralRecord] = {}
        entity_kinds: dict[tuple[str, str], ReferralRecord] = {}
        for line, row in progress(rows) if progress else rows:
            checked.rows_read += 1
            record = _check_row(line, row, checked.errors, today)
            if record is None:
                continue
            earlier = first_seen.get(record.external_id)
            if earlier is not None:
                if earlier.referral_values() == record.referral_values():
                    checked.repeated_rows += 1
                else:
                    checked.errors.append(
                        RowError(
                            line,
                            "referral_id",
                            f"referral id {record.external_id!r} is also on line {earlier.line} "
                            "with different content",
                        )
                    )
                continue
            first_seen[record.external_id] = record
            entity = (record.entity_key, record.host_country)
            other = entity_kinds.setdefault(entity, record)
            if other.entity_kind != record.entity_kind:
                checked.errors.append(
                    RowError(
                        line,
                        "entity_type",
                        f"{record.entity_name!r} is a {record.entity_kind} here but a "
                        f"{other.entity_kind} on line {other.line}",
                    )
                )
                continue
            checked.records.append(record)
        if checked.rows_read == 0:
            checked.errors.append(RowError(0, "", "the file has a header but no rows"))
    return checked
