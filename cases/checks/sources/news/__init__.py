"""What the two news sources (gdelt, google_news) share: the entity's names as search
phrases, reading a headline as a reader would, and the hit a headline that is evidence
makes.

Reading a headline (`read_headline`): the entity's names (and short forms) are taken out,
so it is not its own counterparty; the kind of deal comes from its verbs and nouns in
many forms (matching.kind_from_text); the Chinese parties from the gazetteer of large
Chinese groups (data/chinese_parties.csv) and the DoD 1260H list, from the sentence's
structure ("China's X", "Chinese buyer X", "Beijing-based X", "X of China"), from China
markers inside compound names ("PetroChina") and from Chinese names with a company
suffix. "China" as a market ("bets on China growth") is no party; a party noun without
a name ("Chinese consortium") is an unnamed one. A listing venue ("Hong Kong-listed") is
no party, and once the text speaks of Taiwan or the Republic of China only the
gazetteer places anyone in China. In a sale the buyer, after "to", is the counterparty.

A deal the text says was blocked, rejected, abandoned or scrapped, or a Chinese party
selling out or ordered to, is still read (the analyst may want the story) but flagged
(`did_not_complete: <words>`, `unwound: <words>`) and scored NOT_AN_EVENT_PENALTY lower,
so that at the default threshold (85) it files no lead; an ended cooperation is flagged
(`ended: ...`) at its full score, since it shows the cooperation existed. An analyst reads
the article before confirming.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from cases import normalize, rules
from cases.checks import matching
from cases.checks.sources import Hit
from cases.checks.sources.common import dod_flags
from cases.checks.sources.news.parties import PLACE_WORDS, Party, chinese_party, is_place, parties

__all__ = [
    "DEAL_TERMS", "DID_NOT_COMPLETE", "ENDED", "MAX_QUERY_NAMES", "NEWS_KINDS",
    "NOT_AN_EVENT_PENALTY", "UNNAMED", "UNWOUND", "HeadlineReading", "Party", "chinese_party",
    "headline_hit", "or_group",
    "parties", "query_names", "read_headline", "search_name", "without_names",
]  # fmt: skip

MAX_QUERY_NAMES = 3
# Words a deal report's text carries in some form, for the news searches (which have no
# stemming, so the forms headlines use are listed); each headline is judged afterwards.
DEAL_TERMS = (
    "partnership",
    '"joint venture"',
    "investment",
    "invest",
    "acquisition",
    "acquire",
    "acquires",
    "takeover",
    "stake",
    "buy",
    "buys",
    "deal",
    "sale",
    "merger",
    "licence",
    "license",
    "agreement",
    "MOU",
)
# The kinds a deal headline can report (matching.kind_from_text): what a silent news
# search is evidence against.
NEWS_KINDS = (
    "acquisition",
    "equity_investment",
    "joint_venture",
    "partnership",
    "ip_licence",
    "subsidiary",
)
UNNAMED = {
    "CN": "unnamed Chinese party",
    "HK": "unnamed party in Hong Kong",
    "MO": "unnamed party in Macau",
}


def search_name(name: str) -> str:
    """Return a name as a search phrase: trailing legal forms and quotes dropped.

    "Acme Robotics Ltd." is searched as "Acme Robotics", which also finds the headlines
    that leave the legal form out; casing and inner punctuation ("AT&T") are kept.
    """
    words = name.replace('"', " ").split()
    while len(words) > 1 and normalize.name_key(words[-1]) in normalize.LEGAL_FORMS:
        words.pop()
    return " ".join(words).strip(" ,.;:-")


def query_names(names: list[str], *, latin_only: bool, limit: int | None = None) -> list[str]:
    """Return up to `limit` (MAX_QUERY_NAMES) search phrases long enough for a news search."""
    phrases: dict[str, None] = {}
    for name in names:
        phrase = search_name(name)
        if latin_only and not _is_latin(phrase):
            continue
        if len(normalize.name_key(phrase).replace(" ", "")) >= 3:
            phrases.setdefault(phrase, None)
    return list(phrases)[: limit or MAX_QUERY_NAMES]


def _is_latin(text: str) -> bool:
    folded = unicodedata.normalize("NFKD", text)
    return all(ord(ch) < 0x250 for ch in folded if ch.isalpha())


def or_group(terms: list[str]) -> str:
    """Join terms with OR; GDELT and Google want parentheses only around two or more."""
    return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"


# A deal the headline says did not happen, or a Chinese party leaving, is kept as a hit
# (the analyst sees the story) but flagged and scored this much lower, so that at the
# default threshold (WISHLIST_MATCH_THRESHOLD, 85) it does not become a lead.
NOT_AN_EVENT_PENALTY = 30.0
DID_NOT_COMPLETE = "did_not_complete: "
UNWOUND = "unwound: "
ENDED = "ended: "  # a cooperation that ends existed: flagged, not lowered


@dataclass(frozen=True)
class HeadlineReading:
    match: matching.NameMatch
    kind: str  # a Finding.Kind value, or "" when no cooperation term is there
    counterparty_name: str
    counterparty_country: str  # CN, HK, MO or ""
    flag: str = ""  # DID_NOT_COMPLETE, UNWOUND or ENDED and why, or ""

    @property
    def is_evidence(self) -> bool:
        return bool(self.kind) and self.counterparty_country in rules.CHINESE_JURISDICTIONS

    @property
    def score(self) -> float:
        lowered = self.flag.startswith((DID_NOT_COMPLETE, UNWOUND))
        return max(0.0, self.match.score - NOT_AN_EVENT_PENALTY) if lowered else self.match.score


def _name_patterns(names: list[str]) -> list[re.Pattern]:
    patterns = []
    for name in names:
        short = matching.short_form(name).split()
        for words in (normalize.name_key(name).split(), re.findall(r"\w+", name), short):
            if not words:
                continue
            joined = r"[\W_]+".join(re.escape(word) for word in words)
            if words[0].isascii():
                joined = rf"(?<!\w){joined}(?!\w)"
            patterns.append(re.compile(joined, re.IGNORECASE))
    return patterns


def without_names(text: str, names: list[str]) -> str:
    """Return the text with the entity's own names replaced by a clause break.

    So an entity called "Shanghai Instruments GmbH" is not taken for its own Chinese
    counterparty, and a "Partners" in its name is not a partnership.
    """
    folded = unicodedata.normalize("NFKD", text)
    folded = unicodedata.normalize(
        "NFC", "".join(ch for ch in folded if not unicodedata.combining(ch))
    )
    for pattern in _name_patterns(names):
        folded = pattern.sub(" | ", folded)
    return folded


# ------------------------------------------------------------------ what happened

# A sale: the buyer is the party after "to" ("Valeant to sell Dendreon to China's
# Sanpower", "EEW sale to Beijing Enterprises"); a Chinese party only before the verb is
# the seller, leaving ("Chinese owner Kunlun sells Grindr to U.S. investor group").
_SALE_RE = re.compile(
    r"\b(?:sells?|selling|sold|sale|offloads?|offloaded|divests?|divested|passes|hands)\b",
    re.IGNORECASE,
)
_FAILED_RE = re.compile(
    r"\b(?:block(?:s|ed|ing)?|reject(?:s|ed|ing)?|rebuff(?:s|ed)?|abandon(?:s|ed|ing)?"
    r"|withdr(?:aws?|awn|ew)|scrap(?:s|ped|ping)?|sinks?|sank|sunk|veto(?:es|ed)?"
    r"|prohibit(?:s|ed|ion)?|thwart(?:s|ed)?|halt(?:s|ed)?|collapse[sd]?|curb(?:s|ed)?"
    r"|called off|calls? off|falls? through|fell through|walk(?:s|ed)? away|pulls? out"
    r"|pulled out|drops?|dropped|denies|denied|rules? out|ruled out|fails? to|failed to"
    r"|no plans? to|not in talks|no longer"
    r"|terminat(?:es?|ed) (?:the |its )?(?:deal|agreement|merger|acquisition|takeover|sale)"
    r"|golden power|lapses?|lapsed)\b",
    re.IGNORECASE,
)
_APPROVED_RE = re.compile(
    r"\b(?:approv(?:es|ed|al)|clears?|cleared|go-ahead|green light|greenlights?|nod)\b", re.I
)
_UNWOUND_RE = re.compile(
    r"\b(?:divest\w*|unwind\w*|unwound|forced to sell|ordered to sell|orders? .{0,40}\bto sell"
    r"|asks? .{0,40}\bto sell|told to sell|exits? (?:its )?stake|sell-?off of its|quits?)\b",
    re.IGNORECASE,
)
_ENDED_RE = re.compile(
    r"\b(?:ends?|ended|terminates?|terminated|cuts? ties|severs?|severed)\b", re.I
)
_SPACES_RE = re.compile(r"\s+")
# A lawsuit over a patent or a deal is no cooperation.
_DISPUTE_RE = re.compile(r"\b(?:sues|sued|suing|lawsuit|infring\w*|litigation)\b", re.I)


def _buyer_and_seller(text: str, found: list[Party]) -> tuple[list[Party], list[Party]]:
    """Split the parties into buyers (after "to" following a sale word) and sellers
    (before the sale word); ([], []) when the text reports no sale."""
    sale = _SALE_RE.search(text)
    if not sale:
        return [], []
    to = re.search(r"\bto\b", text[sale.end() :])
    buyers = [p for p in found if to and p.start >= sale.end() + to.end()]
    sellers = [p for p in found if p.start < sale.start()]
    return buyers, sellers


def _flag(text: str, seller_left: bool) -> str:
    failed = _FAILED_RE.search(text)
    # "Berlin clears Chinese takeover after dropping veto threat": the approval is news.
    if failed and not _APPROVED_RE.search(text):
        return DID_NOT_COMPLETE + failed.group(0).casefold()
    unwound = _UNWOUND_RE.search(text)
    if unwound:
        return UNWOUND + _SPACES_RE.sub(" ", unwound.group(0).casefold())
    if seller_left:
        return UNWOUND + "the Chinese party sells"
    ended = _ENDED_RE.search(text)
    if ended:
        return ENDED + ended.group(0).casefold()
    return ""


def _office_place(text: str, kind: str) -> Party | None:
    """An office or plant "in Shanghai": the place stands for the unnamed party."""
    if kind != "subsidiary":
        return None
    found = re.search(r"\bin ([A-Z][a-z]+(?: [A-Z][a-z]+)?)\b", text)
    if found and is_place(found.group(1)) and matching.chinese_country(found.group(1)):
        return Party(found.group(1), matching.chinese_country(found.group(1)), found.start(1))
    return None


def read_headline(names: list[str], headline: str) -> HeadlineReading:
    """Judge one headline: does it name the entity, a Chinese party and a kind of deal,
    and did the deal happen?

    The counterparty is the buyer of a sale, else the first Chinese party named; "China"
    as a market ("bets on China growth") is no party, "a Chinese buyer" is an unnamed
    one. A deal blocked, rejected or abandoned, or a Chinese party selling out, is
    flagged (`flag`) and scored lower (`score`); the entity described as Chinese
    ("China's Lotus Land") is not its own counterparty.
    """
    rest = without_names(headline, names)
    rest = re.sub(rf"\b(?:{PLACE_WORDS})['’]s\s+\|", " | ", rest, flags=re.IGNORECASE)
    kind = "" if _DISPUTE_RE.search(rest) else matching.kind_from_text(rest)
    found = parties(rest)
    buyers, sellers = _buyer_and_seller(rest, found)
    chosen = buyers or found
    # Every Chinese party stands before the sale word and none after "to": one is selling.
    seller_left = bool(sellers) and not buyers and len(sellers) == len(found)
    party = next((p for p in chosen if p.name), chosen[0] if chosen else None)
    party = party or _office_place(rest, kind)
    country = party.country if party else ""
    return HeadlineReading(
        match=matching.match_in_text(names, headline),
        kind=kind,
        counterparty_name=(party.name or UNNAMED[country]) if party else "",
        counterparty_country=country,
        flag=_flag(rest, seller_left) if party else "",
    )


def headline_hit(
    names: list[str],
    headline: str,
    *,
    published: date | None,
    since: date,
    url: str,
    external_id: str,
    details: Iterable[str],
    evidence_sha256: str,
    min_score: float = 0,
) -> Hit | None:
    """Return the hit a news headline is, or None when it is not one: published before
    `since`, no evidence of cooperation with a Chinese party, or scoring less than
    `min_score` (the name match, less NOT_AN_EVENT_PENALTY for a deal that did not
    complete or was unwound; its flag leads the hit's flags).

    The day it was published (or first seen) is the event date; `details` (publisher,
    country, language, date) follow the headline in the excerpt, those that are "" left out.
    """
    if published is not None and published < since:
        return None
    reading = read_headline(names, headline)
    if not reading.is_evidence or reading.score < min_score:
        return None
    where = ", ".join(part for part in details if part)
    return Hit(
        kind=reading.kind,
        counterparty_name=reading.counterparty_name,
        counterparty_country=reading.counterparty_country,
        event_date=published,
        event_date_precision=normalize.DatePrecision.DAY if published else "",
        url=url,
        excerpt=f"{headline} ({where})" if where else headline,
        external_id=external_id,
        score=reading.score,
        explanation=_explanation(reading),
        evidence_sha256=evidence_sha256,
        flags=((reading.flag,) if reading.flag else ()) + dod_flags(reading.counterparty_name),
    )


def _explanation(reading: HeadlineReading) -> str:
    if not reading.flag or reading.score == reading.match.score:
        return reading.match.explanation
    return (
        f"{reading.match.explanation}; {reading.flag}, so scored {NOT_AN_EVENT_PENALTY:.0f} lower"
    )
