"""Is a party Chinese? A gazetteer of large Chinese groups kept as data with sources
(../data/chinese_parties.csv), places and name patterns for the mainland, Hong Kong and
Macau, and what rules them out: Taiwan and the Republic of China, Japanese text.

Pure functions over strings; the gazetteer is read once per process.
"""

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cases import normalize

GAZETTEER_PATH = Path(__file__).parent.parent / "data" / "chinese_parties.csv"
GAZETTEER_COLUMNS = ("name", "aliases", "country", "source")


@dataclass(frozen=True)
class ChineseParty:
    """A row of the gazetteer: a large Chinese group and where that fact comes from."""

    name: str
    aliases: tuple[str, ...]
    country: str  # CN, HK or MO
    source: str


@dataclass(frozen=True)
class GazetteerMention:
    start: int
    end: int
    text: str  # as the text writes it
    party: ChineseParty


@cache
def chinese_parties(path: Path = GAZETTEER_PATH) -> tuple[ChineseParty, ...]:
    """Read the gazetteer; raise ValueError naming the line of a row that is not sound.

    A row without a name, a country outside CN/HK/MO or no source is refused, since a
    party read as Chinese on no stated ground would put leads on nothing.
    """
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [
            column for column in GAZETTEER_COLUMNS if column not in (reader.fieldnames or ())
        ]
        if missing:
            raise ValueError(f"{path}: no column {', '.join(missing)}")
        parties = []
        for line, row in enumerate(reader, start=2):
            name, country = (row["name"] or "").strip(), (row["country"] or "").strip()
            if not name or country not in ("CN", "HK", "MO") or not (row["source"] or "").strip():
                raise ValueError(f"{path}: line {line} needs a name, CN/HK/MO and a source")
            aliases = tuple(normalize.split_list(row["aliases"] or "", ";"))
            parties.append(ChineseParty(name, aliases, country, row["source"].strip()))
    return tuple(parties)


def _alias_pattern(alias: str) -> str:
    escaped = re.escape(alias)
    if normalize.has_cjk(alias):
        return escaped
    return rf"(?<![\w.]){escaped}(?![\w])"


@cache
def _gazetteer_res() -> tuple[re.Pattern, re.Pattern, dict[str, ChineseParty]]:
    """One pattern for names matched whatever their case (one word of five letters or
    more: "Chemchina"), one for those matched as written (acronyms, several words: "ZTE",
    "China Life" but not "China life"); longest first, so "Fosun Pharma" wins over
    "Fosun". Chinese aliases of two characters are left out: inside other words they are
    other words."""
    by_alias: dict[str, ChineseParty] = {}
    loose, strict = [], []
    for party in chinese_parties():
        for alias in (party.name, *party.aliases):
            if normalize.has_cjk(alias) and len(alias) < 3:
                continue
            by_alias.setdefault(alias.casefold(), party)
            one_word = " " not in alias and not alias.isupper() and len(alias) >= 5
            (loose if one_word and not normalize.has_cjk(alias) else strict).append(alias)

    def compiled(aliases: list[str], flags: int) -> re.Pattern:
        ordered = sorted(set(aliases), key=len, reverse=True)
        return re.compile("|".join(_alias_pattern(alias) for alias in ordered), flags)

    return compiled(loose, re.IGNORECASE), compiled(strict, 0), by_alias


def gazetteer_mentions(text: str) -> list[GazetteerMention]:
    """Return the gazetteer's parties the text names, in the order it names them."""
    loose, strict, by_alias = _gazetteer_res()
    found: list[GazetteerMention] = []
    for pattern in (strict, loose):
        for match in pattern.finditer(text or ""):
            if any(m.start < match.end() and match.start() < m.end for m in found):
                continue
            party = by_alias[match.group(0).casefold()]
            found.append(GazetteerMention(match.start(), match.end(), match.group(0), party))
    return sorted(found, key=lambda mention: mention.start)


