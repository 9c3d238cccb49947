"""GLEIF, the Global LEI Index (https://api.gleif.org/api/v1): who owns whom, from the
level-2 relationship data that legal entities report with their LEI.

The entity's LEI is taken from the entity, or found by legal name and country
(/lei-records with filter[entity.legalName], then /fuzzycompletions). Its children
(/direct-children, /ultimate-children) and parents (/direct-parent, /ultimate-parent; a
404 there means no parent is reported) are read, and a child or parent whose legal or
headquarters address is in CN, HK or MO is a hit: a child is a subsidiary in China, a
parent an acquisition by a Chinese party. The relationship record
(/direct-child-relationships, /ultimate-child-relationships, /direct-parent-relationship,
/ultimate-parent-relationship) dates it with its RELATIONSHIP_PERIOD start (the
counterparty's LEI registration says nothing of when the relationship began). Registry
relationships are returned whatever their date; the services label them before or after.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urljoin

from django.conf import settings

from cases.checks import matching
from cases.checks.http import HttpClient, PermanentHttpError
from cases.checks.matching import NameMatch
from cases.checks.sources import Hit, SearchResult, Source
from cases.checks.sources.common import JsonReader, Pages, dod_flags, parse_day
from cases.models import Entity, Finding

JSON_API = {"Accept": "application/vnd.api+json"}
PAGE_SIZE = 100  # GLEIF allows up to 200; 100 keeps one page of a large group readable
MAX_PAGES = 10  # per list; a group with more than 1,000 children is cut short, and said so
RECORD_URL = "https://search.gleif.org/#/record/{lei}"
LEI_GIVEN = NameMatch(100.0, "LEI given on the entity")


@dataclass(frozen=True)
class LeiRecord:
    """The parts of a GLEIF LEI record a check needs."""

    lei: str
    legal_name: str
    other_names: tuple[str, ...]
    legal_country: str
    headquarters_country: str
    city: str

    @property
    def chinese_country(self) -> str:
        """CN, HK or MO when the legal or headquarters address is there, else ""."""
        for country in (self.legal_country, self.headquarters_country):
            if country in matching.CHINA:
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
        records.append(
            LeiRecord(
                lei=lei,
                legal_name=_text(_mapping(entity.get("legalName")).get("name")),
                other_names=tuple(name for name in other_names if name),
                legal_country=_text(legal.get("country")).upper(),
                headquarters_country=_text(headquarters.get("country")).upper(),
                city=_text(legal.get("city")) or _text(headquarters.get("city")),
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


# ----------------------------------------------------------------------------- fetching


def _following(data: object, url: str, params: dict | None) -> tuple[str, None] | None:
    """The next page by the document's `links.next`."""
    link = next_link(data)
    return (urljoin(url, link), None) if link else None


@dataclass
class _Related:
    """The search for one LEI's Chinese relations, and the hits found so far: one per
    counterparty LEI, a direct relation before an ultimate one and a child before a
    parent."""

    reader: JsonReader
    lei: str
    name: str
    match: NameMatch
    hits: dict[str, Hit] = field(default_factory=dict)

    def _list(self, path: str) -> Pages:
        return self.reader.pages(
            f"/lei-records/{self.lei}/{path}",
            {"page[size]": PAGE_SIZE},
            _following,
            max_pages=MAX_PAGES,
        )

    def _hit(
        self, record: LeiRecord, role: Role, relationship: Relationship | None, evidence: bytes
    ) -> Hit | None:
        return relationship_hit(
            record,
            role=role,
            subject_lei=self.lei,
            subject_name=self.name,
            relationship=relationship,
            match=self.match,
            evidence=evidence,
        )

    def add_children(self, role: Role, lineage: str) -> None:
        """Add the children in China ("direct" or "ultimate" `lineage`), dated by their
        relationship records (read only when there is such a child)."""
        chinese = [
            (record, body)
            for data, body in self._list(f"{lineage}-children")
            for record in parse_lei_records(data)
            if record.chinese_country and record.lei not in self.hits
        ]
        if not chinese:
            return
        relationships = {
            (relationship.start_lei, relationship.end_lei): relationship
            for data, _ in self._list(f"{lineage}-child-relationships")
            for relationship in parse_relationships(data)
        }
        for record, body in chinese:
            relationship = relationships.get((record.lei, self.lei))
            self.hits[record.lei] = self._hit(record, role, relationship, body)

    def add_parent(self, role: Role, lineage: str) -> None:
        """Add the parent ("direct" or "ultimate" `lineage`) when it is in China; a 404
        means no parent is reported."""
        got = self.reader.get(f"/lei-records/{self.lei}/{lineage}-parent", none_if_missing=True)
        if got is None:
            return
        data, body = got
        for record in parse_lei_records(data):
            if not record.chinese_country or record.lei in self.hits:
                continue
            related = self.reader.get(
                f"/lei-records/{self.lei}/{lineage}-parent-relationship", none_if_missing=True
            )
            relationship = next(
                (
                    found
                    for found in (parse_relationships(related[0]) if related else [])
                    if (found.start_lei, found.end_lei) == (self.lei, record.lei)
                ),
                None,
            )
            self.hits[record.lei] = self._hit(record, role, relationship, body)


