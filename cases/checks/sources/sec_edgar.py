"""SEC EDGAR: filings since the referral date in which the entity and a Chinese party meet.

Two endpoints. EDGAR full-text search (efts.sec.gov/LATEST/search-index, `q`,
`dateRange=custom`, `startdt`, `enddt`, `forms`, `ciks`, `from`; 100 hits a page) is asked
for the entity's name as a quoted phrase together with "China", in forms 8-K, 6-K, 10-K,
20-F and Schedules 13D/13G filed from the referral date to today. When the entity has a
SEC CIK, its submissions file (data.sec.gov/submissions/CIK##########.json) lists its own
filings, and full-text search is also asked for "China" in every filing that CIK is a
party to (which includes Schedules 13D/G filed about it by others).

A hit is one filing (one accession number) that
- names the entity: one of its parties (display names, or the entity's CIK) matches the
  entity, or else EDGAR matched the quoted name in the filing's text; and
- has a Chinese counterparty among its *other* parties: a party whose EDGAR business
  location or state of incorporation is China (F4), Hong Kong (K3) or Macau (N5), or
  whose name places it in China.
The kind comes from the form and 8-K items (1.01 material definitive agreement ->
partnership, 2.01 completed acquisition -> acquisition, 3.02 unregistered sale of equity
-> equity investment; Schedules 13D/G -> equity investment), else from terms in the
filing's description, else "other". The event date is the filing date.

What a filing-level signal cannot tell: full-text search returns a filing's parties and
metadata, not its text, so a counterparty named only inside the document (an 8-K in
which the entity itself reports a deal with a Chinese company) cannot be named and is
not a hit; and a Chinese filer that merely mentions the entity (a competitor, a
customer) is a hit for an analyst to read, not a finding. The entity's own filings from
the submissions file add what they can (items, the primary document) but are never hits
by themselves, because they name no counterparty.

SEC asks for a User-Agent with a contact address (SEC_USER_AGENT) and at most 10
requests a second per client; the shared limiter holds that across all workers.
"""

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import date

from django.conf import settings

from cases import normalize
from cases.checks import matching
from cases.checks.http import HttpClient, PermanentHttpError
from cases.checks.sources import Hit, SearchResult, Source
from cases.checks.sources.common import JsonReader, describe, dod_flags, parse_day
from cases.models import Entity, Finding

ARCHIVES_URL = "https://www.sec.gov/Archives/edgar/data"
FORMS = ("8-K", "6-K", "10-K", "20-F", "SC 13D", "SC 13G", "SCHEDULE 13D", "SCHEDULE 13G")
# Since December 2024 beneficial-ownership reports are filed as "SCHEDULE 13D/G"; older
# ones as "SC 13D/G". Amendments carry a "/A".
OWNERSHIP_FORMS = ("SC 13D", "SC 13G", "SCHEDULE 13D", "SCHEDULE 13G")
# 8-K items that name a kind of event; the most specific wins when several are reported.
ITEM_KINDS = (
    ("2.01", Finding.Kind.ACQUISITION),
    ("3.02", Finding.Kind.EQUITY_INVESTMENT),
    ("1.01", Finding.Kind.PARTNERSHIP),
)
# EDGAR's own state-and-country codes (not ISO) for the places that count as China.
EDGAR_CHINA_CODES = {"F4": "CN", "K3": "HK", "N5": "MO"}
CHINA_TERM = "China"
MAX_PAGES = 5  # per query: 500 filings is already more than an analyst would read
MAX_PHRASES = 3  # names searched as phrases (the name, then aliases)
MAX_OLDER_SUBMISSION_FILES = 3

_CIK_RE = re.compile(r"\s*\(CIK\s*(\d{1,10})\)\s*$", re.IGNORECASE)
_TICKERS_RE = re.compile(r"\s*\(([A-Z0-9.\-]{1,10}(?:,\s*[A-Z0-9.\-]{1,10})*)\)\s*$")


@dataclass(frozen=True)
class Party:
    """One filer or subject company of a filing."""

    name: str
    cik: str = ""  # ten digits, or "" when not given
    location: str = ""  # EDGAR business location ("Beijing, F4")
    country: str = ""  # CN/HK/MO when EDGAR places the party in China, else ""


