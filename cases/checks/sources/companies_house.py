"""UK Companies House (https://api.company-information.service.gov.uk, an API key sent as
the HTTP basic-auth user name): who controls and who runs a UK company.

The company is the entity's UK company number (its profile, /company/{number}, confirms
it) or the best match of /search/companies. Its persons with significant control
(/company/{number}/persons-with-significant-control) and officers
(/company/{number}/officers) are read. A PSC notified on or after the since-date whose
registration country, nationality, residence or address is in CN, HK or MO is an equity
lead; an officer appointed on or after it with a Chinese nationality or residence is an
"other" lead (an appointment is governance, not R&D staff).
"""

import base64
import hashlib
from dataclasses import dataclass
from datetime import date

from django.conf import settings

from cases import normalize, rules
from cases.checks import matching
from cases.checks.http import HttpClient, PermanentHttpError
from cases.checks.matching import NameMatch
from cases.checks.sources import Hit, SearchResult, Source
from cases.checks.sources.common import JsonReader, Pages, dod_flags, parse_day
from cases.models import Entity, Finding

PAGE_SIZE = 100
MAX_PAGES = 10  # per list: 1,000 PSCs or officers is far beyond any real company
PUBLIC_URL = "https://find-and-update.company-information.service.gov.uk/company/{number}"
NUMBER_GIVEN = NameMatch(100.0, "UK company number given on the entity")

# Where a PSC or officer says which country it belongs to, most telling first: a
# corporate PSC's place of registration, then a person's nationality and residence, then
# the service address (the only country some corporate PSCs give), then free text.
PSC_FIELDS = (
    "identification.country_registered",
    "nationality",
    "country_of_residence",
    "address.country",
    "identification.place_registered",
    "identification.legal_authority",
)
OFFICER_FIELDS = ("nationality", "country_of_residence")
# Corporate officers have no nationality or residence; where they are registered is
# what says they are Chinese.
CORPORATE_OFFICER_FIELDS = (
    "identification.country_registered",
    "identification.place_registered",
    "address.country",
)


@dataclass(frozen=True)
class Company:
    number: str
    name: str
    former_name: str = ""  # the earlier name a search matched, when it did


# ----------------------------------------------------------------------------- parsing


def _problem(message: str) -> PermanentHttpError:
    return PermanentHttpError(f"Companies House: {message}")


