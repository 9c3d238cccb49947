"""Pure helpers that turn messy referral data into canonical values.

Name keys, countries, partial dates and identifier formats. No database access here, so
the referral import, the admin forms and the sources can share them and tests run without one.
"""

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache

import icu
import pycountry
from rapidfuzz import fuzz
from rigour.names import extract_org_types, remove_org_types
from rigour.text.translit import ascii_text

# Legal forms ------------------------------------------------------------------------------
# Legal forms come from rigour's organisation-type database (OpenSanctions; built from
# ISO 20275, OCCRP's list and Wikipedia), which knows the spelled-out and abbreviated
# forms in many languages and scripts ("Aktiengesellschaft" and "AG", "ООО" and
# "Общество с ограниченной ответственностью", "Sp. z o.o."). The words below are the
# forms it does not treat as legal forms but referral files end names with.
LEGAL_FORMS = frozenset(
    [
        "ltd", "limited", "llc", "lp", "llp", "plc", "inc", "incorporated", "corp",
        "corporation", "co", "company", "gmbh", "mbh", "ag", "kg", "kgaa", "se", "sa", "sas",
        "sarl", "srl", "spa", "bv", "nv", "oy", "oyj", "ab", "asa", "as", "aps", "pte", "pty",
        "kk", "kabushiki", "kaisha", "gaisha", "sdn", "bhd", "pvt", "sl", "slu", "jsc", "pjsc",
        "ojsc", "cjsc", "ooo", "oao", "zao", "pao", "ao", "tov",
    ]
)  # fmt: skip
# Forms written before the name: Russian and Ukrainian ones ("ООО Ромашка", "PJSC
# Gazprom"). Other forms are dropped only at the end of a name, so "Limited Edition Labs"
# keeps its first word.
_LEADING_FORMS = frozenset(
    ["ooo", "ao", "oao", "zao", "pao", "jsc", "pjsc", "ojsc", "cjsc", "tov", "llc", "株式会社",
     "주식회사", "有限会社"]
)  # fmt: skip
# Legal forms of names in Chinese, Japanese and Korean, written without spaces, so no
# word boundary finds them: longest first, so 股份有限公司 goes before 有限公司.
_CJK_FORMS = (
    "股份有限公司", "有限责任公司", "有限責任公司", "有限公司", "株式会社", "有限会社",
    "合同会社", "주식회사", "유한회사", "公司",
)  # fmt: skip
# Bracketed abbreviations (after NFKC, which turns ㈜ into "(주)" and ㈱ into "(株)").
_CJK_BRACKETED = (("(주)", "주식회사"), ("(株)", "株式会社"), ("(有)", "有限会社"))
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_MARK = "\ue000"  # a private-use character standing for a legal form while a key is built
_SLASHED_AS_RE = re.compile(r"(?<!\w)a/s(?!\w)")
_PUNCT_RE = re.compile(r"[^\w\s\ue000]", re.UNICODE)
_SPACE_RE = re.compile(r"\s+")
_INITIALS_RE = re.compile(r"\b\w(?:\.\w)+\b\.?")
NAME_KEY_LENGTH = 300
# The combining marks that are accents: the diacritics of Latin, Greek and Cyrillic
# letters (é, ö, й), and the vowel points of Arabic and Hebrew. Kana voicing marks
# decompose into combining marks too, but without them a Japanese name is another name
# (ガ is not カ), and an Indic vowel sign is a letter, so neither is removed.
_ACCENT_RE = re.compile(
    "[\u0300-\u036f\u0591-\u05c7\u064b-\u065f\u0670\u1ab0-\u1aff\u1dc0-\u1dff"
    "\u20d0-\u20ff\ufe20-\ufe2f]"
)


def _casefold(text: str) -> str:
    text, _ = strip_invisible(text)
    if text.isascii():
        return text.casefold()
    return unicodedata.normalize("NFKC", text).casefold()


def _strip_accents(text: str) -> str:
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", _ACCENT_RE.sub("", unicodedata.normalize("NFKD", text)))


def fold(text: str) -> str:
    """Fold case, accents, compatibility forms (full-width letters, ligatures) and
    invisible characters, keeping every script's letters: "Fénent" is "fenent", "ＡＢＣ"
    is "abc", "华为" stays "华为"."""
    return _strip_accents(_casefold(text))


