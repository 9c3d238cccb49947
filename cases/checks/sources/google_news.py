"""Google News RSS search: a second news source for the question GDELT asks.

Endpoint (no key): GET https://news.google.com/rss/search?q=...&hl=en-US&gl=US&ceid=US:en
(base URL https://news.google.com/rss, overridable with WISHLIST_GOOGLE_NEWS_URL), parsed
with feedparser. The query is the entity's names as quoted phrases (up to three, any
script), China or Chinese, an OR-group of deal terms, `after:` and `before:`. Google News
answers with at most about 100 items, newest first, and no paging, so the period is
searched a calendar year at a time (the check service records each year read), and a year
whose answer is full is asked again in halves until each holds fewer: a much-covered
firm's 2016 news is not crowded out by its 2025 news. Later checks ask from a week before
the last day searched. At most one request a second across all workers.

An item is a hit by the same headline rules as GDELT (news.read_headline): the headline,
without the " - Publisher" suffix Google appends, names the entity, points to a party in
CN, HK or MO and carries a cooperation term. The event date is the item's pubDate (day);
items published before `since` are dropped, since Google's `after:` is not strict. The
external id is the item's guid (Google's stable article id), or a SHA-256 of it when it is
too long to store, or of the link when there is no guid. A body feedparser cannot read as
a feed (no entries and no RSS/Atom version: an HTML consent or error page) is a
PermanentHttpError. feedparser reads pubDate (RFC 822) into a UTC time tuple, whose first
three fields are the day.
"""

import hashlib
import io
from dataclasses import dataclass
from datetime import date, timedelta

import feedparser
import requests
from django.conf import settings
from django.utils import timezone

from cases.checks import matching
from cases.checks.http import HttpClient, PermanentHttpError
from cases.checks.sources import Hit, SearchResult, Source, SourceSkipped
from cases.checks.sources.common import halves, spans
from cases.checks.sources.news import DEAL_TERMS, NEWS_KINDS, headline_hit, or_group, query_names
from cases.models import Entity

EXTERNAL_ID_LENGTH = 300  # Finding.external_id
MAX_ITEMS = 100  # Google News answers at most about a hundred items, newest first
SPAN_MONTHS = 12
# Searches one span may take while halving full answers; past it the span is cut short
# and the next run resumes where it stopped.
MAX_REQUESTS_PER_SPAN = 16


def build_query(names: list[str], since: date, until: date | None = None) -> str:
    """Return the Google News query for these names over [since, until], or "" when none
    can be searched. `before:` excludes its own day, so it names the day after `until`."""
    phrases = query_names(names, latin_only=False)
    if not phrases:
        return ""
    quoted = or_group([f'"{phrase}"' for phrase in phrases])
    terms = or_group(list(DEAL_TERMS))
    query = f"{quoted} (China OR Chinese) {terms} after:{since.isoformat()}"
    if until is not None:
        query += f" before:{(until + timedelta(days=1)).isoformat()}"
    return query


@dataclass(frozen=True)
class Item:
    guid: str
    link: str
    headline: str  # the title without Google's " - Publisher" suffix
    publisher: str
    published: date | None


def _headline(title: str, publisher: str) -> str:
    title = " ".join(title.split())
    suffix = f" - {publisher}"
    if publisher and title.endswith(suffix):
        return title[: -len(suffix)].strip()
    if publisher and " - " in title:
        return title.rsplit(" - ", 1)[0].strip()
    return title


def parse_feed(body: bytes) -> list[Item]:
    """Return the items of a Google News RSS body (see parse_feed_entries)."""
    return parse_feed_entries(body)[0]


