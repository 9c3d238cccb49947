"""EPO Open Patent Services (https://ops.epo.org/3.2, OAuth client credentials from
developers.epo.org): patent filings published worldwide on which the entity and a party in
mainland China, Hong Kong or Macau are applicants together (co-invention).

A token comes from POST /auth/accesstoken (client id and secret as basic auth,
grant_type=client_credentials) and is kept until shortly before it expires. Filings come
from GET /rest-services/published-data/search/biblio with the CQL query
pa="<name>" (each of the entity's names, OR'd) and pd within "<first>,<last>", 100 per
page (the X-OPS-Range header); OPS answers at most 2,000 documents per query, so the period is
cut by year. Applicants come in two spellings: the "epodoc" one ends with the country in
brackets ("FUDAN UNIV [CN]"), the "original" one is the name as filed; the pair with the
same sequence number is one applicant. A filing counts when one applicant is the entity
and another is in CN, HK or MO; a patent family is one lead per Chinese co-applicant,
dated by the earliest publication read in the span.
"""

import base64
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings

from cases import normalize, rules
from cases.checks import matching
from cases.checks.http import HttpClient, PermanentHttpError
from cases.checks.sources import Hit, SearchResult, Source
from cases.checks.sources.common import JsonReader, describe, dod_flags, span_end, spans
from cases.models import Entity, Finding

TOKEN_PATH = "/auth/accesstoken"
SEARCH_PATH = "/rest-services/published-data/search/biblio"
PAGE_SIZE = 100  # the largest range OPS serves
MAX_RESULTS = 2000  # OPS serves no document past the 2,000th of a query
TOKEN_MARGIN = 60.0  # seconds before its expiry a token is no longer used
ESPACENET_URL = "https://worldwide.espacenet.com/patent/search?q=pn%3D{number}"
EPODOC_COUNTRY_RE = re.compile(r"^(?P<name>.*?)\s*\[(?P<country>[A-Z]{2})\]\s*$")
# OPS answers a search that finds nothing with a 404 fault saying so.
NO_RESULTS_RE = re.compile(r"EntityNotFound|No results found", re.IGNORECASE)


@dataclass(frozen=True)
class Applicant:
    name: str  # as filed when OPS gives it, else the epodoc spelling without the country
    country: str  # from the epodoc spelling's brackets; "" when absent
    epodoc: str = ""


@dataclass(frozen=True)
class Filing:
    number: str  # the publication, "EP3912345A1"
    family: str  # the DOCDB family id, "" when absent
    published: date | None
    filed: date | None
    title: str
    applicants: tuple[Applicant, ...]
    sha256: str


# ----------------------------------------------------------------------------- parsing


def _problem(message: str) -> PermanentHttpError:
    return PermanentHttpError(f"EPO OPS: {message}")


