"""What the two news sources (gdelt, google_news) share: the entity's names as search
phrases, reading a headline for the entity, a Chinese party and a kind of deal, and the
hit a headline that is evidence makes.

Naming the counterparty from a headline is a best effort (`read_headline`): the first run
of capitalised words, or of Chinese characters ending in a company or institution
suffix, that the gazetteer places in China and that is more than a bare "Chinese firm";
otherwise "unnamed Chinese party" (or "unnamed party in Hong Kong/Macau"). An analyst
reads the article before confirming.
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

MAX_QUERY_NAMES = 3
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


@dataclass(frozen=True)
class HeadlineReading:
    match: matching.NameMatch
    kind: str  # a Finding.Kind value, or "" when no cooperation term is there
    counterparty_name: str
    counterparty_country: str  # CN, HK, MO or ""

    @property
    def is_evidence(self) -> bool:
        return bool(self.kind) and self.counterparty_country in rules.CHINESE_JURISDICTIONS


# Words that end a run of capitalised words in a Title Case headline: verbs, deal terms
# and function words, so "Acme Forms Joint Venture With Shenzhen Example Technology"
# yields "Shenzhen Example Technology" and not the whole headline.
# fmt: off
_BREAK_WORDS = frozenset([
    "a", "an", "the", "its", "their", "his", "her", "our", "with", "and", "or", "to", "for", "in",
    "on", "at", "by", "from", "as", "after", "amid", "over", "into", "via", "than", "vs", "about",
    "against", "under", "up", "out", "new", "first", "more", "says", "said", "report", "reports",
    "reportedly", "sign", "signs", "signed", "signing", "ink", "inks", "inked", "form", "forms",
    "formed", "forming", "set", "sets", "launch", "launches", "launched", "announce", "announces",
    "announced", "enter", "enters", "entered", "agree", "agrees", "agreed", "complete",
    "completes", "completed", "seal", "seals", "sealed", "win", "wins", "won", "eye", "eyes",
    "seek", "seeks", "plan", "plans", "planned", "back", "backs", "backed", "buy", "buys",
    "bought", "sell", "sells", "sold", "take", "takes", "took", "open", "opens", "opened",
    "expand", "expands", "expanded", "boost", "boosts", "join", "joins", "joined", "team", "teams",
    "joint", "venture", "ventures", "jv", "acquire", "acquires", "acquired", "acquiring",
    "acquisition", "acquisitions", "takeover", "buyout", "stake", "stakes", "invest", "invests",
    "invested", "investing", "investment", "investments", "funding", "licence", "license",
    "licenses", "licensed", "licensing", "patent", "patents", "partner", "partners", "partnered",
    "partnering", "partnership", "partnerships", "mou", "memorandum", "understanding",
    "cooperation", "cooperate", "collaboration", "collaborate", "collaborates", "collaborating",
    "agreement", "agreements", "deal", "deals", "pact", "strategic", "unit", "subsidiary",
    "office", "offices", "factory", "plant",
])
# A run made only of these says "some Chinese party" without naming one.
_GENERIC_WORDS = frozenset([
    "china", "chinese", "prc", "mainland", "hong", "kong", "macau", "macao", "firm", "firms",
    "company", "companies", "group", "investor", "investors", "partner", "partners", "giant",
    "giants", "maker", "makers", "buyer", "buyers", "backer", "backers", "state-owned",
])
# fmt: on
_CONNECTORS = frozenset({"of", "&", "de"})
_CLAUSE_BREAK_RE = re.compile(r"[,:;|!?\"“”‘()\[\]{}/]|\s[-–—]+\s|[–—]")
_POSSESSIVE_RE = re.compile(r"['’]s$", re.IGNORECASE)
_CJK_ORG_RE = re.compile(
    r"[\u4e00-\u9fff]{1,30}?"
    r"(?:股份有限公司|有限责任公司|有限公司|公司|集团|大学|研究院|研究所|学院|银行|科学院)"
)
_CJK_LINKS = "与和同跟向被将获对"


def _name_patterns(names: list[str]) -> list[re.Pattern]:
    patterns = []
    for name in names:
        for words in (normalize.name_key(name).split(), re.findall(r"\w+", name)):
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


def _capitalised_runs(text: str) -> list[str]:
    runs = []
    for clause in _CLAUSE_BREAK_RE.split(text):
        run: list[str] = []
        for raw in clause.split():
            token = raw.strip(".'’`*")
            possessive = bool(_POSSESSIVE_RE.search(token))
            token = _POSSESSIVE_RE.sub("", token)
            lowered = token.casefold()
            if run and lowered in _CONNECTORS:
                run.append(token)
                continue
            if token[:1].isupper() and lowered not in _BREAK_WORDS:
                run.append(token)
                if not possessive:
                    continue
            while run and run[-1].casefold() in _CONNECTORS:
                run.pop()
            if run:
                runs.append(" ".join(run))
            run = []
        while run and run[-1].casefold() in _CONNECTORS:
            run.pop()
        if run:
            runs.append(" ".join(run))
    return runs


def _is_generic(candidate: str) -> bool:
    return all(word in _GENERIC_WORDS for word in candidate.casefold().split())


def chinese_party(text: str) -> str:
    """Return the first name in the text that the gazetteer places in China, or ""."""
    for candidate in _capitalised_runs(text):
        if matching.chinese_country(candidate) and not _is_generic(candidate):
            return candidate
    for found in _CJK_ORG_RE.finditer(text):
        name = found.group(0)
        cut = max(name.rfind(link, 0, len(name) - 2) for link in _CJK_LINKS)
        name = name[cut + 1 :] if cut >= 0 else name
        if len(name) > 2:
            return name
    return ""


def read_headline(names: list[str], headline: str) -> HeadlineReading:
    """Judge one headline: does it name the entity, a Chinese party and a kind of deal?"""
    rest = without_names(headline, names)
    counterparty = chinese_party(rest)
    country = matching.chinese_country(counterparty or rest)
    return HeadlineReading(
        match=matching.match_in_text(names, headline),
        kind=matching.kind_from_text(rest),
        counterparty_name=counterparty or UNNAMED.get(country, ""),
        counterparty_country=country,
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
    `since`, no evidence of cooperation with a Chinese party, or naming the entity less
    clearly than `min_score`.

    The day it was published (or first seen) is the event date; `details` (publisher,
    country, language, date) follow the headline in the excerpt, those that are "" left out.
    """
    if published is not None and published < since:
        return None
    reading = read_headline(names, headline)
    if not reading.is_evidence or reading.match.score < min_score:
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
        score=reading.match.score,
        explanation=reading.match.explanation,
        evidence_sha256=evidence_sha256,
        flags=dod_flags(reading.counterparty_name),
    )
