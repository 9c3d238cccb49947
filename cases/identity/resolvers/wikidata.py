"""Wikidata, through the Action API (https://www.wikidata.org/w/api.php).

`wbsearchentities` finds items whose label or alias starts with the name;
`wbgetentities` then reads their labels, aliases and claims in one request. Claims carry
other registries' identifiers (P1278 LEI, P5531 SEC CIK, P2622 Companies House id,
P6782 ROR, P10283 OpenAlex), which let a Wikidata item and a GLEIF record agree by
identifier, and P17 (country) as an item. The API answers its errors with HTTP 200 and
an `error` member: those are errors here too.
"""

from cases import normalize
from cases.checks import matching
from cases.checks.http import HttpClient
from cases.checks.sources.common import JsonReader
from cases.identity.resolvers import (
    ORGANISATIONS,
    Candidate,
    Resolver,
    best_first,
    problem,
    score_record,
    text,
)
from cases.models import Entity

SEARCH_LIMIT = 7
LANGUAGES = "en|mul|zh"
CLAIMS = {
    "P1278": "gleif",
    "P5531": "sec_edgar",
    "P2622": "companies_house",
    "P6782": "ror",
    "P10283": "openalex",
}
COUNTRY = "P17"
# Country items of the countries referrals come from (P17's values); another country
# gives no country to compare rather than a wrong one.
COUNTRY_ITEMS = {
    "Q30": "US", "Q145": "GB", "Q183": "DE", "Q142": "FR", "Q38": "IT", "Q17": "JP",
    "Q884": "KR", "Q148": "CN", "Q159": "RU", "Q16": "CA", "Q408": "AU", "Q55": "NL",
    "Q39": "CH", "Q34": "SE", "Q801": "IL", "Q668": "IN", "Q29": "ES", "Q40": "AT",
    "Q31": "BE", "Q35": "DK", "Q33": "FI", "Q20": "NO", "Q27": "IE", "Q36": "PL",
    "Q334": "SG", "Q865": "TW", "Q8646": "HK", "Q14773": "MO", "Q155": "BR", "Q664": "NZ",
    "Q45": "PT", "Q213": "CZ", "Q28": "HU", "Q41": "GR", "Q43": "TR", "Q96": "MX",
    "Q32": "LU", "Q191": "EE", "Q211": "LV", "Q37": "LT", "Q212": "UA", "Q218": "RO",
    "Q219": "BG", "Q224": "HR", "Q215": "SI", "Q214": "SK", "Q252": "ID", "Q833": "MY",
    "Q869": "TH", "Q881": "VN", "Q928": "PH", "Q79": "EG", "Q258": "ZA", "Q414": "AR",
    "Q298": "CL", "Q739": "CO", "Q419": "PE", "Q794": "IR", "Q851": "SA", "Q878": "AE",
    "Q843": "PK", "Q902": "BD", "Q189": "IS", "Q229": "CY", "Q233": "MT", "Q232": "KZ",
    "Q184": "BY", "Q1033": "NG", "Q114": "KE",
}  # fmt: skip


def search_terms(name: str) -> list[str]:
    """The name, then its name key (legal form and punctuation dropped): the search
    matches a label's or alias's prefix, so "Dendreon Corporation" misses an item
    labelled "Dendreon" and "dendreon" finds it (the search ignores case)."""
    key = normalize.name_key(name)
    return [name, key] if key and key != name.casefold() else [name]


def _error(body: object) -> None:
    if not isinstance(body, dict):
        raise problem("wikidata", "the response is not a JSON object")
    if isinstance(body.get("error"), dict):
        info = text(body["error"].get("info")) or text(body["error"].get("code"))
        raise problem("wikidata", f"API error: {info}")


def parse_search(body: object) -> list[str]:
    """Return the QIDs of a wbsearchentities response, in its order (pure)."""
    _error(body)
    if not isinstance(body.get("search"), list):
        raise problem("wikidata", "wbsearchentities: no search list")
    return [
        text(hit.get("id")) for hit in body["search"] if isinstance(hit, dict) and hit.get("id")
    ]


def _values(claims: dict, prop: str) -> list[object]:
    values = []
    for statement in claims.get(prop) or []:
        snak = statement.get("mainsnak") if isinstance(statement, dict) else None
        datavalue = snak.get("datavalue") if isinstance(snak, dict) else None
        if isinstance(datavalue, dict) and statement.get("rank") != "deprecated":
            values.append(datavalue.get("value"))
    return values


def _item_names(item: dict) -> tuple[str, ...]:
    """English label first, then every other label, then aliases."""
    labels = item.get("labels") if isinstance(item.get("labels"), dict) else {}
    aliases = item.get("aliases") if isinstance(item.get("aliases"), dict) else {}
    ordered = sorted(labels.items(), key=lambda pair: pair[0] != "en")
    names = [text(label.get("value")) for _, label in ordered if isinstance(label, dict)]
    for entries in aliases.values():
        names += [text(entry.get("value")) for entry in entries or [] if isinstance(entry, dict)]
    return tuple(dict.fromkeys(name for name in names if name))


def parse_entities(body: object) -> list[tuple[str, tuple[str, ...], str, dict[str, str]]]:
    """Return (QID, names, country, claims by registry) of each item found (pure)."""
    _error(body)
    if not isinstance(body.get("entities"), dict):
        raise problem("wikidata", "wbgetentities: no entities object")
    found = []
    for qid, item in body["entities"].items():
        if not isinstance(item, dict) or "missing" in item:
            continue
        claims = item.get("claims") if isinstance(item.get("claims"), dict) else {}
        registry_claims = {}
        for prop, registry in CLAIMS.items():
            values = [text(value) for value in _values(claims, prop) if text(value)]
            if values:
                registry_claims[registry] = values[0]
        country = ""
        for value in _values(claims, COUNTRY):
            if isinstance(value, dict) and value.get("id") in COUNTRY_ITEMS:
                country = COUNTRY_ITEMS[value["id"]]
                break
        names = _item_names(item)
        if names:
            found.append((text(item.get("id")) or qid, names, country, registry_claims))
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
        reader = JsonReader(client, self.base_url, public_url=self.default_url)
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
                # A well-known item has labels in a hundred languages; English, the
                # language-neutral "mul" and Chinese are the names this work needs.
                "languages": LANGUAGES,
                **common,
            },
        )
        found = candidates_from(data, matching.entity_names(entity), entity.country)
        return best_first(found), reader.asked


RESOLVER = WikidataResolver()
