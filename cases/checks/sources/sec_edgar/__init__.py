"""SEC EDGAR: filings since the referral date in which the entity and a Chinese party meet.

Three endpoints. EDGAR full-text search (efts.sec.gov/LATEST/search-index, `q`,
`dateRange=custom`, `startdt`, `enddt`, `forms`, `ciks`, `locationCodes`, `locationType`,
`from`; 100 hits a page; filings from 2001 on) is asked, for each of the entity's names as
a quoted phrase,
- the phrase together with "China", and
- the phrase alone in filings of filers located in mainland China, Hong Kong or Macau
  (`locationCodes=F4,K3,N5`, `locationType=located`), so a Chinese filer naming the
  entity is found even when the first query's pages are full of others,
in forms 8-K, 6-K, 10-K, 20-F, Schedules 13D/13G and the tender-offer and merger forms
(SC TO-T, SC TO-C, SC 14D9, SC 13E3, DEFM14A, PREM14A, 425, S-4, F-4, with their
amendments), filed in the span searched. When the entity has a SEC CIK, its submissions
file (data.sec.gov/submissions/CIK##########.json) lists its own filings, and full-text
search is also asked for "China" in every filing that CIK is a party to (which includes
Schedules 13D/G filed about it by others). A deal form that names the entity but none of
whose parties is Chinese has its matched document read (www.sec.gov/Archives/edgar/data/
CIK/ACCESSION/FILE, at most MAX_DOCUMENTS a span) for a company the text places in China
(`documents`). The check service searches the period in spans of five years (`windows`);
within a span, a query with more hits than MAX_PAGES pages hold is asked again year by
year, so older filings are not crowded out.

A hit is one filing (one accession number) that
- names the entity: one of its parties (display names, or the entity's CIK) matches the
  entity, or else EDGAR matched the quoted name in the filing's text; and
- has a Chinese counterparty among its *other* parties: a party whose EDGAR business
  location (state code, or a location written in words such as "Haidian District,
  Beijing") or state of incorporation is China (F4), Hong Kong (K3) or Macau (N5); the
  name decides only when EDGAR gives no location, so a San Francisco fund called "China
  Basin ..." is not Chinese; or else, for a deal form, a company its document places in
  China.
The kind comes from the form and 8-K items (tender-offer and merger forms and 2.01
completed acquisition -> acquisition, 3.02 unregistered sale of equity and Schedules
13D/G -> equity investment, 1.01 material definitive agreement -> the document's sentence
or partnership), else from terms in the filing's description, else "other". The event
date is the filing date.

Mentions are not deals. A Chinese filer's annual report (10-K, 20-F) or other non-deal
form that names the entity only in its text lists it among competitors, customers or
suppliers far more often than it reports a deal with it, so such a hit scores
MENTION_SCORE, below the lead threshold: it is kept in the result, not filed. Deal forms
(Schedules 13D/G, tender-offer and merger forms, 8-K items 1.01/2.01/3.02, 6-K) keep the
name's score, except that a Chinese party's deal form naming the entity only in its text
has its document read (within the same MAX_DOCUMENTS): with no sentence naming the entity
in a deal (a director's biography, a list of customers) it is a mention too. A deal the
document says was terminated, blocked or unwound is flagged "did_not_complete" and
scored down the same way; a sentence recounting an earlier year ("in 2016 ... acquired")
is history, not the filing's event, and names no counterparty.
The entity's own filings from the submissions file add what they can (items, the primary
document) but are never hits by themselves.

SEC asks for a User-Agent with a contact address (SEC_USER_AGENT) and at most 10
requests a second per client; the shared limiter holds that across all workers.
"""

import hashlib
from datetime import date

from django.conf import settings

from cases import normalize
from cases.checks import matching
from cases.checks.http import HttpClient, PermanentHttpError
from cases.checks.sources import Hit, SearchResult, Source
from cases.checks.sources.common import JsonReader, describe, parse_day, span_end, spans, today
from cases.checks.sources.sec_edgar import documents
from cases.checks.sources.sec_edgar.filings import (
    FORMS,
    Filing,
    filings_of_interest,
    is_deal_form,
    parse_filing_columns,
    parse_search,
    parse_submissions,
)
from cases.checks.sources.sec_edgar.judging import (
    Subject,
    filing_hit,
    filing_subject,
    is_text_mention,
    read_mention,
    wants_document,
)
from cases.models import Entity, Finding

