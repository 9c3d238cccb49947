"""OpenAlex: institution ids from /institutions?search= in the entity's country.

Parsed by the check's parser (cases.checks.sources.openalex); an institution's ROR id is
a claim another registry (ROR) can agree with. The API key, when set, goes as a hidden
parameter, never into the recorded URLs.
"""

from django.conf import settings

from cases.checks import matching
from cases.checks.http import HttpClient
from cases.checks.sources.common import JsonReader
from cases.checks.sources.openalex import Institution, OpenAlexSource, parse_institutions
from cases.identity.resolvers import RESEARCH, Candidate, Resolver, best_first, score_record
from cases.models import Entity


def institution_candidate(
    institution: Institution, entity_names: list[str], country: str
) -> Candidate:
    names = (institution.display_name, *institution.alternative_names)
    match = score_record(entity_names, country, names, institution.country_code)
    return Candidate(
        registry="openalex",
        identifier=institution.id,
        name=institution.display_name,
        score=match.score,
        explanation=f"OpenAlex {institution.id}: {match.explanation}",
        names=names,
        country=institution.country_code,
        claims={"ror": institution.ror} if institution.ror else {},
        url=f"https://openalex.org/{institution.id}",
    )


def candidates_from(body: object, entity_names: list[str], country: str) -> list[Candidate]:
    """Parse an /institutions list into scored candidates (pure)."""
    return [
        institution_candidate(institution, entity_names, country)
        for institution in parse_institutions(body)
    ]


class OpenAlexResolver(Resolver):
    name = "openalex"
    default_url = OpenAlexSource.default_url
    rate_per_second = OpenAlexSource.rate_per_second
    kinds = RESEARCH

    def propose(self, entity: Entity, client: HttpClient) -> tuple[list[Candidate], list[str]]:
        hidden = {"api_key": settings.OPENALEX_API_KEY} if settings.OPENALEX_API_KEY else None
        reader = JsonReader(client, self.base_url, hidden_params=hidden)
        params = {"search": entity.name, "filter": f"country_code:{entity.country.lower()}"}
        data, _ = reader.get("/institutions", params)
        found = candidates_from(data, matching.entity_names(entity), entity.country)
        return best_first(found), reader.asked


RESOLVER = OpenAlexResolver()
