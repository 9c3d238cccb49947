"""Judging a hit: does it name our entity, is the counterparty Chinese, what kind of
event is it, and is the counterparty on the DoD 1260H list?

Pure functions over strings; the DoD list is one of the reference lists (cases.reference),
read once per process. Whether a party is Chinese lives in `china` (re-exported here):
its gazetteer of large Chinese groups (data/chinese_parties.csv) ships with the code,
since it is kept with it and not per deployment.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz, process

from cases import normalize, reference

# Read from `matching` by the sources and the news reader.
from cases.checks.matching.china import (
    CN_PLACES,
    COMPOUND_CHINA_RE,
    GAZETTEER_PATH,
    NOT_CHINA_RE,
    STATE_NAME_WORDS,
    ChineseParty,
    GazetteerMention,
    chinese_country,
    chinese_parties,
    gazetteer_mentions,
    is_japanese,
)

__all__ = [
    "CN_PLACES", "COMMON_WORDS", "COMPOUND_CHINA_RE", "DOD_1260H_FLAG", "GAZETTEER_PATH",
    "NOT_CHINA_RE", "SHORT_FORM_SCORE", "STATE_NAME_WORDS", "ChineseParty", "GazetteerMention",
    "NameMatch", "chinese_country", "chinese_parties", "dod_1260h_flag", "dod_1260h_names",
    "entity_names", "gazetteer_mentions", "is_japanese", "kind_from_text", "match_in_text",
    "match_name", "short_form",
]  # fmt: skip

DOD_1260H_FLAG = "dod_1260h: "  # followed by the listed name


@dataclass(frozen=True)
class NameMatch:
    score: float  # 0-100
    explanation: str


def entity_names(entity) -> list[str]:
    """The entity's name, native name and aliases, in that order, without repeats."""
    names = [entity.name, entity.name_native, *normalize.split_list(entity.aliases, "\n")]
    seen: dict[str, None] = {}
    for name in names:
        if name and name not in seen:
            seen[name] = None
    return list(seen)


def match_name(names: list[str], candidate: str) -> NameMatch:
    """Score a structured name (a registry record's legal name) against our names.

    Keys fold case, accents, punctuation and legal forms of many languages ("AG" and
    "Aktiengesellschaft" agree); word order and a company's short form score as the same
    name, spelling changes partly, a different word not (`normalize.compare_keys`).
    """
    candidate_key = normalize.name_key(candidate) if candidate else ""
    best = NameMatch(0.0, f"no name matched {candidate!r}")
    if not candidate_key:
        return best
    candidate_look = normalize.confusable_key(candidate_key)
    for name in names:
        key = normalize.name_key(name)
        if not key:
            continue
        if key == candidate_key:
            return NameMatch(100.0, f"{candidate!r} is {name!r} (same name key {key!r})")
        if normalize.confusable_key(key) == candidate_look:
            found = normalize.KeyComparison(95.0, "look-alike characters")
        else:
            found = normalize.compare_keys(key, candidate_key)
        if found.score > best.score:
            best = NameMatch(
                found.score,
                f"{candidate!r} resembles {name!r} ({found.score:.0f}/100 on name keys "
                f"{candidate_key!r} and {key!r}: {found.how})",
            )
    return best


def _fold_text(text: str) -> str:
    """Fold text the way name keys are folded: case, accents and punctuation."""
    return " ".join(re.sub(r"[^\w]+", " ", normalize.fold(text)).split())


# Words written after a Chinese company's name ("华为技术有限公司", "中兴通讯股份"), so a
# short name followed by one is the name, not part of a longer word.
_CJK_NAME_ENDINGS = (
    "公司", "集团", "科技", "技术", "股份", "有限", "控股", "大学", "研究", "实业", "电子",
    "通讯", "通信", "株式会社", "주식회사",
)  # fmt: skip
_INSTITUTION_ORDER_RE = re.compile(
    r"^(?P<place>.+) (?P<kind>university|institute|college|academy)$"
    r"|^(?P<kind2>university|institute|college|academy) of (?P<place2>.+)$"
)


