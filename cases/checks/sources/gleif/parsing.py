"""Reading GLEIF's JSON:API documents: pure functions of a response body, tested on
recorded real responses, and the hit a relation in China makes.
"""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cases import rules
from cases.checks import matching
from cases.checks.http import PermanentHttpError
from cases.checks.matching import NameMatch
from cases.checks.sources import Hit
from cases.checks.sources.common import dod_flags, parse_day
from cases.models import Finding

RECORD_URL = "https://search.gleif.org/#/record/{lei}"


@dataclass(frozen=True)
class LeiRecord:
    """The parts of a GLEIF LEI record a check needs."""

    lei: str
    legal_name: str
    other_names: tuple[str, ...]
    legal_country: str
    headquarters_country: str
    city: str
    # The relations the record says exist ("direct-parent", "ultimate-parent",
    # "direct-children", "ultimate-children"), from its `relationships` links; None when
    # the document carries no links at all, so nothing can be ruled out.
    reported: frozenset[str] | None = None
    # The parents it reports an exception for instead ("direct-parent", ...).
    exceptions: frozenset[str] = frozenset()

    def reports(self, relation: str) -> bool:
        """Whether the record says this relation exists (or says nothing either way)."""
        return self.reported is None or relation in self.reported

    @property
    def chinese_country(self) -> str:
        """CN, HK or MO when the legal or headquarters address is there, else ""."""
        for country in (self.legal_country, self.headquarters_country):
            if country in rules.CHINESE_JURISDICTIONS:
                return country
        return ""

    def in_country(self, country: str) -> bool:
        return country in (self.legal_country, self.headquarters_country)


@dataclass(frozen=True)
class Relationship:
    """A GLEIF relationship record: start node reports being consolidated by end node."""

    start_lei: str
    end_lei: str
    type: str
    status: str
    start: date | None  # the RELATIONSHIP_PERIOD's start, as a local calendar day
    start_raw: str  # as GLEIF gives it, for the excerpt


@dataclass(frozen=True)
class Role:
    """How a related record stands to the entity: which side of which relationship."""

    label: str  # for the excerpt: "<counterparty> is <label> <entity>"
    relationship_type: str  # the type its relationship record has (used in external ids)
    kind: str  # Finding.Kind
    is_child: bool


DIRECT_CHILD = Role(
    "a direct child of", "IS_DIRECTLY_CONSOLIDATED_BY", Finding.Kind.SUBSIDIARY, True
)
ULTIMATE_CHILD = Role(
    "an ultimate child of", "IS_ULTIMATELY_CONSOLIDATED_BY", Finding.Kind.SUBSIDIARY, True
)
DIRECT_PARENT = Role(
    "the direct parent of", "IS_DIRECTLY_CONSOLIDATED_BY", Finding.Kind.ACQUISITION, False
)
ULTIMATE_PARENT = Role(
    "the ultimate parent of", "IS_ULTIMATELY_CONSOLIDATED_BY", Finding.Kind.ACQUISITION, False
)


def _problem(message: str) -> PermanentHttpError:
    return PermanentHttpError(f"GLEIF: {message}")


def _data(body: object) -> object:
    if isinstance(body, dict) and "data" not in body and isinstance(body.get("errors"), list):
        details = "; ".join(
            str(_mapping(error).get("detail") or _mapping(error).get("title") or "")
            for error in body["errors"]
        )
        raise _problem(f"the API answered errors instead of data: {details[:300]}")
    if not isinstance(body, dict) or "data" not in body:
        raise _problem("the response is not a JSON:API document with a 'data' member")
    return body["data"]


def _resources(body: object) -> list[dict]:
    """The resource objects of a document, whether `data` is one object or a list."""
    data = _data(body)
    if data is None:
        return []
    items = [data] if isinstance(data, dict) else data
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise _problem("'data' is neither a resource object nor a list of them")
    return items


