"""Checking the rows of a referral file before anything is written.

`check_rows` validates every row and the file as a whole and returns the clean records
with every error found, so a file with bad rows can be refused whole with each bad row
named. `check_row` checks one row with a checker per column (`clean_<column>`).
Writing the records is `cases.intake.services.referrals_import`.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache

from cases import normalize
from cases.intake.files import ROW_PROBLEM, gc_paused
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
    # What was changed in the file's text without refusing it, one line each, to show in
    # the import's report (ImportResult.warnings).
    warnings: list[str] = field(default_factory=list)


class CellError(ValueError):
    """Raised by a column checker: the cell cannot be used, for each of `reasons`."""

    def __init__(self, *reasons: str) -> None:
        super().__init__(*reasons)
        self.reasons = reasons


# A checker per column: each takes the stripped text of its cell and returns the clean
# value or raises CellError. The native name and the summary are taken as written.


def clean_referral_id(text: str) -> str:
    if not text:
        raise CellError("missing")
    return text


def clean_referral_date(text: str, today: date) -> normalize.PartialDate:
    if not text:
        raise CellError("missing")
    try:
        return _parse_date(text, today)
    except ValueError as exc:
        raise CellError(str(exc)) from None


def clean_post(text: str) -> str:
    return " ".join(text.split())


def clean_host_country(text: str) -> str:
    """Return the ISO 3166 alpha-2 code of a country given by name or code."""
    if not text:
        raise CellError("missing")
    code = normalize.parse_country(text)
    if not code:
        raise CellError(f"unknown country {text!r}")
    return code


def clean_entity_name(text: str) -> tuple[str, str]:
    """Return the name with its spaces collapsed, and its name key."""
    if not text:
        raise CellError("missing")
    key = normalize.name_key(text)
    if not key:
        raise CellError(f"{text!r} has no letters or digits")
    return " ".join(text.split()), key


def clean_entity_type(text: str) -> str:
    """Return the Entity.Kind a type names (by value, label or a common synonym)."""
    if not text:
        return Entity.Kind.OTHER
    kind = _ENTITY_TYPES.get(_choice_key(text))
    if not kind:
        choices = ", ".join(Entity.Kind.values)
        raise CellError(f"unknown entity type {text!r} (one of: {choices})")
    return kind


def clean_technology_field(text: str) -> str:
    return " ".join(text.casefold().split())


def clean_cooperation_method(text: str) -> list[str]:
    """Return the distinct CooperationMethods of a ";"-separated list, in order given."""
    methods: list[str] = []
    unknown = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        method = _METHODS.get(_choice_key(part))
        if not method:
            unknown.append(f"unknown cooperation method {part!r}")
        elif method not in methods:
            methods.append(method)
    if unknown:
        raise CellError(*unknown)
    return methods


def clean_proposed_amount(text: str) -> Decimal | None:
    """Return the amount of "1,000,000", "2500.50" or "1 000"; None for a blank cell."""
    if not text:
        return None
    compact = text.replace(" ", "").replace("\u00a0", "")
    if not _AMOUNT_RE.match(compact):
        raise CellError(f"{text!r} is not an amount (digits, at most 2 decimals, no sign)")
    try:
        amount = Decimal(compact.replace(",", ""))
    except InvalidOperation:
        raise CellError(f"{text!r} is not an amount") from None
    if amount >= Decimal("1e16"):
        raise CellError(f"{text!r} is too large")
    return amount


def clean_currency(text: str, *, amount_given: bool = False) -> str:
    """Return the upper-cased ISO 4217 code; one is required when an amount is given."""
    currency = text.upper()
    if amount_given and not currency:
        raise CellError("an amount needs its currency (ISO 4217 code such as USD)")
    if currency and not normalize.is_currency_code(currency):
        raise CellError(f"unknown currency {currency!r} (ISO 4217 code such as USD)")
    return currency


def clean_source_url(text: str) -> tuple[str, str]:
    """Return (URL, "") for a web address, else ("", text) for a document reference."""
    if not text.casefold().startswith(("http://", "https://")):
        if len(text) > _REFERENCE_LENGTH:
            raise CellError(f"a document reference is at most {_REFERENCE_LENGTH} characters")
        return "", text
    # A light check: the full URL validator costs more than the rest of the row.
    if not _URL_RE.match(text):
        raise CellError(f"{text!r} is not a valid URL")
    return text, ""


def _too_long(line: int, cells: dict[str, str]) -> list[RowError]:
    return [
        RowError(line, column, f"longer than {limit} characters")
        for column, limit in _MAX_LENGTH.items()
        if len(cells.get(column, "")) > limit
    ]


def check_row(
    line: int, row: dict[str, str], today: date
) -> tuple[ReferralRecord | None, list[RowError]]:
    """Check one row; return its record, or None and every error found in it."""
    if ROW_PROBLEM in row:
        return None, [RowError(line, "", row[ROW_PROBLEM])]
    cells = {column: value.strip() for column, value in row.items()}
    errors = _too_long(line, cells)
    if errors:  # checked no further: a blank would also be reported as missing
        return None, errors

    def clean(column: str, checker: Callable, *args, **kwargs):
        try:
            return checker(cells.get(column, ""), *args, **kwargs)
        except CellError as exc:
            errors.extend(RowError(line, column, reason) for reason in exc.reasons)
            return None

    external_id = clean("referral_id", clean_referral_id)
    partial = clean("referral_date", clean_referral_date, today)
    host_country = clean("host_country", clean_host_country)
    name = clean("entity_name", clean_entity_name)
    kind = clean("entity_type", clean_entity_type)
    methods = clean("cooperation_method", clean_cooperation_method)
    amount = clean("proposed_amount", clean_proposed_amount)
    amount_given = bool(cells.get("proposed_amount"))
    currency = clean("currency", clean_currency, amount_given=amount_given)
    source = clean("source_url", clean_source_url)
    if errors:
        return None, errors
    return ReferralRecord(
        line=line,
        external_id=external_id,
        date=partial,
        post_name=clean_post(cells.get("post", "")),
        host_country=host_country,
        entity_name=name[0],
        entity_name_native=cells.get("entity_name_native", ""),
        entity_kind=kind,
        entity_key=name[1],
        technology_field=clean_technology_field(cells.get("technology_field", "")),
        cooperation_methods=methods,
        proposed_amount=amount,
        currency=currency,
        summary=cells.get("summary", ""),
        source_url=source[0],
        source_reference=source[1],
    ), []


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
        invisible = _InvisibleReport()
        for line, row in progress(rows) if progress else rows:
            checked.rows_read += 1
            row = invisible.strip(line, row)
            record, errors = check_row(line, row, today)
            if record is None:
                checked.errors.extend(errors)
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
        checked.warnings.extend(invisible.lines())
    return checked


class _InvisibleReport:
    """Strips invisible formatting characters (`normalize.strip_invisible`) from every
    cell of the rows, and words a warning for each row that had some, up to a limit."""

    LISTED = 50

    def __init__(self) -> None:
        self.listed: list[str] = []
        self.unlisted_rows = 0

    def strip(self, line: int, row: dict[str, str]) -> dict[str, str]:
        removed: dict[str, int] = {}
        cleaned = row
        for column, value in row.items():
            if value.isascii():  # constant time, and nearly every cell
                continue
            clean, count = normalize.strip_invisible(value)
            if count:
                if cleaned is row:
                    cleaned = dict(row)
                cleaned[column] = clean
                removed[column] = count
        if removed:
            if len(self.listed) < self.LISTED:
                self.listed.append(_invisible_warning(line, removed))
            else:
                self.unlisted_rows += 1
        return cleaned

    def lines(self) -> list[str]:
        if not self.unlisted_rows:
            return self.listed
        more = f"invisible control characters were also removed from {self.unlisted_rows} "
        return [*self.listed, more + "more row(s)"]


def _invisible_warning(line: int, removed: dict[str, int]) -> str:
    total = sum(removed.values())
    noun = "character" if total == 1 else "characters"
    return f"line {line}: removed {total} invisible control {noun} from {', '.join(removed)}"
