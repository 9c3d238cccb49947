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
a headline with no such term is not evidence of anything); the headline rules are
shared with google_news (news.read_headline).

GDELT gives no publication date, only when it first saw the article (seendate, always
"YYYYMMDDTHHMMSSZ": a seendate in any other shape gives no date); that day is the event
date (precision day), since news offers nothing better. Plain-text bodies come back even
with status 200: the throttle message raises RateLimitedError (the check is recorded as
rate limited), any other text (a keyword or syntax error) PermanentHttpError. An empty
object `{}` means no articles.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta

import requests
from django.conf import settings
from django.utils import timezone

from cases import normalize
from cases.checks import matching
from cases.checks.http import HttpClient, PermanentHttpError, RateLimitedError
from cases.checks.sources import Hit, SearchResult, Source, SourceSkipped
from cases.checks.sources.common import parse_day
from cases.checks.sources.news import headline_hit, or_group, query_names
from cases.models import Entity

ARCHIVE_START = date(2017, 1, 1)  # the DOC 2.0 API searches back to January 2017
MAX_WINDOWS = 12  # three-month windows asked per check: the most recent three years
MAX_RECORDS = 250  # the API's maximum for artlist
COOPERATION_TERMS = (
    "partnership",
    '"joint venture"',
    "investment",
    "acquisition",
    "agreement",
    "MOU",
)


# ------------------------------------------------------------------ the query


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
                seen=parse_day(item.get("seendate"), "%Y%m%d"),
                domain=str(item.get("domain") or ""),
                source_country=str(item.get("sourcecountry") or ""),
                language=str(item.get("language") or ""),
            )
        )
    return articles


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
        seen = f"first seen {article.seen.isoformat()}" if article.seen else ""
        hit = headline_hit(
            names,
            article.title,
            published=article.seen,
            since=since,
            url=article.url,
            external_id=external_id(article.url),
            details=(article.domain, article.source_country, article.language, seen),
            evidence_sha256=evidence_sha256,
            min_score=min_score,
        )
        if hit:
            hits.append(hit)
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

    def search(
        self, entity: Entity, since: date, client: HttpClient, *, until: date | None = None
    ) -> SearchResult:
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
