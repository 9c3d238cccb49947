"""The public sources the follow-up checks search, one module each.

Every source has the same small interface (`Source`): given an entity with its
identifiers and a since-date it returns normalised `Hit`s. Fetching goes through
cases.checks.http; parsing a response body is a pure function in the source's module,
tested on recorded real responses. What several sources share is in `common` (dates, a
paged JSON reader, flags) and `news` (reading headlines). `get_sources()` is the
registry: the sources by name; tests put their own in its place with `override()`.
"""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings

from cases.checks.http import HttpClient
from cases.models import Entity


@dataclass(frozen=True)
class Hit:
    """One piece of evidence a source found, before it becomes a lead."""

    kind: str  # a Finding.Kind value
    counterparty_name: str
    counterparty_country: str  # ISO alpha-2, or "" when unknown
    event_date: date | None
    event_date_precision: str  # "day", "month", "year", or "" without a date
    url: str
    excerpt: str
    external_id: str  # the source's stable id for this evidence
    score: float  # 0-100: how well the evidence's subject matches the entity
    explanation: str  # which name matched and how, for the analyst
    evidence_sha256: str  # of the raw content the hit was judged on
    flags: tuple[str, ...] = ()  # e.g. "dod_1260h: <listed name>"


@dataclass
class SearchResult:
    hits: list[Hit] = field(default_factory=list)
    query: str = ""  # what was asked, recorded on the CheckRun
    # The period the source actually searched, when it differs from the one it was asked
    # for (an archive that starts later, a page limit that stopped short); None: all of it.
    searched_from: date | None = None
    searched_to: date | None = None


IDENTIFIERS = ("lei", "sec_cik", "uk_company_number", "ror_id", "openalex_id", "wikidata_id")


def searched_as(entity: Entity, identifiers: tuple[str, ...] = IDENTIFIERS) -> str:
    """A fingerprint of what a check searches an entity by: its names and country, and
    the identifiers the source uses.

    Coverage counts only runs made with the current fingerprint, so once an identifier
    a source searches by is confirmed (or a name corrected) it searches the whole period
    again with it instead of resuming from what a search by the old name covered.
    """
    parts = [entity.name, entity.name_native, entity.aliases, entity.country]
    parts += [getattr(entity, field) for field in identifiers]
    return hashlib.sha256("\x1f".join(part or "" for part in parts).encode()).hexdigest()[:32]


class SourceSkipped(Exception):
    """The source does not apply to this entity or is not configured; not an error."""