def _text_forms(key: str) -> list[str]:
    """The key and, for "X University", "University of X" (and the other way round)."""
    forms = [key]
    found = _INSTITUTION_ORDER_RE.match(key)
    if found and found["place"]:
        forms.append(f"{found['kind']} of {found['place']}")
    elif found:
        forms.append(f"{found['place2']} {found['kind2']}")
    return forms


# Words a company name may begin or end with that headlines leave out: "Group Lotus" is
# written "Lotus". The short form is less sure than the name (SHORT_FORM_SCORE).
_GROUP_WORDS = frozenset({"group", "holding", "holdings", "the"})
SHORT_FORM_SCORE = 90.0


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


def short_form(name: str) -> str:
    """Return the shorter name headlines write for this one, or "": without "Group" or
    "Holdings" ("Group Lotus" is "Lotus"), without a trailing "& C." ("Pirelli & C."),
    or the leading acronym of a spelled-out name ("EEW Energy from Waste" is "EEW")."""
    key = normalize.name_key(name)
    words = key.split()
    first = name.split()[0] if name.split() else ""
    if len(words) >= 3 and first.isupper() and first.isalpha() and len(first) >= 3:
        return first.casefold()
    if len(words) > 2 and words[-2] == "and" and len(words[-1]) <= 3:
        words = words[:-2]
    while len(words) > 1 and words[0] in _GROUP_WORDS:
        words.pop(0)
    while len(words) > 1 and words[-1] in _GROUP_WORDS:
        words.pop()
    short = " ".join(words)
    return short if short != key and len(short) >= 3 else ""


# English words that are also company names (weather, adjectives, body parts, plants and
# animals, abstract nouns): where a name is one of these, only a use as a name counts.
# fmt: off
COMMON_WORDS = _word_set("""
sun rain cloud clouds storm snow frost thunder lightning wind breeze mist fog hail sunshine
rainbow tempest cyclone tornado blizzard weather climate dawn dusk
bright brilliant smart swift quick rapid bold clear pure prime true vital agile nimble noble
grand great golden silver blue green red black white new next open simple fresh happy lucky
wise keen sharp brave strong active young modern global united royal
hand hands heart eye eyes arm head brain spine bone nerve skin lung liver blood palm foot
face ear nose tooth mind soul
lotus apple orange pear oak pine rose lily tulip tiger lion eagle falcon fox wolf bee ant
panda dragon phoenix
imagination vision insight harmony unity genius spark pulse echo nova zen matrix fusion
quantum horizon summit pioneer frontier element signal beacon bridge anchor compass atlas
zenith apex vertex catalyst momentum velocity infinity evolution origin genesis legacy
liberty freedom trust hope faith grace joy spirit energy power light shadow crystal diamond
pearl amber jade ruby coral ocean river lake island valley mountain forest meadow stone rock
sand glass iron steel gold carbon oxygen
""")
# fmt: on
# Words after a name that make it a company's name ("Lotus Cars", "Apple Inc", "Frost Group").
_COMPANY_NOUNS = _word_set(
    """
group holding holdings cars motors motor technologies technology tech labs lab systems
pharma pharmaceuticals therapeutics biotech bio energy capital partners ventures industries
international corporation corp company co inc ltd plc gmbh ag sa se llc brands foods
electronics semiconductor semiconductors robotics software networks engineering
"""
)  # fmt: skip
# Verbs a company does in deal news: "Apple signs ..." names the company even at the
# start of a headline, "Apple growers ..." does not.
_DEAL_VERBS = _word_set("""
signs signed forms formed buys bought sells sold agrees agreed partners teams takes took
acquires acquired licenses licences strikes struck wins invests merges completes seals inks
""")
# Words after a common-word name that do not make it part of another name.
_NAME_BREAKS = _word_set("""
a an the and or to for in on at by from of as with says said shares stock stake deal deals
takeover buys buy sells sell agrees agreed signs signed forms forms joint acquisition
acquires acquired partners partnership partner owner owners unit investors investor
""")  # fmt: skip


def _without_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", kept)


def _is_title_case(text: str) -> bool:
    words = [word for word in re.findall(r"[^\W\d_][\w'’-]*", text) if len(word) > 3]
    # Every longer word capitalised: capitals say nothing about which words are names.
    return bool(words) and all(word[:1].isupper() for word in words)


