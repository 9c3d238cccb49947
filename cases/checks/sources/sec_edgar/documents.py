"""Reading a filing's document for the Chinese party it names: the text of an EDGAR
document (HTML or plain text), and the companies in it that the text places in China.

Full-text search gives a filing's parties, not the companies its text is about: Valeant's
8-K selling Dendreon to Sanpower Group names Sanpower only in its Item 1.01. So for a
deal form in which no party is Chinese, the check reads the matched document and takes
the company the text places in China. A company counts as Chinese when
- the words after its name say where it is organised or based ("Sanpower Group Co., Ltd.,
  a company organised in the People's Republic of China", "X Co., Ltd. of China"), or
- it is introduced as Chinese ("China's X", "Chinese X", "Hong Kong-based X"), or
- its own name carries a Chinese place ("Shanghai Fosun Pharmaceutical (Group) Co., Ltd.")
  and the text does not say it is organised or based elsewhere: "China Basin Capital
  Partners, L.P., a Delaware limited partnership based in San Francisco" is not.
"Republic of China" without "People's" is Taiwan's name and does not count; a company
that is one of the filing's own parties is judged by its EDGAR location instead.

A sentence that recounts an earlier year ("in 2016 and 2018 X acquired the company") is
history, not the filing's event, and is passed over; one that says the deal was
terminated, blocked or unwound is read but marked, so the lead can be scored down.
"""

import html
import re
from dataclasses import dataclass

from cases import normalize
from cases.checks import matching
from cases.checks.sources.news.parties import is_place

# fmt: off
# Words that end company names; one of them makes a run of capitalised words a company.
_COMPANY_WORDS = frozenset([
    "co", "co.", "co.,", "company", "ltd", "ltd.", "limited", "inc", "inc.", "incorporated",
    "corp", "corp.", "corporation", "group", "(group)", "holdings", "holding", "llc", "l.p.",
    "lp", "plc", "s.a.", "n.v.", "ag", "se", "gmbh", "pharma", "pharmaceutical",
    "pharmaceuticals", "technology", "technologies", "tech", "capital", "partners", "bank",
    "fund", "investment", "investments", "industries", "industrial", "electric", "motors",
    "biotech", "biopharma", "enterprises", "ventures", "international", "trust", "securities",
])
# Legal forms that may follow a comma inside a name ("Sanpower Group Co., Ltd.").
_AFTER_COMMA = frozenset(["ltd", "ltd.", "limited", "inc", "inc.", "llc", "l.p.", "lp", "plc",
                          "s.a.", "n.v.", "ag", "co.", "co", "corp."])
_CONNECTORS = frozenset(["of", "&", "de"])
# After "of", these say where a company is from ("X Co., Ltd. of China"), not its name.
_PLACE_WORDS = frozenset(["china", "the", "prc", "hong", "macau", "macao", "people's"])
# Capitalised words that start a sentence or a heading, not a name.
_NOT_NAMES = frozenset([
    "item", "the", "a", "an", "on", "in", "this", "that", "these", "under", "pursuant", "as",
    "our", "we", "its", "their", "entry", "into", "material", "definitive", "agreement",
    "stock", "purchase", "share", "merger", "press", "release", "exhibit", "form", "report",
    "annual", "risk", "factors", "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december", "mr.", "ms.",
])
# A run made only of these names a place, not a company.
_GENERIC = frozenset(["people's", "republic", "prc", "china", "chinese", "greater",
                      "mainland", "hong", "kong", "macau", "of", "the", "group", "company"])
