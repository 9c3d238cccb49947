"""GLEIF, the Global LEI Index (https://api.gleif.org/api/v1): who owns whom, from the
level-2 relationship data that legal entities report with their LEI.

The entity's LEI record is read (GET /lei-records/<LEI>) or found by legal name and
country (/lei-records with filter[entity.legalName], then /fuzzycompletions). Its
`relationships` links say which relations exist: children (/direct-children,
/ultimate-children) are read only when linked, and a parent only when the record links a
relationship record rather than a reporting exception. A parent is named and dated by
its relationship record (/direct-parent-relationship, /ultimate-parent-relationship),
and the parents' own records come in one /lei-records?filter[lei]=A,B request. A child
or parent whose legal or headquarters address is in CN, HK or MO is a hit: a child is a
subsidiary in China, a parent an acquisition by a Chinese party, dated by the
relationship's RELATIONSHIP_PERIOD start (the counterparty's LEI registration says
nothing of when the relationship began); children are dated by
/direct-child-relationships or /ultimate-child-relationships, read only when there is a
child in China. The registry's state is one window: relationships that started before
the referral are returned too (the services label them before), those starting after
the span's end (or after today) are left out.
"""

from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urljoin

from django.conf import settings
from django.utils import timezone

from cases.checks import matching
from cases.checks.http import HttpClient, PermanentHttpError
from cases.checks.matching import NameMatch
from cases.checks.sources import Hit, SearchResult, Source, SourceSkipped
from cases.checks.sources.common import JsonReader, Pages
from cases.checks.sources.gleif.parsing import (
    DIRECT_CHILD,
    DIRECT_PARENT,
    ULTIMATE_CHILD,
    ULTIMATE_PARENT,
    LeiRecord,
    Relationship,
    Role,
    best_record,
    next_link,
    parse_completions,
    parse_lei_records,
    parse_relationships,
    relationship_hit,
)
from cases.models import Entity, Finding

JSON_API = {"Accept": "application/vnd.api+json"}
PAGE_SIZE = 200  # the largest page GLEIF serves
MAX_PAGES = 10  # per list; a group with more than 2,000 children is cut short, and said so
LEI_GIVEN = NameMatch(100.0, "LEI given on the entity")


def _following(data: object, url: str, params: dict | None) -> tuple[str, None] | None:
    """The next page by the document's `links.next`."""
    link = next_link(data)
    return (urljoin(url, link), None) if link else None


def read_records(reader: JsonReader, leis: list[str]) -> dict[str, tuple[LeiRecord, bytes]]:
    """The LEI records of these LEIs, PAGE_SIZE to a request (`filter[lei]=A,B,...`),
    each with the body it came in."""
    found: dict[str, tuple[LeiRecord, bytes]] = {}
    unique = list(dict.fromkeys(leis))
    for start in range(0, len(unique), PAGE_SIZE):
        group = unique[start : start + PAGE_SIZE]
        data, body = reader.get(
            "/lei-records", {"filter[lei]": ",".join(group), "page[size]": len(group)}
        )
        for record in parse_lei_records(data):
            found[record.lei] = (record, body)
    return found


@dataclass
class _Related:
    """The search for one LEI record's Chinese relations, and the hits found so far: one
    per counterparty LEI, a direct relation before an ultimate one and a child before a
    parent. Only the relations the record says exist are asked for; a relation that
    starts after `last` (the span's end) is left out and counted."""

    reader: JsonReader
    record: LeiRecord
    name: str
    match: NameMatch
    last: date
    hits: dict[str, Hit] = field(default_factory=dict)
    too_late: int = 0

    @property
    def lei(self) -> str:
        return self.record.lei

    def _late(self, relationship: Relationship | None) -> bool:
        if relationship and relationship.start and relationship.start > self.last:
            self.too_late += 1
            return True
        return False

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
        if not self.record.reports(f"{lineage}-children"):
            return
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
            if not self._late(relationship):
                self.hits[record.lei] = self._hit(record, role, relationship, body)

    def add_parents(self) -> None:
        """Add the direct and ultimate parents in China.

        Each parent the record reports is named by its relationship record, which also
        dates it; the parents' own records then come in one `filter[lei]` request (a
        direct parent that is also the ultimate one is read once). A parent whose
        relationship record is missing is read from /{lineage}-parent, undated.
        """
        wanted: list[tuple[Role, Relationship | None, str]] = []
        for role, lineage in ((DIRECT_PARENT, "direct"), (ULTIMATE_PARENT, "ultimate")):
            if not self.record.reports(f"{lineage}-parent"):
                continue
            got = self.reader.get(
                f"/lei-records/{self.lei}/{lineage}-parent-relationship", none_if_missing=True
            )
            relationship = next(
                (
                    found
                    for found in (parse_relationships(got[0]) if got else [])
                    if found.start_lei == self.lei
                ),
                None,
            )
            if relationship is not None:
                if not self._late(relationship):
                    wanted.append((role, relationship, relationship.end_lei))
                continue
            self._add_undated_parent(role, lineage)
        leis = [lei for _, _, lei in wanted if lei not in self.hits]
        records = read_records(self.reader, leis) if leis else {}
        for role, relationship, lei in wanted:
            if lei in records and lei not in self.hits:
                record, body = records[lei]
                hit = self._hit(record, role, relationship, body)
                if hit:
                    self.hits[lei] = hit

    def _add_undated_parent(self, role: Role, lineage: str) -> None:
        got = self.reader.get(f"/lei-records/{self.lei}/{lineage}-parent", none_if_missing=True)
        if got is None:
            return
        data, body = got
        for record in parse_lei_records(data):
            if record.chinese_country and record.lei not in self.hits:
                self.hits[record.lei] = self._hit(record, role, None, body)