def _name_use(form: str, text: str) -> NameMatch:
    """Judge whether a name that is also a common word is used as a name in the text.

    Capitalised mid-sentence, or followed by a possessive, a legal form or a company word
    ("Lotus Cars"), it is the name; lower case it is the word ("lotus flower"); followed
    by another capitalised word it begins someone else's name ("Lotus Bakeries"); at the
    start of a sentence or in a Title Case headline it may be either, and scores lower.
    """
    plain = _without_accents(text)
    words = [re.escape(word) for word in form.split()]
    pattern = re.compile(r"(?<!\w)" + r"[\W_]+".join(words) + r"(?!\w)", re.IGNORECASE)
    title_case = _is_title_case(plain)
    best = NameMatch(0.0, f"{form!r} appears only as a common word")
    for found in pattern.finditer(plain):
        if not found.group(0)[:1].isupper():
            continue
        after = plain[found.end() :]
        following = re.match(r"['’]s\b|\s+([\w&.-]+)", after)
        next_word = (following.group(1) or "") if following else ""
        if following and not next_word:
            return NameMatch(100.0, f"the text names {form!r} (possessive)")
        lowered = next_word.casefold().strip(".")
        if lowered in _COMPANY_NOUNS or normalize.is_legal_form(lowered):
            return NameMatch(100.0, f"the text names {form!r} (before {next_word!r})")
        if next_word[:1].isupper() and lowered not in _NAME_BREAKS and not title_case:
            candidate = NameMatch(
                50.0, f"{form!r} begins another name in the text ({form} {next_word})"
            )
        elif (
            found.start() > 0
            and not title_case
            and plain[found.start() - 2 : found.start()] not in (". ", ": ")
        ):
            return NameMatch(100.0, f"the text names {form!r} (capitalised mid-sentence)")
        elif lowered in _DEAL_VERBS:
            candidate = NameMatch(
                90.0, f"{form!r} is the subject of {next_word!r}, as a company would be"
            )
        else:
            candidate = NameMatch(
                75.0, f"{form!r} may be the common word here (sentence start or Title Case)"
            )
        if candidate.score > best.score:
            best = candidate
    return best


def _is_common_word(form: str) -> bool:
    return bool(form) and all(word in COMMON_WORDS for word in form.split())


def _whole_word(form: str, folded: str) -> bool:
    """A whole-word occurrence, and for an institution not the start of a longer one:
    "Cambridge University" is not "Cambridge University of Technology"."""
    for found in re.finditer(rf"(?<!\w){re.escape(form)}(?!\w)", folded):
        rest = folded[found.end() :]
        if form.split()[-1] in {"university", "institute", "college", "academy"} and re.match(
            r" (?:of|for) ", rest
        ):
            continue
        return True
    return False


def _form_match(name: str, form: str, text: str, folded: str, top: float) -> NameMatch | None:
    if not _whole_word(form, folded):
        return None
    if _is_common_word(form):
        use = _name_use(form, text)
        score = min(top, use.score)
        return NameMatch(score, f"{name!r} as {form!r}: {use.explanation}")
    return NameMatch(top, f"the text names {name!r} (as {form!r})")


def _cjk_mention(name: str, key: str, text: str) -> NameMatch | None:
    """Find a Chinese (or Japanese, Korean) name in text written without spaces.

    The full native name, or a key of three characters or more, counts wherever it
    stands. A two-character key counts as a word of its own, or followed by a word that
    ends company names ("华为" in "华为公司"), not inside any longer word.
    """
    compact = text.replace(" ", "")
    full = _fold_text(name).replace(" ", "")
    if len(full) >= 3 and full in compact:
        return NameMatch(100.0, f"the text contains {name!r}")
    short = key.replace(" ", "")
    if len(short) >= 3 and short in compact:
        return NameMatch(100.0, f"the text contains {name!r} (as {key!r})")
    if len(short) < 2:
        return None
    for found in re.finditer(re.escape(short), text):
        before = text[found.start() - 1] if found.start() else " "
        after = text[found.end() :]
        alone_before = not normalize.is_cjk(before)
        if alone_before and (not after or not normalize.is_cjk(after[0])):
            return NameMatch(100.0, f"the text names {name!r} (as {key!r}, a word of its own)")
        if alone_before and after.startswith(_CJK_NAME_ENDINGS):
            return NameMatch(100.0, f"the text names {name!r} (as {key!r} before a company word)")
    if short in compact:
        return NameMatch(
            80.0, f"{key!r} appears in the text only inside longer words, which may be others"
        )
    return None


