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

MAX_QUERY_NAMES = 3
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


def query_names(names: list[str], *, latin_only: bool) -> list[str]:
    """Return up to MAX_QUERY_NAMES search phrases long enough for a news search."""
    phrases: dict[str, None] = {}
    for name in names:
        phrase = search_name(name)
        if latin_only and not _is_latin(phrase):
            continue
        if len(normalize.name_key(phrase).replace(" ", "")) >= 3:
            phrases.setdefault(phrase, None)
    return list(phrases)[:MAX_QUERY_NAMES]


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
    "office", "offices", "factory", "plant", "becomes", "become", "makes", "make", "strikes",
    "strike", "snap", "snaps", "hopes", "bets", "sees", "warns", "rejects", "blocks", "drops",
    "scraps", "asks", "kauft", "compra", "steigt", "offloads", "is", "are", "was", "now", "owned",
    "control", "bid", "offer", "tender", "merger", "merge", "merges", "supply", "build", "builds",
    "gets", "passes", "closes", "ends", "curbs", "vetoes", "abandons", "withdraws", "sinks",
    "says", "u.s.", "us", "uk", "eu",
])
# A run made only of these says "some Chinese party" without naming one.
_GENERIC_WORDS = frozenset([
    "china", "chinese", "prc", "mainland", "hong", "kong", "macau", "macao", "firm", "firms",
    "company", "companies", "group", "investor", "investors", "partner", "partners", "giant",
    "giants", "maker", "makers", "buyer", "buyers", "backer", "backers", "state-owned",
    "state", "government", "beijing", "shanghai", "shenzhen", "republic", "people's",
])
# Nouns that make "Chinese ..." a party and not a market: "Chinese buyer", "Hong Kong
# investor", "China-backed fund"; "Chinese growth" or "China demand" name no one.
_PARTY_NOUNS = frozenset([
    "buyer", "buyers", "company", "companies", "firm", "firms", "group", "groups", "investor",
    "investors", "consortium", "owner", "owners", "fund", "funds", "backer", "backers",
    "partner", "partners", "giant", "maker", "conglomerate", "acquirer", "suitor", "bidder",
    "bank", "insurer", "developer", "manufacturer", "carmaker", "automaker", "chipmaker",
    "state-owned", "enterprise", "enterprises", "university", "institute", "parent",
    "shareholder", "shareholders", "operator", "supplier", "tycoon", "billionaire",
    "businessman", "holding",
])
# Words that make a capitalised run an authority, an event, a place or a policy, not a
# counterparty: "China's Ministry of Commerce approves ...", "Shanghai Auto Show", "China's
# Belt and Road".
_NOT_A_PARTY_WORDS = frozenset([
    "ministry", "minister", "commission", "regulator", "regulators", "administration", "court",
    "bureau", "authority", "authorities", "council", "customs", "embassy", "consulate",
    "exchange", "show", "expo", "fair", "forum", "summit", "olympics", "games", "conference",
    "congress", "airport", "week", "festival", "cup", "prix", "marathon", "belt", "road",
    "xi", "premier", "president", "army", "government", "province", "municipality", "zone",
    "market", "markets", "economy", "tariff", "tariffs", "ban", "sanctions", "year",
    "mofcom", "samr", "csrc", "cfius", "pla", "communist",
])
# Deal nouns that say a Chinese party is making the deal: "Chinese takeover bid".
_DEAL_NOUNS = frozenset(["takeover", "bid", "bids", "offer", "buyout", "acquisition", "suitor"])
# fmt: on
_CONNECTORS = frozenset({"of", "&", "de"})
_CLAUSE_BREAK_RE = re.compile(r"[,:;|!?\"“”‘()\[\]{}/]|\s[-–—]+\s|[–—]")
_POSSESSIVE_RE = re.compile(r"['’]s$", re.IGNORECASE)
_ATTRIBUTE_RE = re.compile(r"-(?:led|owned|backed|based|listed|controlled|funded)$", re.I)
_CJK_ORG_RE = re.compile(
    r"(?P<body>(?:(?!成立|签署|宣布|收购|完成|设立|联合|报道|获得)[\u4e00-\u9fff])+)"
    r"(?:股份有限公司|有限责任公司|有限公司|公司|集团|控股|大学|研究院|研究所|学院|银行|科学院)"
)
# Words a Chinese name does not hold, so a run of characters before a company suffix is
# cut after them: prepositions and the verbs of deal news ("与华为技术有限公司签署").
_CJK_LINKS_RE = re.compile(
    r"与|和|同|跟|向|被|将|获|对|由|把|宣布|签署|收购|完成|成立|设立|联合|报道"
)
# A listing venue is not a party: "Hong Kong-listed Razer", "delists from Hong Kong".
_LISTING_RE = re.compile(
    r"\bHong Kong[- ]listed\b|\blisted in Hong Kong\b|\b(?:de)?lists? (?:from|in|on) Hong Kong\b"
    r"|\bHong Kong (?:IPO|listing|bourse|stock exchange|exchange|shares|trading|debut)\b"
    r"|\bin Hong Kong (?:trading|debut|listing|IPO)\b",
    re.IGNORECASE,
)
_TAIWAN_STATE_RE = re.compile(
    r"(?<![Pp]eople's )(?<![Pp]eople’s )(?i:\brepublic of china)(?: [A-Z][a-z]+)*"
)
_PLACE_WORDS = "|".join(["China", "Hong Kong", "Macau", "Macao"])
_POSSESSOR_RE = re.compile(rf"\b(?P<place>{_PLACE_WORDS})['’]s\s+", re.IGNORECASE)
# Cities whose "-based" or party noun places a party: "Beijing-based X", "Shenzhen partner".
_CITIES = ("Beijing", "Shanghai", "Shenzhen", "Guangzhou", "Hangzhou", "Nanjing", "Wuhan",
           "Chengdu", "Tianjin", "Suzhou", "Ningbo", "Xiamen")  # fmt: skip
