"""ClinicalTrials.gov (API v2, https://clinicaltrials.gov/api/v2, no key): trials a referred
biotechnology or medical entity sponsors or collaborates on with a party in mainland China,
Hong Kong or Macau, or runs at sites there, started in the period searched.

One list is read: GET /studies with query.spons (lead sponsor and collaborators, Essie
syntax) the entity's names as quoted phrases, and filter.advanced
AREA[StartDate]RANGE[since,until], sorted by start date, followed by nextPageToken up
to a page limit. A study counts when the entity is its lead sponsor or a collaborator
(a name match at or above the threshold; the API's search is looser) and another
sponsor or collaborator is Chinese, or one of its sites is in CN, HK or MO. The lead is
a partnership with that sponsor or collaborator, else with the first Chinese site, dated
by the trial's start (month or day, as registered).
"""

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings

from cases import normalize, rules
from cases.checks import matching
from cases.checks.http import HttpClient, PermanentHttpError
from cases.checks.matching import NameMatch
from cases.checks.sources import Hit, SearchResult, Source
from cases.checks.sources.common import JsonReader, describe, dod_flags, parse_day, span_end
from cases.models import Entity, Finding

PAGE_SIZE = 100  # the API allows 1,000, but whole study records are large
MAX_PAGES = 20  # 2,000 trials of one sponsor in one period is beyond any real sponsor
STUDY_URL = "https://clinicaltrials.gov/study/{nct}"
NCT_RE = re.compile(r"^NCT\d{8}$")
# What makes an entity's technology fields biotechnology or medicine; stems, so that
# "therapeutics", "therapy" and "immunotherapy" all count.
MEDICAL_RE = re.compile(
    r"biotech|biopharm|pharma|vaccin|medic|drug|therap|diagnos|antibod|\bmrna\b|oncolog"
    r"|cancer|tumou?r|immun|clinical|biolog|genom|gene edit|cell therap|surg|health ?care"
    r"|life science|biosimilar|peptide|\bprotein|medical device|implant|patholog|cardio"
    r"|neuro(?:log|scien)",
    re.IGNORECASE,
)
# ClinicalTrials.gov's overall status of a trial that stopped before its first patient:
# the collaboration was agreed but never ran.
WITHDRAWN = "WITHDRAWN"
MAX_SITES_SHOWN = 3


@dataclass(frozen=True)
class Party:
    name: str
    role: str  # "lead sponsor" or "collaborator"


@dataclass(frozen=True)
class Site:
    facility: str
    city: str
    country: str  # ISO alpha-2, "" when the API's country name is unknown


@dataclass(frozen=True)
class Study:
    nct: str
    title: str
    status: str
    start: date | None
    start_precision: str
    start_type: str  # "ACTUAL" or "ESTIMATED"
    parties: tuple[Party, ...]
    sites: tuple[Site, ...]
    sha256: str  # of the study record itself, the same on whatever page it came


# ----------------------------------------------------------------------------- parsing


def _problem(message: str) -> PermanentHttpError:
    return PermanentHttpError(f"ClinicalTrials.gov: {message}")


