"""EDGAR filings as a check reads them: the parties and metadata of full-text search hits
and of a submissions file (pure functions of a response body, tested on recorded real
responses), which filings are of interest, and the judgement of one filing as a hit.
"""

import re
from dataclasses import dataclass, replace
from datetime import date

from cases import normalize, rules
from cases.checks import matching
from cases.checks.http import PermanentHttpError
from cases.checks.sources import Hit
from cases.checks.sources.common import dod_flags, parse_day
from cases.models import Finding

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
            and party.country in rules.CHINESE_JURISDICTIONS
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