# Places and name patterns that mark a party as Chinese when a source gives no structured
# country. Hong Kong and Macau are told apart from the mainland.
_HK = ("hong kong", "hongkong", "kowloon", "hksar")
_MO = ("macau", "macao", "macanese")
# Taiwan: ISO 3166 calls it "Taiwan, Province of China", and its state the Republic of
# China (ROC); none of it is the mainland.
NOT_CHINA_RE = re.compile(
    r"taiwan|taipei|kaohsiung|taichung|hsinchu|台湾|臺灣|台灣|中華民國|中华民国|台北|臺北|新竹"
    r"|(?<!people's )(?<!people’s )(?<!peoples )republic of china|(?<![\w-])roc(?![\w-])",
    re.IGNORECASE,
)
# fmt: off
CN_PLACES = [
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
    r"(?<![a-z])(?:" + "|".join(re.escape(place) for place in CN_PLACES) + r")(?![a-z])"
)
# A China marker inside one capitalised word: "ChemChina", "PetroChina", "ChinaAMC",
# "Sinochem", "Sinopec" (not "Sino-German", an adjective, nor "Indochina").
COMPOUND_CHINA_RE = re.compile(
    r"(?<![\w-])(?:[A-Z][a-z]+China|China[A-Z][A-Za-z]*|Sino[a-z]{2,})(?![\w-])"
)
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
# Japanese, whose kanji would otherwise read as Chinese: kana, Japanese legal forms and
# place names, and the shinjitai forms that neither simplified nor traditional Chinese use.
_JAPANESE_RE = re.compile(
    "[\u3040-\u30ff]|株式会社|有限会社|合同会社|会社|日本|東京|大阪|京都|横浜|名古屋|神戸|札幌"
    "|[広円駅済県関発経気売読薬鉄転伝験営児沢浜栄総歳様拡楽実権対帯団図価応変処険検続戦労働"
    "弾徳悪圧囲桜穏仮絵覚観帰拠挙駆恵掲渓継軽撃剣圏顕厳鉱]"
)


# fmt: off
# Words after "China" that begin a state enterprise's name ("China National ...").
STATE_NAME_WORDS = frozenset([
    "national", "state", "general", "three", "railway", "railways", "construction",
    "communications", "energy", "investment", "minmetals", "resources", "poly", "huadian",
    "datang", "huaneng", "nuclear", "aerospace", "electronics", "shipbuilding", "mobile",
    "telecom", "unicom", "life", "everbright", "development", "eastern", "southern",
    "merchants", "north", "south", "petroleum", "oilfield", "harbour", "overseas",
])
# fmt: on


def _name_country(name: str) -> str:
    """Read a party's own name: "China" in it counts only as "... of China", "(China)",
    "China National ..." and the other state-enterprise openings; otherwise the rest
    of the name decides ("Yum China" and "China Basin Capital Partners" may be American).
    """
    if COMPOUND_CHINA_RE.search(name):
        return "CN"
    if re.search(r"\bof (?:the )?(?:People's Republic of )?China\b|\(China\)|（中国）", name):
        return "CN"
    words = name.split()
    if (
        len(words) > 1
        and words[0].casefold() == "china"
        and words[1].casefold() in STATE_NAME_WORDS
    ):
        return "CN"
    # "US-China", "Sino-US", "China-EU": a bilateral adjective, no party.
    rest = " ".join(
        word
        for word in words
        if word.casefold().strip(",.") not in ("china", "chinese")
        and not re.search(r"(?i)-chin(?:a|ese)\b|\bchin(?:a|ese)-|\bsino-", word)
    )
    return chinese_country(rest) if rest else ""


def is_japanese(text: str) -> bool:
    return bool(_JAPANESE_RE.search(text or ""))


def chinese_country(text: str, *, as_name: bool = False) -> str:
    """Return CN, HK or MO when the name or text places a party in China, else "".

    With `as_name`, the text is one party's own name, and the word China in it is read
    as `_name_country` says.

    The gazetteer of large Chinese groups decides first (Beijing Enterprises is a Hong
    Kong company); then Taiwan and the Republic of China rule the mainland out; then
    Hong Kong, Macau, mainland places and China markers inside compound names, and
    Chinese characters that are not Japanese.
    """
    if not text:
        return ""
    mentions = gazetteer_mentions(text)
    if mentions:
        return mentions[0].party.country
    if NOT_CHINA_RE.search(text):
        return ""
    if as_name:
        return _name_country(text)
    lowered = text.casefold()
    if any(place in lowered for place in _HK):
        return "HK"
    if any(place in lowered for place in _MO):
        return "MO"
    if _CN_RE.search(lowered) or COMPOUND_CHINA_RE.search(text):
        return "CN"
    if _CJK_RE.search(text) and not is_japanese(text):
        return "CN"
    return ""
