"""What every source needs: the day a date or timestamp names, a JSON API read page by
page, request parameters written out for the CheckRun's query, and a counterparty's DoD
1260H flag.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.utils import timezone

from cases.checks import matching
from cases.checks.http import HttpClient, PermanentHttpError

ISO_DAY = "%Y-%m-%d"


def parse_day(value: object, layout: str = ISO_DAY) -> date | None:
    """Return the calendar day a date or timestamp starts with, or None.

    "2024-06-15" and "2024-06-15T23:30:00+08:00" are 15 June 2024: the day is read as
    written, never moved to UTC or any other zone (GLEIF's relationship dates need more:
    see gleif.reported_day). `layout` is the strptime layout of the leading date, for a
    source that writes days another way (GDELT's seendate "20240615T233000Z" is
    "%Y%m%d"). A value that does not start with a day in that layout, or is no string,
    is None.
    """
    if not isinstance(value, str):
        return None
    width = len(date(2000, 12, 31).strftime(layout))
    try:
        return datetime.strptime(value.strip()[:width], layout).date()
    except ValueError:
        return None


def spans(first: date, last: date, *, months: int) -> list[tuple[date, date]]:
    """Cut [first, last] into consecutive spans that end on calendar boundaries every
    `months` months (12: calendar years), oldest first; [] when first is after last.

    Boundaries fixed to the calendar, not to `first`, keep a case's spans the same from
    one check to the next, so a resumed search asks the same windows it stopped in.
    """
    result = []
    start = first
    while start <= last:
        index = (start.year * 12 + start.month - 1) // months * months + months
        following = date(index // 12, index % 12 + 1, 1)
        end = min(last, following - timedelta(days=1))
        result.append((start, end))
        start = end + timedelta(days=1)
    return result


def today() -> date:
    """The day the checks count as today: the service's clock, so a source never cuts a
    span a day short of what the run records (the host's local date can differ)."""
    return timezone.now().date()


def span_end(until: date | None) -> date:
    """The last day a search may cover: `until`, never after today."""
    return min(until or today(), today())


def halves(first: date, last: date) -> list[tuple[date, date]]:
    """Split a span in two (a one-day span stays whole), for a search whose answer was
    cut at the API's page size: each half then holds fewer items than the cap."""
    if first >= last:
        return [(first, last)]
    middle = first + (last - first) // 2
    return [(first, middle), (middle + timedelta(days=1), last)]


def describe(params: dict) -> str:
    """Return request parameters as "key=value key=value", for the CheckRun's query."""
    return " ".join(f"{key}={value}" for key, value in params.items())


def dod_flags(*names: str) -> tuple[str, ...]:
    """Return a Hit's flags for a counterparty known by these names: the DoD 1260H
    listing the first of them matches, or () when none does."""
    for name in names:
        flag = matching.dod_1260h_flag(name)
        if flag:
            return (flag,)
    return ()


# The request after a page of a list, given the page's data, URL and parameters: (URL or
# path, parameters), or None after the last page.
NextPage = Callable[[object, str, dict | None], tuple[str, dict | None] | None]


class JsonReader:
    """GETs of one source's JSON API, each noted in `asked` for the CheckRun's query.

    A path is joined to the base URL, and a link the API gives on its public host
    (`public_url`) is moved to the base URL, so that a mirror or a test server can stand
    in for it. `headers` go with every request, and so do `hidden_params` (an API key),
    which are never noted.
    """

    def __init__(
        self,
        client: HttpClient,
        base_url: str,
        *,
        public_url: str = "",
        headers: dict | None = None,
        hidden_params: dict | None = None,
    ):
        self.client = client
        self.base_url = base_url
        self.public_url = public_url
        self.headers = headers
        self.hidden_params = hidden_params or {}
        self.asked: list[str] = []

    def url(self, target: str) -> str:
        if not target.startswith(("http://", "https://")):
            return f"{self.base_url}{target}"
        if self.public_url and target.startswith(self.public_url):
            return self.base_url + target[len(self.public_url) :]
        return target

    def get(
        self,
        target: str,
        params: dict | None = None,
        *,
        none_if_missing: bool = False,
        note: bool = True,
    ) -> tuple[object, bytes] | None:
        """Return (data, raw body), or None for a 404 when `none_if_missing`."""
        url = self.url(target)
        if note:
            self.asked.append(
                f"GET {url}" + (f"?{urlencode(params, safe='[],.')}" if params else "")
            )
        if self.hidden_params:
            params = {**(params or {}), **self.hidden_params}
        try:
            return self.client.get_json(url, params=params, headers=self.headers)
        except PermanentHttpError as exc:
            if none_if_missing and exc.status == 404:
                return None
            raise

    def pages(
        self,
        target: str,
        params: dict | None,
        next_page: NextPage,
        *,
        max_pages: int,
        none_if_missing: bool = False,
        note: bool = True,
    ) -> "Pages":
        """Return the pages of a list, read as they are iterated, at most `max_pages`.

        A 404 ends the list when `none_if_missing`. With `note=False` the source notes
        the list itself (from the Pages' `read` and `cut_short`).
        """
        return Pages(self, target, params, next_page, max_pages, none_if_missing, note)


@dataclass
class Pages:
    """The pages of one list as (data, raw body), and how far the reading went."""

    reader: JsonReader
    target: str
    params: dict | None
    next_page: NextPage
    max_pages: int
    none_if_missing: bool
    note: bool
    read: int = 0
    cut_short: bool = False  # pages were left unread at the page limit

    def __iter__(self) -> Iterator[tuple[object, bytes]]:
        target, params = self.target, self.params
        while True:
            got = self.reader.get(
                target, params, none_if_missing=self.none_if_missing, note=self.note
            )
            if got is None:
                return
            self.read += 1
            yield got
            following = self.next_page(got[0], self.reader.url(target), params)
            if following is None:
                return
            if self.read == self.max_pages:
                self.cut_short = True
                if self.note:
                    self.reader.asked.append(
                        f"(stopped after {self.max_pages} pages of {self.target})"
                    )
                return
            target, params = following
