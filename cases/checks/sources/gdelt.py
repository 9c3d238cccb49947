"""GDELT DOC 2.0: worldwide online news naming the entity with China and cooperation terms.

Endpoint (no key): GET https://api.gdeltproject.org/api/v2/doc/doc (base URL overridable
with WISHLIST_GDELT_URL, default https://api.gdeltproject.org/api/v2) with mode=artlist,
format=json, maxrecords=250, query and startdatetime/enddatetime (YYYYMMDDHHMMSS, UTC).
The query is the entity's Latin-script names as quoted phrases, AND (China OR Chinese),
AND an OR-group of cooperation terms; GDELT wants every OR-group in parentheses, allows
no nesting and refuses very short keywords, so names under three characters are not
searched (the source is skipped for an entity that has no other name).

GDELT's archive starts in January 2017 and one request may span at most three months, so
[since, today] is cut into consecutive windows of at most three months, and only the most
recent MAX_WINDOWS of them (twelve: three years) are asked; older news is google_news's.
GDELT asks for one request every five seconds (rate_per_second=0.2), so a full search of
one entity takes about a minute.

An article is a hit when its headline names the entity (matching.match_in_text), points
to a party in mainland China, Hong Kong or Macau (matching.chinese_country on the
headline with the entity's own names taken out; the publisher's domain and country say
nothing about the counterparty) and carries a cooperation term (matching.kind_from_text:
a headline with no such term is not evidence of anything). Naming the counterparty from a
headline is a best effort (`read_headline`): the first run of capitalised words, or of
Chinese characters ending in a company or institution suffix, that the gazetteer places in
China and that is more than a bare "Chinese firm"; otherwise "unnamed Chinese party" (or
"unnamed party in Hong Kong/Macau"). An analyst reads the article before confirming.

GDELT gives no publication date, only when it first saw the article (seendate); that day
is the event date (precision day), since news offers nothing better. Plain-text bodies
come back even with status 200: the throttle message raises RateLimitedError (the check
is recorded as rate limited), any other text (a keyword or syntax error)
PermanentHttpError. An empty object `{}` means no articles.
"""

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import requests
from django.conf import settings
from django.utils import timezone

from cases import normalize
from cases.checks import matching
from cases.checks.http import HttpClient, PermanentHttpError, RateLimitedError
from cases.checks.sources import Hit, SearchResult, Source, SourceSkipped
from cases.models import Entity

ARCHIVE_START = date(2017, 1, 1)  # the DOC 2.0 API searches back to January 2017
MAX_WINDOWS = 12  # three-month windows asked per check: the most recent three years
MAX_RECORDS = 250  # the API's maximum for artlist
MAX_QUERY_NAMES = 3
COOPERATION_TERMS = (
    "partnership",
    '"joint venture"',
    "investment",
    "acquisition",
    "agreement",
    "MOU",
)
UNNAMED = {
    "CN": "unnamed Chinese party",
    "HK": "unnamed party in Hong Kong",
    "MO": "unnamed party in Macau",
}


# ------------------------------------------------------------------ the query


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


def build_query(names: list[str]) -> str:
    """Return the GDELT query for these entity names, or "" when none can be searched."""
    phrases = query_names(names, latin_only=True)
    if not phrases:
        return ""
    quoted = or_group([f'"{phrase}"' for phrase in phrases])
    return f"{quoted} (China OR Chinese) {or_group(list(COOPERATION_TERMS))}"


