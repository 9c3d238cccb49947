"""A host country's alliance bloc on a given date, from the reference lists in
WISHLIST_REFERENCE_DIR (NATO accession dates, US Major Non-NATO Ally designations).

Membership changes inside the 2015-2020 window (Montenegro joined NATO on 2017-06-05,
Brazil became a Major Non-NATO Ally in 2019), so a referral is coded as of its own date:
the first day of its period when only a month or a year is known.
"""

import csv
import logging
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

NATO = "nato"
MNNA = "mnna"
RUSSIA = "russia"
OTHER = "other"
UNKNOWN = ""

_PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")
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


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def memberships() -> dict[str, dict[str, Membership]] | None:
    """{bloc: {iso2: Membership}}, or None when the reference lists cannot be read.

    Only a successful read is cached: lists that appear later are picked up without a
    restart.
    """
    try:
        return _memberships_read()
    except OSError as exc:
        logger.warning("Alliance reference lists not readable (%s); blocs left unknown", exc)
        return None


@cache
def _memberships_read() -> dict[str, dict[str, Membership]]:
    folder = Path(settings.WISHLIST_REFERENCE_DIR)
    nato_rows = _read(folder / "nato_members.csv")
    mnna_rows = _read(folder / "us_major_non_nato_allies.csv")
    nato: dict[str, Membership] = {}
    for row in nato_rows:
        start = _first_date(row.get("accession_date") or row.get("accession_year") or "")
        if start and row.get("iso2"):
            nato[row["iso2"].strip().upper()] = Membership(start)
    mnna: dict[str, Membership] = {}
    for row in mnna_rows:
        start = _first_date(row.get("approx_date") or row.get("designation_year") or "")
        if not start or not row.get("iso2"):
            continue
        revoked = _REVOKED.search(row.get("status") or "")
        end = _first_date(revoked.group(1)) if revoked else None
        mnna[row["iso2"].strip().upper()] = Membership(start, end)
    return {NATO: nato, MNNA: mnna}


memberships.cache_clear = _memberships_read.cache_clear  # for tests that move the lists


def bloc_on(country: str, on: date) -> str:
    """Return nato, mnna, russia or other for a host country on a date ("" if unknown)."""
    country = country.strip().upper()
    if country == "RU":
        return RUSSIA
    lists = memberships()
    if lists is None:
        return UNKNOWN
    for bloc in (NATO, MNNA):
        membership = lists[bloc].get(country)
        if membership and membership.covers(on):
            return bloc
    return OTHER