def match_in_text(names: list[str], text: str) -> NameMatch:
    """Score how clearly free text (a headline, an excerpt) mentions one of our names.

    A whole-word occurrence of a name key (or of "University of X" for "X University",
    but not "X University of Technology") scores 100, a short form without "Group" or
    "Holdings" SHORT_FORM_SCORE; a name that is also a common word ("Lotus", "Frost")
    scores so only where the text uses it as a name (`_name_use`), less where that is
    unsure. Chinese names are found without spaces (`_cjk_mention`); otherwise the score
    is the best rapidfuzz ratio between the key and any run of as many words of the text,
    so a name inside a longer word ("Acme" in "Acmeville") does not count.
    """
    folded = _fold_text(text)
    best = NameMatch(0.0, "none of the entity's names appears in the text")
    if not folded:
        return best
    words = folded.split()
    for name in names:
        key = normalize.name_key(name)
        if normalize.has_cjk(key):
            found = _cjk_mention(name, key, folded)
            if found and found.score >= 100:
                return found
            if found and found.score > best.score:
                best = found
            continue
        if len(key) < 3:
            continue
        forms = [(form, 100.0) for form in _text_forms(key)]
        short = short_form(name)
        if short:
            forms.append((short, SHORT_FORM_SCORE))
        for form, top in forms:
            found = _form_match(name, form, text, folded, top)
            if found and found.score >= 100:
                return found
            if found and found.score > best.score:
                best = found
        if best.score >= SHORT_FORM_SCORE or _is_common_word(key) or _is_common_word(short):
            continue  # near spellings of a common word are other words
        if any(
            re.search(rf"(?<!\w){re.escape(form)}(?!\w)", folded) and not _whole_word(form, folded)
            for form, _ in forms
        ):
            # Written whole but as the start of a longer institution's name.
            best = NameMatch(0.0, f"the text names an institution longer than {name!r}")
            continue
        size = len(key.split())
        runs = [" ".join(words[i : i + size]) for i in range(max(1, len(words) - size + 1))]
        found = process.extractOne(key, runs, scorer=fuzz.ratio)
        if found and found[1] > best.score:
            best = NameMatch(
                round(found[1], 1),
                f"the text nearly names {name!r}: {found[0]!r} ({found[1]:.0f}/100)",
            )
    return best


# ------------------------------------------------------------------ kinds of event