@dataclass(frozen=True)
class Filing:
    accession: str  # "0001104659-24-023662"
    form: str
    filed: date | None
    items: tuple[str, ...] = ()
    parties: tuple[Party, ...] = ()
    document: str = ""  # the file within the filing that matched (or the primary one)
    description: str = ""

    @property
    def url(self) -> str:
        cik = next((p.cik for p in self.parties if p.cik), "")
        if not cik:
            return ""
        folder = f"{ARCHIVES_URL}/{int(cik)}/{self.accession.replace('-', '')}"
        return f"{folder}/{self.document}" if self.document else f"{folder}/"


def _text_list(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item if isinstance(item, str) else "" for item in value]
    return []


def _items(value) -> tuple[str, ...]:
    """Items come as a list (full-text search) or a comma-separated string (submissions)."""
    parts = value.split(",") if isinstance(value, str) else _text_list(value)
    return tuple(part.strip() for part in parts if part and part.strip())


def _china_code(location: str) -> str:
    """CN/HK/MO for an EDGAR location ("Beijing, F4") or state code ("K3"), else ""."""
    code = location.rpartition(",")[2].strip().upper()
    return EDGAR_CHINA_CODES.get(code, "")


def split_display_name(display_name: str) -> tuple[str, str]:
    """Return (name, ten-digit CIK) from "TESLA, INC.  (TSLA)  (CIK 0001318605)"."""
    text = display_name.strip()
    cik = ""
    found = _CIK_RE.search(text)
    if found:
        cik = found.group(1).zfill(10)
        text = text[: found.start()]
    text = _TICKERS_RE.sub("", text)
    return " ".join(text.split()), cik


def _parties(source: dict) -> tuple[Party, ...]:
    names = _text_list(source.get("display_names"))
    ciks = _text_list(source.get("ciks"))
    locations = _text_list(source.get("biz_locations"))
    incorporated = _text_list(source.get("inc_states"))
    # The per-party lists are parallel only when they are as long as the names; a
    # location that cannot be tied to one party is not used.
    if len(locations) != len(names):
        locations = [""] * len(names)
    if len(incorporated) != len(names):
        incorporated = [""] * len(names)
    parties = []
    for index, display_name in enumerate(names):
        name, cik = split_display_name(display_name)
        if not cik and len(ciks) == len(names) and ciks[index].isdigit():
            cik = ciks[index].zfill(10)
        country = (
            _china_code(locations[index])
            or _china_code(incorporated[index])
            or matching.chinese_country(name)
        )
        parties.append(Party(name=name, cik=cik, location=locations[index], country=country))
    return tuple(parties)


def parse_search(data: object) -> tuple[list[Filing], int]:
    """Return the filings on one page of full-text search results and the total count.

    A filing matched in several of its files appears once, with the first file matched.
    """
    hits = data.get("hits") if isinstance(data, dict) else None
    if not isinstance(hits, dict) or not isinstance(hits.get("hits"), list):
        detail = ""
        if isinstance(data, dict) and data.get("error"):
            detail = f": {str(data['error'])[:200]}"
        raise PermanentHttpError(f"EDGAR full-text search: no hits.hits list in the body{detail}")
    total = total_hits(hits)
    filings: dict[str, Filing] = {}
    for hit in hits["hits"]:
        if not isinstance(hit, dict) or not isinstance(hit.get("_source"), dict):
            raise PermanentHttpError("EDGAR full-text search: a hit without _source")
        source = hit["_source"]
        hit_id = hit.get("_id") if isinstance(hit.get("_id"), str) else ""
        accession, _, document = hit_id.partition(":")
        accession = source.get("adsh") if isinstance(source.get("adsh"), str) else accession
        if not accession or accession in filings:
            continue
        description = source.get("file_description")
        filings[accession] = Filing(
            accession=accession,
            form=str(source.get("form") or source.get("file_type") or ""),
            filed=parse_day(source.get("file_date")),
            items=_items(source.get("items")),
            parties=_parties(source),
            document=document,
            description=description if isinstance(description, str) else "",
        )
    return list(filings.values()), len(filings) if total is None else total