# Exchanges, regulators, courts and ministries: named in filings' boilerplate (a Hong
# Kong-listed company's 6-K disclaims for "The Stock Exchange of Hong Kong Limited"), they
# are no counterparty.
_NOT_PARTIES_RE = re.compile(
    r"\b(?:exchanges?|clearing|commission|ministry|administration|bureau|court|government|"
    r"council|regulatory|people's bank|central bank|registrar)\b",
    re.IGNORECASE,
)
# fmt: on
_ORGANISED_RE = re.compile(
    r"^[\s,(]*(?:an?\s+|the\s+)?(?:[\w.\-]+\s+){0,5}?"
    r"(?:organi[sz]ed|incorporated|established|formed|registered|based|headquartered|located|"
    r"domiciled)\s+(?:in|under(?:\s+the\s+laws\s+of)?)\s+(?P<place>[^,;.()]{2,60})",
    re.IGNORECASE,
)
# "a Delaware limited partnership", "a Cayman Islands exempted company": a place of
# organisation written before the kind of company.
_PLACE_BEFORE_KIND_RE = re.compile(
    r"^[\s,(]*an?\s+(?P<place>(?:[A-Z][\w'.\-]*\s+){1,3}?)(?:[\w\-]+\s+){0,2}?"
    r"(?:company|corporation|limited partnership|partnership|exempted company|entity|"
    r"limited liability company)\b"
)
_OF_PLACE_RE = re.compile(
    r"^[\s,(]*(?:of|from)\s+(?:the\s+)?(?P<place>People['’]s Republic of China|PRC|"
    r"mainland China|China|Hong Kong|Macau|Macao)\b",
    re.IGNORECASE,
)
_INTRODUCED_RE = re.compile(
    r"(?:China['’]s|Chinese|PRC|Hong Kong['’]s|(?:[A-Z][a-z]+)-based)\s*$",
)
_YEAR_RE = re.compile(r"\b(?:19|20)\d\d\b")
_UNDONE_RE = re.compile(
    r"\b(?:terminat\w*|abandon\w*|block\w*|prohibit\w*|withdr[ae]w\w*|rejected|divest\w*|"
    r"unwound|unwind\w*|did not (?:close|complete)|called off|cancel+ed)\b",
    re.IGNORECASE,
)
_SENTENCE_RE = re.compile(r"(?<=[.;!?])\s+(?=[A-Z(\"“])")
_TAG_RE = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]+>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class TextParty:
    """A company a document places in China, and the sentence that names it."""

    name: str
    country: str  # CN, HK or MO
    sentence: str
    undone: bool = False  # the sentence says the deal was terminated, blocked or unwound


def document_text(raw: bytes) -> str:
    """Return the readable text of an EDGAR document (HTML, or plain text as filed)."""
    text = raw.decode("utf-8", "replace")
    text = _TAG_RE.sub(" ", text)
    return " ".join(html.unescape(text).split())


def place_country(place: str) -> str:
    """CN, HK or MO for a place written in words, else "": Taiwan, and "Republic of
    China" without "People's", are not China."""
    lowered = place.casefold().replace("’", "'")
    if "republic of china" in lowered and "people's republic of china" not in lowered:
        return ""
    return matching.chinese_country(place)


def _runs(sentence: str) -> list[tuple[str, int, int]]:
    """Runs of capitalised words (a name may hold "of", "&", "(Group)" and ", Ltd."), with
    where each starts and ends in the sentence."""
    runs: list[tuple[str, int, int]] = []
    words = [(m.group(0), m.start(), m.end()) for m in re.finditer(r"\S+", sentence)]
    current: list[tuple[str, int, int]] = []

    def close() -> None:
        while current and current[-1][0].casefold() in _CONNECTORS:
            current.pop()
        if current:
            text = " ".join(word for word, _, _ in current).rstrip(",;:")
            runs.append((text, current[0][1], current[0][1] + len(text)))
        current.clear()

    for index, (raw, start, end) in enumerate(words):
        word = raw.strip('"“”')
        bare = word.rstrip(",;:")
        lowered = bare.casefold()
        capital = bare[:1].isupper() or (bare.startswith("(") and bare[1:2].isupper())
        following = words[index + 1][0] if index + 1 < len(words) else ""
        following = following.strip('"“”,;:').casefold()
        if current and lowered in _CONNECTORS:
            if lowered == "of" and following in _PLACE_WORDS:
                close()
            else:
                current.append((bare, start, end))
            continue
        if not capital or (not current and lowered in _NOT_NAMES):
            close()
            continue
        if re.search(r"['’]s$", bare):  # "China's": an introduction, not part of a name
            close()
            continue
        current.append((word.rstrip(";:"), start, start + len(word)))
        ends_clause = word.endswith((";", ":")) or (
            word.endswith(",") and following not in _AFTER_COMMA
        )
        ends_sentence = bare.endswith(".") and lowered not in _COMPANY_WORDS and len(bare) > 3
        if ends_clause or ends_sentence:
            close()
    close()
    return runs


def _is_company(run: str) -> bool:
    words = [word.casefold().rstrip(",") for word in run.split()]
    return any(word in _COMPANY_WORDS for word in words[1:]) and not all(
        word in _GENERIC or word in _COMPANY_WORDS for word in words
    )


def _country_by_context(run: str, before: str, after: str) -> str | None:
    """The country the words around a name give it; "" for elsewhere, None for nothing."""
    for pattern in (_OF_PLACE_RE, _ORGANISED_RE, _PLACE_BEFORE_KIND_RE):
        found = pattern.match(after)
        if found:
            return place_country(found["place"])
    introduced = _INTRODUCED_RE.search(before)
    if introduced:
        return place_country(introduced.group(0).replace("-based", ""))
    return None


