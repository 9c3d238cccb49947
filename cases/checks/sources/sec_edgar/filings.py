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

# Scores below the default lead threshold (WISHLIST_MATCH_THRESHOLD, 85): such hits are
# returned for the record but not filed as leads.
MENTION_SCORE = 60.0
UNDONE_SCORE = 60.0
DID_NOT_COMPLETE = "did_not_complete"

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


@dataclass(frozen=True)
class Subject:
    """How a filing names the entity: the party that is the entity (None when only its
    text does) and how well it matched."""

    filing: Filing  # with what the entity's own copy adds
    entity_index: int | None
    match: matching.NameMatch
    own: bool  # the entity's own filing (its submissions file lists it)


def filing_subject(
    filing: Filing,
    *,
    names: list[str],
    phrase: str,
    since: date,
    until: date | None = None,
    entity_ciks: frozenset[str] = frozenset(),
    own_filings: dict[str, Filing] | None = None,
    threshold: float = 85,
) -> Subject | None:
    """Return how a filing dated from `since` to `until` names the entity, or None when
    it is undated, outside the period or does not name it.

    `phrase` is what full-text search was asked to find in the text ("" for a search by
    CIK); `own_filings` are the entity's filings from its submissions file, which say
    the entity is a party and give items and the primary document.
    """
    if filing.filed is None or filing.filed < since or (until and filing.filed > until):
        return None
    own = (own_filings or {}).get(filing.accession)
    if own is not None:
        filing = _with_own_filing(filing, own)
    entity_index, match = _entity_party(filing, names, entity_ciks, threshold)
    if entity_index is None:
        match = _named_in_text(names, phrase, own)
        if match is None:
            return None
    return Subject(filing=filing, entity_index=entity_index, match=match, own=own is not None)


def party_counterparty(subject: Subject, entity_ciks: frozenset[str]) -> Party | None:
    return _chinese_counterparty(subject.filing, subject.entity_index, entity_ciks)


def wants_document(subject: Subject, entity_ciks: frozenset[str]) -> bool:
    """Whether the filing's document should be read for a Chinese counterparty: a deal
    form that names the entity and has no Chinese party among its filers."""
    return is_deal_form(subject.filing) and party_counterparty(subject, entity_ciks) is None


def filing_hit(
    subject: Subject,
    *,
    evidence_sha256: str,
    entity_ciks: frozenset[str] = frozenset(),
    text_party: documents.TextParty | None = None,
) -> Hit | None:
    """Judge one filing that names the entity; return a Hit, or None when no Chinese
    party is among its parties nor `text_party` (read from its document).

    A filing that names the entity only in its text and is no deal form (a Chinese
    filer's annual report listing the entity among competitors or customers) scores
    MENTION_SCORE; a deal the document says was terminated, blocked or unwound is
    flagged and scores UNDONE_SCORE: both below the default lead threshold of 85.
    """
    filing, match = subject.filing, subject.match
    counterparty = party_counterparty(subject, entity_ciks)
    sentence = ""
    if counterparty is None and text_party is not None:
        counterparty = Party(name=text_party.name, country=text_party.country)
        sentence = text_party.sentence
    if counterparty is None:
        return None
    score, explanation, flags = match.score, match.explanation, dod_flags(counterparty.name)
    if sentence:
        explanation += f"; the document names {counterparty.name!r} as a party in China"
    if subject.entity_index is None and not subject.own and not is_deal_form(filing):
        score = min(score, MENTION_SCORE)
        explanation += (
            f"; only a mention: a {filing.form or 'filing'} that names the entity in its "
            "text is no deal form (an annual report lists competitors and customers)"
        )
    if text_party is not None and text_party.undone and sentence:
        score = min(score, UNDONE_SCORE)
        flags = (*flags, DID_NOT_COMPLETE)
        explanation += "; the document says the deal was terminated, blocked or unwound"
    excerpt = _excerpt(filing)
    if sentence:
        excerpt = f"{excerpt}: {sentence}"[:1000]
    return Hit(
        kind=filing_kind(filing, sentence),
        counterparty_name=counterparty.name,
        counterparty_country=counterparty.country,
        event_date=filing.filed,
        event_date_precision=normalize.DatePrecision.DAY,
        url=filing.url,
        excerpt=excerpt,
        external_id=f"sec_edgar:{filing.accession}",
        score=score,
        explanation=explanation,
        evidence_sha256=evidence_sha256,
        flags=flags,
    )