def _mapping(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _instant(value: object) -> datetime | None:
    text = _text(value)
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def reported_day(value: object) -> date | None:
    """The calendar day an entity reported for a relationship date.

    GLEIF serves dates as UTC instants, so a day reported as local midnight east of
    Greenwich shows as the previous day's afternoon: 1 November 1995 in Beijing is
    1995-10-31T16:00:00Z, and India's midnight is 18:30Z. A time from 12:00 on, on a
    whole quarter hour with no seconds, is read as the next day's local midnight; any
    other time (a real timestamp) keeps its UTC day.
    """
    instant = _instant(value)
    if instant is None:
        return None
    if instant.utcoffset() not in (None, timedelta(0)):
        return instant.date()  # the offset is given: the day is as written
    if (
        instant.hour >= 12
        and instant.minute % 15 == 0
        and instant.second == 0
        and instant.microsecond == 0
    ):
        return instant.date() + timedelta(days=1)
    return instant.date()


PARENT_RELATIONS = ("direct-parent", "ultimate-parent")
CHILD_RELATIONS = ("direct-children", "ultimate-children")


def _reported(item: dict) -> tuple[frozenset[str] | None, frozenset[str]]:
    """The relations a record's `relationships` links say exist, and the parents it
    reports an exception for.

    GLEIF links a reported parent with `relationship-record` and `lei-record`, and a
    parent not reported with `reporting-exception` alone; children appear only when
    there are some (`related`, `relationship-records`).
    """
    links = item.get("relationships")
    if not isinstance(links, dict):
        return None, frozenset()
    reported, exceptions = set(), set()
    for relation in PARENT_RELATIONS + CHILD_RELATIONS:
        kinds = _mapping(_mapping(links.get(relation)).get("links"))
        if kinds.keys() & {"relationship-record", "lei-record", "related", "relationship-records"}:
            reported.add(relation)
        elif "reporting-exception" in kinds:
            exceptions.add(relation)
    return frozenset(reported), frozenset(exceptions)


def parse_lei_records(body: object) -> list[LeiRecord]:
    """Return the LEI records of a /lei-records document (one record or a list)."""
    records = []
    for item in _resources(body):
        attributes = _mapping(item.get("attributes"))
        entity = attributes.get("entity")
        lei = _text(attributes.get("lei")) or _text(item.get("id"))
        if not lei or not isinstance(entity, dict):
            raise _problem(f"a {item.get('type', 'resource')!r} has no lei or entity")
        legal = _mapping(entity.get("legalAddress"))
        headquarters = _mapping(entity.get("headquartersAddress"))
        other_names = [
            _text(_mapping(name).get("name"))
            for key in ("otherNames", "transliteratedOtherNames")
            for name in entity.get(key) or []
        ]
        reported, exceptions = _reported(item)
        records.append(
            LeiRecord(
                lei=lei,
                legal_name=_text(_mapping(entity.get("legalName")).get("name")),
                other_names=tuple(name for name in other_names if name),
                legal_country=_text(legal.get("country")).upper(),
                headquarters_country=_text(headquarters.get("country")).upper(),
                city=_text(legal.get("city")) or _text(headquarters.get("city")),
                reported=reported,
                exceptions=exceptions,
            )
        )
    return records


def parse_relationships(body: object) -> list[Relationship]:
    """Return the relationship records of a relationship document (one or a list)."""
    found = []
    for item in _resources(body):
        relationship = _mapping(_mapping(item.get("attributes")).get("relationship"))
        start_lei = _text(_mapping(relationship.get("startNode")).get("id"))
        end_lei = _text(_mapping(relationship.get("endNode")).get("id"))
        if not start_lei or not end_lei:
            raise _problem(f"relationship record {item.get('id')!r} has no start or end node")
        start_raw = ""
        for period in relationship.get("periods") or []:
            period = _mapping(period)
            if period.get("type") == "RELATIONSHIP_PERIOD":
                start_raw = _text(period.get("startDate"))
                break
        found.append(
            Relationship(
                start_lei=start_lei,
                end_lei=end_lei,
                type=_text(relationship.get("type")),
                status=_text(relationship.get("status")),
                start=reported_day(start_raw),
                start_raw=start_raw,
            )
        )
    return found


def parse_completions(body: object) -> list[tuple[str, str]]:
    """Return (name, LEI) of /fuzzycompletions or /autocompletions suggestions.

    Suggestions that point at no LEI record (a bare word) are left out.
    """
    found = []
    for item in _resources(body):
        value = _text(_mapping(item.get("attributes")).get("value"))
        related = _mapping(_mapping(item.get("relationships")).get("lei-records"))
        lei = _text(_mapping(related.get("data")).get("id"))
        if value and lei:
            found.append((value, lei))
    return found


def next_link(body: object) -> str:
    """The document's `links.next`, or "" on the last page."""
    links = body.get("links") if isinstance(body, dict) else None
    return _text(links.get("next")) if isinstance(links, dict) else ""


def best_record(
    records: list[LeiRecord], names: list[str], country: str
) -> tuple[LeiRecord, NameMatch] | None:
    """The record in this country whose legal or other name best matches our names."""
    best = None
    for record in records:
        if not record.in_country(country):
            continue
        for candidate in (record.legal_name, *record.other_names):
            found = matching.match_name(names, candidate)
            if best is None or found.score > best[1].score:
                best = (record, found)
    return best


def relationship_hit(
    record: LeiRecord,
    *,
    role: Role,
    subject_lei: str,
    subject_name: str,
    relationship: Relationship | None,
    match: NameMatch,
    evidence: bytes,
) -> Hit | None:
    """A hit when the related record is in China, else None. Pure."""
    country = record.chinese_country
    if not country:
        return None
    start, end = (record.lei, subject_lei) if role.is_child else (subject_lei, record.lei)
    relationship_type = (relationship.type if relationship else "") or role.relationship_type
    also = f" (also {record.other_names[0]})" if record.other_names else ""
    where = ", ".join(part for part in (record.city, country) if part)
    excerpt = (
        f"{record.legal_name}{also}, LEI {record.lei} ({where}), is {role.label} "
        f"{subject_name} (LEI {subject_lei}) in GLEIF"
    )
    if relationship:
        status = f" ({relationship.status})" if relationship.status else ""
        excerpt += f": {relationship.type or 'relationship'}{status}"
        if relationship.start:
            excerpt += f", since {relationship.start.isoformat()}"
            if relationship.start != parse_day(relationship.start_raw):
                excerpt += f" (GLEIF gives {relationship.start_raw}, local midnight in UTC)"
            excerpt += "."
        else:
            excerpt += ", with no relationship period start given."
    else:
        excerpt += "; no relationship record was found, so its start date is unknown."
    return Hit(
        kind=role.kind,
        counterparty_name=record.legal_name or record.lei,
        counterparty_country=country,
        event_date=relationship.start if relationship else None,
        event_date_precision="day" if relationship and relationship.start else "",
        url=RECORD_URL.format(lei=record.lei),
        excerpt=excerpt,
        external_id=f"gleif:{relationship_type}:{start}:{end}",
        score=match.score,
        explanation=match.explanation,
        evidence_sha256=hashlib.sha256(evidence).hexdigest(),
        flags=dod_flags(record.legal_name, *record.other_names),
    )