def _text(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _field(item: dict, dotted: str) -> str:
    value: object = item
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return _text(value)


def _items(data: object) -> list[dict]:
    if not isinstance(data, dict) or not isinstance(data.get("items", []), list):
        raise _problem("the response is not a list resource with 'items'")
    return [item for item in data.get("items", []) if isinstance(item, dict)]


def country_of(value: str) -> str:
    """CN, HK or MO when a country, nationality or registration text is Chinese, else ""."""
    code = normalize.parse_country(value) if value else None
    if code:
        # A recognised country that is not China stays not China, even when its name
        # mentions China ("Taiwan, Province of China").
        return code if code in rules.CHINESE_JURISDICTIONS else ""
    return matching.chinese_country(value)


def chinese_field(item: dict, fields: tuple[str, ...]) -> tuple[str, str, str]:
    """(country code, field, value) of the first field that places the item in China."""
    for name in fields:
        value = _field(item, name)
        country = country_of(value)
        if country:
            return country, name, value
    return "", "", ""


def parse_search(data: object) -> list[Company]:
    """Return the companies of a /search/companies response, in the API's order."""
    companies = []
    for item in _items(data):
        number, title = _text(item.get("company_number")), _text(item.get("title"))
        if number and title:
            companies.append(Company(number, title, _text(item.get("snippet"))))
    return companies


def best_company(companies: list[Company], names: list[str]) -> tuple[Company, NameMatch] | None:
    """The company whose name, or the former name the search matched, best fits ours."""
    best = None
    for company in companies:
        for candidate, former in ((company.name, False), (company.former_name, True)):
            if not candidate:
                continue
            found = matching.match_name(names, candidate)
            if former:
                found = NameMatch(found.score, f"a former name: {found.explanation}")
            if best is None or found.score > best[1].score:
                best = (company, found)
    return best


def parse_profile(data: object) -> Company:
    """Return the number and name of a /company/{number} profile."""
    if not isinstance(data, dict):
        raise _problem("the company profile is not a JSON object")
    number, name = _text(data.get("company_number")), _text(data.get("company_name"))
    if not number or not name:
        raise _problem("the company profile has no company_number or company_name")
    return Company(number, name)


def _judged(name: str, match: NameMatch, raw: bytes) -> dict:
    """The Hit fields every lead from one response shares: match, evidence, flags."""
    return {
        "score": match.score,
        "explanation": match.explanation,
        "evidence_sha256": hashlib.sha256(raw).hexdigest(),
        "flags": dod_flags(name),
    }


def psc_hits(
    data: object, *, raw: bytes, company: Company, since: date, match: NameMatch
) -> list[Hit]:
    """Equity leads from a persons-with-significant-control list. Pure.

    A PSC counts when it is Chinese by PSC_FIELDS and was notified on or after `since`; a
    PSC with no notification date is kept, undated, for an analyst to judge.
    """
    hits = []
    for item in _items(data):
        country, field, value = chinese_field(item, PSC_FIELDS)
        if not country:
            continue
        notified = parse_day(item.get("notified_on"))
        if notified and notified < since:
            continue
        name = _text(item.get("name")) or "an unnamed person with significant control"
        kind = _text(item.get("kind")).removesuffix("-person-with-significant-control")
        control = "; ".join(
            _text(nature).replace("-", " ") for nature in item.get("natures_of_control") or []
        )
        ceased = parse_day(item.get("ceased_on"))
        excerpt = (
            f"{name} ({kind.replace('-', ' ') or 'PSC'}, {field.replace('_', ' ')}: {value}) "
            f"is a person with significant control of {company.name} ({company.number})"
            + (f", notified on {notified.isoformat()}" if notified else ", with no notified date")
            + (f", ceased on {ceased.isoformat()}" if ceased else "")
            + (f": {control}." if control else ".")
        )
        self_link = _field(item, "links.self")
        key = self_link or f"{company.number}:{normalize.name_key(name)}:{notified or ''}"
        hits.append(
            Hit(
                kind=Finding.Kind.EQUITY_INVESTMENT,
                counterparty_name=name,
                counterparty_country=country,
                event_date=notified,
                event_date_precision="day" if notified else "",
                url=PUBLIC_URL.format(number=company.number) + "/persons-with-significant-control",
                excerpt=excerpt,
                external_id=f"companies_house:psc:{key}",
                **_judged(name, match, raw),
            )
        )
    return hits


def officer_hits(
    data: object, *, raw: bytes, company: Company, since: date, match: NameMatch
) -> list[Hit]:
    """Officer-appointment leads from an officer list. Pure.

    An officer counts when appointed on or after `since` with a Chinese nationality or
    residence (a corporate officer: registered or based in China). Appointments with no
    date predate the electronic register and are left out.
    """
    hits = []
    for item in _items(data):
        role = _text(item.get("officer_role"))
        fields = CORPORATE_OFFICER_FIELDS if role.startswith("corporate") else OFFICER_FIELDS
        country, field, value = chinese_field(item, fields)
        appointed = parse_day(item.get("appointed_on"))
        if not country or appointed is None or appointed < since:
            continue
        name = _text(item.get("name")) or "an unnamed officer"
        resigned = parse_day(item.get("resigned_on"))
        excerpt = (
            f"Officer appointment: {name} ({role.replace('-', ' ') or 'officer'}, "
            f"{field.replace('_', ' ')}: {value}) appointed on {appointed.isoformat()} "
            f"to {company.name} ({company.number})"
            + (f", resigned on {resigned.isoformat()}." if resigned else ".")
        )
        person = _field(item, "links.officer.appointments") or normalize.name_key(name)
        hits.append(
            Hit(
                kind=Finding.Kind.OTHER,
                counterparty_name=name,
                counterparty_country=country,
                event_date=appointed,
                event_date_precision="day",
                url=PUBLIC_URL.format(number=company.number) + "/officers",
                excerpt=excerpt,
                external_id=(
                    f"companies_house:officer:{company.number}:{person}:{role}:{appointed}"
                ),
                **_judged(name, match, raw),
            )
        )
    return hits


# ----------------------------------------------------------------------------- fetching


def _following(data: object, url: str, params: dict | None) -> tuple[str, dict] | None:
    """The next page by start index, until `total_results` are read."""
    count = len(_items(data))
    start = (params or {}).get("start_index", 0) + count
    total = data.get("total_results") if isinstance(data, dict) else None
    if not count or not isinstance(total, int) or start >= total:
        return None
    return url, {**(params or {}), "start_index": start}


class CompaniesHouseSource(Source):
    name = "companies_house"
    default_url = "https://api.company-information.service.gov.uk"
    # Companies House allows 600 requests per 5 minutes per key, 2 a second on average.
    rate_per_second = 2
    # Persons with significant control in China (a holding) and Chinese officers.
    detects = (Finding.Kind.EQUITY_INVESTMENT, Finding.Kind.OTHER)
    searched_with = ("uk_company_number",)
    required_settings = ("COMPANIES_HOUSE_API_KEY",)

    def skip_reason(self, entity: Entity) -> str:
        reason = super().skip_reason(entity)
        if not reason and (entity.country != "GB" or entity.kind != Entity.Kind.COMPANY):
            reason = "only for UK companies"
        return reason

    def search(
        self, entity: Entity, since: date, client: HttpClient, *, until: date | None = None
    ) -> SearchResult:
        token = base64.b64encode(f"{settings.COMPANIES_HOUSE_API_KEY}:".encode()).decode("ascii")
        reader = JsonReader(client, self.base_url, headers={"Authorization": f"Basic {token}"})
        found = self._company(reader, entity)
        if found is None:
            reader.asked.append("no company matched the name well enough")
            return SearchResult(query="\n".join(reader.asked))
        company, match = found
        hits = []
        for data, raw in self._list(reader, company, "persons-with-significant-control"):
            hits += psc_hits(data, raw=raw, company=company, since=since, match=match)
        for data, raw in self._list(reader, company, "officers"):
            hits += officer_hits(data, raw=raw, company=company, since=since, match=match)
        reader.asked.insert(0, f"company {company.number} ({company.name}): {match.explanation}")
        return SearchResult(hits=hits, query="\n".join(reader.asked))

    def _company(self, reader: JsonReader, entity: Entity) -> tuple[Company, NameMatch] | None:
        """The company by the entity's number, else the best match of a search by name
        (None below the match threshold)."""
        if entity.uk_company_number:
            data, _ = reader.get(f"/company/{entity.uk_company_number}")
            return parse_profile(data), NUMBER_GIVEN
        data, _ = reader.get("/search/companies", {"q": entity.name, "items_per_page": 20})
        best = best_company(parse_search(data), matching.entity_names(entity))
        if best is None or best[1].score < settings.WISHLIST_MATCH_THRESHOLD:
            return None
        company, found = best
        return company, NameMatch(
            found.score, f"company {company.number} found by name: {found.explanation}"
        )

    def _list(self, reader: JsonReader, company: Company, name: str) -> Pages:
        # A company with no PSC or officer filings answers 404 (older API) or an empty
        # list (newer); both mean nothing to report.
        return reader.pages(
            f"/company/{company.number}/{name}",
            {"items_per_page": PAGE_SIZE, "start_index": 0},
            _following,
            max_pages=MAX_PAGES,
            none_if_missing=True,
        )


SOURCE = CompaniesHouseSource()
