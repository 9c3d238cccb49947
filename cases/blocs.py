"""A host country's alliance bloc on a given date, from the reference lists (NATO
accession dates, US Major Non-NATO Ally designations; see cases.reference).

Membership changes inside the 2015-2020 window (Montenegro joined NATO on 2017-06-05,
Brazil became a Major Non-NATO Ally in 2019), so a referral is coded as of its own date:
the first day of its period when only a month or a year is known.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache

from cases import reference

NATO = "nato"
MNNA = "mnna"
RUSSIA = "russia"
OTHER = "other"

_PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")
_ISO2 = re.compile(r"[A-Z]{2}")
_REVOKED = re.compile(r"revoked\s+(\d{4}(?:-\d{2})?(?:-\d{2})?)", re.IGNORECASE)


def _first_date(text: str) -> date | None:
    """The first day of the first date-like period in the text ("2003-10", "1987")."""
    match = _PARTIAL_DATE.search(text or "")
    if not match:
        return None
    year, month, day = match.groups()
    return date(int(year), int(month or 1), int(day or 1))


@dataclass(frozen=True)
class Membership:
    start: date
    end: date | None = None

    def covers(self, on: date) -> bool:
        return self.start <= on and (self.end is None or on < self.end)


@cache
def memberships() -> dict[str, dict[str, Membership]]:
    """Return {bloc: {iso2: Membership}} from the NATO and Major Non-NATO Ally lists.

    Raise ReferenceListError when a list is missing or malformed. Read once per process;
    the start-up check (cases.apps) reads it first, so a bad list stops the app instead
    of coding every country "other".
    """
    nato = {
        iso2: Membership(start)
        for _, iso2, start, _ in _dated_rows(
            reference.NATO_MEMBERS,
            columns=("iso2", "accession_year", "accession_date"),
            dates=("accession_date", "accession_year"),
        )
    }
    mnna = {}
    for line, iso2, start, row in _dated_rows(
        reference.MAJOR_NON_NATO_ALLIES,
        columns=("iso2", "designation_year", "approx_date", "status"),
        dates=("approx_date", "designation_year"),
    ):
        revoked = _REVOKED.search(row.get("status") or "")
        end = _date(reference.MAJOR_NON_NATO_ALLIES, line, revoked.group(1)) if revoked else None
        mnna[iso2] = Membership(start, end)
    return {NATO: nato, MNNA: mnna}


def _dated_rows(
    name: str, *, columns: tuple[str, ...], dates: tuple[str, ...]
) -> Iterator[tuple[int, str, date, dict[str, str]]]:
    """Yield (line, iso2, start, row) for each row; the first of `dates` filled is read.

    A row without a two-letter code or a date is an error, not a row to skip: the
    country would silently drop out of its bloc.
    """
    for line, row in reference.list_rows(name, columns=columns):
        iso2 = (row.get("iso2") or "").strip().upper()
        if not _ISO2.fullmatch(iso2):
            raise _row_error(name, line, f"iso2 {iso2!r} is not a two-letter country code")
        start = _date(name, line, next((row[column] for column in dates if row.get(column)), ""))
        if start is None:
            raise _row_error(name, line, f"{iso2} has no date in {' or '.join(dates)}")
        yield line, iso2, start, row


def _date(name: str, line: int, text: str) -> date | None:
    try:
        return _first_date(text)
    except ValueError as exc:  # a month 13 or a 31 June
        raise _row_error(name, line, f"{text!r} is not a date ({exc})") from None


def _row_error(name: str, line: int, problem: str) -> reference.ReferenceListError:
    return reference.ReferenceListError(reference.list_path(name), f"line {line}: {problem}")


def bloc_on(country: str, on: date) -> str:
    """Return nato, mnna, russia or other for a host country on a date."""
    country = country.strip().upper()
    if country == "RU":
        return RUSSIA
    lists = memberships()
    for bloc in (NATO, MNNA):
        membership = lists[bloc].get(country)
        if membership and membership.covers(on):
            return bloc
    return OTHER
