"""Judging a hit: does it name our entity, is the counterparty Chinese, what kind of
event is it, and is the counterparty on the DoD 1260H list?

Pure functions over strings; the DoD list is one of the reference lists (cases.reference),
read once per process.
"""

import re
from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz, process

from cases import normalize, reference

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

    A whole-word occurrence of a name key (or of "University of X" for "X University")
    scores 100; Chinese names are found without spaces (`_cjk_mention`); otherwise the
    score is the best rapidfuzz ratio between the key and any run of as many words of the
    text, so a name inside a longer word ("Acme" in "Acmeville") does not count.
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
        for form in _text_forms(key):
            if re.search(rf"(?<!\w){re.escape(form)}(?!\w)", folded):
                return NameMatch(100.0, f"the text names {name!r} (as {form!r})")
        size = len(key.split())
        runs = [" ".join(words[i : i + size]) for i in range(max(1, len(words) - size + 1))]
        found = process.extractOne(key, runs, scorer=fuzz.ratio)
        if found and found[1] > best.score:
            best = NameMatch(
                round(found[1], 1),
                f"the text nearly names {name!r}: {found[0]!r} ({found[1]:.0f}/100)",
            )
    return best


# A gazetteer of places and name patterns that mark a party as Chinese when a source
# gives no structured country. Hong Kong and Macau are told apart from the mainland.
_HK = ("hong kong", "hongkong", "kowloon", "hksar")
_MO = ("macau", "macao", "macanese")
# ISO 3166 calls Taiwan "Taiwan, Province of China"; it is not the mainland.
_NOT_CHINA = ("taiwan",)
# fmt: off
_CN_PLACES = [
    "china", "chinese", "prc", "beijing", "shanghai", "tianjin", "chongqing", "shenzhen",
    "guangzhou", "hangzhou", "nanjing", "wuhan", "chengdu", "xian", "xi'an", "suzhou", "wuxi",
    "ningbo", "qingdao", "dalian", "shenyang", "harbin", "changchun", "jinan", "zhengzhou",
    "changsha", "hefei", "fuzhou", "xiamen", "nanchang", "kunming", "guiyang", "nanning",
    "haikou", "lanzhou", "xining", "yinchuan", "urumqi", "hohhot", "taiyuan", "shijiazhuang",
    "dongguan", "foshan", "zhuhai", "guangdong", "jiangsu", "zhejiang", "shandong", "sichuan",
    "hubei", "hunan", "henan", "hebei", "fujian", "anhui", "jiangxi", "yunnan", "guizhou",
    "guangxi", "hainan", "gansu", "qinghai", "ningxia", "xinjiang", "tibet", "shaanxi",
    "shanxi", "heilongjiang", "jilin", "liaoning", "zhongguancun", "tsinghua", "peking",
    "fudan", "zhejiang", "sinopec", "huawei", "zte", "tencent", "alibaba", "baidu", "xiaomi",
    "lenovo", "byd", "catl", "haier", "hikvision", "dahua",
]
# fmt: on
_CN_RE = re.compile(
    r"(?<![a-z])(?:" + "|".join(re.escape(place) for place in _CN_PLACES) + r")(?![a-z])"
)
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
# Kana mark Japanese, whose kanji would otherwise read as Chinese.
_KANA_RE = re.compile(r"[\u3040-\u30ff]")


def chinese_country(text: str) -> str:
    """Return CN, HK or MO when the name or text places a party in China, else ""."""
    if not text:
        return ""
    lowered = text.casefold()
    if any(place in lowered for place in _NOT_CHINA):
        return ""
    if any(place in lowered for place in _HK):
        return "HK"
    if any(place in lowered for place in _MO):
        return "MO"
    if _CN_RE.search(lowered) or (_CJK_RE.search(text) and not _KANA_RE.search(text)):
        return "CN"
    return ""


# Terms that name the kind of event, most specific first.
_KIND_TERMS = [
    ("joint_venture", [r"joint[- ]venture", r"\bjv\b", "合资"]),
    ("acquisition", [r"\bacquir(?:e|es|ed|ing)\b", r"\bacquisition", "takeover", "buy-?out",
                     "收购"]),
    ("equity_investment", [r"\bstake\b", r"\bequity\b", r"\binvest(?:s|ed|ment|ing|or)?\b",
                           "funding round", "投资"]),
    ("ip_licence", [r"\blicen[cs]e", r"\bpatent", "technology transfer", r"\broyalt"]),
    ("subsidiary", [r"\bsubsidiar", r"\bbranch office",
                    "office in (?:china|beijing|shanghai|shenzhen)"]),
    ("co_publication", ["co-?authored", "co-?publication", "joint (?:paper|publication)"]),
    ("rd_staff", [r"\bhired\b", r"\brecruit"]),
    ("partnership", ["partnership", r"\bpartner(?:s|ed|ing)?\b", r"\bmou\b",
                     "memorandum of understanding", "cooperation agreement", "collaborat",
                     "strategic agreement", "合作"]),
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