def total_hits(hits: dict) -> int | None:
    """How many hits the query has in all, when the page says."""
    total = hits.get("total")
    if isinstance(total, dict):
        total = total.get("value")
    return total if isinstance(total, int) else None


def parse_filing_columns(columns: object, *, cik: str, name: str) -> list[Filing]:
    """Return the filings in a submissions file's column arrays (`filings.recent`, or the
    top level of an older `CIK##########-submissions-NNN.json` page)."""
    if not isinstance(columns, dict) or not isinstance(columns.get("accessionNumber"), list):
        raise PermanentHttpError("EDGAR submissions: no accessionNumber column")
    accessions = columns["accessionNumber"]

    def column(key: str) -> list:
        values = columns.get(key)
        return values if isinstance(values, list) and len(values) == len(accessions) else []

    forms, dates = column("form"), column("filingDate")
    items, documents = column("items"), column("primaryDocument")
    descriptions = column("primaryDocDescription")
    party = Party(name=name, cik=cik.zfill(10) if cik else "")
    filings = []
    for index, accession in enumerate(accessions):
        if not isinstance(accession, str) or not accession:
            continue
        filings.append(
            Filing(
                accession=accession,
                form=str(forms[index]) if forms else "",
                filed=parse_day(dates[index]) if dates else None,
                items=_items(items[index]) if items else (),
                parties=(party,),
                document=str(documents[index] or "") if documents else "",
                description=str(descriptions[index] or "") if descriptions else "",
            )
        )
    return filings


def parse_submissions(data: object) -> tuple[list[Filing], list[dict]]:
    """Return a filer's recent filings and its older pages (name, filingFrom, filingTo)."""
    if not isinstance(data, dict) or not isinstance(data.get("filings"), dict):
        raise PermanentHttpError("EDGAR submissions: no filings object in the body")
    cik = str(data.get("cik") or "")
    name = str(data.get("name") or "")
    filings = parse_filing_columns(data["filings"].get("recent"), cik=cik, name=name)
    files = data["filings"].get("files")
    older = [page for page in files if isinstance(page, dict)] if isinstance(files, list) else []
    return filings, older


def is_of_interest(filing: Filing) -> bool:
    """A form this source watches; an 8-K only with an item that names a deal."""
    form = filing.form.upper().removesuffix("/A")
    if form not in FORMS:
        return False
    if form == "8-K":
        return any(item in filing.items for item, _ in ITEM_KINDS)
    return True


def filings_of_interest(filings: list[Filing], since: date) -> dict[str, Filing]:
    """The filings of interest filed on or after `since`, by accession number."""
    return {
        filing.accession: filing
        for filing in filings
        if filing.filed and filing.filed >= since and is_of_interest(filing)
    }


def filing_kind(filing: Filing) -> str:
    """The Finding.Kind value the form, items or description point to ("other" if none)."""
    form = filing.form.upper().removesuffix("/A")
    for item, kind in ITEM_KINDS:
        if item in filing.items:
            return kind
    if form in OWNERSHIP_FORMS:
        return Finding.Kind.EQUITY_INVESTMENT
    text = " ".join([filing.description, *(party.name for party in filing.parties)])
    return matching.kind_from_text(text) or Finding.Kind.OTHER


def _excerpt(filing: Filing) -> str:
    parts = [f"{filing.form or 'Filing'} filed {filing.filed.isoformat() if filing.filed else '?'}"]
    if filing.items:
        parts.append(f"items {', '.join(filing.items)}")
    parties = "; ".join(
        f"{party.name} ({party.location})" if party.location else party.name
        for party in filing.parties
    )
    if parties:
        parts.append(f"by or about {parties}")
    if filing.description:
        parts.append(filing.description)
    return ", ".join(parts)[:1000]


def _with_own_filing(filing: Filing, own: Filing) -> Filing:
    """The filing with what the entity's own copy adds: items, primary document."""
    return replace(
        filing,
        items=filing.items or own.items,
        document=own.document or filing.document,
        description=filing.description or own.description,
    )


