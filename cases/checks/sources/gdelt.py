"""GDELT DOC 2.0: worldwide online news naming the entity with China and cooperation terms.

Endpoint (no key): GET https://api.gdeltproject.org/api/v2/doc/doc (base URL overridable
with WISHLIST_GDELT_URL, default https://api.gdeltproject.org/api/v2) with mode=artlist,
format=json, maxrecords=250, query and startdatetime/enddatetime (YYYYMMDDHHMMSS, UTC).
The query is the entity's Latin-script names as quoted phrases, AND (China OR Chinese),
AND an OR-group of cooperation terms; GDELT wants every OR-group in parentheses, allows
no nesting and refuses very short keywords, so names under three characters are not
searched (the source is skipped for an entity that has no other name).

GDELT's archive starts in January 2017, so a first check searches from the referral (or
then) to today, in two-year windows fixed to the calendar (the check service records each
window read, so a 429 keeps the windows already read and the next run resumes); later
checks ask only from a week before the last day searched. GDELT answers at most 250
articles a request, oldest first with sort=dateasc: a full answer is asked again in two
halves until each holds fewer, so a busy firm's early coverage is never crowded out; at
most MAX_REQUESTS_PER_SPAN a span, after which the run is cut short and the next resumes.
GDELT asks for one request every five seconds (rate_per_second=0.2): a first check of a
2016 referral is five windows and their halvings (about six requests on the yield dev
set, bench/checks_cost.py); a weekly re-check is one, shared by up to `batch_size`
entities whose names are OR'd in one query.

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

from cases.checks import matching
from cases.checks.http import HttpClient, PermanentHttpError, RateLimitedError
from cases.checks.sources import Hit, SearchResult, Source, SourceSkipped
from cases.checks.sources.common import halves, parse_day, spans
from cases.checks.sources.news import DEAL_TERMS, NEWS_KINDS, headline_hit, or_group, query_names
from cases.models import Entity

ARCHIVE_START = date(2017, 1, 1)  # the DOC 2.0 API searches back to January 2017
SPAN_MONTHS = 24  # a first check asks two-year windows, halved while an answer is full
MAX_RECORDS = 250  # the API's maximum for artlist
# Requests one span may take while halving full answers; past it the span is cut short
# and the next run resumes (one request every five seconds: a span never holds a worker
# for more than a minute and a half).
MAX_REQUESTS_PER_SPAN = 16


# ------------------------------------------------------------------ the query


def build_query(names: list[str], *, per_name: bool = False) -> str:
    """Return the GDELT query for these entity names, or "" when none can be searched.

    `per_name`: the names are several entities' (already cut to a few each), all kept."""
    limit = len(names) if per_name else None
    phrases = query_names(names, latin_only=True, limit=limit)
    if not phrases:
        return ""
    quoted = or_group([f'"{phrase}"' for phrase in phrases])
    return f"{quoted} (China OR Chinese) {or_group(list(DEAL_TERMS))}"