def is_legal_form(word: str) -> bool:
    """Whether a word (or a few) is a legal form by itself: "Ltd.", "AG", "ООО", "S.p.A."."""
    text = fold(word).strip()
    if not text:
        return False
    if text.strip(".") in LEGAL_FORMS or text.replace(".", "") in LEGAL_FORMS:
        return True
    return not remove_org_types(text).strip(" .,")


def has_cjk(text: str) -> bool:
    """Whether the text has Chinese, Japanese or Korean characters."""
    return bool(_CJK_RE.search(text))


def is_cjk(ch: str) -> bool:
    return bool(_CJK_RE.match(ch))


def _cut_cjk_forms(token: str) -> str:
    """Drop a CJK legal form that ends or starts a token, keeping at least one character."""
    changed = True
    while changed:
        changed = False
        for form in _CJK_FORMS:
            if token.endswith(form) and len(token) > len(form):
                token, changed = token[: -len(form)], True
            elif token.startswith(form) and len(token) > len(form):
                token, changed = token[len(form) :], True
    return token


@lru_cache(maxsize=65536)  # an import keys each row's name more than once
def name_key(name: str) -> str:
    """Return the matching key of an organisation or person name.

    Case, accents, punctuation and legal forms at the end of a name (or, for the forms
    written first, at its start) are folded; legal forms inside a name are kept in one
    spelling, so "Aktiengesellschaft" and "AG" agree wherever they stand. Letters keep
    their script. The key is never empty for a non-empty name (a name made only of legal
    forms keeps them).
    """
    text = _casefold(name)
    if "/" in text:  # Danish and Norwegian "A/S" is "AS"
        text = _SLASHED_AS_RE.sub("as", text)
    for written, form in _CJK_BRACKETED:
        text = text.replace(written, f" {form} ")
    if "." in text:
        # Dotted initials are one word: "S.A." is "sa", "N.V." is "nv", "U.S.A." is "usa".
        text = _INITIALS_RE.sub(lambda m: m.group(0).replace(".", ""), text)
    # rigour finds the legal forms on the case-folded text, with its accents, dots and
    # ampersands ("società per azioni", "gmbh & co. kg"); each is marked, then written in
    # its short form.
    forms = extract_org_types(text)
    if forms:
        marked = remove_org_types(text, replacement=f" {_MARK} ")
        if marked.count(_MARK) == len(forms):
            text = marked
        else:  # the two passes disagree: keep the name as written
            forms = []
    text = _strip_accents(text).replace("&", " and ")
    pending = iter(forms)
    # Parts of the name: (its words, the short form when it is a legal form, else "").
    parts: list[tuple[list[str], str]] = []
    for word in _PUNCT_RE.sub(" ", text).split():
        if word == _MARK:
            written, short = next(pending)
            parts.append((_PUNCT_RE.sub(" ", _strip_accents(written)).split(), short))
        elif word in LEGAL_FORMS or word in _CJK_FORMS:
            parts.append(([word], word))
        else:
            parts.append(([word], ""))
    parts = [(words, short) for words, short in parts if words]
    while len(parts) > 1 and parts[-1][1]:
        parts.pop()
    while len(parts) > 1 and parts[0][1] in _LEADING_FORMS:
        parts.pop(0)
    if len(parts) > 1 and parts[0][0] == ["the"]:
        parts.pop(0)
    words = [word for words, _ in parts for word in words]
    if words and _CJK_RE.search(words[-1]):
        words[-1] = _cut_cjk_forms(words[-1])
    if words and _CJK_RE.search(words[0]):
        words[0] = _cut_cjk_forms(words[0])
    # Folding can lengthen a name (some ligatures expand to many letters); the key is cut
    # to the column's width, which still tells names apart in practice.
    return " ".join(words)[:NAME_KEY_LENGTH].rstrip()


# English names that pycountry does not know as such. Taiwan is listed as
# "Taiwan, Province of China" in ISO 3166; the referral data says "Taiwan".
_COUNTRY_ALIASES = {
    "russia": "RU",
    "south korea": "KR",
    "korea": "KR",
    "republic of korea": "KR",
    "north korea": "KP",
    "taiwan": "TW",
    "iran": "IR",
    "syria": "SY",
    "vietnam": "VN",
    "laos": "LA",
    "moldova": "MD",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "czech republic": "CZ",
    "czechia": "CZ",
    "uk": "GB",
    "united kingdom": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "usa": "US",
    "us": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "america": "US",
    "united states of america": "US",
    "holland": "NL",
    "the netherlands": "NL",
    "turkey": "TR",
    "turkiye": "TR",
    "ivory coast": "CI",
    "cape verde": "CV",
    "macedonia": "MK",
    "north macedonia": "MK",
    "brunei": "BN",
    "hong kong": "HK",
    "macau": "MO",
    "macao": "MO",
    "uae": "AE",
    "palestine": "PS",
    "vatican": "VA",
    "swaziland": "SZ",
    "burma": "MM",
}