# "Chinese buyer X", "China-backed X", "Hong Kong investor", "Beijing-based X".
_ADJECTIVE_RE = re.compile(
    r"\b(?P<place>Chinese|China|Hong Kong|Macau|Macao|Macanese|"
    + "|".join(_CITIES)
    + r")(?P<attr>-(?:backed|based|owned|controlled|funded|led))?\s+",
)
_GERMAN_PARTY_RE = re.compile(
    r"\bChinesen\b|\bchinesische[rn]? (?:Investor|Käufer|Konzern|Firma|Unternehmen|Gruppe)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Party:
    name: str  # "" when the text says only "a Chinese buyer"
    country: str
    start: int  # where the text names it, to tell the buyer from the seller


def _country_of_place(place: str) -> str:
    lowered = place.casefold()
    if lowered.startswith("hong kong"):
        return "HK"
    if lowered.startswith(("macau", "macao", "macanese")):
        return "MO"
    return "CN"


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


@dataclass(frozen=True)
class _Run:
    start: int
    text: str
    attribute: str = ""  # "-led", "-owned"...: the run describes what follows it


def _capitalised_runs(text: str) -> list[_Run]:
    """Return the runs of capitalised words (joined by "of", "&", "de") with where each
    starts; a possessive or an attribute ("ChemChina-led") ends its run."""
    runs: list[_Run] = []
    for offset, body in _split_clauses(text):
        run: list[tuple[int, str]] = []
        for found in re.finditer(r"\S+", body):
            token = found.group(0).strip(".'’`*")
            where = offset + found.start() + max(0, found.group(0).find(token[:1]))
            possessive = bool(_POSSESSIVE_RE.search(token))
            token = _POSSESSIVE_RE.sub("", token)
            attribute = _ATTRIBUTE_RE.search(token)
            if attribute:
                token = token[: attribute.start()]
            lowered = token.casefold()
            if run and lowered in _CONNECTORS:
                run.append((where, token))
                continue
            if token[:1].isupper() and lowered not in _BREAK_WORDS:
                run.append((where, token))
                if not possessive and not attribute:
                    continue
            _close(run, runs, attribute.group(0).casefold() if attribute else "")
        _close(run, runs, "")
    return runs


def _close(run: list[tuple[int, str]], runs: list[_Run], attribute: str) -> None:
    while run and run[-1][1].casefold() in _CONNECTORS:
        run.pop()
    if run:
        runs.append(_Run(run[0][0], " ".join(word for _, word in run), attribute))
    run.clear()


def _split_clauses(text: str) -> list[tuple[int, str]]:
    clauses, last = [], 0
    for found in _CLAUSE_BREAK_RE.finditer(text):
        clauses.append((last, text[last : found.start()]))
        last = found.end()
    clauses.append((last, text[last:]))
    return clauses


def _is_generic(candidate: str) -> bool:
    return all(word in _GENERIC_WORDS for word in candidate.casefold().split())


def _is_place(candidate: str) -> bool:
    """A run that is only places ("Shanghai", "Hong Kong") names no party."""
    rest = candidate.casefold()
    for place in ("hong kong", "macau", "macao", *matching.CN_PLACES):
        rest = re.sub(rf"(?<![a-z]){re.escape(place)}(?![a-z])", " ", rest)
    return not rest.strip()


def _run_country(run: str) -> str:
    """The country a capitalised run names a party in by itself, or "" (places alone
    and generic words name no one; matching.chinese_country reads it as a name)."""
    if _is_generic(run) or _is_place(run):
        return ""
    return matching.chinese_country(run, as_name=True)


def _named_after(text: str, position: int, gap_words: int = 4) -> _Run | None:
    """The capitalised run that starts at `position`, after up to `gap_words` lower-case
    words ("China's largest carmaker Geely"), or None."""
    for run in _capitalised_runs(text[position:]):
        gap = text[position : position + run.start]
        if len(gap.split()) <= gap_words and not re.search(r"[A-Z|,;:]", gap):
            return _Run(position + run.start, run.text, run.attribute)
        return None
    return None


def _structural_parties(text: str) -> list[Party]:
    """Parties the sentence marks as Chinese: "China's X", "Chinese buyer X", "Beijing-based
    X", "China-backed X"; a marker with a party noun and no name is an unnamed party."""
    parties: list[Party] = []
    for found in _POSSESSOR_RE.finditer(text):
        run = _named_after(text, found.end())
        if run and not _is_generic(run.text):
            parties.append(Party(run.text, _country_of_place(found["place"]), run.start))
    for found in _ADJECTIVE_RE.finditer(text):
        party = _adjective_party(text, found)
        if party:
            parties.append(party)
    for found in _GERMAN_PARTY_RE.finditer(text):
        parties.append(Party("", "CN", found.start()))
    return parties


def _adjective_party(text: str, found: re.Match) -> Party | None:
    """Read what follows "Chinese", "China-backed", "Hong Kong", "Beijing-based": a party
    noun, and the name right after it ("Chinese gaming company Kunlun"), or a name right
    after an attribute ("China-backed GO Scale Capital"); "Chinese partnership", "China
    growth" or "Shanghai" alone are no party, nor is what follows a possessive noun
    ("Chinese battery maker's Michigan investment")."""
    country = _country_of_place(found["place"])
    after = found.end()
    # Only the adjectives take words between them and the noun ("Chinese gaming company");
    # a place takes its noun at once ("Shanghai partner", not "China demand lifts group").
    most = 3 if found["place"] in ("Chinese", "Macanese") else 0
    gap = re.match(rf"(?:[a-z][\w'’-]*\s+){{0,{most}}}", text[after:]).group(0)
    words = list(re.finditer(r"[\w'’-]+", gap + text[after + len(gap) :].split(" ")[0]))
    for word in words:
        bare = word.group(0)
        possessive = bool(_POSSESSIVE_RE.search(bare))
        noun = _POSSESSIVE_RE.sub("", bare).casefold()
        if noun in _DEAL_NOUNS and word.start() == 0 and found["place"] != "China":
            return Party("", country, found.start())
        if noun in _PARTY_NOUNS or noun.rstrip("s") in _PARTY_NOUNS or noun.endswith("maker"):
            if possessive:
                return Party("", country, found.start())
            run = _named_after(text, after + word.end(), gap_words=0)
            if run and not _is_generic(run.text) and not _is_place(run.text):
                return Party(run.text, country, run.start)
            return Party("", country, found.start())
    if found["attr"] and not gap.strip():
        run = _named_after(text, after, gap_words=0)
        if run and not _is_generic(run.text) and not _is_place(run.text):
            return Party(run.text, country, run.start)
    return None


_CJK_NAME_WORDS_RE = re.compile(r"股份|有限|公司|集团|控股|大学|研究|学院|银行|科学院")


def _leaves_a_name(body: str, cut: int) -> bool:
    """Two characters or more before the first company word once the body is cut."""
    rest = body[cut:]
    first = _CJK_NAME_WORDS_RE.search(rest)
    return (first.start() if first else len(rest)) >= 2


def _cjk_parties(text: str) -> list[Party]:
    """Chinese company and institution names: the longest run of characters ending in a
    company or institution word, cut after the last preposition or deal verb in it that
    leaves at least two characters before that word (so 与华为技术有限公司 is cut after
    与, but 同方股份有限公司 keeps its 同)."""
    if matching.is_japanese(text):
        return []
    parties = []
    for found in _CJK_ORG_RE.finditer(text):
        body, start = found.group("body"), found.start()
        cuts = [
            link.end() for link in _CJK_LINKS_RE.finditer(body) if _leaves_a_name(body, link.end())
        ]
        cut = cuts[-1] if cuts else 0
        name = found.group(0)[cut:]
        if len(name) > 2:
            parties.append(Party(name, matching.chinese_country(name) or "CN", start + cut))
    return parties


def parties(text: str) -> list[Party]:
    """Every party in the text that is Chinese by the gazetteer (large groups, the DoD
    1260H list), by the sentence's structure or by its own name, in the order named.

    A listing venue ("Hong Kong-listed") is read as no party; once the text speaks of
    Taiwan or the Republic of China, only the gazetteer places anyone in China.
    """
    text = _LISTING_RE.sub(lambda found: " " * len(found.group(0)), text)
    taiwan = bool(matching.NOT_CHINA_RE.search(text))
    text = _TAIWAN_STATE_RE.sub(lambda found: " " * len(found.group(0)), text)
    found: list[Party] = []
    runs = _capitalised_runs(text)
    for mention in matching.gazetteer_mentions(text):
        run = next((r for r in runs if r.start <= mention.start < r.start + len(r.text)), None)
        name = run.text if run and mention.text in run.text else mention.text
        found.append(Party(name, mention.party.country, mention.start))
    if taiwan:
        return found
    found += _structural_parties(text)
    for run in runs:
        country = _run_country(run.text)
        if not country and not _is_generic(run.text) and matching.dod_1260h_flag(run.text):
            country = "CN"
        if country:
            found.append(Party(run.text, country, run.start))
    found += _cjk_parties(text)
    kept = [
        party
        for party in found
        if not _is_authority_or_event(party.name) and not _is_a_rival(text, party)
    ]
    return _distinct(kept)


def _is_a_rival(text: str, party: Party) -> bool:
    """ "Huawei rival Ericsson", "beats ZTE to contract": a competitor, not a counterparty."""
    after = text[party.start + len(party.name) :] if party.name else ""
    before = text[: party.start]
    return bool(
        re.match(r"['’]?s?\s+(?:rivals?|competitors?)\b", after)
        or re.search(r"\b(?:beats?|outbids?|vies? with|rivals?|against)\s+$", before)
    )


def _is_authority_or_event(name: str) -> bool:
    words = {word.strip(".,'’").casefold() for word in re.split(r"[\s-]+", name)}
    return bool(words & _NOT_A_PARTY_WORDS)


def _distinct(found: list[Party]) -> list[Party]:
    """One party per stretch of text, the named one before an unnamed, longest first."""
    kept: list[Party] = []
    for party in sorted(found, key=lambda p: (p.start, not p.name, -len(p.name))):
        same = [
            p
            for p in kept
            if p.name and party.name and (party.name in p.name or p.name in party.name)
        ]
        if same or (not party.name and any(p.country == party.country for p in kept)):
            continue
        kept.append(party)
    return kept


def chinese_party(text: str) -> str:
    """Return the first name in the text that reads as a Chinese party, or ""."""
    return next((party.name for party in parties(text) if party.name), "")


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
_LEGAL_NOTE_RE = re.compile(r"\s+")
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
        return UNWOUND + _LEGAL_NOTE_RE.sub(" ", unwound.group(0).casefold())
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
    if found and _is_place(found.group(1)) and matching.chinese_country(found.group(1)):
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
    rest = re.sub(rf"\b(?:{_PLACE_WORDS})['’]s\s+\|", " | ", rest, flags=re.IGNORECASE)
    kind = "" if _DISPUTE_RE.search(rest) else matching.kind_from_text(rest)
    found = parties(rest)
    buyers, sellers = _buyer_and_seller(rest, found)
    chosen = buyers or found
    seller_left = (
        bool(sellers)
        and not buyers
        and not any(p.start > sellers[-1].start for p in found if p not in sellers)
    )
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
