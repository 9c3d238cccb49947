"""Companies House: UK company numbers from /search/companies (the checks' parser).

The search matches all words of `q` in a company's current name, else in a previous
one, which it then gives as `snippet`: both names are scored. Every record is a UK
company, so the country is GB; only UK entities are asked.
"""

import base64

from django.conf import settings

from cases.checks import matching
from cases.checks.http import HttpClient
from cases.checks.sources.common import JsonReader
from cases.checks.sources.companies_house import PUBLIC_URL, CompaniesHouseSource, parse_search
from cases.identity.resolvers import ORGANISATIONS, Candidate, Resolver, best_first, score_record
from cases.models import Entity


def candidates_from(body: object, entity_names: list[str], country: str) -> list[Candidate]:
    """Parse a /search/companies response into scored candidates (pure)."""
    found = []
    for company in parse_search(body):
        names = tuple(name for name in (company.name, company.former_name) if name)
        match = score_record(entity_names, country, names, "GB")
        found.append(
            Candidate(
                registry="companies_house",
                identifier=company.number,
                name=company.name,
                score=match.score,
                explanation=f"Companies House {company.number}: {match.explanation}",
                names=names,
                country="GB",
                url=PUBLIC_URL.format(number=company.number),
            )
        )
    return found


class CompaniesHouseResolver(Resolver):
    name = "companies_house"
    default_url = CompaniesHouseSource.default_url
    rate_per_second = CompaniesHouseSource.rate_per_second  # 600 per 5 minutes per key
    required_settings = ("COMPANIES_HOUSE_API_KEY",)
    kinds = ORGANISATIONS

    def skip_reason(self, entity: Entity) -> str:
        reason = super().skip_reason(entity)
        if not reason and entity.country != "GB":
            reason = "only for entities in the UK"
        return reason

    def propose(self, entity: Entity, client: HttpClient) -> tuple[list[Candidate], list[str]]:
        token = base64.b64encode(f"{settings.COMPANIES_HOUSE_API_KEY}:".encode()).decode("ascii")
        reader = JsonReader(client, self.base_url, headers={"Authorization": f"Basic {token}"})
        data, _ = reader.get("/search/companies", {"q": entity.name, "items_per_page": 20})
        found = candidates_from(data, matching.entity_names(entity), entity.country)
        return best_first(found), reader.asked


RESOLVER = CompaniesHouseResolver()
