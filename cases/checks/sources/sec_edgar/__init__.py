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
from datetime import date

from django.conf import settings

from cases import normalize
from cases.checks import matching
from cases.checks.http import HttpClient
from cases.checks.sources import Hit, SearchResult, Source
from cases.checks.sources.common import JsonReader, describe, parse_day
from cases.checks.sources.sec_edgar.filings import (
    FORMS,
    Filing,
    filing_hit,
    filings_of_interest,
    parse_filing_columns,
    parse_search,
    parse_submissions,
    total_hits,
)
from cases.models import Entity

CHINA_TERM = "China"
MAX_PAGES = 5  # per query: 500 filings is already more than an analyst would read
MAX_PHRASES = 3  # names searched as phrases (the name, then aliases)
MAX_OLDER_SUBMISSION_FILES = 3


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

    def search(
        self, entity: Entity, since: date, client: HttpClient, *, until: date | None = None
    ) -> SearchResult:
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