def _as_list(value: object) -> list:
    """OPS turns XML into JSON: one child is an object, several a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _value(node: object) -> str:
    """The text of an element ({"$": "text"}), or a plain string."""
    if isinstance(node, dict):
        node = node.get("$")
    return " ".join(node.split()) if isinstance(node, str) else ""


def _day(text: str) -> date | None:
    try:
        return datetime.strptime(text, "%Y%m%d").date() if re.fullmatch(r"\d{8}", text) else None
    except ValueError:
        return None


def _document_id(reference: object) -> dict:
    """The docdb document-id of a publication- or application-reference."""
    ids = _as_list(reference.get("document-id")) if isinstance(reference, dict) else []
    ids = [item for item in ids if isinstance(item, dict)]
    for item in ids:
        if item.get("@document-id-type") == "docdb":
            return item
    return ids[0] if ids else {}


def parse_applicants(parties: object) -> tuple[Applicant, ...]:
    """The applicants of a bibliographic record, each once with its country. Pure."""
    applicants = parties.get("applicants") if isinstance(parties, dict) else None
    items = _as_list(applicants.get("applicant")) if isinstance(applicants, dict) else []
    by_sequence: dict[str, dict[str, str]] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        name_node = item.get("applicant-name")
        name = _value(name_node.get("name")) if isinstance(name_node, dict) else ""
        if name:
            spellings = by_sequence.setdefault(str(item.get("@sequence") or len(by_sequence)), {})
            spellings[str(item.get("@data-format") or "original")] = name
    found = []
    for spellings in by_sequence.values():
        epodoc = spellings.get("epodoc", "")
        bracketed = EPODOC_COUNTRY_RE.match(epodoc)
        country = bracketed.group("country") if bracketed else ""
        plain = bracketed.group("name") if bracketed else epodoc
        found.append(Applicant(spellings.get("original") or plain, country, plain))
    return tuple(found)


def parse_filing(document: object) -> Filing:
    """Read one exchange-document of a biblio search. Pure."""
    if not isinstance(document, dict) or not isinstance(document.get("bibliographic-data"), dict):
        raise _problem("an exchange-document without bibliographic-data")
    biblio = document["bibliographic-data"]
    publication = _document_id(biblio.get("publication-reference"))
    number = "".join(_value(publication.get(part)) for part in ("country", "doc-number", "kind"))
    if not number:
        number = "".join(
            str(document.get(f"@{part}") or "") for part in ("country", "doc-number", "kind")
        )
    if not number:
        raise _problem("an exchange-document without a publication number")
    titles = [t for t in _as_list(biblio.get("invention-title")) if isinstance(t, dict)]
    english = [t for t in titles if t.get("@lang") == "en"] or titles
    return Filing(
        number=number,
        family=str(document.get("@family-id") or ""),
        published=_day(_value(publication.get("date"))),
        filed=_day(_value(_document_id(biblio.get("application-reference")).get("date"))),
        title=_value(english[0]) if english else "",
        applicants=parse_applicants(biblio.get("parties")),
        sha256=hashlib.sha256(
            json.dumps(document, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest(),
    )


def parse_search(data: object) -> tuple[list[Filing], int]:
    """Return the filings of a biblio search page and the total OPS counts."""
    world = data.get("ops:world-patent-data") if isinstance(data, dict) else None
    search = world.get("ops:biblio-search") if isinstance(world, dict) else None
    if not isinstance(search, dict):
        raise _problem("the response is not a biblio search (no ops:biblio-search)")
    try:
        total = int(str(search.get("@total-result-count")))
    except ValueError:
        raise _problem("the biblio search gives no @total-result-count") from None
    result = search.get("ops:search-result")
    wrappers = _as_list(result.get("exchange-documents")) if isinstance(result, dict) else []
    filings = []
    for wrapper in wrappers:
        inner = wrapper.get("exchange-document") if isinstance(wrapper, dict) else None
        filings += [parse_filing(document) for document in _as_list(inner)]
    if total and not filings and result is not None:
        raise _problem(f"{total} documents reported but none could be read")
    return filings, total


def filing_hits(
    filing: Filing, *, names: list[str], since: date, until: date, threshold: float
) -> list[Hit]:
    """One co-invention lead per Chinese co-applicant of a filing of the entity. Pure.

    A filing published outside [since, until], or that the entity is not an applicant
    of, gives nothing.
    """
    if filing.published is None or not since <= filing.published <= until:
        return []
    scored = [(a, matching.match_name(names, a.name)) for a in filing.applicants]
    for applicant, found in list(scored):
        if applicant.epodoc and found.score < threshold:
            scored.append((applicant, matching.match_name(names, applicant.epodoc)))
    ours = [(a, found) for a, found in scored if found.score >= threshold]
    if not ours:
        return []
    our_applicant, match = max(ours, key=lambda pair: pair[1].score)
    ours_names = {a.name for a, _ in ours}
    hits = []
    for applicant in filing.applicants:
        country = applicant.country or matching.chinese_country(applicant.name)
        if applicant.name in ours_names or country not in rules.CHINESE_JURISDICTIONS:
            continue
        key = f"family {filing.family}" if filing.family else filing.number
        hits.append(
            Hit(
                kind=Finding.Kind.CO_PUBLICATION,
                counterparty_name=applicant.name,
                counterparty_country=country,
                event_date=filing.published,
                event_date_precision=normalize.DatePrecision.DAY,
                url=ESPACENET_URL.format(number=filing.number),
                excerpt=(
                    f"{filing.number}: {filing.title or 'untitled'}. Applicants: "
                    + "; ".join(
                        f"{a.name} [{a.country}]" if a.country else a.name
                        for a in filing.applicants
                    )
                    + f". Published {filing.published.isoformat()}"
                    + (f", filed {filing.filed.isoformat()}." if filing.filed else ".")
                )[:1000],
                external_id=f"epo_ops:{key}:{normalize.name_key(applicant.name)}",
                score=match.score,
                explanation=f"applicant {our_applicant.name!r}: {match.explanation}",
                evidence_sha256=filing.sha256,
                flags=dod_flags(applicant.name, applicant.epodoc),
            )
        )
    return hits


def applicant_query(names: list[str], first: date, last: date) -> str:
    """CQL: the names as applicant phrases, OR'd, published within [first, last]."""
    phrases = []
    for name in names:
        cleaned = " ".join(name.replace('"', " ").replace("\\", " ").split())
        if cleaned and f'pa="{cleaned}"' not in phrases:
            phrases.append(f'pa="{cleaned}"')
    period = f'pd within "{first.strftime("%Y%m%d")},{last.strftime("%Y%m%d")}"'
    return f"({' or '.join(phrases)}) and {period}"