def _text(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _module(protocol: dict, name: str) -> dict:
    value = protocol.get(name)
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def start_date(struct: object) -> tuple[date | None, str]:
    """Return (day, precision) of a startDateStruct date.

    Sponsors register a start as a month ("2020-11") or a day ("2020-11-05"); the API
    treats a month as its first day, and so does this. Anything else is no date.
    """
    value = _text(struct.get("date")) if isinstance(struct, dict) else ""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        day = parse_day(value)
        return (day, normalize.DatePrecision.DAY) if day else (None, "")
    if re.fullmatch(r"\d{4}-\d{2}", value):
        day = parse_day(f"{value}-01")
        return (day, normalize.DatePrecision.MONTH) if day else (None, "")
    return None, ""


def site_country(name: str) -> str:
    """ISO code of a location's country ("China", "Hong Kong", "Macao"); "" if unknown.

    The API spells countries out; Taiwan is its own country there and stays one here.
    """
    return (normalize.parse_country(name) or "") if name else ""


def parse_study(record: object) -> Study:
    """Read one study of a /studies page (or a /studies/{NCT} body). Pure."""
    protocol = record.get("protocolSection") if isinstance(record, dict) else None
    if not isinstance(protocol, dict):
        raise _problem("a study without a protocolSection")
    ident = _module(protocol, "identificationModule")
    nct = _text(ident.get("nctId")).upper()
    if not NCT_RE.match(nct):
        raise _problem(f"a study without a valid NCT id ({nct or 'none'})")
    status = _module(protocol, "statusModule")
    struct = _module(status, "startDateStruct")
    start, precision = start_date(struct)
    sponsors = _module(protocol, "sponsorCollaboratorsModule")
    lead = sponsors.get("leadSponsor")
    parties = []
    if isinstance(lead, dict) and _text(lead.get("name")):
        parties.append(Party(_text(lead["name"]), "lead sponsor"))
    parties += [
        Party(_text(item.get("name")), "collaborator")
        for item in _list(sponsors.get("collaborators"))
        if _text(item.get("name"))
    ]
    locations = _list(_module(protocol, "contactsLocationsModule").get("locations"))
    sites = tuple(
        Site(
            _text(item.get("facility")),
            _text(item.get("city")),
            site_country(_text(item.get("country"))),
        )
        for item in locations
    )
    return Study(
        nct=nct,
        title=_text(ident.get("briefTitle")) or _text(ident.get("officialTitle")),
        status=_text(status.get("overallStatus")).upper(),
        start=start,
        start_precision=precision,
        start_type=_text(struct.get("type")).upper(),
        parties=tuple(parties),
        sites=sites,
        sha256=hashlib.sha256(
            json.dumps(record, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest(),
    )


def parse_page(data: object) -> tuple[list[Study], str]:
    """Return the studies of one /studies page and its nextPageToken ("" on the last).

    A page may hold no studies and still name a next page, as the API documents.
    """
    if not isinstance(data, dict) or not isinstance(data.get("studies"), list):
        raise _problem("the response is not a study list (no 'studies' array)")
    token = data.get("nextPageToken")
    return [parse_study(item) for item in data["studies"]], token if isinstance(token, str) else ""


def _ours(study: Study, names: list[str], threshold: float) -> tuple[Party, NameMatch] | None:
    """The lead sponsor or collaborator that is the entity, best match first."""
    best = None
    for party in study.parties:
        found = matching.match_name(names, party.name)
        if found.score >= threshold and (best is None or found.score > best[1].score):
            best = (party, found)
    return best


def _chinese_party(party: Party, chinese_sites: list[Site]) -> str:
    """CN, HK or MO when a sponsor or collaborator is Chinese, else "".

    The API gives sponsors no country: the name says it ("Shanghai ...", "... (China)"),
    or the party is also one of the trial's Chinese sites (a hospital that co-sponsors).
    """
    country = matching.chinese_country(party.name)
    if country:
        return country
    key = normalize.name_key(party.name)
    for site in chinese_sites:
        if key and key == normalize.name_key(site.facility):
            return site.country
    return ""


def _excerpt(study: Study, chinese_sites: list[Site]) -> str:
    lead = [p.name for p in study.parties if p.role == "lead sponsor"]
    collaborators = [p.name for p in study.parties if p.role == "collaborator"]
    started = (
        f"start {study.start.isoformat()[: 7 if study.start_precision == 'month' else 10]}"
        f" ({study.start_type.lower() or 'type not given'})"
        if study.start
        else "no start date"
    )
    shown = [f"{s.facility or 'a site'} ({s.city or s.country})" for s in chinese_sites]
    more = len(shown) - MAX_SITES_SHOWN
    sites = "; ".join(shown[:MAX_SITES_SHOWN]) + (f" and {more} more" if more > 0 else "")
    return (
        f"{study.nct}: {study.title}. Lead sponsor: {', '.join(lead) or 'not given'}"
        + (f"; collaborators: {', '.join(collaborators)}" if collaborators else "")
        + f". {started}; status {study.status.lower() or 'not given'}"
        + (f". Sites in China: {sites}." if sites else ".")
    )[:1000]


def study_hits(
    study: Study, *, names: list[str], since: date, until: date, threshold: float
) -> list[Hit]:
    """The partnership leads of one study, or none. Pure.

    One lead per Chinese sponsor or collaborator; without one, one lead with the first
    Chinese site. A study the entity neither sponsors nor collaborates on, or that
    started outside [since, until] (a whole month, for a month's start), gives nothing.
    """
    if study.start is None or study.start > until:
        return []
    if normalize.period_end(study.start, study.start_precision) < since:
        return []
    ours = _ours(study, names, threshold)
    if ours is None:
        return []
    our_party, match = ours
    chinese_sites = [s for s in study.sites if s.country in rules.CHINESE_JURISDICTIONS]
    counterparties = []
    for party in study.parties:
        if party == our_party or matching.match_name(names, party.name).score >= threshold:
            continue  # the entity itself, perhaps under a second spelling
        country = _chinese_party(party, chinese_sites)
        if country:
            counterparties.append((party.name, country, party.role))
    if not counterparties and chinese_sites:
        site = chinese_sites[0]
        counterparties = [(site.facility or f"a trial site in {site.city}", site.country, "site")]
    flags = (
        ("did not complete: trial withdrawn before enrolment",) if study.status == WITHDRAWN else ()
    )
    excerpt = _excerpt(study, chinese_sites)
    hits: dict[str, Hit] = {}
    for name, country, role in counterparties:
        external_id = f"clinicaltrials:{study.nct}:{normalize.name_key(name) or country}"
        hits.setdefault(
            external_id,
            Hit(
                kind=Finding.Kind.PARTNERSHIP,
                counterparty_name=name,
                counterparty_country=country,
                event_date=study.start,
                event_date_precision=study.start_precision,
                url=STUDY_URL.format(nct=study.nct),
                excerpt=excerpt,
                external_id=external_id,
                score=match.score,
                explanation=(
                    f"{our_party.role} {our_party.name!r} of {study.nct}: {match.explanation}; "
                    f"the Chinese party is its {role}"
                ),
                evidence_sha256=study.sha256,
                flags=dod_flags(name) + flags,
            ),
        )
    return list(hits.values())


def spons_query(names: list[str]) -> str:
    """The entity's names as Essie phrases OR'd, for query.spons.

    Quotes inside a name would end the phrase early, so they are dropped.
    """
    phrases = []
    for name in names:
        cleaned = " ".join(name.replace('"', " ").split())
        if cleaned and f'"{cleaned}"' not in phrases:
            phrases.append(f'"{cleaned}"')
    return " OR ".join(phrases)


# ----------------------------------------------------------------------------- fetching


def applies(entity: Entity) -> bool:
    """Whether the entity works in biotechnology or medicine, by its technology fields."""
    return bool(MEDICAL_RE.search(entity.technology_fields or ""))


class ClinicalTrialsSource(Source):
    name = "clinicaltrials"
    default_url = "https://clinicaltrials.gov/api/v2"
    # ClinicalTrials.gov asks for about 50 requests a minute per client.
    rate_per_second = 0.8
    detects = (Finding.Kind.PARTNERSHIP,)
    searched_with = ()  # sponsors by name

    def skip_reason(self, entity: Entity) -> str:
        reason = super().skip_reason(entity)
        if not reason and not applies(entity):
            fields = entity.technology_fields.strip() or "none recorded"
            reason = f"only for biotechnology and medical entities (technology fields: {fields})"
        return reason

    def search(
        self, entity: Entity, since: date, client: HttpClient, *, until: date | None = None
    ) -> SearchResult:
        until = span_end(until)
        names = matching.entity_names(entity)
        threshold = settings.WISHLIST_MATCH_THRESHOLD
        reader = JsonReader(client, self.base_url)
        params = {
            "query.spons": spons_query(names),
            "filter.advanced": f"AREA[StartDate]RANGE[{since.isoformat()},{until.isoformat()}]",
            "sort": "StartDate",
            "pageSize": PAGE_SIZE,
            "format": "json",
        }
        hits: dict[str, Hit] = {}
        seen_tokens: set[str] = set()
        starts: list[date] = []
        read, token, note = 0, "", ""
        while True:
            page_params = {**params, "pageToken": token} if token else params
            data, _ = reader.get("/studies", page_params, note=False)
            read += 1
            studies, token = parse_page(data)
            for study in studies:
                starts += [study.start] if study.start else []
                for hit in study_hits(
                    study, names=names, since=since, until=until, threshold=threshold
                ):
                    hits.setdefault(hit.external_id, hit)
            if not token:
                break
            if token in seen_tokens:
                note = (
                    f" (stopped: page token {token[:20]!r} came back a second time; "
                    "some trials may be missed)"
                )
                break
            if read == MAX_PAGES:
                note = f" (stopped after {MAX_PAGES} pages; more were offered)"
                break
            seen_tokens.add(token)
        reader.asked.append(f"GET {self.base_url}/studies {describe(params)} ({read} pages){note}")
        return SearchResult(
            hits=list(hits.values()),
            query="\n".join(reader.asked),
            searched_to=_read_up_to(starts, since, until) if note else None,
        )


def _read_up_to(starts: list[date], since: date, until: date) -> date | None:
    """The last day a list cut short surely covers.

    Asked in order of start, the pages read hold every trial up to the day before the
    last start read, and the next run resumes there. A server that ignored the order
    leaves no day sure; the span then counts as searched (None), the note in the query
    saying that some trials may be missed: resuming from `since` would read the same
    pages again on every run, and never reach the rest.
    """
    if not starts or starts != sorted(starts):
        return None
    return max(since, min(until, starts[-1] - timedelta(days=1)))


SOURCE = ClinicalTrialsSource()