CHINA_TERM = "China"
# EDGAR's codes for mainland China, Hong Kong and Macau, for `locationCodes`.
CHINA_LOCATION_CODES = "F4,K3,N5"
MAX_PAGES = 5  # per query and period: 500 filings is already more than an analyst would read
MAX_PHRASES = 3  # names searched as phrases (the name, then aliases)
MAX_OLDER_SUBMISSION_FILES = 3
MAX_DOCUMENTS = 8  # filing documents read per search (a counterparty or a deal in the text)
# A merger proxy or S-4 runs to megabytes; the deal and its parties are told at the start
# (an 8-K's item, the summary term sheet), so only the first part is read.
MAX_DOCUMENT_BYTES = 2_000_000
ARCHIVE_START = date(2001, 1, 1)  # full-text search holds filings from 2001 on
WINDOW_YEARS = 5


def search_phrases(names: list[str]) -> list[str]:
    """The entity's names as EDGAR phrases: name keys (case, punctuation and legal forms
    folded, which full-text search ignores too), Latin script, at least four letters."""
    phrases: dict[str, None] = {}
    for name in names:
        key = normalize.name_key(name)
        if len(key) >= 4 and key.isascii() and '"' not in key:
            phrases.setdefault(key, None)
    return list(phrases)[:MAX_PHRASES]


class SecEdgarSource(Source):
    """EDGAR full-text search plus, for an entity with a CIK, its submissions file, and
    the documents of deal forms that name no Chinese party.

    WISHLIST_SEC_EDGAR_URL replaces https://efts.sec.gov/LATEST (search at
    <base>/search-index); WISHLIST_SEC_EDGAR_DATA_URL replaces https://data.sec.gov
    (submissions at <base>/submissions/...) and https://www.sec.gov (documents at
    <base>/Archives/...). When only WISHLIST_SEC_EDGAR_URL is set, every endpoint uses
    it, so one local server can stand in for all.
    """

    name = "sec_edgar"
    default_url = "https://efts.sec.gov/LATEST"
    default_data_url = "https://data.sec.gov"
    archives_host = "https://www.sec.gov"
    rate_per_second = 10  # SEC's fair-access limit, for all our workers together
    required_settings = ("SEC_USER_AGENT",)
    detects = (
        Finding.Kind.ACQUISITION,
        Finding.Kind.EQUITY_INVESTMENT,
        Finding.Kind.PARTNERSHIP,
        Finding.Kind.JOINT_VENTURE,
        Finding.Kind.IP_LICENCE,
    )
    archive_start = ARCHIVE_START
    searched_with = ("sec_cik",)
    # Filings are listed by filing date and indexed within a day or so: a re-check asks
    # only from two weeks before the last day searched.
    incremental = True
    requests_per_check = 8

    @property
    def _data_override(self) -> str:
        override = settings.WISHLIST_SEC_EDGAR_DATA_URL.rstrip("/")
        return override or settings.WISHLIST_SOURCE_URLS.get(self.name, "").rstrip("/")

    @property
    def data_url(self) -> str:
        return self._data_override or self.default_data_url

    @property
    def archives_url(self) -> str:
        return self._data_override or self.archives_host

    def windows(self, first: date, last: date) -> list[tuple[date, date]]:
        """Spans of WINDOW_YEARS years on the calendar: a check cut short keeps the spans
        it read, and each span has its own budget of documents. Full-text search takes
        any period, and a query with more hits than its pages is asked again year by year
        within its span, so spans need not be shorter; longer ones keep a deal's filings
        together (a partner named in full in one filing is known by its short name in the
        next)."""
        return spans(max(first, ARCHIVE_START), last, months=12 * WINDOW_YEARS)

    def search(
        self, entity: Entity, since: date, client: HttpClient, *, until: date | None = None
    ) -> SearchResult:
        until = span_end(until)
        start = max(since, ARCHIVE_START)
        if start > until:
            return SearchResult(query=f"nothing to search: {start} is after {until}")
        search = _Search(self, entity, client, start, until)
        hits = search.run()
        return SearchResult(
            hits=hits,
            query="\n".join(search.reader.asked),
            searched_from=start if start != since else None,
            searched_to=until,
        )


