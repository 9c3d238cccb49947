"""OpenAlex: works a referred university or research institute co-published with
institutions in mainland China, Hong Kong or Macau after the referral.

The institution is found by the entity's OpenAlex id (GET /institutions/I...), else its
ROR id (GET /institutions/ror:<id>), else by name within the entity's country
(GET /institutions?search=<name>&filter=country_code:<cc>, best name match at or above
the match threshold). Its works published since the referral date that also carry a
CN, HK or MO institution are then read with cursor paging
(GET /works?filter=institutions.id:<I>,institutions.country_code:CN|HK|MO,
from_publication_date:<since>), a bounded number of pages.

A hit is one (work, Chinese institution) pair: kind co_publication, the counterparty is
the institution with the country code OpenAlex gives it, the event date is the
publication date (or only its year). The key (OPENALEX_API_KEY) goes in the api_key
query parameter and is never recorded.
"""

import hashlib
from dataclasses import dataclass
from datetime import date

from django.conf import settings

from cases import normalize
from cases.checks import matching
from cases.checks.http import HttpClient, PermanentHttpError
from cases.checks.sources import Hit, SearchResult, Source, SourceSkipped
from cases.models import Entity, Finding

OPENALEX_PREFIX = "https://openalex.org/"
PER_PAGE = 100  # the largest page the API documents
MAX_PAGES = 10
WORK_FIELDS = (
    "id",
    "doi",
    "title",
    "display_name",
    "publication_date",
    "publication_year",
    "authorships",
)
APPLIES_TO = (Entity.Kind.UNIVERSITY, Entity.Kind.RESEARCH_INSTITUTE)


@dataclass(frozen=True)
class Institution:
    id: str  # short form, "I27837315"
    display_name: str
    country_code: str = ""
    ror: str = ""
    alternative_names: tuple[str, ...] = ()


def short_id(value: object) -> str:
    """Return "I27837315" for "https://openalex.org/I27837315" (or "" for no id)."""
    if not isinstance(value, str):
        return ""
    return value.removeprefix(OPENALEX_PREFIX).strip()


def _strings(value) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str) and item)


def _institution(record: object) -> Institution:
    if not isinstance(record, dict) or not short_id(record.get("id")):
        raise PermanentHttpError("OpenAlex: an institution record without an id")
    return Institution(
        id=short_id(record["id"]),
        display_name=str(record.get("display_name") or ""),
        country_code=str(record.get("country_code") or "").upper(),
        ror=str(record.get("ror") or "").removeprefix("https://ror.org/"),
        alternative_names=_strings(record.get("display_name_alternatives"))
        + _strings(record.get("display_name_acronyms")),
    )


def parse_institution(data: object) -> Institution:
    """Parse a single-institution response (GET /institutions/<id>)."""
    return _institution(data)


def _results(data: object, what: str) -> list:
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise PermanentHttpError(f"OpenAlex {what}: no results list in the body")
    return data["results"]


def parse_institutions(data: object) -> list[Institution]:
    """Parse an institution list response ({"meta": ..., "results": [...]})."""
    return [_institution(record) for record in _results(data, "institutions")]


def institution_match(names: list[str], institution: Institution) -> matching.NameMatch:
    """The best match of our names against the institution's name and alternatives."""
    best = matching.NameMatch(0.0, f"no name matched {institution.display_name!r}")
    for candidate in (institution.display_name, *institution.alternative_names):
        found = matching.match_name(names, candidate)
        if found.score > best.score:
            best = found
    return best


def best_institution(
    names: list[str], institutions: list[Institution], threshold: float
) -> tuple[Institution, matching.NameMatch] | None:
    """The best-matching institution at or above the threshold, or None."""
    scored = [(institution_match(names, inst), inst) for inst in institutions]
    scored = [(found, inst) for found, inst in scored if found.score >= threshold]
    if not scored:
        return None
    found, inst = max(scored, key=lambda pair: pair[0].score)
    return inst, found


def _work_date(work: dict) -> tuple[date | None, str]:
    published = work.get("publication_date")
    if isinstance(published, str):
        try:
            return date.fromisoformat(published[:10]), normalize.DatePrecision.DAY
        except ValueError:
            pass
    year = work.get("publication_year")
    if isinstance(year, int) and 1900 <= year <= 9999:
        return date(year, 1, 1), normalize.DatePrecision.YEAR
    return None, ""