def window_params(query: str, first: date, last: date) -> dict[str, str]:
    return {
        "query": query,
        "mode": "artlist",
        "format": "json",
        "maxrecords": str(MAX_RECORDS),
        "sort": "dateasc",
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
    """Return the articles of an artlist JSON body (see parse_artlist)."""
    return parse_artlist(body)[0]


def parse_artlist(body: bytes) -> tuple[list[Article], int]:
    """Return the articles of an artlist JSON body, and how many entries it held (those
    without a URL or title are left out, yet took one of the answer's places).

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
    return articles, len(found)


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
    archive_start = ARCHIVE_START
    incremental = True
    recheck_overlap = timedelta(days=7)
    requests_per_check = 6  # a first check: five two-year windows and a split
    # Re-checks (one span each) of this many entities share one query.
    batch_size = 5
    detects = NEWS_KINDS
    searched_with = ()  # names only

    def skip_reason(self, entity: Entity) -> str:
        reason = super().skip_reason(entity)
        if reason:
            return reason
        if not build_query(matching.entity_names(entity)):
            return "no Latin-script name of three or more characters to search GDELT with"
        return ""

    def windows(self, first: date, last: date) -> list[tuple[date, date]]:
        return spans(max(first, ARCHIVE_START), last, months=SPAN_MONTHS)

    def search(
        self, entity: Entity, since: date, client: HttpClient, *, until: date | None = None
    ) -> SearchResult:
        [result] = self.search_batch([entity], since, client, until=until)
        if isinstance(result, SourceSkipped):
            raise result
        return result

    def search_batch(
        self,
        entities: list[Entity],
        since: date,
        client: HttpClient,
        *,
        until: date | None = None,
    ) -> list[SearchResult | SourceSkipped]:
        """Search several entities with one query: their names OR'd together, each
        article then judged against each entity's own names, so it is attributed to the
        entity it names (or to several, when it names several). Results, or the
        SourceSkipped of an entity with no name to search, come in the order given."""
        names = [matching.entity_names(entity) for entity in entities]
        searchable = [n for n in names if build_query(n)]
        if not searchable:
            return [SourceSkipped(self.skip_reason(entity)) for entity in entities]
        phrases = [p for group in searchable for p in query_names(group, latin_only=True)]
        query = build_query(phrases, per_name=True)
        until = until or timezone.now().date()
        pages, asked, reached = self._read(query, since, until, client)
        others = f" (asked together with {len(searchable) - 1} other entities)"
        note = others if len(searchable) > 1 else ""
        results: list[SearchResult | SourceSkipped] = []
        for entity, own in zip(entities, names, strict=True):
            if not build_query(own):
                results.append(SourceSkipped(self.skip_reason(entity)))
                continue
            hits: dict[str, Hit] = {}
            for articles, sha, first, last in pages:
                found = article_hits(
                    articles,
                    own,
                    since=first,
                    evidence_sha256=sha,
                    min_score=settings.WISHLIST_MATCH_THRESHOLD,
                )
                for hit in found:
                    if hit.event_date is None or hit.event_date <= last:
                        hits.setdefault(hit.external_id, hit)
            results.append(
                SearchResult(hits=list(hits.values()), query=asked + note, searched_to=reached)
            )
        return results

    def _read(
        self, query: str, since: date, until: date, client: HttpClient
    ) -> tuple[list[tuple[list[Article], str, date, date]], str, date]:
        """Every answer for the query over [since, until], a full one asked again in
        halves, oldest first: (articles, body SHA-256, first day, last day) per answer,
        the URLs asked, and the last day read without a gap (before `until` when the
        request cap stopped the halving: the next run resumes there)."""
        url = f"{self.base_url}/doc/doc"
        asked = [f"GDELT artlist for {query}, {since} to {until}:"]
        pages = []
        start = max(since, ARCHIVE_START)
        todo = [(start, until)]
        reached = start - timedelta(days=1)
        sent = 0
        while todo:
            if sent == MAX_REQUESTS_PER_SPAN:
                asked.append(f"(stopped after {sent} requests; searched to {reached})")
                break
            first, last = todo.pop(0)
            params = window_params(query, first, last)
            asked.append(requests.Request("GET", url, params=params).prepare().url)
            body = client.get(url, params=params).content
            sent += 1
            # Fullness by the entries sent, not those kept: an untitled one still took a place.
            articles, sent_back = parse_artlist(body)
            if sent_back >= MAX_RECORDS:
                if first < last:
                    # A full answer may hide older articles: ask each half instead.
                    todo[:0] = halves(first, last)
                    continue
                asked.append(f"(a full answer for the single day {first}: more may exist)")
            pages.append((articles, hashlib.sha256(body).hexdigest(), first, last))
            reached = last
        return pages, "\n".join(asked), reached


SOURCE = GdeltSource()
