"""SEC EDGAR: CIKs from EDGAR's company tickers file, checked against the submissions file.

www.sec.gov/files/company_tickers.json lists every company with a listed ticker as
{"0": {"cik_str": 320193, "ticker": "AAPL", "title": "Apple Inc."}, ...}: one download
(about 1 MB) serves a whole resolution pass, so it is kept in this process for an hour.
The titles closest to the entity's names are then read in data.sec.gov's submissions
file (CIK##########.json), which gives the registrant's current and former names and its
business address, whose EDGAR state code places it in a country.

WISHLIST_SEC_EDGAR_DATA_URL (else WISHLIST_SEC_EDGAR_URL) replaces both hosts, as for the
check, so one local server stands in for them.
"""

import time

from django.conf import settings
from rapidfuzz import fuzz, process

from cases import normalize
from cases.checks import matching
from cases.checks.http import HttpClient
from cases.checks.sources.common import JsonReader
from cases.identity.resolvers import (
    ORGANISATIONS,
    Candidate,
    Resolver,
    best_first,
    problem,
    score_record,
    text,
)
from cases.models import Entity

TICKERS_PATH = "/files/company_tickers.json"
TICKERS_TTL = 3600.0  # seconds
SHORTLIST = 3  # titles read in the submissions file
COMPANY_URL = "https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany&CIK={cik}"
# EDGAR's codes for places outside the United States (EDGAR state and country codes);
# a two-letter US state or territory code is the US. Codes not listed give no country.
EDGAR_COUNTRIES = {
    "A0": "CA", "A1": "CA", "A2": "CA", "A3": "CA", "A4": "CA", "A5": "CA", "A6": "CA",
    "A7": "CA", "A8": "CA", "A9": "CA", "B0": "CA", "Z4": "CA",
    "C3": "AU", "C9": "BE", "D0": "BM", "E9": "KY", "F4": "CN", "F5": "TW", "G7": "DK",
    "H9": "FI", "I0": "FR", "2M": "DE", "K3": "HK", "K7": "IN", "L2": "IE", "L3": "IL",
    "L6": "IT", "M0": "JP", "M5": "KR", "N4": "LU", "N5": "MO", "P7": "NL", "Q2": "NZ",
    "R1": "NO", "U0": "SG", "U3": "ES", "V7": "SE", "V8": "CH", "X0": "GB", "1E": "RU",
}  # fmt: skip

_tickers: dict[str, tuple[float, list[tuple[str, str]]]] = {}  # url: (fetched, rows)


def reset_cache() -> None:
    _tickers.clear()


def parse_tickers(body: object) -> list[tuple[str, str]]:
    """Return (CIK, title) pairs of a company_tickers.json body (pure)."""
    if not isinstance(body, dict):
        raise problem("sec_edgar", "company tickers: not an object of rows")
    rows = {}
    for row in body.values():
        if not isinstance(row, dict) or not isinstance(row.get("cik_str"), int | str):
            raise problem("sec_edgar", "company tickers: a row without cik_str")
        cik, title = str(row["cik_str"]).strip(), text(row.get("title"))
        if cik and title:
            rows.setdefault(cik, title)  # several tickers of one company: one row
    return list(rows.items())


def edgar_country(code: str) -> str:
    code = code.strip().upper()
    if code in EDGAR_COUNTRIES:
        return EDGAR_COUNTRIES[code]
    return "US" if len(code) == 2 and code.isalpha() else ""


def parse_profile(body: object) -> tuple[str, tuple[str, ...], str]:
    """Return (CIK, names: current then former, country) of a submissions file (pure)."""
    if not isinstance(body, dict) or not text(body.get("name")):
        raise problem("sec_edgar", "submissions: no registrant name")
    former = [
        text(item.get("name")) for item in body.get("formerNames") or [] if isinstance(item, dict)
    ]
    addresses = body.get("addresses") if isinstance(body.get("addresses"), dict) else {}
    business = addresses.get("business") if isinstance(addresses.get("business"), dict) else {}
    country = edgar_country(text(business.get("stateOrCountry")))
    names = tuple(dict.fromkeys(name for name in (text(body["name"]), *former) if name))
    return str(body.get("cik") or "").lstrip("0"), names, country


def shortlist(rows: list[tuple[str, str]], names: list[str]) -> list[tuple[str, str]]:
    """The SHORTLIST rows whose titles' name keys are closest to any of our names
    (token-set ratio, at least WISHLIST_RESOLVE_MIN_SCORE)."""
    keys = [normalize.name_key(title) for _, title in rows]
    best: dict[int, float] = {}
    for name in names:
        key = normalize.name_key(name)
        if not key:
            continue
        for _, score, index in process.extract(key, keys, scorer=fuzz.token_set_ratio, limit=5):
            best[index] = max(score, best.get(index, 0))
    # A title far from every name is not worth a request for its submissions file.
    floor = settings.WISHLIST_RESOLVE_MIN_SCORE
    ranked = sorted((index for index in best if best[index] >= floor), key=lambda i: -best[i])
    return [rows[index] for index in ranked[:SHORTLIST]]


class SecEdgarResolver(Resolver):
    name = "sec_edgar"
    default_url = "https://www.sec.gov"
    rate_per_second = 10  # SEC's fair-access limit, shared with the check
    required_settings = ("SEC_USER_AGENT",)
    kinds = ORGANISATIONS

    @property
    def base_url(self) -> str:
        override = settings.WISHLIST_SEC_EDGAR_DATA_URL.rstrip("/")
        override = override or settings.WISHLIST_SOURCE_URLS.get(self.name, "").rstrip("/")
        return override or self.default_url

    @property
    def data_url(self) -> str:
        return self.base_url if self.base_url != self.default_url else "https://data.sec.gov"

    def _rows(self, reader: JsonReader) -> list[tuple[str, str]]:
        url = f"{self.base_url}{TICKERS_PATH}"
        cached = _tickers.get(url)
        if cached and time.monotonic() - cached[0] < TICKERS_TTL:
            reader.asked.append(f"GET {url} (kept from an earlier request)")
            return cached[1]
        rows = parse_tickers(reader.get(url)[0])
        _tickers[url] = (time.monotonic(), rows)
        return rows

    def propose(self, entity: Entity, client: HttpClient) -> tuple[list[Candidate], list[str]]:
        reader = JsonReader(client, self.base_url, headers={"User-Agent": settings.SEC_USER_AGENT})
        names = matching.entity_names(entity)
        found = []
        for cik, _title in shortlist(self._rows(reader), names):
            padded = cik.zfill(10)
            got = reader.get(f"{self.data_url}/submissions/CIK{padded}.json", none_if_missing=True)
            if got is None:
                continue
            _, record_names, country = parse_profile(got[0])
            match = score_record(names, entity.country, record_names, country)
            found.append(
                Candidate(
                    registry=self.name,
                    identifier=cik,
                    name=record_names[0],
                    score=match.score,
                    explanation=f"EDGAR CIK {cik}: {match.explanation}",
                    names=record_names,
                    country=country,
                    url=COMPANY_URL.format(cik=padded),
                )
            )
        return best_first(found), reader.asked


RESOLVER = SecEdgarResolver()