# Terms that name the kind of event, most specific first: a joint venture, then what
# says control changes hands ("takeover", "full control", "remaining stake"), then a
# stake, then the plain purchase verbs (a "buys 60 percent stake" is a stake), licences,
# offices, and last the words for any cooperation ("deal", "pact", "teams up").
_KIND_TERMS = [
    ("joint_venture", [r"joint[- ]ventures?", r"\bjvs?\b", r"gemeinschaftsunternehmen",
                       r"\bform(?:s|ed|ing)? (?:a )?(?:new )?ventures?\b",
                       "合资"]),
    ("acquisition", [r"\bacquir(?:e|es|ed|ing|er)\b", r"\bacquisitions?\b", r"take-?overs?",
                     r"\btak(?:e|es|ing|en) over\b", r"\btook over\b", r"buy-?outs?",
                     r"take-private", r"\b(?:full|majority|outright) control\b",
                     r"\btak(?:e|es|ing) control\b", r"\btook control\b", r"remaining stake",
                     r"tender offer", r"\bmerg(?:e|es|ed|er|ers|ing)\b",
                     r"(?:fully|wholly) owned by", r"\bowned by\b", r"\bcontrol of\b",
                     r"[uü]bernahme", r"[uü]bernimmt", r"acquisizione", r"acquisisce",
                     r"rach[eè]te", r"rachat", "收购", "并购"]),
    ("equity_investment", [r"\bstakes?\b", r"\bequity\b",
                           r"\binvest(?:s|ed|ment|ments|ing)?\b",
                           "funding round", r"\bshareholder\b", r"\bbuys? into\b",
                           r"\bbought into\b", r"beteiligung", r"steigt .*\bein\b",
                           "投资", "入股"]),
    ("acquisition", [r"\bbuy(?:s|ing)?\b", r"\bbought\b", r"\bpurchas(?:e|es|ed|ing)\b",
                     r"\bsnap(?:s|ped)? up\b", r"\bsale (?:of .+ )?to\b", r"\bpass(?:es|ed)? to\b",
                     r"\b(?:sell|sells|selling|sold|offload|offloads|offloaded) .*\bto\b",
                     r"\bto be sold\b", r"\b(?:takeover |buyout )?(?:bid|bids|offer) for\b",
                     r"\bbidder\b", r"\bkauf(?:t|en)?\b", r"\bcompra\b", r"\bcede\b"]),
    ("ip_licence", [r"\blicen[cs]", r"\bpatent", "technology transfer", r"\broyalt",
                    r"\blizenz"]),
    ("subsidiary", [r"\bsubsidiar", r"\bbranch office",
                    r"\b(?:office|offices|plant|factory|unit|centre|center) in (?:china|beijing|"
                    r"shanghai|shenzhen|guangzhou|suzhou|hangzhou|tianjin|chengdu|wuhan)"]),
    ("co_publication", ["co-?authored", "co-?publication", "joint (?:paper|publication)"]),
    ("rd_staff", [r"\bhired\b", r"\brecruit"]),
    ("partnership", ["partnership", r"\bpartner(?:s|ed|ing)?\b", r"\bmou\b",
                     "memorandum of understanding", "cooperation agreement", "collaborat",
                     "strategic agreement", r"\bteam(?:s|ed)? up\b", r"\balliance\b",
                     r"\bpact\b", r"\bdeals?\b",
                     r"\b(?:sign(?:s|ed|ing)?|reach(?:es|ed)?) (?:an? )?(?:\w+ )?agreements?\b",
                     r"\bagree(?:s|d)? to (?:supply|develop|produce|make|co-develop)\b",
                     r"\bsupply (?:deal|agreement|contract)\b", r"kooperation", "合作"]),
]  # fmt: skip
_KIND_RES = [
    (kind, re.compile("|".join(patterns), re.IGNORECASE)) for kind, patterns in _KIND_TERMS
]


def kind_from_text(text: str) -> str:
    """Return the Finding.Kind value the text's terms point to, or "" if none does."""
    for kind, pattern in _KIND_RES:
        if pattern.search(text or ""):
            return kind
    return ""


def _long_enough(key: str) -> bool:
    """Three letters tell a name apart; two Chinese characters do (many companies'
    Chinese names are two: 华为, 中兴)."""
    return len(key) >= 3 or (len(key) == 2 and normalize.has_cjk(key))


@cache
def dod_1260h_names() -> tuple[tuple[str, str], ...]:
    """Return (name key, listed name) for every name and alias on the DoD 1260H list.

    Raise ReferenceListError when the list is missing, lacks a column or has a row
    with no name: a list read as empty would flag nothing and look like a clean result.
    """
    rows = reference.list_rows(
        reference.DOD_1260H, columns=("Name", "Clean Name", "Alias", "Previous Name")
    )
    keys: dict[str, str] = {}
    for line, row in rows:
        listed = (row.get("Clean Name") or row.get("Name") or "").strip()
        if not listed:
            path = reference.list_path(reference.DOD_1260H)
            raise reference.ReferenceListError(path, f"line {line}: no Name or Clean Name")
        for value in (
            row.get("Name"),
            row.get("Clean Name"),
            row.get("Alias"),
            row.get("Previous Name"),
        ):
            for part in normalize.split_list(value or "", ";"):
                key = normalize.name_key(part.rstrip("*"))
                if _long_enough(key):
                    keys.setdefault(key, listed)
    return tuple(keys.items())


def dod_1260h_flag(name: str, threshold: float = 92) -> str:
    """Return "dod_1260h: <listed name>" when the name matches the list, else ""."""
    key = normalize.name_key(name) if name else ""
    if not _long_enough(key):
        return ""
    for listed_key, listed in dod_1260h_names():
        if key == listed_key or fuzz.token_sort_ratio(key, listed_key) >= threshold:
            return DOD_1260H_FLAG + listed
    return ""