def _months_back(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    last = normalize.period_end(date(year, month + 1, 1), normalize.DatePrecision.MONTH)
    return date(year, month + 1, min(day.day, last.day))


def windows(since: date, today: date, limit: int = MAX_WINDOWS) -> list[tuple[date, date]]:
    """Return (first day, last day) windows of at most three months covering [since, today].

    Windows are cut back from today, oldest first in the result; at most `limit` of
    them (the most recent), and none before GDELT's archive starts.
    """
    start = max(since, ARCHIVE_START)
    spans = []
    last = today
    while last >= start and len(spans) < limit:
        first = max(start, _months_back(last, 3) + timedelta(days=1))
        spans.append((first, last))
        last = first - timedelta(days=1)
    return spans[::-1]


def window_params(query: str, first: date, last: date) -> dict[str, str]:
    return {
        "query": query,
        "mode": "artlist",
        "format": "json",
        "maxrecords": str(MAX_RECORDS),
        "startdatetime": first.strftime("%Y%m%d") + "000000",
        "enddatetime": last.strftime("%Y%m%d") + "235959",
    }


# ------------------------------------------------------------------ the response


@dataclass(frozen=True)
class Article:
    url: str
    title: str
    seen: date | None  # the day GDELT first saw it
    domain: str
    source_country: str  # the publisher's country, not the story's
    language: str


def _seen_day(value: object) -> date | None:
    try:
        return datetime.strptime(str(value)[:8], "%Y%m%d").date()
    except ValueError:
        return None


def parse_response(body: bytes) -> list[Article]:
    """Return the articles of an artlist JSON body.

    Raise RateLimitedError for GDELT's plain-text throttle message and
    PermanentHttpError for any other body that is not the artlist JSON object (a keyword
    or syntax error arrives as plain text with status 200).
    """
    text = body.decode("utf-8-sig", "replace").strip()
    if not text.startswith("{"):
        start = " ".join(text.split())[:300]
        if "limit requests" in text.casefold():
            raise RateLimitedError(f"GDELT asked us to slow down: {start!r}", status=200)
        raise PermanentHttpError(f"GDELT refused the query: {start!r}", status=200)
    try:
        data = json.loads(text)
    except ValueError:
        raise PermanentHttpError(f"GDELT sent malformed JSON: {text[:120]!r}") from None
    if not isinstance(data, dict):
        raise PermanentHttpError("GDELT sent JSON that is not an object")
    found = data.get("articles")
    if found is None:  # `{}` is GDELT's "nothing matched"
        found = []
    if not isinstance(found, list) or not all(isinstance(item, dict) for item in found):
        raise PermanentHttpError("GDELT's `articles` is not a list of objects")
    articles = []
    for item in found:
        url, title = str(item.get("url") or "").strip(), str(item.get("title") or "").strip()
        if not url or not title:
            continue
        articles.append(
            Article(
                url=url,
                title=" ".join(title.split()),
                seen=_seen_day(item.get("seendate")),
                domain=str(item.get("domain") or ""),
                source_country=str(item.get("sourcecountry") or ""),
                language=str(item.get("language") or ""),
            )
        )
    return articles


# ------------------------------------------------------------------ judging a headline


@dataclass(frozen=True)
class HeadlineReading:
    match: matching.NameMatch
    kind: str  # a Finding.Kind value, or "" when no cooperation term is there
    counterparty_name: str
    counterparty_country: str  # CN, HK, MO or ""

    @property
    def is_evidence(self) -> bool:
        return bool(self.kind) and self.counterparty_country in matching.CHINA


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


def headline_flags(counterparty_name: str) -> tuple[str, ...]:
    flag = matching.dod_1260h_flag(counterparty_name)
    return (flag,) if flag else ()


# ------------------------------------------------------------------ hits


def external_id(url: str) -> str:
    return "gdelt:" + hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]


def article_hits(
    articles: list[Article],
    names: list[str],
    *,
    since: date,
    evidence_sha256: str,
    min_score: float = 0,
) -> list[Hit]:
    """Return the articles that are evidence of cooperation with a Chinese party."""
    hits = []
    for article in articles:
        if article.seen is not None and article.seen < since:
            continue
        reading = read_headline(names, article.title)
        if not reading.is_evidence or reading.match.score < min_score:
            continue
        where = ", ".join(
            part
            for part in (
                article.domain,
                article.source_country,
                article.language,
                f"first seen {article.seen.isoformat()}" if article.seen else "",
            )
            if part
        )
        hits.append(
            Hit(
                kind=reading.kind,
                counterparty_name=reading.counterparty_name,
                counterparty_country=reading.counterparty_country,
                event_date=article.seen,
                event_date_precision=normalize.DatePrecision.DAY if article.seen else "",
                url=article.url,
                excerpt=f"{article.title} ({where})" if where else article.title,
                external_id=external_id(article.url),
                score=reading.match.score,
                explanation=reading.match.explanation,
                evidence_sha256=evidence_sha256,
                flags=headline_flags(reading.counterparty_name),
            )
        )
    return hits


class GdeltSource(Source):
    name = "gdelt"
    default_url = "https://api.gdeltproject.org/api/v2"
    rate_per_second = 0.2  # GDELT: "Please limit requests to one every 5 seconds"

    def skip_reason(self, entity: Entity) -> str:
        reason = super().skip_reason(entity)
        if reason:
            return reason
        if not build_query(matching.entity_names(entity)):
            return "no Latin-script name of three or more characters to search GDELT with"
        return ""

    def search(self, entity: Entity, since: date, client: HttpClient) -> SearchResult:
        names = matching.entity_names(entity)
        query = build_query(names)
        if not query:
            raise SourceSkipped(self.skip_reason(entity))
        spans = windows(since, timezone.now().date())
        asked = [
            f"GDELT artlist for {query}, in {len(spans)} windows of at most three months "
            f"(the most recent {MAX_WINDOWS} at most, none before {ARCHIVE_START}):"
        ]
        url = f"{self.base_url}/doc/doc"
        hits: dict[str, Hit] = {}
        for first, last in spans:
            params = window_params(query, first, last)
            asked.append(requests.Request("GET", url, params=params).prepare().url)
            response = client.get(url, params=params)
            body = response.content
            found = article_hits(
                parse_response(body),
                names,
                since=since,
                evidence_sha256=hashlib.sha256(body).hexdigest(),
                min_score=settings.WISHLIST_MATCH_THRESHOLD,
            )
            for hit in found:
                hits.setdefault(hit.external_id, hit)
        return SearchResult(hits=list(hits.values()), query="\n".join(asked))


SOURCE = GdeltSource()
