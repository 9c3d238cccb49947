"""EDGAR filings as a check reads them: the parties and metadata of full-text search hits
and of a submissions file (pure functions of a response body, tested on recorded real
responses), where EDGAR places each party, and what a filing's form says: whether it is
of interest, a deal form, and the kind of event.
"""

import re
from dataclasses import dataclass
from datetime import date

from cases.checks import matching
from cases.checks.http import PermanentHttpError
from cases.checks.sources.common import parse_day
from cases.checks.sources.sec_edgar import documents
from cases.models import Finding

ARCHIVES_URL = "https://www.sec.gov/Archives/edgar/data"
# Since December 2024 beneficial-ownership reports are filed as "SCHEDULE 13D/G"; older
# ones as "SC 13D/G". Amendments carry a "/A"; full-text search matches them through
# their root form, so asking for "S-4" also finds "S-4/A".
OWNERSHIP_FORMS = ("SC 13D", "SC 13G", "SCHEDULE 13D", "SCHEDULE 13G")
# Third-party and going-private tender offers, the target's response, merger proxies and
# the registration of shares issued in a merger: each is about one company buying another.
ACQUISITION_FORMS = (
    "SC TO-T", "SC TO-C", "SC 14D9", "SC 13E3", "DEFM14A", "PREM14A", "425", "S-4", "F-4",
)  # fmt: skip
ANNUAL_FORMS = ("10-K", "20-F")
FORMS = ("8-K", "6-K", *ANNUAL_FORMS, *OWNERSHIP_FORMS, *ACQUISITION_FORMS)
# 8-K items that name a kind of event; the most specific wins when several are reported.
ITEM_KINDS = (
    ("2.01", Finding.Kind.ACQUISITION),
    ("3.02", Finding.Kind.EQUITY_INVESTMENT),
    ("1.01", Finding.Kind.PARTNERSHIP),
)
# EDGAR's own state-and-country codes (not ISO) for the places that count as China;
# Taiwan is F5.
EDGAR_CHINA_CODES = {"F4": "CN", "K3": "HK", "N5": "MO"}
_EDGAR_CODE_RE = re.compile(r"^[A-Z0-9]{2}$")

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


def _location_code(location: str) -> tuple[str, str]:
    """Split an EDGAR business location into (place, code): "Beijing, F4" is ("Beijing",
    "F4"); "Haidian District, Beijing", written without a code, is (the text, "")."""
    place, _, last = location.rpartition(",")
    code = last.strip().upper()
    if _EDGAR_CODE_RE.match(code):
        return place.strip(), code
    return location.strip(), ""


def party_country(*, location: str, state: str, incorporated: str, name: str) -> str:
    """CN, HK or MO when EDGAR places a party in China, else "".

    The business state code (F4, K3, N5) or the code at the end of the location decides
    first, then the state of incorporation; a location written in words ("Haidian
    District, Beijing", with no code) is read as a place. Only a party for which EDGAR
    gives no location at all is judged by its name, so "China Basin Capital Partners,
    L.P." of San Francisco, CA is not Chinese.
    """
    place, code = _location_code(location)
    code = state.strip().upper() or code
    incorporated = incorporated.strip().upper()
    for given in (code, incorporated):
        if given in EDGAR_CHINA_CODES:
            return EDGAR_CHINA_CODES[given]
    if code or incorporated or place:
        return documents.place_country(place) if place else ""
    return matching.chinese_country(name)


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

    def parallel(key: str) -> list[str]:
        # The per-party lists are parallel only when they are as long as the names; a
        # location that cannot be tied to one party is not used.
        values = _text_list(source.get(key))
        return values if len(values) == len(names) else [""] * len(names)

    locations, states = parallel("biz_locations"), parallel("biz_states")
    incorporated = parallel("inc_states")
    parties = []
    for index, display_name in enumerate(names):
        name, cik = split_display_name(display_name)
        if not cik and len(ciks) == len(names) and ciks[index].isdigit():
            cik = ciks[index].zfill(10)
        country = party_country(
            location=locations[index],
            state=states[index],
            incorporated=incorporated[index],
            name=name,
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
    form = root_form(filing.form)
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


def root_form(form: str) -> str:
    return form.upper().removesuffix("/A")


def is_deal_form(filing: Filing) -> bool:
    """A form filed about a deal: a Schedule 13D/G, a tender offer or merger form, a 6-K,
    or an 8-K reporting an agreement (1.01), a completed acquisition (2.01) or an
    unregistered sale of equity (3.02). Annual reports and other 8-Ks are not."""
    form = root_form(filing.form)
    if form == "8-K":
        return any(item in filing.items for item, _ in ITEM_KINDS)
    return form == "6-K" or form in OWNERSHIP_FORMS or form in ACQUISITION_FORMS


def filing_kind(filing: Filing, sentence: str = "") -> str:
    """The Finding.Kind value the form, items or description point to ("other" if none).

    `sentence` is the document's sentence naming the counterparty, when it was read; it
    says more than an 8-K's item 1.01 ("an agreement") or a 6-K.
    """
    form = root_form(filing.form)
    if form in ACQUISITION_FORMS or "2.01" in filing.items:
        return Finding.Kind.ACQUISITION
    if "3.02" in filing.items or form in OWNERSHIP_FORMS:
        return Finding.Kind.EQUITY_INVESTMENT
    if sentence and documents.sentence_kind(sentence):
        return documents.sentence_kind(sentence)
    if "1.01" in filing.items:
        return Finding.Kind.PARTNERSHIP
    text = " ".join([filing.description, *(party.name for party in filing.parties)])
    return matching.kind_from_text(text) or Finding.Kind.OTHER