@cache
def _country_names() -> dict[str, str]:
    table: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                table[value.casefold()] = country.alpha_2
    table.update(_COUNTRY_ALIASES)
    return table


@cache
def _alpha2_codes() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


def is_country_code(code: str) -> bool:
    return code in _alpha2_codes()


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name


@cache
def parse_country(value: str) -> str | None:
    """Return the ISO 3166-1 alpha-2 code for a code or English name, or None."""
    text = value.strip()
    if not text:
        return None
    if len(text) == 2 and text.upper() in _alpha2_codes():
        return text.upper()
    if len(text) == 3 and text.isalpha():
        found = pycountry.countries.get(alpha_3=text.upper())
        if found:
            return found.alpha_2
    folded = _SPACE_RE.sub(" ", text.casefold().strip(" ."))
    return _country_names().get(folded) or _country_names().get(folded.removeprefix("the "))


@cache
def is_currency_code(code: str) -> bool:
    return pycountry.currencies.get(alpha_3=code) is not None


class DatePrecision:
    """Precision codes, shared with the models' choices."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A date known to the day, the month or the year; `value` is the period's first day."""

    value: date
    precision: str

    @property
    def end(self) -> date:
        return period_end(self.value, self.precision)

    def __str__(self) -> str:
        return format_partial_date(self.value, self.precision)


_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def parse_partial_date(value: str, *, today: date | None = None) -> PartialDate:
    """Parse YYYY, YYYY-MM or YYYY-MM-DD; raise ValueError with a readable reason."""
    text = value.strip()
    match = _DATE_RE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a date in the form YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = (int(g) if g else None for g in match.groups())
    if year < 1900:
        raise ValueError(f"year {year} is before 1900")
    try:
        if day is not None:
            parsed = PartialDate(date(year, month, day), DatePrecision.DAY)
        elif month is not None:
            parsed = PartialDate(date(year, month, 1), DatePrecision.MONTH)
        else:
            parsed = PartialDate(date(year, 1, 1), DatePrecision.YEAR)
    except ValueError:
        raise ValueError(f"{text!r} is not a real calendar date") from None
    if parsed.value > (today or date.today()):
        raise ValueError(f"{text!r} is in the future")
    return parsed


def period_end(start: date, precision: str) -> date:
    """Return the last day of the period that starts at `start` with this precision."""
    if precision == DatePrecision.YEAR:
        return date(start.year, 12, 31)
    if precision == DatePrecision.MONTH:
        return date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])
    return start


def format_partial_date(start: date | None, precision: str | None) -> str:
    if start is None:
        return ""
    if precision == DatePrecision.YEAR:
        return f"{start.year:04d}"
    if precision == DatePrecision.MONTH:
        return f"{start.year:04d}-{start.month:02d}"
    return start.isoformat()


class Timing:
    """Where a finding falls relative to its case's index date."""

    BEFORE = "before"
    AFTER = "after"
    UNKNOWN = "unknown"


def compare_periods(
    event: date | None, event_precision: str | None, index: date | None, index_precision: str | None
) -> str:
    """Return before/after/unknown for an event period against the period of one date."""
    if index is None or not index_precision:
        return Timing.UNKNOWN
    return compare_to_period(event, event_precision, index, period_end(index, index_precision))


def compare_to_period(
    event: date | None, event_precision: str | None, start: date | None, end: date | None
) -> str:
    """Return before/after/unknown for an event period against the period start..end.

    Only a period that ends before `start` is "before", and only one that starts after
    `end` is "after": a finding dated "2017" for a case referred in "2017-05" cannot be
    placed, so it is "unknown".
    """
    if event is None or start is None or end is None or not event_precision:
        return Timing.UNKNOWN
    if period_end(event, event_precision) < start:
        return Timing.BEFORE
    if event > end:
        return Timing.AFTER
    return Timing.UNKNOWN


