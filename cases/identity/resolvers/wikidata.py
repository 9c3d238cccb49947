"""Wikidata, through the Action API (https://www.wikidata.org/w/api.php).

`wbsearchentities` finds items whose label or alias starts with the name;
`wbgetentities` then reads their labels, aliases and claims in one request. Claims carry
other registries' identifiers (P1278 LEI, P5531 SEC CIK, P2622 Companies House id,
P6782 ROR, P10283 OpenAlex), which let a Wikidata item and a GLEIF record agree by
identifier, and P17 (country) as an item. The API answers its errors with HTTP 200 and
an `error` member: those are errors here too. The parsers of items are the Wikidata
check's (cases.checks.sources.wikidata.items), so both read statements alike.
"""

from cases.checks import matching
from cases.checks.http import HttpClient
from cases.checks.sources.common import JsonReader
from cases.checks.sources.wikidata import LANGUAGES
from cases.checks.sources.wikidata.items import (
    api_url,
    claim_values,
    item_countries,
    item_names,
    parse_items,
    parse_search,
    search_terms,
)
from cases.identity.resolvers import (
    ORGANISATIONS,
    Candidate,
    Resolver,
    best_first,
    score_record,
    text,
)
from cases.models import Entity

SEARCH_LIMIT = 7
CLAIMS = {
    "P1278": "gleif",
    "P5531": "sec_edgar",
    "P2622": "companies_house",
    "P6782": "ror",
    "P10283": "openalex",
}


def parse_entities(body: object) -> list[tuple[str, tuple[str, ...], str, dict[str, str]]]:
    """Return (QID, names, country, claims by registry) of each item found (pure)."""
    found = []
    for qid, item in parse_items(body).items():
        if qid != (text(item.get("id")) or qid):
            continue  # the same item under the id that redirects to it
        registry_claims = {}
        for prop, registry in CLAIMS.items():
            values = [text(value) for value in claim_values(item, prop) if text(value)]
            if values:
                registry_claims[registry] = values[0]
        countries = item_countries(item)
        names = item_names(item)
        if names:
            found.append((qid, names, countries[0] if countries else "", registry_claims))
    return found


def candidates_from(body: object, entity_names: list[str], country: str) -> list[Candidate]:
    found = []
    for qid, names, record_country, claims in parse_entities(body):
        match = score_record(entity_names, country, names, record_country)
        carried = ", ".join(f"{registry} {value}" for registry, value in claims.items())
        found.append(
            Candidate(
                registry="wikidata",
                identifier=qid,
                name=names[0],
                score=match.score,
                explanation=f"Wikidata {qid}: {match.explanation}"
                + (f"; carries {carried}" if carried else ""),
                names=names,
                country=record_country,
                claims=claims,
                url=f"https://www.wikidata.org/wiki/{qid}",
            )
        )
    return found


class WikidataResolver(Resolver):
    name = "wikidata"
    default_url = "https://www.wikidata.org/w/api.php"
    # Wikimedia sets no fixed limit for reads but asks for one request at a time;
    # 5 a second is well inside what serial requests from one client reach.
    rate_per_second = 5
    kinds = ORGANISATIONS

    def propose(self, entity: Entity, client: HttpClient) -> tuple[list[Candidate], list[str]]:
        reader = JsonReader(client, api_url(self.base_url), public_url=self.default_url)
        common = {"format": "json"}
        qids: list[str] = []
        for term in search_terms(entity.name):
            data, _ = reader.get(
                "",
                {
                    "action": "wbsearchentities",
                    "search": term,
                    "language": "en",
                    "type": "item",
                    "limit": SEARCH_LIMIT,
                    **common,
                },
            )
            qids = parse_search(data)
            if qids:
                break
        if not qids:
            return [], reader.asked
        data, _ = reader.get(
            "",
            {
                "action": "wbgetentities",
                "ids": "|".join(qids),
                "props": "labels|aliases|claims",
                # A well-known item has labels in a hundred languages.
                "languages": LANGUAGES,
                **common,
            },
        )
        found = candidates_from(data, matching.entity_names(entity), entity.country)
        return best_first(found), reader.asked


RESOLVER = WikidataResolver()