def _entity_party(
    filing: Filing, names: list[str], entity_ciks: frozenset[str], threshold: float
) -> tuple[int | None, matching.NameMatch]:
    """The index of the party that is the entity (by CIK, else best name match at or
    above the threshold) and how it matched; None when no party is."""
    entity_index, match = None, matching.NameMatch(0.0, "")
    for index, party in enumerate(filing.parties):
        if party.cik and party.cik in entity_ciks:
            return index, matching.NameMatch(
                100.0, f"{party.name!r} is the entity's SEC CIK {int(party.cik)}"
            )
        candidate = matching.match_name(names, party.name)
        if candidate.score >= threshold and candidate.score > match.score:
            entity_index, match = index, candidate
    return entity_index, match


def _named_in_text(names: list[str], phrase: str, own: Filing | None) -> matching.NameMatch | None:
    """How a filing none of whose parties is the entity names it, or None if it does not:
    it is the entity's own filing, or full-text search found the entity's phrase."""
    if own is not None:
        return matching.NameMatch(100.0, "the entity's own filing (its EDGAR submissions)")
    if not phrase:
        return None
    found = matching.match_in_text(names, phrase)
    return matching.NameMatch(
        found.score,
        f"EDGAR full-text search found the phrase {phrase!r} in the filing's text: "
        f"{found.explanation}",
    )


def _chinese_counterparty(
    filing: Filing, entity_index: int | None, entity_ciks: frozenset[str]
) -> Party | None:
    """The first party in China that is not the entity."""
    return next(
        (
            party
            for index, party in enumerate(filing.parties)
            if index != entity_index
            and party.country in matching.CHINA
            and party.cik not in entity_ciks
        ),
        None,
    )


def filing_hit(
    filing: Filing,
    *,
    names: list[str],
    phrase: str,
    since: date,
    evidence_sha256: str,
    entity_ciks: frozenset[str] = frozenset(),
    own_filings: dict[str, Filing] | None = None,
    threshold: float = 85,
) -> Hit | None:
    """Judge one filing; return a Hit, or None when it is not evidence for the entity.

    `phrase` is what full-text search was asked to find in the text ("" for a search by
    CIK); `own_filings` are the entity's filings from its submissions file, which say
    the entity is a party and give items and the primary document.
    """
    if filing.filed is None or filing.filed < since:
        return None
    own = (own_filings or {}).get(filing.accession)
    if own is not None:
        filing = _with_own_filing(filing, own)
    entity_index, match = _entity_party(filing, names, entity_ciks, threshold)
    if entity_index is None:
        match = _named_in_text(names, phrase, own)
        if match is None:
            return None
    counterparty = _chinese_counterparty(filing, entity_index, entity_ciks)
    if counterparty is None:
        return None
    return Hit(
        kind=filing_kind(filing),
        counterparty_name=counterparty.name,
        counterparty_country=counterparty.country,
        event_date=filing.filed,
        event_date_precision=normalize.DatePrecision.DAY,
        url=filing.url,
        excerpt=_excerpt(filing),
        external_id=f"sec_edgar:{filing.accession}",
        score=match.score,
        explanation=match.explanation,
        evidence_sha256=evidence_sha256,
        flags=dod_flags(counterparty.name),
    )


def search_phrases(names: list[str]) -> list[str]:
    """The entity's names as EDGAR phrases: name keys (case, punctuation and legal forms
    folded, which full-text search ignores too), Latin script, at least four letters."""
    phrases: dict[str, None] = {}
    for name in names:
        key = normalize.name_key(name)
        if len(key) >= 4 and key.isascii() and '"' not in key:
            phrases.setdefault(key, None)
    return list(phrases)[:MAX_PHRASES]


def _following(data: object, url: str, params: dict | None) -> tuple[str, dict] | None:
    """The next page of full-text search by offset (`from`: hits read so far)."""
    hits = data["hits"]
    read = (params or {}).get("from", 0) + len(hits["hits"])
    total = total_hits(hits)
    if not hits["hits"] or total is None or read >= total:
        return None
    return url, {**(params or {}), "from": read}


