"""Who a news text names as a Chinese party: the gazetteer of large Chinese groups and
the DoD 1260H list, the sentence's structure ("China's X", "Chinese buyer X",
"Beijing-based X", "X of China"), China markers inside compound names and Chinese names
with a company suffix; a market, a listing venue, an authority, an event or a rival is
no party, and once the text speaks of Taiwan only the gazetteer places anyone in China.

The text has the entity's own names taken out first (news.without_names writes " | "
for them), so the entity is never its own counterparty.
"""

import re
from dataclasses import dataclass

from cases.checks import matching

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
PLACE_WORDS = "|".join(["China", "Hong Kong", "Macau", "Macao"])
_POSSESSOR_RE = re.compile(rf"\b(?P<place>{PLACE_WORDS})['’]s\s+", re.IGNORECASE)
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


def is_place(candidate: str) -> bool:
    """A run that is only places ("Shanghai", "Hong Kong") names no party."""
    rest = candidate.casefold()
    for place in ("hong kong", "macau", "macao", *matching.CN_PLACES):
        rest = re.sub(rf"(?<![a-z]){re.escape(place)}(?![a-z])", " ", rest)
    return not rest.strip()


def _run_country(run: str) -> str:
    """The country a capitalised run names a party in by itself, or "" (places alone
    and generic words name no one; matching.chinese_country reads it as a name)."""
    if _is_generic(run) or is_place(run):
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
            if run and not _is_generic(run.text) and not is_place(run.text):
                return Party(run.text, country, run.start)
            return Party("", country, found.start())
    if found["attr"] and not gap.strip():
        run = _named_after(text, after, gap_words=0)
        if run and not _is_generic(run.text) and not is_place(run.text):
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