class GleifSource(Source):
    name = "gleif"
    default_url = "https://api.gleif.org/api/v1"
    # GLEIF asks clients to stay under 60 requests a minute.
    rate_per_second = 1

    def skip_reason(self, entity: Entity) -> str:
        reason = super().skip_reason(entity)
        if not reason and entity.kind == Entity.Kind.INDIVIDUAL:
            reason = "GLEIF has LEIs for legal entities, not individuals"
        return reason

    def search(self, entity: Entity, since: date, client: HttpClient) -> SearchResult:
        reader = JsonReader(client, self.base_url, public_url=self.default_url, headers=JSON_API)
        if entity.lei:
            lei, match = entity.lei, LEI_GIVEN
        else:
            found = self._find_lei(reader, entity, matching.entity_names(entity))
            if found is None:
                reader.asked.append(f"no LEI record in {entity.country} matched the name")
                return SearchResult(query="\n".join(reader.asked))
            lei, match = found
        related = _Related(reader, lei, entity.name, match)
        related.add_children(DIRECT_CHILD, "direct")
        related.add_children(ULTIMATE_CHILD, "ultimate")
        related.add_parent(DIRECT_PARENT, "direct")
        related.add_parent(ULTIMATE_PARENT, "ultimate")
        reader.asked.insert(0, f"LEI {lei}: {match.explanation}")
        return SearchResult(hits=list(related.hits.values()), query="\n".join(reader.asked))

    def _find_lei(
        self, reader: JsonReader, entity: Entity, names: list[str]
    ) -> tuple[str, NameMatch] | None:
        """Find the entity's LEI by legal name in its country; None below the threshold."""
        threshold = settings.WISHLIST_MATCH_THRESHOLD
        data, _ = reader.get(
            "/lei-records",
            {
                "filter[entity.legalName]": entity.name,
                "filter[entity.legalAddress.country]": entity.country,
                "page[size]": 10,
            },
        )
        best = best_record(parse_lei_records(data), names, entity.country)
        if best is None or best[1].score < threshold:
            best = self._by_completion(reader, entity, names, threshold)
        if best is None or best[1].score < threshold:
            return None
        record, match = best
        return record.lei, NameMatch(
            match.score, f"found by name in {entity.country}: {match.explanation}"
        )

    def _by_completion(
        self, reader: JsonReader, entity: Entity, names: list[str], threshold: float
    ) -> tuple[LeiRecord, NameMatch] | None:
        """The best record among GLEIF's fuzzy completions of the name, in the country.

        The legal-name filter wants the name as registered; fuzzy completion forgives
        spelling, but says nothing of the country, so the candidates' records are read
        to check it.
        """
        data, _ = reader.get("/fuzzycompletions", {"field": "entity.legalName", "q": entity.name})
        scored = sorted(
            ((matching.match_name(names, value), lei) for value, lei in parse_completions(data)),
            key=lambda pair: -pair[0].score,
        )
        candidates = list(dict.fromkeys(lei for found, lei in scored if found.score >= threshold))
        if not candidates:
            return None
        data, _ = reader.get(
            "/lei-records", {"filter[lei]": ",".join(candidates[:10]), "page[size]": 10}
        )
        return best_record(parse_lei_records(data), names, entity.country)


SOURCE = GleifSource()