# Identifier formats. Each validator returns an error message, or "" when valid.
_LEI_RE = re.compile(r"^[A-Z0-9]{18}[0-9]{2}$")
_CIK_RE = re.compile(r"^[0-9]{1,10}$")
_UK_COMPANY_RE = re.compile(r"^(?:[0-9]{8}|[A-Z]{2}[0-9]{6})$")
_ROR_RE = re.compile(r"^0[a-hj-km-np-tv-z0-9]{6}[0-9]{2}$")
_OPENALEX_RE = re.compile(r"^[IAF][0-9]{4,12}$")
_WIKIDATA_RE = re.compile(r"^Q[1-9][0-9]*$")


def lei_error(value: str) -> str:
    """ISO 17442: 20 characters whose ISO 7064 mod 97-10 check gives 1."""
    if not _LEI_RE.match(value):
        return "An LEI is 18 letters or digits followed by 2 check digits."
    digits = "".join(str(int(ch, 36)) for ch in value)
    if int(digits) % 97 != 1:
        return "The LEI's check digits do not match (ISO 7064 mod 97-10)."
    return ""


def cik_error(value: str) -> str:
    return "" if _CIK_RE.match(value) else "A SEC CIK is 1 to 10 digits."


def uk_company_number_error(value: str) -> str:
    if _UK_COMPANY_RE.match(value):
        return ""
    return "A UK company number is 8 digits or 2 letters and 6 digits (e.g. 00445790, SC123456)."


def ror_error(value: str) -> str:
    if _ROR_RE.match(value):
        return ""
    return "A ROR id is 9 characters: 0, six letters or digits, two check digits (e.g. 052gg0110)."


def openalex_error(value: str) -> str:
    if _OPENALEX_RE.match(value):
        return ""
    return "An OpenAlex id is I, A or F followed by digits (e.g. I27837315)."


def wikidata_error(value: str) -> str:
    if _WIKIDATA_RE.match(value):
        return ""
    return "A Wikidata id is Q followed by digits (e.g. Q2283)."


def split_list(value: str, separators: str = ";\n") -> list[str]:
    """Split on any of the separators, trim, drop empties, keep order and drop repeats."""
    parts = re.split("[" + re.escape(separators) + "]", value)
    seen: dict[str, None] = {}
    for part in parts:
        part = part.strip()
        if part and part not in seen:
            seen[part] = None
    return list(seen)


def post_kind(name: str) -> str:
    """Guess a post's kind from its name ("Consulate-General in Houston")."""
    folded = name.casefold().replace("-", " ")
    if "consulate general" in folded or "consul general" in folded:
        return "consulate_general"
    if "consulate" in folded:
        return "consulate"
    if "embassy" in folded:
        return "embassy"
    return "other"


def post_city(name: str) -> str:
    """Return the city in "... in <City>", unless <City> is a country name."""
    _, sep, place = name.rpartition(" in ")
    place = place.strip()
    if not sep or not place or parse_country(place):
        return ""
    return place


# Characters that change how text is shown or compared without being seen: bidi
# embeddings, overrides and isolates, the directional marks, zero-width spaces and
# joiners, the word joiner, a byte order mark inside text, and the tag characters that
# can hide a second text inside the first. Pasted into a name they make two identical-
# looking names differ, or show a name backwards; no referral needs them. Stripping the
# zero-width joiners alters only how some Persian and Indic words are shaped, not their
# letters.
_INVISIBLE_RE = re.compile(
    "[\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff\U000e0000-\U000e007f]"
)


def strip_invisible(text: str) -> tuple[str, int]:
    """Return the text without invisible formatting characters, and how many were removed."""
    if text.isascii():  # the common case, and a constant-time test
        return text, 0
    cleaned, removed = _INVISIBLE_RE.subn("", text)
    return cleaned, removed


# Look-alike characters --------------------------------------------------------------------
@cache
def _spoof_checker() -> icu.SpoofChecker:
    return icu.SpoofChecker()


@cache
def _ascii_skeletons() -> dict[int, str]:
    """The skeletons of the ASCII characters that have one ("m" is "rn", "0" is "O"),
    so that ASCII keys, nearly all of them, skip a call into ICU."""
    checker = _spoof_checker()
    table = {}
    for code in range(128):
        skeleton = checker.getSkeleton(0, chr(code)).casefold()
        if skeleton != chr(code):
            table[code] = skeleton
    return table


def confusable_key(key: str) -> str:
    """Return the Unicode TR39 skeleton of a name key, case folded: names that look alike
    (a Cyrillic "а" for a Latin "a", "0" for "o") have the same one.

    Skeletons are for comparing only, never for showing: "m" becomes "rn".
    """
    if key.isascii():
        return key.translate(_ascii_skeletons())
    return _spoof_checker().getSkeleton(0, key).casefold()