def parse_work(
    work: object,
    *,
    institution_id: str,
    match: matching.NameMatch,
    since: date,
    evidence_sha256: str,
) -> list[Hit]:
    """Return one co-publication Hit per CN/HK/MO institution on the work.

    `institution_id` is our institution's (never a counterparty of itself); `match` says
    how the institution was tied to the entity. A work dated before `since` (its whole
    period, for a year-only date) gives nothing.
    """
    if not isinstance(work, dict) or not short_id(work.get("id")):
        raise PermanentHttpError("OpenAlex: a work without an id")
    event_date, precision = _work_date(work)
    if event_date is not None and normalize.period_end(event_date, precision) < since:
        return []
    work_id = short_id(work["id"])
    title = work.get("title") or work.get("display_name") or ""
    url = work.get("doi") if isinstance(work.get("doi"), str) and work.get("doi") else work["id"]
    authorships = work.get("authorships")
    if not isinstance(authorships, list):
        authorships = []
    hits: dict[str, Hit] = {}
    for authorship in authorships:
        institutions = authorship.get("institutions") if isinstance(authorship, dict) else None
        for record in institutions if isinstance(institutions, list) else []:
            if not isinstance(record, dict):
                continue
            country = str(record.get("country_code") or "").upper()
            other_id = short_id(record.get("id"))
            if country not in matching.CHINA or not other_id or other_id == institution_id:
                continue
            external_id = f"openalex:{work_id}:{other_id}"
            if external_id in hits:
                continue
            name = str(record.get("display_name") or other_id)
            flag = matching.dod_1260h_flag(name)
            hits[external_id] = Hit(
                kind=Finding.Kind.CO_PUBLICATION,
                counterparty_name=name,
                counterparty_country=country,
                event_date=event_date,
                event_date_precision=precision,
                url=url,
                excerpt=str(title)[:1000],
                external_id=external_id,
                score=match.score,
                explanation=match.explanation,
                evidence_sha256=evidence_sha256,
                flags=(flag,) if flag else (),
            )
    return list(hits.values())


def parse_works(
    data: object,
    *,
    institution_id: str,
    match: matching.NameMatch,
    since: date,
    evidence_sha256: str,
) -> tuple[list[Hit], str]:
    """Return the hits on one page of a works list and the next cursor ("" at the end)."""
    hits = []
    for work in _results(data, "works"):
        hits.extend(
            parse_work(
                work,
                institution_id=institution_id,
                match=match,
                since=since,
                evidence_sha256=evidence_sha256,
            )
        )
    meta = data.get("meta")
    cursor = meta.get("next_cursor") if isinstance(meta, dict) else None
    return hits, cursor if isinstance(cursor, str) else ""


class OpenAlexSource(Source):
    name = "openalex"
    default_url = "https://api.openalex.org"
    # OpenAlex has long asked clients to stay under 10 requests a second; half of that
    # leaves room for anything else sharing the key.
    rate_per_second = 5
    required_settings = ("OPENALEX_API_KEY",)

    def skip_reason(self, entity: Entity) -> str:
        reason = super().skip_reason(entity)
        if reason:
            return reason
        if entity.kind not in APPLIES_TO:
            return f"only for universities and research institutes (this is a {entity.kind})"
        return ""

    def _get(self, client: HttpClient, path: str, params: dict | None = None):
        # The key is added here and only here, so it never reaches the recorded query.
        return client.get_json(
            f"{self.base_url}{path}",
            params={**(params or {}), "api_key": settings.OPENALEX_API_KEY},
        )

    def _institution(
        self, client: HttpClient, entity: Entity, names: list[str], asked: list[str]
    ) -> tuple[Institution, matching.NameMatch]:
        if entity.openalex_id or entity.ror_id:
            path = (
                f"/institutions/{entity.openalex_id}"
                if entity.openalex_id
                else f"/institutions/ror:{entity.ror_id}"
            )
            asked.append(f"GET {self.base_url}{path}")
            data, _ = self._get(client, path)
            institution = parse_institution(data)
            given = (
                f"OpenAlex id {entity.openalex_id}"
                if entity.openalex_id
                else f"ROR id {entity.ror_id}"
            )
            return institution, matching.NameMatch(
                100.0, f"{institution.display_name!r} ({institution.id}) by the entity's {given}"
            )
        params = {"search": entity.name, "filter": f"country_code:{entity.country.lower()}"}
        asked.append(f"GET {self.base_url}/institutions {_describe(params)}")
        data, _ = self._get(client, "/institutions", params)
        found = best_institution(names, parse_institutions(data), settings.WISHLIST_MATCH_THRESHOLD)
        if found is None:
            raise SourceSkipped(
                f"no OpenAlex institution in {entity.country} matches {entity.name!r}; "
                "set the entity's OpenAlex or ROR id"
            )
        institution, match = found
        return institution, matching.NameMatch(
            match.score, f"OpenAlex institution {institution.id}: {match.explanation}"
        )

    def search(self, entity: Entity, since: date, client: HttpClient) -> SearchResult:
        names = matching.entity_names(entity)
        asked: list[str] = []
        institution, match = self._institution(client, entity, names, asked)
        params = {
            "filter": (
                f"institutions.id:{institution.id},"
                "institutions.country_code:cn|hk|mo,"
                f"from_publication_date:{since.isoformat()}"
            ),
            "select": ",".join(WORK_FIELDS),
            "per_page": PER_PAGE,
        }
        hits: dict[str, Hit] = {}
        cursor, pages = "*", 0
        while cursor and pages < MAX_PAGES:
            data, raw = self._get(client, "/works", {**params, "cursor": cursor})
            page_hits, cursor = parse_works(
                data,
                institution_id=institution.id,
                match=match,
                since=since,
                evidence_sha256=hashlib.sha256(raw).hexdigest(),
            )
            pages += 1
            for hit in page_hits:
                hits.setdefault(hit.external_id, hit)
            if not data["results"]:
                break
        more = " (stopped at the page limit)" if cursor and pages == MAX_PAGES else ""
        asked.append(f"GET {self.base_url}/works {_describe(params)} ({pages} pages){more}")
        return SearchResult(hits=list(hits.values()), query="\n".join(asked))


def _describe(params: dict) -> str:
    return " ".join(f"{key}={value}" for key, value in params.items())


SOURCE = OpenAlexSource()