def parse_feed_entries(body: bytes) -> tuple[list[Item], int]:
    """Return the items of a Google News RSS body and how many entries it held (those
    without a link or title are left out); raise PermanentHttpError for a non-feed."""
    # A stream, never bytes: feedparser would try a bytes argument as a file name first.
    feed = feedparser.parse(io.BytesIO(body))
    if not feed.entries and not feed.get("version"):
        problem = feed.get("bozo_exception") or "no RSS or Atom document"
        start = " ".join(body[:120].decode("utf-8", "replace").split())
        raise PermanentHttpError(f"Google News sent no feed ({problem}): {start!r}")
    items = []
    for entry in feed.entries:
        link = str(entry.get("link") or "").strip()
        title = str(entry.get("title") or "").strip()
        if not link or not title:
            continue
        source = entry.get("source") or {}
        publisher = " ".join(str(source.get("title") or "").split())
        parsed = entry.get("published_parsed")
        items.append(
            Item(
                guid=str(entry.get("id") or "").strip(),
                link=link,
                headline=_headline(title, publisher),
                publisher=publisher,
                published=date(*parsed[:3]) if parsed else None,
            )
        )
    return items, len(feed.entries)


def external_id(item: Item) -> str:
    if item.guid and len(item.guid) + len("google_news:") <= EXTERNAL_ID_LENGTH:
        return f"google_news:{item.guid}"
    key = item.guid or item.link
    return "google_news:sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def item_hits(
    items: list[Item],
    names: list[str],
    *,
    since: date,
    evidence_sha256: str,
    min_score: float = 0,
) -> list[Hit]:
    """Return the items that are evidence of cooperation with a Chinese party."""
    hits: dict[str, Hit] = {}
    for item in items:
        hit = headline_hit(
            names,
            item.headline,
            published=item.published,
            since=since,
            url=item.link,
            external_id=external_id(item),
            details=(item.publisher, item.published.isoformat() if item.published else ""),
            evidence_sha256=evidence_sha256,
            min_score=min_score,
        )
        if hit:
            hits.setdefault(hit.external_id, hit)
    return list(hits.values())


class GoogleNewsSource(Source):
    name = "google_news"
    default_url = "https://news.google.com/rss"
    rate_per_second = 1.0  # a polite pace for an unauthenticated feed
    incremental = True
    recheck_overlap = timedelta(days=7)
    requests_per_check = 11  # a first check of a 2016 referral: one search per year
    detects = NEWS_KINDS
    searched_with = ()  # names only

    def skip_reason(self, entity: Entity) -> str:
        reason = super().skip_reason(entity)
        if reason:
            return reason
        if not query_names(matching.entity_names(entity), latin_only=False):
            return "no name of three or more characters to search Google News with"
        return ""

    def windows(self, first: date, last: date) -> list[tuple[date, date]]:
        return spans(first, last, months=SPAN_MONTHS)

    def search(
        self, entity: Entity, since: date, client: HttpClient, *, until: date | None = None
    ) -> SearchResult:
        names = matching.entity_names(entity)
        if not build_query(names, since):
            raise SourceSkipped(self.skip_reason(entity))
        until = until or timezone.now().date()
        url = f"{self.base_url}/search"
        asked = []
        hits: dict[str, Hit] = {}
        todo = [(since, until)]
        reached = since - timedelta(days=1)
        while todo:
            if len(asked) == MAX_REQUESTS_PER_SPAN:
                asked.append(f"(stopped after {len(asked)} requests; searched to {reached})")
                break
            first, last = todo.pop(0)
            query = build_query(names, first, last)
            params = {"q": query, "hl": "en-US", "gl": "US", "ceid": "US:en"}
            asked.append(requests.Request("GET", url, params=params).prepare().url)
            body = client.get(url, params=params).content
            # Fullness by the entries sent, not those kept: an unreadable one took a place.
            items, sent_back = parse_feed_entries(body)
            if sent_back >= MAX_ITEMS and first < last:
                # A full answer holds only the newest items: ask each half instead.
                todo[:0] = halves(first, last)
                continue
            found = item_hits(
                [item for item in items if item.published is None or item.published <= last],
                names,
                since=first,
                evidence_sha256=hashlib.sha256(body).hexdigest(),
                min_score=settings.WISHLIST_MATCH_THRESHOLD,
            )
            for hit in found:
                hits.setdefault(hit.external_id, hit)
            reached = last
        return SearchResult(hits=list(hits.values()), query="\n".join(asked), searched_to=reached)


SOURCE = GoogleNewsSource()
