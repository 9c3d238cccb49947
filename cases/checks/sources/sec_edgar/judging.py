"""Judging one EDGAR filing as a hit: how it names the entity (`filing_subject`), whether
its document should be read, and the hit it makes with its Chinese counterparty
(`filing_hit`), scored down when it is only a mention or a deal that did not complete.
"""

from dataclasses import dataclass, replace
from datetime import date

from cases import normalize, rules
from cases.checks import matching
from cases.checks.sources import Hit
from cases.checks.sources.common import dod_flags
from cases.checks.sources.sec_edgar import documents
from cases.checks.sources.sec_edgar.filings import Filing, Party, filing_kind, is_deal_form

# Scores below the default lead threshold (WISHLIST_MATCH_THRESHOLD, 85): such hits are
# returned for the record but not filed as leads.
MENTION_SCORE = 60.0
UNDONE_SCORE = 60.0
DID_NOT_COMPLETE = "did_not_complete"


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


def is_text_mention(subject: Subject) -> bool:
    """Whether the filing names the entity only in its text (no party is the entity)."""
    return subject.entity_index is None and not subject.own


def read_mention(hit: Hit, sentence: str) -> Hit:
    """The hit of a deal form naming the entity only in its text, once its document is
    read: the sentence naming the entity in a deal gives the kind and joins the excerpt;
    with no such sentence the filing only mentions the entity and scores MENTION_SCORE."""
    if sentence:
        return replace(
            hit,
            kind=documents.sentence_kind(sentence) or hit.kind,
            excerpt=f"{hit.excerpt}: {sentence}"[:1000],
            explanation=f"{hit.explanation}; the document names the entity in a deal",
        )
    return replace(
        hit,
        score=min(hit.score, MENTION_SCORE),
        explanation=f"{hit.explanation}; only a mention: the document names the entity in "
        "no sentence about a deal",
    )
