"""USPTO Open Data Portal (https://api.uspto.gov, a key from data.uspto.gov sent as
X-API-KEY): the entity's US patents and applications assigned or licensed to a party in
mainland China, Hong Kong or Macau (the IP it exposed).

One list is read: the Patent File Wrapper search, GET /api/v1/patent/applications/search,
with q asking for applications where one of the entity's names is an assignor
(assignmentBag.assignorBag.assignorName, a phrase per name), paged by offset and limit.
Each application record carries its recorded assignments (assignmentBag): reel and frame,
conveyance text, the assignors with the day each executed it, the assignees with their
addresses. An assignment counts when the entity is one of its assignors (a name match at
or above the threshold), an assignee is Chinese, and the entity executed it within the
period; security interests, releases and changes of name or address move no rights and
are left out. The lead is an IP licence or assignment, dated by the execution day.
"""

import hashlib
import json
import re
from datetime import date

from django.conf import settings

from cases import normalize, rules
from cases.checks import matching
from cases.checks.http import HttpClient, PermanentHttpError
from cases.checks.matching import NameMatch
from cases.checks.sources import Hit, SearchResult, Source
from cases.checks.sources.common import JsonReader, describe, dod_flags, parse_day, span_end
from cases.models import Entity, Finding

SEARCH_PATH = "/api/v1/patent/applications/search"
PAGE_SIZE = 100
MAX_PAGES = 20  # 2,000 applications the entity assigned is beyond any real portfolio sale
APPLICATION_URL = "https://patentcenter.uspto.gov/applications/{number}"
# Conveyances that move no rights to the assignee: a lender's lien and its release, and
# the owner's own change of name or address.
NO_TRANSFER_RE = re.compile(r"SECURITY|RELEASE|LIEN|CHANGE OF (?:NAME|ADDRESS)", re.IGNORECASE)
LICENCE_RE = re.compile(r"LICEN[CS]E", re.IGNORECASE)
# The Open Data Portal answers a search that matches nothing with a 404 saying so.
NO_MATCH_RE = re.compile(r"no matching records", re.IGNORECASE)
# For an address outside the US the USPTO's region code is the country's code and an X
# ("CNX", "HKX", "TWX"); inside, the two-letter state.
FOREIGN_REGION_RE = re.compile(r"^([A-Z]{2})X$")
STATE_RE = re.compile(r"^[A-Z]{2}$")


# ----------------------------------------------------------------------------- parsing


def _problem(message: str) -> PermanentHttpError:
    return PermanentHttpError(f"USPTO Open Data Portal: {message}")