def chinese_parties(
    text: str,
    *,
    names: list[str],
    others: dict[str, str] | None = None,
    filed_year: int | None = None,
) -> list[TextParty]:
    """Return the companies the text places in China, in the order it names them.

    `names` are the entity's (never its own counterparty); `others` maps the name keys of
    the filing's parties to the country EDGAR gives them, which the text cannot override;
    a sentence naming a year before `filed_year` is history and yields no one.
    """
    others = others or {}
    found: dict[str, TextParty] = {}
    for sentence in _SENTENCE_RE.split(text):
        history = _recounts_earlier_year(sentence, filed_year)
        for run, start, end in _runs(sentence):
            if not _is_company(run) or _NOT_PARTIES_RE.search(run):
                continue
            key = normalize.name_key(run)
            if not key or key in found or _is_the_entitys(key, names):
                continue
            if key in others:
                country = others[key]
            else:
                country = _country_by_context(run, sentence[:start], sentence[end:])
                if country is None:
                    country = place_country(run)
            if country and not history:
                found[key] = TextParty(
                    name=run,
                    country=country,
                    sentence=sentence[:500],
                    undone=bool(_UNDONE_RE.search(sentence)),
                )
    return list(found.values())


def _is_the_entitys(key: str, names: list[str]) -> bool:
    """Whether a company is the entity or one of its own: its name key holds every word
    of one of the entity's ("BioNTech (Shanghai) Pharmaceuticals Co., Ltd." for BioNTech
    SE), or matches it closely."""
    words = set(key.split())
    for name in names:
        name_words = set(normalize.name_key(name).split())
        if name_words and name_words <= words:
            return True
    return matching.match_name(names, key).score >= 90


def _recounts_earlier_year(sentence: str, filed_year: int | None) -> bool:
    """Whether the sentence dates what it tells to a year before the filing's."""
    return bool(filed_year) and any(int(year) < filed_year for year in _YEAR_RE.findall(sentence))


def _distinctive_word(name: str) -> str:
    """The first word of a name key that is not a Chinese place ("fosun" in "Shanghai
    Fosun Pharmaceutical"), or "" when there is none of four letters or more."""
    for word in normalize.name_key(name).split():
        # A place, not any China marker: "fosun" names a Chinese group, and is distinctive.
        if len(word) >= 4 and not is_place(word):
            return word
    return ""


def named_again(text: str, *, known: list[TextParty], names: list[str]) -> list[TextParty]:
    """Return the companies in the text that are, by their distinctive first word, a
    Chinese party already read in another of the search's filings ("Fosun Pharma" after
    "Shanghai Fosun Pharmaceutical (Group) Co., Ltd."); they take that party's country."""
    by_word = {_distinctive_word(party.name): party for party in known}
    by_word.pop("", None)
    found: dict[str, TextParty] = {}
    for sentence in _SENTENCE_RE.split(text):
        for run, _, _ in _runs(sentence):
            word = _distinctive_word(run)
            party = by_word.get(word)
            if party is None or run in found or _is_the_entitys(normalize.name_key(run), names):
                continue
            found[run] = TextParty(
                name=run,
                country=party.country,
                sentence=sentence[:500],
                undone=bool(_UNDONE_RE.search(sentence)),
            )
    return list(found.values())


# A sale of the company or of a stake in it, in the words of an agreement.
_SALE_RE = re.compile(
    r"\b(?:(?:stock|share|equity|asset|securities) purchase agreement|merger agreement|"
    r"agreement and plan of merger|to sell|will sell|agreed to sell|sale of)\b",
    re.IGNORECASE,
)


def sentence_kind(sentence: str) -> str:
    """The Finding.Kind value a sentence of a filing points to, or ""."""
    return matching.kind_from_text(sentence) or ("acquisition" if _SALE_RE.search(sentence) else "")


def deal_sentence(text: str, names: list[str]) -> str:
    """Return the first sentence that names the entity and a kind of deal, or "".

    A Chinese filer's 6-K or 8-K that names the entity may be a deal with it or a director's
    biography ("an MBA from the University of Michigan"); only the sentence tells.
    """
    first_words = {key.split()[0] for key in map(normalize.name_key, names) if key}
    for sentence in _SENTENCE_RE.split(text):
        lowered = sentence.casefold()
        if not any(word in lowered for word in first_words) or not sentence_kind(sentence):
            continue
        if matching.match_in_text(names, sentence).score >= 100:
            return sentence[:500]
    return ""
