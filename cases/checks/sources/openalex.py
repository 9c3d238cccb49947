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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from django.conf import settings

from cases import normalize, rules
from cases.checks import matching
from cases.checks.http import HttpClient, PermanentHttpError
from cases.checks.sources import Hit, SearchResult, Source, SourceSkipped
from cases.checks.sources.common import JsonReader, describe, dod_flags, parse_day
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
    published = parse_day(work.get("publication_date"))
    if published:
        return published, normalize.DatePrecision.DAY
    year = work.get("publication_year")
    if isinstance(year, int) and 1900 <= year <= 9999:
        return date(year, 1, 1), normalize.DatePrecision.YEAR
    return None, ""


def _chinese_coauthors(work: dict, institution_id: str) -> Iterator[tuple[str, str, str]]:
    """(id, name, country) of each CN/HK/MO institution on the work's authorships, ours
    left out; records without an id cannot be cited and are skipped."""
    authorships = work.get("authorships")
    for authorship in authorships if isinstance(authorships, list) else []:
        institutions = authorship.get("institutions") if isinstance(authorship, dict) else None
        for record in institutions if isinstance(institutions, list) else []:
            if not isinstance(record, dict):
                continue
            country = str(record.get("country_code") or "").upper()
            other_id = short_id(record.get("id"))
            if country in rules.CHINESE_JURISDICTIONS and other_id and other_id != institution_id:
                yield other_id, str(record.get("display_name") or other_id), country


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
    hits: dict[str, Hit] = {}
    for other_id, name, country in _chinese_coauthors(work, institution_id):
        external_id = f"openalex:{work_id}:{other_id}"
        hits.setdefault(
            external_id,
            Hit(
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
                flags=dod_flags(name),
            ),
        )
    return list(hits.values())


def _next_cursor(data: object) -> str:
    meta = data.get("meta") if isinstance(data, dict) else None
    cursor = meta.get("next_cursor") if isinstance(meta, dict) else None
    return cursor if isinstance(cursor, str) else ""


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
    return hits, _next_cursor(data)


def _following(data: object, url: str, params: dict | None) -> tuple[str, dict] | None:
    """The next page of works by cursor; none after an empty page."""
    cursor = _next_cursor(data)
    if not cursor or not data["results"]:
        return None
    return url, {**(params or {}), "cursor": cursor}


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

    def search(
        self, entity: Entity, since: date, client: HttpClient, *, until: date | None = None
    ) -> SearchResult:
        # The key goes in as a hidden parameter, so it never reaches the recorded query.
        reader = JsonReader(
            client, self.base_url, hidden_params={"api_key": settings.OPENALEX_API_KEY}
        )
        institution, match = self._institution(reader, entity)
        params = {
            "filter": (
                f"institutions.id:{institution.id},"
                "institutions.country_code:cn|hk|mo,"
                f"from_publication_date:{since.isoformat()}"
            ),
            "select": ",".join(WORK_FIELDS),
            "per_page": PER_PAGE,
        }
        pages = reader.pages(
            "/works", {**params, "cursor": "*"}, _following, max_pages=MAX_PAGES, note=False
        )
        hits: dict[str, Hit] = {}
        for data, raw in pages:
            page_hits, _ = parse_works(
                data,
                institution_id=institution.id,
                match=match,
                since=since,
                evidence_sha256=hashlib.sha256(raw).hexdigest(),
            )
            for hit in page_hits:
                hits.setdefault(hit.external_id, hit)
        more = " (stopped at the page limit)" if pages.cut_short else ""
        reader.asked.append(
            f"GET {self.base_url}/works {describe(params)} ({pages.read} pages){more}"
        )
        return SearchResult(hits=list(hits.values()), query="\n".join(reader.asked))

    def _institution(
        self, reader: JsonReader, entity: Entity
    ) -> tuple[Institution, matching.NameMatch]:
        """Our institution: by the entity's OpenAlex or ROR id, else by name in its country."""
        if entity.openalex_id:
            given = f"OpenAlex id {entity.openalex_id}"
            return self._given(reader, f"/institutions/{entity.openalex_id}", given)
        if entity.ror_id:
            given = f"ROR id {entity.ror_id}"
            return self._given(reader, f"/institutions/ror:{entity.ror_id}", given)
        params = {"search": entity.name, "filter": f"country_code:{entity.country.lower()}"}
        data, _ = reader.get("/institutions", params)
        names = matching.entity_names(entity)
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

    def _given(
        self, reader: JsonReader, path: str, given: str
    ) -> tuple[Institution, matching.NameMatch]:
        institution = parse_institution(reader.get(path)[0])
        return institution, matching.NameMatch(
            100.0, f"{institution.display_name!r} ({institution.id}) by the entity's {given}"
        )


SOURCE = OpenAlexSource()