class GleifSource(Source):
    """Who owns whom, as GLEIF's registry holds it today: one window.

    GLEIF asks clients to stay under 60 requests a minute. A check reads the entity's
    LEI record (or finds it by name), then only the relations that record says exist:
    an entity that reports exceptions for both parents and has no children costs that
    one request. `search_batch` reads the records of up to 200 entities with known LEIs
    in one request before following each one's links.
    """

    name = "gleif"
    default_url = "https://api.gleif.org/api/v1"
    rate_per_second = 1
    detects = (Finding.Kind.ACQUISITION, Finding.Kind.SUBSIDIARY)
    searched_with = ("lei",)

    def skip_reason(self, entity: Entity) -> str:
        reason = super().skip_reason(entity)
        if not reason and entity.kind == Entity.Kind.INDIVIDUAL:
            reason = "GLEIF has LEIs for legal entities, not individuals"
        return reason

    def _reader(self, client: HttpClient) -> JsonReader:
        return JsonReader(client, self.base_url, public_url=self.default_url, headers=JSON_API)

    def search(
        self, entity: Entity, since: date, client: HttpClient, *, until: date | None = None
    ) -> SearchResult:
        reader = self._reader(client)
        if entity.lei:
            data, _ = reader.get(f"/lei-records/{entity.lei}")
            record, match = self._given(parse_lei_records(data), entity.lei), LEI_GIVEN
        else:
            found = self._find_lei(reader, entity, matching.entity_names(entity))
            if found is None:
                reader.asked.append(f"no LEI record in {entity.country} matched the name")
                return SearchResult(query="\n".join(reader.asked))
            record, match = found
        return self._related(reader, entity, record, match, until)

    def search_batch(
        self,
        entities: list[Entity],
        since: date,
        client: HttpClient,
        *,
        until: date | None = None,
    ) -> list[SearchResult | SourceSkipped]:
        """Search several entities: the records of those with an LEI in one request per
        200, then each one's reported relations; the others by name as in `search`.
        Results come in the order of `entities`."""
        reader = self._reader(client)
        given = [entity.lei for entity in entities if entity.lei]
        records = read_records(reader, given) if given else {}
        shared = list(reader.asked)
        results: list[SearchResult | SourceSkipped] = []
        for entity in entities:
            if not entity.lei:
                results.append(self.search(entity, since, client, until=until))
                continue
            if entity.lei not in records:
                results.append(SourceSkipped(f"GLEIF holds no record for LEI {entity.lei}"))
                continue
            reader.asked = list(shared)
            record, _ = records[entity.lei]
            results.append(self._related(reader, entity, record, LEI_GIVEN, until))
        return results

    def _related(
        self,
        reader: JsonReader,
        entity: Entity,
        record: LeiRecord,
        match: NameMatch,
        until: date | None,
    ) -> SearchResult:
        today = timezone.now().date()
        last = min(until or today, today)
        related = _Related(reader, record, entity.name, match, last)
        related.add_children(DIRECT_CHILD, "direct")
        related.add_children(ULTIMATE_CHILD, "ultimate")
        related.add_parents()
        reader.asked.insert(0, f"LEI {record.lei}: {match.explanation}")
        if record.exceptions:
            reader.asked.append(
                "reporting exceptions instead of: " + ", ".join(sorted(record.exceptions))
            )
        if related.too_late:
            reader.asked.append(
                f"({related.too_late} relationship(s) starting after {last} left out)"
            )
        hits = [hit for hit in related.hits.values() if hit is not None]
        return SearchResult(hits=hits, query="\n".join(reader.asked))

    @staticmethod
    def _given(records: list[LeiRecord], lei: str) -> LeiRecord:
        for record in records:
            if record.lei == lei:
                return record
        raise PermanentHttpError(f"GLEIF: the record asked for is not LEI {lei}")

    def _find_lei(
        self, reader: JsonReader, entity: Entity, names: list[str]
    ) -> tuple[LeiRecord, NameMatch] | None:
        """Find the entity's LEI record by legal name in its country; None below the
        threshold."""
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
        return record, NameMatch(
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