def parse_token(data: object) -> tuple[str, float]:
    """(access token, seconds it lives) of an /auth/accesstoken response."""
    token = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise _problem("the token response has no access_token")
    try:
        lives = float(data.get("expires_in", 0))
    except (TypeError, ValueError):
        lives = 0.0
    return token, lives


def refusal(exc: PermanentHttpError) -> PermanentHttpError:
    """The error to record for a refused request, with the start of what OPS said.

    OPS faults are XML (their text is kept, the tags dropped); a proxy's may be JSON.
    """
    try:
        data = json.loads(exc.body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        parts = [data.get(key) for key in ("error_description", "detail", "message", "error")]
        detail = "; ".join(part for part in parts if isinstance(part, str) and part)
    else:
        detail = re.sub(r"<\?xml[^>]*>|<[^>]+>", " ", exc.body)
    detail = " ".join(detail.split())[:200]
    return _problem(f"{exc}" + (f": {detail}" if detail else ""))


# ----------------------------------------------------------------------------- fetching


class EpoOpsSource(Source):
    name = "epo_ops"
    default_url = "https://ops.epo.org/3.2"
    # OPS throttles searches per user by the minute; one every two seconds stays green.
    rate_per_second = 0.5
    required_settings = ("EPO_OPS_CLIENT_ID", "EPO_OPS_CLIENT_SECRET")
    detects = (Finding.Kind.CO_PUBLICATION,)
    searched_with = ()  # applicants by name

    def __init__(self):
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}  # client id: (token, usable until)

    def windows(self, first: date, last: date) -> list[tuple[date, date]]:
        """A span per calendar year: one query never reaches OPS's 2,000-document cap
        for any but the largest filers."""
        return spans(first, last, months=12)

    def token(self, client: HttpClient) -> str:
        """A live access token, asked for again shortly before the last one expires."""
        client_id = settings.EPO_OPS_CLIENT_ID
        with self._lock:
            token, usable_until = self._tokens.get(client_id, ("", 0.0))
        if token and time.monotonic() < usable_until:
            return token
        secret = f"{client_id}:{settings.EPO_OPS_CLIENT_SECRET}".encode()
        try:
            response = client.post_form(
                f"{self.base_url}{TOKEN_PATH}",
                form={"grant_type": "client_credentials"},
                headers={"Authorization": f"Basic {base64.b64encode(secret).decode('ascii')}"},
            )
        except PermanentHttpError as exc:
            raise refusal(exc) from exc
        try:
            data = json.loads(response.content)
        except ValueError:
            raise _problem("the token response is not JSON") from None
        token, lives = parse_token(data)
        with self._lock:
            self._tokens[client_id] = (token, time.monotonic() + lives - TOKEN_MARGIN)
        return token

    def search(
        self, entity: Entity, since: date, client: HttpClient, *, until: date | None = None
    ) -> SearchResult:
        until = span_end(until)
        names = matching.entity_names(entity)
        threshold = settings.WISHLIST_MATCH_THRESHOLD
        headers = {"Authorization": f"Bearer {self.token(client)}", "Accept": "application/json"}
        reader = JsonReader(client, self.base_url, headers=headers)
        params = {"q": applicant_query(names, since, until)}
        hits: dict[str, Hit] = {}
        read, begin, note = 0, 1, ""
        while True:
            reader.headers = {**headers, "X-OPS-Range": f"{begin}-{begin + PAGE_SIZE - 1}"}
            try:
                data, _ = reader.get(SEARCH_PATH, params, note=False)
            except PermanentHttpError as exc:
                if exc.status == 404 and NO_RESULTS_RE.search(exc.body):
                    break
                raise refusal(exc) from exc
            read += 1
            filings, total = parse_search(data)
            for filing in filings:
                for hit in filing_hits(
                    filing, names=names, since=since, until=until, threshold=threshold
                ):
                    # The earliest publication of a family read here dates its lead.
                    known = hits.get(hit.external_id)
                    if known is None or hit.event_date < known.event_date:
                        hits[hit.external_id] = hit
            begin += PAGE_SIZE
            if not filings or begin > total:
                break
            if begin > MAX_RESULTS:
                note = (
                    f" (stopped at OPS's {MAX_RESULTS}-document limit of {total}; "
                    "some may be missed)"
                )
                break
        reader.asked.append(
            f"GET {self.base_url}{SEARCH_PATH} {describe(params)} ({read} pages){note}"
        )
        # Records come in the service's own order, not by date, so no day of a list cut
        # short is surer than another: the span counts as searched, the note saying some
        # may be missed (resuming from `since` would read the same pages on every run).
        return SearchResult(
            hits=list(hits.values()),
            query="\n".join(reader.asked),
            searched_to=None,
        )


SOURCE = EpoOpsSource()
