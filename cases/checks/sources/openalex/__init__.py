"""OpenAlex: works a referred university or research institute co-published with
institutions in mainland China, Hong Kong or Macau after the referral.

The institution is found by the entity's OpenAlex id (GET /institutions/I...), else its
ROR id (GET /institutions/ror:<id>), else by name within the entity's country
(GET /institutions?search=<name>&filter=country_code:<cc>; see
`parsing.best_institution` for when a name is taken to mean one institution). Its works
that also carry a CN, HK or MO institution are then read, earliest first, 200 a page with
cursor paging:

    GET /works?filter=authorships.institutions.lineage:<I>,institutions.country_code:cn|hk|mo,
        from_publication_date:<since>,to_publication_date:<until>
        &sort=publication_date:asc&per_page=200&cursor=*

The lineage filter reaches works credited only to a child institution (a campus, a
medical school, an institute OpenAlex places under the university); it never reaches a
parent or a sibling. Sorting by date means a page limit cuts off the latest works, never
the years just after the referral, and the result then says how far it read
(`searched_to`): the run is cut short there and the next run resumes the day after.
`windows()` cuts a period by calendar year, so each span is one bounded list.

A hit is one (work, Chinese institution) pair: kind co_publication, the counterparty is
the institution with the country code OpenAlex gives it, the event date is the
publication date (or only its year). The key (OPENALEX_API_KEY) goes in the api_key
query parameter and is never recorded.

Budget (developers.openalex.org, Authentication & Pricing, 2026): a free key buys $1 of
usage a day, which is 10,000 list or filter calls ($0.10 per 1,000), or 1,000 `search=`
calls ($1 per 1,000); singletons (GET /institutions/I...) are free; every plan is
capped at 100 requests a second. The daily budget, not the per-second cap, is what
binds: see `OpenAlexSource.rate_per_second`.

Batching: `search_batch` asks for up to 100 institutions in one OR filter
(`authorships.institutions.lineage:I1|I2|...`) and gives each work to the
institution(s) it carries. It pays when each institution has few works in the span (a
weekly re-check: one call for 100 universities instead of 100); for a first check of a
large university over a whole year the pages, not the calls, dominate and one
institution per call is as cheap. A scheduler would group due re-checks of entities
with a known OpenAlex id by their span and call `search_batch` per group of 100.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone

from cases.checks import matching
from cases.checks.http import HttpClient, PermanentHttpError
from cases.checks.sources import Hit, SearchResult, Source, SourceSkipped
from cases.checks.sources.common import JsonReader, describe, spans
from cases.checks.sources.openalex.parsing import (
    Institution,
    batches,
    best_institution,
    lineage_filter,
    near_institutions,
    parse_institution,
    parse_institutions,
    parse_work,
    parse_works,
    parse_works_page,
    short_id,
)
from cases.models import Entity, Finding

__all__ = [
    "SOURCE",
    "Institution",
    "OpenAlexSource",
    "best_institution",
    "parse_institution",
    "parse_institutions",
    "parse_work",
    "parse_works",
    "short_id",
]

PER_PAGE = 200  # the API's largest page
# Pages read per span (5,000 works: a large university's co-publications with China in
# one year); a span with more is cut at the last day read in full, and said so.
MAX_PAGES = 25
BATCH_SIZE = 100  # values OpenAlex takes in one OR filter
RESOLVED_KEPT = 10_000  # institutions remembered per process (see _institution)
WORK_FIELDS = (
    "id",
    "doi",
    "title",
    "display_name",
    "publication_date",
    "publication_year",
    "authorships",
)
APPLIES_TO = (Entity.Kind.UNIVERSITY, Entity.Kind.RESEARCH_INSTITUTE)


@dataclass
class _Read:
    """What reading one works list gave: hits per member institution and how far it got."""

    hits: dict[str, dict[str, Hit]] = field(default_factory=dict)
    pages: int = 0
    searched_to: date | None = None  # None: the whole span was read
    notes: list[str] = field(default_factory=list)


class OpenAlexSource(Source):
    name = "openalex"
    default_url = "https://api.openalex.org"
    # A free key's 10,000 list calls a day, spread over the day with a tenth to spare for
    # the by-name lookups (a `search=` call costs ten): one call every ten seconds. The
    # API's own cap (100 a second) is far above; WISHLIST_OPENALEX_RATE raises this for
    # a paid plan.
    rate_per_second = 0.1
    required_settings = ("OPENALEX_API_KEY",)
    detects = (Finding.Kind.CO_PUBLICATION,)
    searched_with = ("openalex_id", "ror_id")
    # Works are listed by publication date, so a re-check asks only the latest span; but
    # OpenAlex indexes many works weeks after they appear, hence the long overlap.
    incremental = True
    recheck_overlap = timedelta(days=60)
    requests_per_check = 12  # a first check of a 2016 referral: one call a year

    def __init__(self) -> None:
        self._resolved: dict[tuple, tuple[Institution, matching.NameMatch]] = {}

    def skip_reason(self, entity: Entity) -> str:
        reason = super().skip_reason(entity)
        if reason:
            return reason
        if entity.kind not in APPLIES_TO:
            return f"only for universities and research institutes (this is a {entity.kind})"
        return ""

    def windows(self, first: date, last: date) -> list[tuple[date, date]]:
        """Calendar years, so that a page limit in one year never hides the next."""
        return spans(first, last, months=12)

    def _reader(self, client: HttpClient) -> JsonReader:
        # The key goes in as a hidden parameter, so it never reaches the recorded query.
        return JsonReader(
            client, self.base_url, hidden_params={"api_key": settings.OPENALEX_API_KEY}
        )

    def search(
        self, entity: Entity, since: date, client: HttpClient, *, until: date | None = None
    ) -> SearchResult:
        reader = self._reader(client)
        institution, match = self._institution(reader, entity)
        read = self._read_works(reader, {institution.id: match}, since, until)
        return SearchResult(
            hits=list(read.hits[institution.id].values()),
            query="\n".join(reader.asked + read.notes),
            searched_to=read.searched_to,
        )

    def search_batch(
        self,
        entities: list[Entity],
        since: date,
        client: HttpClient,
        *,
        until: date | None = None,
    ) -> list[SearchResult | SourceSkipped]:
        """Search several entities over one span with one works list per 100 institutions.

        Returns, in the order of `entities`, each one's result, or the SourceSkipped that
        says why its institution was not found. Each result's query names the shared
        request(s); a cut short list cuts every entity in it at the same day.
        """
        reader = self._reader(client)
        found: list[tuple[Institution, matching.NameMatch] | SourceSkipped] = []
        for entity in entities:
            try:
                found.append(self._institution(reader, entity))
            except SourceSkipped as skipped:
                found.append(skipped)
        lookups = list(reader.asked)
        members = {pair[0].id: pair[1] for pair in found if not isinstance(pair, SourceSkipped)}
        reads: dict[str, tuple[_Read, list[str]]] = {}
        for group in batches(list(members), BATCH_SIZE):
            reader.asked = []
            read = self._read_works(
                reader, {member: members[member] for member in group}, since, until
            )
            for member in group:
                reads[member] = (read, reader.asked + read.notes)
        results: list[SearchResult | SourceSkipped] = []
        for pair in found:
            if isinstance(pair, SourceSkipped):
                results.append(pair)
                continue
            read, asked = reads[pair[0].id]
            results.append(
                SearchResult(
                    hits=list(read.hits[pair[0].id].values()),
                    query="\n".join(lookups + asked),
                    searched_to=read.searched_to,
                )
            )
        return results

    def _read_works(
        self,
        reader: JsonReader,
        members: dict[str, matching.NameMatch],
        since: date,
        until: date | None,
    ) -> _Read:
        """Read the co-publications of `members` published in [since, until], earliest
        first, at most MAX_PAGES pages."""
        today = timezone.now().date()
        last = min(until or today, today)  # a publication date after today is not news yet
        read = _Read(hits={member: {} for member in members})
        if last < since:
            read.notes.append(f"nothing to read: the span {since} to {until} is in the future")
            return read
        params = {
            "filter": lineage_filter(list(members), since, last),
            "sort": "publication_date:asc",
            "select": ",".join(WORK_FIELDS),
            "per_page": PER_PAGE,
        }
        cursor, seen, last_day, outside = "*", set(), None, 0
        complete, more = False, " (stopped at the page limit)"
        while read.pages < MAX_PAGES:
            data, raw = _get(reader, "/works", {**params, "cursor": cursor}, note=False)
            read.pages += 1
            page = parse_works_page(
                data,
                members=members,
                since=since,
                until=last,
                evidence_sha256=_sha256(raw),
            )
            for member, hits in page.hits.items():
                for hit in hits:
                    read.hits[member].setdefault(hit.external_id, hit)
            last_day = page.last_date or last_day
            outside += page.outside
            seen.add(cursor)
            if not page.next_cursor or not page.works:
                complete = True
                break
            if page.next_cursor in seen:
                more = " (stopped: OpenAlex gave a cursor it had given before)"
                break
            cursor = page.next_cursor
        more = "" if complete else more
        reader.asked.append(
            f"GET {self.base_url}/works {describe(params)} ({read.pages} pages){more}"
        )
        if outside:
            read.notes.append(f"({outside} works dated outside {since} to {last} were left out)")
        if not complete:
            # The list is sorted by date: every day before the last one read is complete.
            read.searched_to = max(since, last_day - timedelta(days=1)) if last_day else since
            read.notes.append(f"(read in full up to {read.searched_to})")
        elif until is not None and last < until:
            read.searched_to = last
        return read

    def _institution(
        self, reader: JsonReader, entity: Entity
    ) -> tuple[Institution, matching.NameMatch]:
        """Our institution, looked up once a day per saved entity and process.

        The checks search one span at a time (a year each on a first check), and a
        by-name lookup costs ten list calls of the key's budget: it is not repeated for
        each span. The key holds every field the lookup reads, so an edited entity is
        looked up again.
        """
        key = (
            entity.pk,
            entity.openalex_id,
            entity.ror_id,
            entity.name,
            entity.country,
            timezone.now().date(),
        )
        if entity.pk is not None and key in self._resolved:
            institution, match = self._resolved[key]
            reader.asked.append(f"institution {institution.id}, looked up earlier today")
            return institution, match
        found = self._look_up(reader, entity)
        if entity.pk is not None:
            if len(self._resolved) >= RESOLVED_KEPT:
                self._resolved.clear()
            self._resolved[key] = found
        return found

    def _look_up(
        self, reader: JsonReader, entity: Entity
    ) -> tuple[Institution, matching.NameMatch]:
        """Our institution: by the entity's OpenAlex or ROR id, else by name in its country."""
        if entity.openalex_id:
            given = f"OpenAlex id {entity.openalex_id}"
            return self._given(reader, f"/institutions/{entity.openalex_id}", given)
        if entity.ror_id:
            given = f"ROR id {entity.ror_id}"
            return self._given(reader, f"/institutions/ror:{entity.ror_id}", given)
        params = {"search": entity.name, "filter": f"country_code:{entity.country.lower()}"}
        data, _ = _get(reader, "/institutions", params)
        names = matching.entity_names(entity)
        threshold = settings.WISHLIST_MATCH_THRESHOLD
        institutions = parse_institutions(data)
        found = best_institution(names, institutions, threshold)
        if found is None:
            near = near_institutions(names, institutions, threshold)
            if near:
                raise SourceSkipped(
                    f"more than one OpenAlex institution in {entity.country} may be "
                    f"{entity.name!r} ({'; '.join(near)}); set the entity's OpenAlex or ROR id"
                )
            raise SourceSkipped(
                f"no OpenAlex institution in {entity.country} matches {entity.name!r}; "
                "set the entity's OpenAlex or ROR id"
            )
        institution, match = found
        return institution, matching.NameMatch(
            match.score, f"OpenAlex institution {institution.id}: {match.explanation}"
        )

    def _given(
        self, reader: JsonReader, path: str, given: str
    ) -> tuple[Institution, matching.NameMatch]:
        institution = parse_institution(_get(reader, path)[0])
        return institution, matching.NameMatch(
            100.0, f"{institution.display_name!r} ({institution.id}) by the entity's {given}"
        )


def _get(reader: JsonReader, target: str, params: dict | None = None, *, note: bool = True):
    """GET through the reader; an HTTP or body error is re-raised with the key masked
    (the client's message holds the URL) and, for a 400 or 403, what OpenAlex means by
    it."""
    try:
        return reader.get(target, params, note=note)
    except PermanentHttpError as exc:
        message = str(exc)
        key = settings.OPENALEX_API_KEY
        if key:
            message = message.replace(key, "***")
        if exc.status in (400, 403):
            message = (
                f"OpenAlex refused GET {target} (HTTP {exc.status}: it answers so for "
                f"invalid query parameters or a key over its budget): {message}"
            )
        raise PermanentHttpError(
            message, url=exc.url.replace(key, "***") if key else exc.url, status=exc.status
        ) from None


def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


SOURCE = OpenAlexSource()