class SecEdgarSource(Source):
    """EDGAR full-text search plus, for an entity with a CIK, its submissions file.

    WISHLIST_SEC_EDGAR_URL replaces https://efts.sec.gov/LATEST (search at
    <base>/search-index); WISHLIST_SEC_EDGAR_DATA_URL replaces https://data.sec.gov
    (submissions at <base>/submissions/...). When only WISHLIST_SEC_EDGAR_URL is set,
    both endpoints use it, so one local server can stand in for both.
    """

    name = "sec_edgar"
    default_url = "https://efts.sec.gov/LATEST"
    default_data_url = "https://data.sec.gov"
    rate_per_second = 10  # SEC's fair-access limit, for all our workers together
    required_settings = ("SEC_USER_AGENT",)

    @property
    def data_url(self) -> str:
        override = settings.WISHLIST_SEC_EDGAR_DATA_URL.rstrip("/")
        override = override or settings.WISHLIST_SOURCE_URLS.get(self.name, "").rstrip("/")
        return override or self.default_data_url

    def search(self, entity: Entity, since: date, client: HttpClient) -> SearchResult:
        names = matching.entity_names(entity)
        reader = JsonReader(client, self.base_url, headers={"User-Agent": settings.SEC_USER_AGENT})
        cik = entity.sec_cik.zfill(10) if entity.sec_cik else ""
        entity_ciks = frozenset({cik}) if cik else frozenset()
        own = self._own_filings(reader, cik, since) if cik else {}
        best: dict[str, Hit] = {}
        for phrase, params in self._queries(names, cik, since):
            for filing, sha in self._full_text(reader, params):
                hit = filing_hit(
                    filing,
                    names=names,
                    phrase=phrase,
                    since=since,
                    evidence_sha256=sha,
                    entity_ciks=entity_ciks,
                    own_filings=own,
                    threshold=settings.WISHLIST_MATCH_THRESHOLD,
                )
                known = best.get(hit.external_id) if hit else None
                if hit and (known is None or hit.score > known.score):
                    best[hit.external_id] = hit
        if cik:
            reader.asked.append(f"{len(own)} of the entity's own filings of interest since {since}")
        return SearchResult(hits=list(best.values()), query="\n".join(reader.asked))

    def _queries(self, names: list[str], cik: str, since: date) -> list[tuple[str, dict]]:
        """(phrase, full-text search parameters): the entity's names with "China", then
        "China" in the filings its CIK is a party to (phrase "")."""
        base = {
            "dateRange": "custom",
            "startdt": since.isoformat(),
            "enddt": date.today().isoformat(),
            "forms": ",".join(FORMS),
        }
        queries = [
            (phrase, {"q": f'"{phrase}" {CHINA_TERM}', **base}) for phrase in search_phrases(names)
        ]
        if cik:
            queries.append(("", {"q": CHINA_TERM, "ciks": cik, **base}))
        return queries

    def _full_text(self, reader: JsonReader, params: dict) -> list[tuple[Filing, str]]:
        """Every page of one full-text query, up to MAX_PAGES: (filing, page's SHA-256)."""
        url = f"{self.base_url}/search-index"
        pages = reader.pages(url, params, _following, max_pages=MAX_PAGES, note=False)
        found: list[tuple[Filing, str]] = []
        read = total = 0
        for data, raw in pages:
            filings, total = parse_search(data)
            sha = hashlib.sha256(raw).hexdigest()
            found.extend((filing, sha) for filing in filings)
            read += len(data["hits"]["hits"])
        reader.asked.append(f"GET {url} {describe(params)} ({read} of {total} hits read)")
        return found

    def _own_filings(self, reader: JsonReader, cik: str, since: date) -> dict[str, Filing]:
        """The entity's filings of interest since `since`: recent ones, then older pages
        whose filings reach `since` (a few at most)."""
        data, _ = reader.get(f"{self.data_url}/submissions/CIK{cik}.json")
        filings, older = parse_submissions(data)
        name = str(data.get("name") or "")
        fetched = 0
        for page in older:
            if fetched == MAX_OLDER_SUBMISSION_FILES:
                break
            page_name, page_to = page.get("name"), parse_day(page.get("filingTo"))
            if not isinstance(page_name, str) or (page_to and page_to < since):
                continue
            columns, _ = reader.get(f"{self.data_url}/submissions/{page_name}")
            filings.extend(parse_filing_columns(columns, cik=cik, name=name))
            fetched += 1
        return filings_of_interest(filings, since)


SOURCE = SecEdgarSource()
