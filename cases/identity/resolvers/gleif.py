"""GLEIF: LEI records by legal name in the entity's country, then by any name.

/lei-records with filter[entity.legalName] (the name as registered, in its local script)
and the legal address's country; when that finds nothing, filter[fulltext], which also
searches other and transliterated names ("Bayerische Motoren Werke" for BMW), in the
country and then in any country. Records are
read by the checks' own parser (cases.checks.sources.gleif.parsing).
"""

from cases.checks import matching
from cases.checks.http import HttpClient
from cases.checks.sources.common import JsonReader
from cases.checks.sources.gleif import JSON_API, GleifSource
from cases.checks.sources.gleif.parsing import RECORD_URL, LeiRecord, parse_lei_records
from cases.identity.resolvers import ORGANISATIONS, Candidate, Resolver, best_first, score_record
from cases.models import Entity


def record_candidate(record: LeiRecord, entity_names: list[str], country: str) -> Candidate:
    """A candidate from one LEI record, scored on its legal and other names."""
    names = tuple(dict.fromkeys(name for name in (record.legal_name, *record.other_names) if name))
    match = score_record(entity_names, country, names, record.legal_country)
    return Candidate(
        registry="gleif",
        identifier=record.lei,
        name=record.legal_name,
        score=match.score,
        explanation=f"GLEIF {record.lei}: {match.explanation}",
        names=names,
        country=record.legal_country,
        url=RECORD_URL.format(lei=record.lei),
    )


def candidates_from(body: object, entity_names: list[str], country: str) -> list[Candidate]:
    """Parse a /lei-records document into scored candidates (pure)."""
    return [record_candidate(record, entity_names, country) for record in parse_lei_records(body)]


class GleifResolver(Resolver):
    name = "gleif"
    default_url = GleifSource.default_url
    rate_per_second = GleifSource.rate_per_second  # 60 a minute, shared with the check
    kinds = ORGANISATIONS

    def propose(self, entity: Entity, client: HttpClient) -> tuple[list[Candidate], list[str]]:
        reader = JsonReader(client, self.base_url, public_url=self.default_url, headers=JSON_API)
        names = matching.entity_names(entity)
        country = {"filter[entity.legalAddress.country]": entity.country, "page[size]": 10}
        data, _ = reader.get("/lei-records", {"filter[entity.legalName]": entity.name, **country})
        found = candidates_from(data, names, entity.country)
        # Then any name in the country; then anywhere, since a group's LEI is often its
        # holding's in another country (Lumileds, referred in the US, is a Dutch B.V.):
        # the country penalty then ranks it below a record in the country.
        for params in ({**country}, {"page[size]": 10}):
            if best_first(found):
                break
            data, _ = reader.get("/lei-records", {"filter[fulltext]": entity.name, **params})
            found += candidates_from(data, names, entity.country)
        return best_first(found), reader.asked


RESOLVER = GleifResolver()
