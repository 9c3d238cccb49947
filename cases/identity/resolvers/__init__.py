"""Registry resolvers: given an entity, propose the registry records that may be it.

One module per registry (gleif, sec_edgar, companies_house, ror, openalex, wikidata).
Each has pure parsers of the registry's JSON and a `Resolver` whose `propose()` asks
through the one HTTP client (cases.checks.http) under the shared per-registry rate
limit, with its base URL overridable like the sources' (`WISHLIST_<NAME>_URL`). A
resolver writes nothing: cases.identity.services stores what it proposes.

A body that is not what the registry documents raises PermanentHttpError (like the
sources' parsers), so the services record a failed attempt and propose nothing.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings

from cases import normalize
from cases.checks import matching
from cases.checks.http import HttpClient, PermanentHttpError
from cases.checks.matching import NameMatch
from cases.models import REGISTRY_FIELDS, Entity

# How each registry's identifier is checked before a candidate is stored: the same
# rules as the entity's fields (cases.normalize, cases.validators).
IDENTIFIER_ERRORS = {
    "gleif": normalize.lei_error,
    "sec_edgar": normalize.cik_error,
    "companies_house": normalize.uk_company_number_error,
    "ror": normalize.ror_error,
    "openalex": normalize.openalex_error,
    "wikidata": normalize.wikidata_error,
}
COUNTRY_DISAGREES = 25.0  # points off a name score when the record is in another country
MAX_CANDIDATES = 5  # per registry and entity, best first


@dataclass(frozen=True)
class Candidate:
    """A registry record proposed as the entity, before it is stored."""

    registry: str
    identifier: str
    name: str  # the record's primary name
    score: float
    explanation: str
    names: tuple[str, ...] = ()  # every name the record gives (legal, other, transliterated)
    country: str = ""
    # Identifiers the record carries for other registries, by registry name (Wikidata's
    # P1278 is {"gleif": LEI}); two registries agreeing by them may confirm automatically.
    claims: dict[str, str] = field(default_factory=dict)
    url: str = ""  # the record's page, for the analyst

    def evidence(self, asked: list[str]) -> dict:
        return {
            "asked": asked,
            "names": list(self.names),
            "country": self.country,
            "claims": self.claims,
            "url": self.url,
        }


def problem(registry: str, message: str) -> PermanentHttpError:
    return PermanentHttpError(f"{registry}: {message}")


def text(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def score_record(
    entity_names: list[str], country: str, names: tuple[str, ...], record_country: str
) -> NameMatch:
    """Score a record by its best-matching name, less COUNTRY_DISAGREES in another country.

    A record without a country is neither helped nor hurt: the explanation says so.
    """
    best = NameMatch(0.0, "no name given")
    for index, name in enumerate(names):
        found = matching.match_name(entity_names, name)
        if found.score > best.score:
            label = "legal name" if index == 0 else "other name"
            best = NameMatch(found.score, f"{label} {found.explanation}")
    if not record_country or not country:
        return NameMatch(best.score, f"{best.explanation}; no country to compare")
    if record_country == country:
        return NameMatch(best.score, f"{best.explanation}; country {country} agrees")
    return NameMatch(
        max(0.0, round(best.score - COUNTRY_DISAGREES, 1)),
        f"{best.explanation}; but the record is in {record_country}, not {country} "
        f"(-{COUNTRY_DISAGREES:.0f})",
    )


def best_first(candidates: list[Candidate]) -> list[Candidate]:
    """At most MAX_CANDIDATES, one per identifier, best score first, at or above the
    proposing threshold (WISHLIST_RESOLVE_MIN_SCORE)."""
    kept: dict[str, Candidate] = {}
    for candidate in sorted(candidates, key=lambda found: -found.score):
        if candidate.score >= settings.WISHLIST_RESOLVE_MIN_SCORE:
            kept.setdefault(candidate.identifier, candidate)
    return list(kept.values())[:MAX_CANDIDATES]


class Resolver:
    """Base class: subclasses set `name`, `default_url`, `rate_per_second`, `kinds`."""

    name = ""
    default_url = ""
    rate_per_second: float | None = None
    required_settings: tuple[str, ...] = ()
    kinds: tuple[str, ...] = tuple(Entity.Kind)  # entity kinds the registry holds

    @property
    def field(self) -> str:
        return REGISTRY_FIELDS[self.name]

    @property
    def base_url(self) -> str:
        """The base URL; WISHLIST_<NAME>_URL replaces it (the same setting the source of
        that registry reads, or WISHLIST_ROR_URL / WISHLIST_WIKIDATA_URL)."""
        override = settings.WISHLIST_SOURCE_URLS.get(self.name) or (
            settings.WISHLIST_RESOLVER_URLS.get(self.name, "")
        )
        return (override or "").rstrip("/") or self.default_url

    @property
    def rate_limit(self) -> float | None:
        """Requests a second, shared with the check of the same registry (the limiter's
        key is the registry's name), overridable with WISHLIST_<NAME>_RATE."""
        rate = settings.WISHLIST_SOURCE_RATES.get(self.name)
        if rate is None:
            rate = settings.WISHLIST_RESOLVER_RATES.get(self.name)
        return self.rate_per_second if rate is None else rate

    def skip_reason(self, entity: Entity) -> str:
        """Why this registry is not asked about this entity, or "" when it is."""
        missing = [name for name in self.required_settings if not getattr(settings, name, "")]
        if missing:
            return f"not configured: set {', '.join(missing)}"
        if getattr(entity, self.field):
            return f"the entity already has its {self.field}"
        if entity.kind not in self.kinds:
            return f"{self.name} does not hold a {entity.get_kind_display()}"
        return ""

    def client(self) -> HttpClient:
        return HttpClient(source=self.name, rate_per_second=self.rate_limit)

    def propose(self, entity: Entity, client: HttpClient) -> tuple[list[Candidate], list[str]]:
        """Return (candidates best first, the URLs asked)."""
        raise NotImplementedError


ORGANISATIONS = tuple(kind for kind in Entity.Kind if kind != Entity.Kind.INDIVIDUAL)
RESEARCH = (
    Entity.Kind.UNIVERSITY,
    Entity.Kind.RESEARCH_INSTITUTE,
    Entity.Kind.GOVERNMENT_LAB,
    Entity.Kind.OTHER,
)


def _registry() -> dict[str, Resolver]:
    from cases.identity.resolvers import (
        companies_house,
        gleif,
        openalex,
        ror,
        sec_edgar,
        wikidata,
    )

    modules = (gleif, sec_edgar, companies_house, ror, openalex, wikidata)
    return {module.RESOLVER.name: module.RESOLVER for module in modules}


_RESOLVERS: dict[str, Resolver] | None = None


def get_resolvers() -> dict[str, Resolver]:
    """Return the resolvers by registry name, in the order a resolution asks them
    (Wikidata last: its claims confirm what the others proposed)."""
    global _RESOLVERS
    if _RESOLVERS is None:
        _RESOLVERS = _registry()
    return _RESOLVERS


@contextmanager
def override(*resolvers: Resolver) -> Iterator[dict[str, Resolver]]:
    """Make these the only resolvers for the block (for tests), then restore them."""
    global _RESOLVERS
    saved = _RESOLVERS
    _RESOLVERS = {resolver.name: resolver for resolver in resolvers}
    try:
        yield _RESOLVERS
    finally:
        _RESOLVERS = saved