# Comparing names ---------------------------------------------------------------------------
# Words that join a name's parts, left out when comparing the words of two names
# ("University of Cambridge" has the words of "Cambridge University").
_JOINING_WORDS = frozenset(
    ["of", "the", "and", "for", "de", "des", "du", "la", "le", "les", "di", "del", "della",
     "der", "die", "das", "fur", "und", "et", "y", "e", "da", "do", "dos"]
)  # fmt: skip
# Words that name an institution's kind. A name that has one is not a short form of a
# longer one with more words: "X University of Technology" is not "University of X".
_INSTITUTION_WORDS = frozenset(
    ["university", "universitat", "universite", "universidad", "universita", "universiteit",
     "universitet", "college", "institute", "institut", "instituto", "istituto", "academy",
     "akademie", "academie", "academia", "school", "hospital", "polytechnic", "politecnico",
     "laboratory", "laboratories"]
)  # fmt: skip
# Words a company's full name adds to its short one ("X Nanopore Technologies" is "X
# Nanopore"), so that a name with only these words more is a short form of it.
_DESCRIPTOR_WORDS = frozenset(
    ["technologies", "technology", "tech", "group", "holdings", "holding", "international",
     "industries", "industrial", "industry", "systems", "solutions", "enterprises",
     "enterprise", "global", "company", "corporation", "corp", "co", "limited", "ltd",
     "incorporated", "inc"]
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class KeyComparison:
    score: float  # 0-100
    how: str  # why the score is what it is, for explanations


# Abbreviations that are not the start of their word.
_ABBREVIATIONS = {
    "intl": "international", "labs": "laboratories", "lab": "laboratory",
    "mfg": "manufacturing", "natl": "national", "assn": "association", "dept": "department",
    "tech": "technology", "technologies": "technology", "univ": "university",
}  # fmt: skip


def _content_words(key: str) -> list[str]:
    return [_ABBREVIATIONS.get(word, word) for word in key.split() if word not in _JOINING_WORDS]


def _is_acronym(short: str, words: list[str]) -> bool:
    return len(short) >= 2 and len(words) >= 2 and short == "".join(w[0] for w in words)


def _abbreviates(word: str, other: str) -> bool:
    """Whether one word is a short abbreviation of the other: its start ("tech" of
    "technologies", "univ" of "university"), much shorter, so that a longer word that
    begins with another ("gazprombank", "kvantum") is not one."""
    short, long = sorted((word, other), key=len)
    return 3 <= len(short) <= 5 and len(long) >= len(short) + 3 and long.startswith(short)


def _near_word(word: str, others: set[str]) -> bool:
    """Whether a word is a spelling variant or an abbreviation of one of the others."""
    return any(_abbreviates(word, other) or fuzz.ratio(word, other) >= 75 for other in others)


def _compare_same_script(a: str, b: str) -> KeyComparison:
    if a == b:
        return KeyComparison(100.0, "same name key")
    words_a, words_b = _content_words(a), _content_words(b)
    set_a, set_b = set(words_a), set(words_b)
    if not set_a or not set_b:
        return KeyComparison(round(fuzz.ratio(a, b), 1), "compared letter by letter")
    if set_a == set_b:
        if words_a == words_b:
            return KeyComparison(97.0, "the same words, some abbreviated")
        return KeyComparison(97.0, "the same words in another order")
    if a.replace(" ", "") == b.replace(" ", ""):
        return KeyComparison(95.0, "the same letters, spaced differently")
    institution = bool((set_a | set_b) & _INSTITUTION_WORDS)
    if (set_a < set_b or set_b < set_a) and not institution:
        extra = (set_a | set_b) - (set_a & set_b)
        if extra <= _DESCRIPTOR_WORDS:
            shown = " ".join(sorted(extra))
            return KeyComparison(92.0, f"a short form: one leaves out {shown!r}")
    only_a, only_b = set_a - set_b, set_b - set_a
    if (
        only_a
        and only_b
        and all(
            any(_abbreviates(w, o) for o in others)
            for words, others in ((only_a, only_b), (only_b, only_a))
            for w in words
        )
    ):
        return KeyComparison(90.0, "the same words, some abbreviated")
    for short, long_words in ((a, words_b), (b, words_a)):
        if " " not in short and _is_acronym(short, long_words):
            return KeyComparison(88.0, "an acronym of the other")
    score = fuzz.token_sort_ratio(" ".join(words_a), " ".join(words_b))
    if score > 80 and _CJK_RE.search(a) and _CJK_RE.search(b):
        # A Chinese character is a word: one other character is another name
        # (中国航天科技集团 and 中国航天科工集团 are two groups), not a misspelling.
        return KeyComparison(80.0, f"other characters ({score:.0f}/100 before)")
    # Names that differ by a whole word, not a spelling of it, are other names, however
    # many words they share: "China Aerospace Science and Industry" is not "... and
    # Technology". Words a full company name adds are not such a difference.
    differing = {w for w in only_a if not _near_word(w, only_b)} | {
        w for w in only_b if not _near_word(w, only_a)
    }
    if institution:
        differing |= (only_a | only_b) & _DESCRIPTOR_WORDS
    else:
        differing -= _DESCRIPTOR_WORDS
    if differing and score > 80:
        shown = " ".join(sorted(differing))
        return KeyComparison(80.0, f"other words: {shown!r} ({score:.0f}/100 before)")
    return KeyComparison(round(score, 1), f"{score:.0f}/100 on the words in order")


def compare_keys(a: str, b: str) -> KeyComparison:
    """Compare two name keys: word order and a company's short form count as the same
    name, a spelling variant nearly so, a different word not; names in two scripts are
    compared transliterated ("Газпром" and "Gazprom", "华为" and "Huawei")."""
    best = _compare_same_script(a, b)
    if best.score >= 100 or (a.isascii() and b.isascii()):
        return best
    latin_a, latin_b = ascii_text(a).casefold(), ascii_text(b).casefold()
    if (latin_a, latin_b) == (a, b):
        return best
    if _CJK_RE.search(a + b):
        # Pinyin and romanised Japanese or Korean split syllables ("hua wei"); names in
        # Latin letters join them ("Huawei"). One letter of pinyin more or less is
        # another character (中兴 "zhongxing", 中信 "zhongxin"), so only equal ones count.
        latin_a, latin_b = latin_a.replace(" ", ""), latin_b.replace(" ", "")
        if latin_a != latin_b:
            return best
    translit = _compare_same_script(latin_a, latin_b)
    score = min(translit.score, 95.0)
    if score > best.score:
        return KeyComparison(score, f"transliterated {latin_a!r} and {latin_b!r}: {translit.how}")
    return best


# Searching ---------------------------------------------------------------------------------
# Accented letters of the Latin script by the letter they fold to, both cases, so a search
# can find "Fénent" from "Fenent" and the other way round with one regular expression that
# PostgreSQL and SQLite both run (neither needs an unaccent extension).
_SEARCH_RANGES = (range(0x41, 0x5B), range(0x61, 0x7B), range(0xC0, 0x250), range(0x1E00, 0x1F00))


@cache
def _letter_variants() -> dict[str, str]:
    table: dict[str, set[str]] = {}
    for block in _SEARCH_RANGES:
        for code in block:
            ch = chr(code)
            base = fold(ch)
            if len(base) == 1 and base.isascii() and base.isalpha():
                forms = {ch, ch.casefold(), ch.upper()}
                table.setdefault(base, set()).update(f for f in forms if len(f) == 1)
    return {base: "[" + "".join(sorted(chars)) + "]" for base, chars in table.items()}


# Between two words of a search: punctuation or spaces, but not a line break, as aliases
# are one a line and a search finds its words within one name.
WORD_GAP = r"[^\w\n]+"


def search_pattern(query: str) -> str:
    """Return a regular expression that finds the query's words in order in a name, case
    and accents ignored, any punctuation or spaces between them; "" for a query with no
    letters or digits. Its syntax is common to PostgreSQL and Python (SQLite)."""
    variants = _letter_variants()
    return WORD_GAP.join(
        "".join(variants.get(ch) or re.escape(ch) for ch in word) for word in _search_words(query)
    )


def folded_search_pattern(query: str) -> str:
    """search_pattern for names folded already (accents and case; PostgreSQL's unaccent
    and lower), one a line: the query's folded words in order, any punctuation or spaces
    but no line break between them, with no classes of accented letters, so a trigram
    index can find its matches."""
    return WORD_GAP.join(re.escape(word) for word in _search_words(query))


def _search_words(query: str) -> list[str]:
    return re.findall(r"\w+", fold(query))