def _text(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _list(value: object) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def parse_search(data: object) -> tuple[list[dict], int]:
    """Return the application records of a search page and the total count. Pure."""
    if not isinstance(data, dict):
        raise _problem("the search response is not a JSON object")
    records = data.get("patentFileWrapperDataBag", [] if data.get("count") == 0 else None)
    if not isinstance(records, list) or not isinstance(data.get("count"), int):
        raise _problem("the search response has no 'count' and 'patentFileWrapperDataBag'")
    return [record for record in records if isinstance(record, dict)], data["count"]


def assignee_country(assignee: dict) -> tuple[str, str]:
    """(ISO code, what said so) of an assignee, "" when nothing says where it is.

    A country in the address decides; then the USPTO's region code ("CNX" is China, a
    bare "CA" a US state, so not China); only an address with neither is read for a
    Chinese city, and the name last ("Shanghai ... Co., Ltd.").
    """
    address = assignee.get("assigneeAddress")
    address = address if isinstance(address, dict) else {}
    for field in ("countryCode", "countryName"):
        value = _text(address.get(field))
        code = normalize.parse_country(value) if value else None
        if code:
            return code, f"{field} {value}"
    for field in ("geographicRegionCode", "geographicRegionName"):
        value = _text(address.get(field)).upper()
        foreign = FOREIGN_REGION_RE.match(value)
        if foreign and normalize.parse_country(foreign.group(1)):
            return normalize.parse_country(foreign.group(1)), f"region {value}"
        if STATE_RE.match(value):
            return "", f"region {value} (a state or province, not China)"
    place = " ".join(
        _text(address.get(field))
        for field in ("cityName", "addressLineOneText", "addressLineTwoText")
    )
    code = matching.chinese_country(place)
    if code:
        return code, f"address {place.strip()}"
    name = _text(assignee.get("assigneeNameText"))
    code = matching.chinese_country(name)
    return (code, f"name {name}") if code else ("", "")


def _ours(
    assignment: dict, names: list[str], threshold: float
) -> tuple[str, date | None, NameMatch] | None:
    """(assignor name, execution day, match) of the assignor that is the entity."""
    best = None
    for assignor in _list(assignment.get("assignorBag")):
        name = _text(assignor.get("assignorName"))
        found = matching.match_name(names, name) if name else None
        if found and found.score >= threshold and (best is None or found.score > best[2].score):
            best = (name, parse_day(assignor.get("executionDate")), found)
    return best


def _excerpt(
    record: dict, assignment: dict, assignor: str, assignee: str, how: str, executed: date
) -> str:
    meta = record.get("applicationMetaData")
    meta = meta if isinstance(meta, dict) else {}
    number = _text(record.get("applicationNumberText"))
    title = _text(meta.get("inventionTitle"))
    patent = _text(meta.get("patentNumber"))
    recorded = _text(assignment.get("assignmentRecordedDate"))
    reel_frame = _text(assignment.get("reelAndFrameNumber"))
    return (
        f"{_text(assignment.get('conveyanceText')) or 'Assignment'} US application {number}"
        + (f" ({title})" if title else "")
        + (f", patent {patent}" if patent else "")
        + f": from {assignor} to {assignee} ({how}), executed {executed.isoformat()}"
        + (f", recorded {recorded}" if recorded else "")
        + (f" at reel/frame {reel_frame}" if reel_frame else "")
        + "."
    )[:1000]


def application_hits(
    record: dict, *, names: list[str], since: date, until: date, threshold: float
) -> list[Hit]:
    """The IP leads of one application record's assignments. Pure.

    An assignment counts when the entity is an assignor, an assignee other than the
    entity is Chinese, the conveyance moves rights, and the entity executed it within
    [since, until] (the recorded day stands in when no execution day is given).
    """
    number = _text(record.get("applicationNumberText"))
    if not number:
        raise _problem("an application record without applicationNumberText")
    hits: dict[str, Hit] = {}
    for assignment in _list(record.get("assignmentBag")):
        conveyance = _text(assignment.get("conveyanceText"))
        if NO_TRANSFER_RE.search(conveyance):
            continue
        ours = _ours(assignment, names, threshold)
        if ours is None:
            continue
        assignor, executed, match = ours
        executed = executed or parse_day(assignment.get("assignmentRecordedDate"))
        if executed is None or not since <= executed <= until:
            continue
        reel_frame = _text(assignment.get("reelAndFrameNumber"))
        evidence = hashlib.sha256(
            json.dumps(assignment, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()
        for assignee in _list(assignment.get("assigneeBag")):
            name = _text(assignee.get("assigneeNameText"))
            if not name or matching.match_name(names, name).score >= threshold:
                continue  # the entity assigning to itself under another name
            country, how = assignee_country(assignee)
            if country not in rules.CHINESE_JURISDICTIONS:
                continue
            what = "licence" if LICENCE_RE.search(conveyance) else "assignment"
            external_id = (
                f"uspto:{number}:{reel_frame or executed.isoformat()}:{normalize.name_key(name)}"
            )
            hits.setdefault(
                external_id,
                Hit(
                    kind=Finding.Kind.IP_LICENCE,
                    counterparty_name=name,
                    counterparty_country=country,
                    event_date=executed,
                    event_date_precision=normalize.DatePrecision.DAY,
                    url=APPLICATION_URL.format(number=number),
                    excerpt=_excerpt(record, assignment, assignor, name, how, executed),
                    external_id=external_id,
                    score=match.score,
                    explanation=f"{what} by assignor {assignor!r}: {match.explanation}",
                    evidence_sha256=evidence,
                    flags=dod_flags(name),
                ),
            )
    return list(hits.values())


def assignor_query(names: list[str]) -> str:
    """q for applications one of the names assigned: a quoted phrase per name, OR'd."""
    phrases = []
    for name in names:
        cleaned = " ".join(name.replace('"', " ").replace("\\", " ").split())
        clause = f'assignmentBag.assignorBag.assignorName:"{cleaned}"'
        if cleaned and clause not in phrases:
            phrases.append(clause)
    return " OR ".join(phrases)


def refusal(exc: PermanentHttpError) -> PermanentHttpError:
    """The error to record for a refused request, with what the body says about it."""
    detail = exc.body.strip()
    try:
        data = json.loads(detail)
    except ValueError:
        data = None
    if isinstance(data, dict):
        parts = [data.get(key) for key in ("errorDetails", "detail", "message", "error")]
        detail = "; ".join(part for part in parts if isinstance(part, str) and part)
    detail = " ".join(detail.split())[:200]
    return _problem(f"{exc}" + (f": {detail}" if detail else ""))


# ----------------------------------------------------------------------------- fetching


class UsptoSource(Source):
    name = "uspto"
    default_url = "https://api.uspto.gov"
    # The Open Data Portal limits each key; one request a second stays well inside it.
    rate_per_second = 1
    required_settings = ("USPTO_API_KEY",)
    detects = (Finding.Kind.IP_LICENCE,)
    searched_with = ()  # assignors by name

    def search(
        self, entity: Entity, since: date, client: HttpClient, *, until: date | None = None
    ) -> SearchResult:
        until = span_end(until)
        names = matching.entity_names(entity)
        threshold = settings.WISHLIST_MATCH_THRESHOLD
        reader = JsonReader(client, self.base_url, headers={"X-API-KEY": settings.USPTO_API_KEY})
        params = {"q": assignor_query(names), "offset": 0, "limit": PAGE_SIZE}
        hits: dict[str, Hit] = {}
        read, offset, note = 0, 0, ""
        while True:
            try:
                data, _ = reader.get(SEARCH_PATH, {**params, "offset": offset}, note=False)
            except PermanentHttpError as exc:
                if exc.status == 404 and NO_MATCH_RE.search(exc.body):
                    break
                raise refusal(exc) from exc
            read += 1
            records, count = parse_search(data)
            for record in records:
                for hit in application_hits(
                    record, names=names, since=since, until=until, threshold=threshold
                ):
                    hits.setdefault(hit.external_id, hit)
            offset += len(records)
            if not records or offset >= count:
                break
            if read == MAX_PAGES:
                note = (
                    f" (stopped after {MAX_PAGES} pages of {count} applications; "
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


SOURCE = UsptoSource()