class _Search:
    """One search() call: its queries, pages, documents and the hits they make."""

    def __init__(
        self, source: SecEdgarSource, entity: Entity, client: HttpClient, since: date, until: date
    ):
        self.source = source
        self.names = matching.entity_names(entity)
        self.reader = JsonReader(
            client, source.base_url, headers={"User-Agent": settings.SEC_USER_AGENT}
        )
        self.cik = entity.sec_cik.zfill(10) if entity.sec_cik else ""
        self.entity_ciks = frozenset({self.cik}) if self.cik else frozenset()
        self.since, self.until = since, until
        self.documents_left = MAX_DOCUMENTS

    def run(self) -> list[Hit]:
        own = self._own_filings() if self.cik else {}
        best: dict[str, Hit] = {}
        pending: list[Subject] = []
        mentions: dict[str, tuple[Subject, Hit]] = {}
        for phrase, params in self._queries():
            for filing, sha in self._full_text(params):
                subject = filing_subject(
                    filing,
                    names=self.names,
                    phrase=phrase,
                    since=self.since,
                    until=self.until,
                    entity_ciks=self.entity_ciks,
                    own_filings=own,
                    threshold=settings.WISHLIST_MATCH_THRESHOLD,
                )
                if subject is None:
                    continue
                hit = filing_hit(subject, evidence_sha256=sha, entity_ciks=self.entity_ciks)
                if hit is None and wants_document(subject, self.entity_ciks):
                    pending.append(subject)
                elif hit and is_text_mention(subject) and is_deal_form(subject.filing):
                    mentions.setdefault(hit.external_id, (subject, hit))
                _keep(best, hit)
        for hit in self._read_documents(pending, best):
            _keep(best, hit)
        for hit in self._read_mentions(mentions):
            best[hit.external_id] = hit
        if self.cik:
            self.reader.asked.append(
                f"{len(own)} of the entity's own filings of interest from {self.since}"
            )
        return list(best.values())

    def _queries(self) -> list[tuple[str, dict]]:
        """(phrase, full-text search parameters): each name with "China", each name in
        filings of filers located in China, then "China" in the filings the entity's CIK
        is a party to (phrase "")."""
        base = {
            "dateRange": "custom",
            "startdt": self.since.isoformat(),
            "enddt": self.until.isoformat(),
            "forms": ",".join(FORMS),
        }
        located = {"locationCodes": CHINA_LOCATION_CODES, "locationType": "located"}
        phrases = search_phrases(self.names)
        queries = [(phrase, {"q": f'"{phrase}" {CHINA_TERM}', **base}) for phrase in phrases]
        queries += [(phrase, {"q": f'"{phrase}"', **base, **located}) for phrase in phrases]
        if self.cik:
            queries.append(("", {"q": CHINA_TERM, "ciks": self.cik, **base}))
        return queries

    def _full_text(self, params: dict) -> list[tuple[Filing, str]]:
        """Every page of one full-text query, up to MAX_PAGES: (filing, page's SHA-256).

        A query with more hits than that is asked again year by year, so a busy name's
        newest filings do not crowd out its older ones. A page whose total differs from
        the first page's, or that repeats filings already read (an offset that never
        ends), ends the list with what was read, noted in the query.
        """
        found, total, cut_short = self._pages(params)
        start, end = parse_day(params["startdt"]), parse_day(params["enddt"])
        if cut_short and start and end and start.year < end.year:
            self.reader.asked.append(
                f"({total} hits: more than {MAX_PAGES} pages, asked again year by year)"
            )
            for first, last in spans(start, end, months=12):
                more, _, _ = self._pages(
                    {**params, "startdt": first.isoformat(), "enddt": last.isoformat()}
                )
                found.extend(more)
        return found

    def _pages(self, params: dict) -> tuple[list[tuple[Filing, str]], int, bool]:
        url = f"{self.source.base_url}/search-index"
        found: list[tuple[Filing, str]] = []
        seen: set[str] = set()
        read, first_total, offset, note, cut_short = 0, None, 0, "", False
        for _ in range(MAX_PAGES):
            asked = {**params, "from": offset} if offset else params
            data, raw = self.reader.get(url, asked, note=False)
            filings, total = parse_search(data)
            hits_on_page = len(data["hits"]["hits"])
            first_total = total if first_total is None else first_total
            if total != first_total:
                note = f"; stopped: the total changed from {first_total} to {total}"
                break
            new = [filing for filing in filings if filing.accession not in seen]
            if filings and not new:
                note = "; stopped: a page repeated filings already read"
                break
            sha = hashlib.sha256(raw).hexdigest()
            found.extend((filing, sha) for filing in new)
            seen.update(filing.accession for filing in new)
            read += hits_on_page
            offset += hits_on_page
            if not hits_on_page or read >= total:
                break
        else:
            cut_short = read < first_total
            note = f"; stopped after {MAX_PAGES} pages" if cut_short else ""
        future = [f for f, _ in found if f.filed and f.filed > today()]
        if future:
            note += f"; {len(future)} filings dated after today left out"
        self.reader.asked.append(
            f"GET {url} {describe(params)} ({read} of {first_total} hits read{note})"
        )
        return found, first_total or 0, cut_short

    def _read_documents(self, pending: list[Subject], best: dict[str, Hit]) -> list[Hit]:
        """Hits from the documents of deal forms that name no Chinese party, the earliest
        first (the nearest the referral), at most MAX_DOCUMENTS; a company read in one
        filing is recognised by its distinctive word in the others ("Fosun Pharma")."""
        unique: dict[str, Subject] = {}
        for subject in pending:
            if f"sec_edgar:{subject.filing.accession}" not in best:
                unique.setdefault(subject.filing.accession, subject)
        ordered = sorted(unique.values(), key=lambda subject: subject.filing.filed)
        read: list[tuple[Subject, str, str, list[documents.TextParty]]] = []
        for subject in ordered:
            got = self._document(subject.filing)
            if got is None:
                continue
            text, sha = got
            filing = subject.filing
            parties = documents.chinese_parties(
                text,
                names=self.names,
                others={normalize.name_key(party.name): party.country for party in filing.parties},
                filed_year=filing.filed.year if filing.filed else None,
            )
            read.append((subject, text, sha, parties))
        known = [party for *_, parties in read for party in parties]
        hits = []
        for subject, text, sha, parties in read:
            parties = parties or documents.named_again(text, known=known, names=self.names)
            if parties:
                hits.append(
                    filing_hit(
                        subject,
                        evidence_sha256=sha,
                        entity_ciks=self.entity_ciks,
                        text_party=parties[0],
                    )
                )
        return [hit for hit in hits if hit is not None]

    def _read_mentions(self, mentions: dict[str, tuple[Subject, Hit]]) -> list[Hit]:
        """The hits of deal forms by a Chinese party that name the entity only in their
        text, judged on their documents while the budget lasts, the earliest first; the
        others keep their score, noted."""
        judged = []
        for subject, hit in sorted(mentions.values(), key=lambda pair: pair[0].filing.filed):
            got = self._document(subject.filing)
            if got is not None:
                judged.append(read_mention(hit, documents.deal_sentence(got[0], self.names)))
        return judged

    def _document(self, filing: Filing) -> tuple[str, str] | None:
        """(text, SHA-256 of the body) of the filing's matched document, or None when
        EDGAR has no such file or MAX_DOCUMENTS were read (one request each)."""
        cik = next((party.cik for party in filing.parties if party.cik), "")
        if not cik or not filing.document:
            return None
        if self.documents_left == 0:
            self.reader.asked.append(
                f"(document of {filing.accession} not read: {MAX_DOCUMENTS} already read)"
            )
            return None
        self.documents_left -= 1
        folder = filing.accession.replace("-", "")
        url = f"{self.source.archives_url}/Archives/edgar/data/{int(cik)}/{folder}"
        url = f"{url}/{filing.document}"
        self.reader.asked.append(f"GET {url}")
        try:
            response = self.reader.client.get(url, headers=self.reader.headers)
        except PermanentHttpError as exc:
            if exc.status == 404:
                self.reader.asked.append("(no such document)")
                return None
            raise
        raw = response.content
        if not raw.strip():
            raise PermanentHttpError(f"EDGAR: empty document at {url}", url=url, status=200)
        if len(raw) > MAX_DOCUMENT_BYTES:
            self.reader.asked.append(f"(read the first {MAX_DOCUMENT_BYTES} bytes of {len(raw)})")
        text = documents.document_text(raw[:MAX_DOCUMENT_BYTES])
        return text, hashlib.sha256(raw).hexdigest()

    def _own_filings(self) -> dict[str, Filing]:
        """The entity's filings of interest from `since`: recent ones, then older pages
        whose filings reach `since` (a few at most)."""
        data_url = self.source.data_url
        data, _ = self.reader.get(f"{data_url}/submissions/CIK{self.cik}.json")
        filings, older = parse_submissions(data)
        name = str(data.get("name") or "")
        fetched = 0
        for page in older:
            if fetched == MAX_OLDER_SUBMISSION_FILES:
                break
            page_name, page_to = page.get("name"), parse_day(page.get("filingTo"))
            if not isinstance(page_name, str) or (page_to and page_to < self.since):
                continue
            columns, _ = self.reader.get(f"{data_url}/submissions/{page_name}")
            filings.extend(parse_filing_columns(columns, cik=self.cik, name=name))
            fetched += 1
        return filings_of_interest(filings, self.since)


def _keep(best: dict[str, Hit], hit: Hit | None) -> None:
    """Keep the best-scoring hit per filing."""
    known = best.get(hit.external_id) if hit else None
    if hit and (known is None or hit.score > known.score):
        best[hit.external_id] = hit


SOURCE = SecEdgarSource()
