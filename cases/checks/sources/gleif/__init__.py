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

from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urljoin

from django.conf import settings

from cases.checks import matching
from cases.checks.http import HttpClient
from cases.checks.matching import NameMatch
from cases.checks.sources import Hit, SearchResult, Source
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
from cases.models import Entity

JSON_API = {"Accept": "application/vnd.api+json"}
PAGE_SIZE = 100  # GLEIF allows up to 200; 100 keeps one page of a large group readable
MAX_PAGES = 10  # per list; a group with more than 1,000 children is cut short, and said so
LEI_GIVEN = NameMatch(100.0, "LEI given on the entity")


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

    def search(
        self, entity: Entity, since: date, client: HttpClient, *, until: date | None = None
    ) -> SearchResult:
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
