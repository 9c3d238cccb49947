"""ROR, the Research Organization Registry (https://api.ror.org/v2): universities,
institutes and labs.

/v2/organizations?query= searches names, aliases, acronyms and labels. An item names the
organisation in `names` (types ror_display, label, alias, acronym; labels in other
languages), places it in `locations[].geonames_details.country_code`, and its
`external_ids` carry a Wikidata QID, a claim the Wikidata resolver can agree with.
Withdrawn records are left out.
"""

from cases.checks import matching
from cases.checks.http import HttpClient
from cases.checks.sources.common import JsonReader
from cases.identity.resolvers import (
    RESEARCH,
    Candidate,
    Resolver,
    best_first,
    problem,
    score_record,
    text,
)
from cases.models import Entity

ROR_PREFIX = "https://ror.org/"


def _names(item: dict) -> tuple[str, ...]:
    """The display name first, then labels, aliases and acronyms."""
    rank = {"ror_display": 0, "label": 1, "alias": 2, "acronym": 3}
    named = []
    for entry in item.get("names") or []:
        if isinstance(entry, dict) and text(entry.get("value")):
            types = entry.get("types") if isinstance(entry.get("types"), list) else []
            order = min((rank.get(kind, 4) for kind in types), default=4)
            named.append((order, text(entry["value"])))
    return tuple(dict.fromkeys(value for _, value in sorted(named, key=lambda pair: pair[0])))


def _country(item: dict) -> str:
    for location in item.get("locations") or []:
        details = location.get("geonames_details") if isinstance(location, dict) else None
        if isinstance(details, dict) and text(details.get("country_code")):
            return text(details["country_code"]).upper()
    return ""


def _wikidata(item: dict) -> str:
    for external in item.get("external_ids") or []:
        if isinstance(external, dict) and external.get("type") == "wikidata":
            preferred = text(external.get("preferred"))
            every = [text(value) for value in external.get("all") or []]
            return preferred or next((value for value in every if value), "")
    return ""


def parse_organizations(body: object) -> list[tuple[str, tuple[str, ...], str, str]]:
    """Return (ROR id, names, country, Wikidata QID) of each active item (pure)."""
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise problem("ror", "no items list in the body")
    found = []
    for item in body["items"]:
        if not isinstance(item, dict) or not text(item.get("id")).startswith(ROR_PREFIX):
            raise problem("ror", "an item without a https://ror.org/ id")
        if item.get("status", "active") == "withdrawn":
            continue
        names = _names(item)
        if names:
            found.append(
                (text(item["id"])[len(ROR_PREFIX) :], names, _country(item), _wikidata(item))
            )
    return found


def candidates_from(body: object, entity_names: list[str], country: str) -> list[Candidate]:
    found = []
    for ror_id, names, record_country, qid in parse_organizations(body):
        match = score_record(entity_names, country, names, record_country)
        found.append(
            Candidate(
                registry="ror",
                identifier=ror_id,
                name=names[0],
                score=match.score,
                explanation=f"ROR {ror_id}: {match.explanation}",
                names=names,
                country=record_country,
                claims={"wikidata": qid} if qid else {},
                url=f"{ROR_PREFIX}{ror_id}",
            )
        )
    return found


class RorResolver(Resolver):
    name = "ror"
    default_url = "https://api.ror.org/v2"
    # ROR allows 2,000 requests per 5-minute window per client; 6 a second stays under.
    rate_per_second = 6
    kinds = RESEARCH

    def propose(self, entity: Entity, client: HttpClient) -> tuple[list[Candidate], list[str]]:
        reader = JsonReader(client, self.base_url, public_url=self.default_url)
        data, _ = reader.get("/organizations", {"query": entity.name})
        found = candidates_from(data, matching.entity_names(entity), entity.country)
        return best_first(found), reader.asked


RESOLVER = RorResolver()