class Source:
    """Base class: subclasses set `name`, `default_url` and `rate_per_second`."""

    name = ""
    default_url = ""
    rate_per_second: float | None = None
    # Settings that must be non-empty for the source to run (API keys, contact).
    required_settings: tuple[str, ...] = ()
    # The Finding.Kind values this source can find: a silent run is evidence of absence
    # for these kinds only, over the period it searched.
    detects: tuple[str, ...] = ()
    # The first day the source holds anything (GDELT: 2017-01-01); None: no known limit.
    archive_start: date | None = None
    # True for a source that lists dated items (news, filings, works, trials): a re-check
    # asks only from a little before the last day already searched (`recheck_overlap`,
    # for items the source indexes late). False for one that reads an entity's current
    # record (a registry), whose dated relationships may be reported years late: every
    # check reads the whole period.
    incremental = False
    recheck_overlap = timedelta(days=14)
    # The entity's identifiers the source searches by (Entity field names); a new one
    # makes coverage start again (`searched_as`). News sources search by name only.
    searched_with: tuple[str, ...] = IDENTIFIERS
    # Requests a typical check of one entity sends: what the scheduler budgets per run.
    requests_per_check = 3
    # Up to this many one-span checks (re-checks) run together through search_batch,
    # for an API that answers several entities in one request.
    batch_size = 1

    @property
    def base_url(self) -> str:
        """The base URL; WISHLIST_<NAME>_URL (settings.WISHLIST_SOURCE_URLS) replaces it
        for a proxy, a mirror or a test server."""
        override = settings.WISHLIST_SOURCE_URLS.get(self.name, "")
        return override.rstrip("/") or self.default_url

    @property
    def rate_limit(self) -> float | None:
        """Requests a second across all workers; WISHLIST_<NAME>_RATE
        (settings.WISHLIST_SOURCE_RATES) replaces the source's own."""
        rate = settings.WISHLIST_SOURCE_RATES.get(self.name)
        return self.rate_per_second if rate is None else rate

    @property
    def interval(self) -> timedelta:
        days = settings.WISHLIST_CHECK_INTERVAL_DAYS.get(self.name, 30)
        return timedelta(days=days)

    def skip_reason(self, entity: Entity) -> str:
        """Return why this source cannot run for this entity, or "" when it can."""
        missing = [name for name in self.required_settings if not getattr(settings, name, "")]
        if missing:
            return f"not configured: set {', '.join(missing)}"
        return ""

    def client(self) -> HttpClient:
        return HttpClient(source=self.name, rate_per_second=self.rate_limit)

    def searched_as(self, entity: Entity) -> str:
        return searched_as(entity, self.searched_with)

    def capacity(self, seconds: float) -> int | None:
        """How many checks this source's rate limit allows in `seconds`; None: no limit."""
        if not self.rate_limit:
            return None
        return max(1, int(self.rate_limit * seconds / max(1, self.requests_per_check)))

    def windows(self, first: date, last: date) -> list[tuple[date, date]]:
        """Cut [first, last] into the spans one search() call covers, oldest first.

        The checks search the spans in turn and record each one read, so a run cut short
        (a 429, a crash) keeps what it read and the next run resumes after it. A source
        that reads an entity's current record (a registry) needs one span; one that lists
        dated items (news, filings, works, trials) cuts by its API's limits.
        """
        return [(first, last)]

    def search(
        self, entity: Entity, since: date, client: HttpClient, *, until: date | None = None
    ) -> SearchResult:
        """Return the evidence dated from `since` to `until` (today when None).

        A source that reads a record (a registry) may also return relationships that
        began before `since`: they are facts of the record, filed with timing "before".
        A source whose list was cut short sets `searched_to` to the last day it surely
        read, or leaves it None when its list has no date order (no day is surer than
        another; the query then says some may be missed).
        """
        raise NotImplementedError

    def search_batch(
        self, entities: list[Entity], since: date, client: HttpClient, *, until: date | None = None
    ) -> list["SearchResult | SourceSkipped"]:
        """Search several entities over one span: each one's result, or the SourceSkipped
        that says why it was not searched, in the order given. A source whose API can
        answer several in one request (batch_size > 1) overrides this."""
        results: list[SearchResult | SourceSkipped] = []
        for entity in entities:
            try:
                results.append(self.search(entity, since, client, until=until))
            except SourceSkipped as skipped:
                results.append(skipped)
        return results


def _registry() -> dict[str, Source]:
    from cases.checks.sources import (
        clinicaltrials,
        companies_house,
        epo_ops,
        gdelt,
        gleif,
        google_news,
        openalex,
        sec_edgar,
        uspto,
        wikidata,
    )

    # Registries first (cheap, and they say who owns whom), then filings, news, works,
    # trials and patents.
    modules = (
        gleif,
        wikidata,
        sec_edgar,
        companies_house,
        gdelt,
        google_news,
        openalex,
        clinicaltrials,
        uspto,
        epo_ops,
    )
    return {module.SOURCE.name: module.SOURCE for module in modules}


def get_sources() -> dict[str, Source]:
    """Return the sources by name, in the order checks run them."""
    global _SOURCES
    if _SOURCES is None:
        _SOURCES = _registry()
    return _SOURCES


@contextmanager
def override(*sources: Source) -> Iterator[dict[str, Source]]:
    """Make these the only sources for the duration of the block, then restore the registry.

    For tests: a fake source, or the one real source a test is about, in place of the
    six. tests/checks/conftest.py wraps it as the `use_sources` fixture.
    """
    global _SOURCES
    saved = _SOURCES
    _SOURCES = {source.name: source for source in sources}
    try:
        yield _SOURCES
    finally:
        _SOURCES = saved


_SOURCES: dict[str, Source] | None = None
