"""Reading OpenAlex's institution and work documents: pure functions of a response body,
tested on recorded real responses, and which institution a name means.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from cases import normalize, rules
from cases.checks import matching
from cases.checks.http import PermanentHttpError
from cases.checks.sources import Hit
from cases.checks.sources.common import dod_flags, parse_day
from cases.models import Finding

OPENALEX_PREFIX = "https://openalex.org/"
# Score given to "X University" read as "University of X": below the match threshold, so
# a by-name lookup never settles on it. The two orders name different institutions as
# often as the same one (Miami University in Ohio, the University of Miami in Florida;
# Washington University in St. Louis, the University of Washington in Seattle).
SWAPPED_ORDER_SCORE = 75.0
_PLACE_KIND = re.compile(r"^(?P<place>.+) (?P<kind>university|college|institute|academy)$")
_KIND_OF_PLACE = re.compile(r"^(?P<kind>university|college|institute|academy) of (?P<place>.+)$")


@dataclass(frozen=True)
class Institution:
    id: str  # short form, "I27837315"
    display_name: str
    country_code: str = ""
    ror: str = ""
    alternative_names: tuple[str, ...] = ()
    lineage: tuple[str, ...] = ()  # itself and its parents, short ids


def short_id(value: object) -> str:
    """Return "I27837315" for "https://openalex.org/I27837315" (or "" for no id)."""
    if not isinstance(value, str):
        return ""
    return value.removeprefix(OPENALEX_PREFIX).strip()


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str) and item)


def _institution(record: object) -> Institution:
    if not isinstance(record, dict) or not short_id(record.get("id")):
        raise PermanentHttpError("OpenAlex: an institution record without an id")
    return Institution(
        id=short_id(record["id"]),
        display_name=str(record.get("display_name") or ""),
        country_code=str(record.get("country_code") or "").upper(),
        ror=str(record.get("ror") or "").removeprefix("https://ror.org/"),
        alternative_names=_strings(record.get("display_name_alternatives"))
        + _strings(record.get("display_name_acronyms")),
        lineage=tuple(short_id(item) for item in _strings(record.get("lineage"))),
    )


def parse_institution(data: object) -> Institution:
    """Parse a single-institution response (GET /institutions/<id>)."""
    return _institution(data)


def _results(data: object, what: str) -> list:
    """The `results` list of a list response; OpenAlex's own error text when it sent one
    with a 200 instead."""
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        return data["results"]
    if isinstance(data, dict) and data.get("error"):
        message = f"{data['error']} {data.get('message') or ''}".strip()
        raise PermanentHttpError(f"OpenAlex {what}: the API answered an error: {message[:300]}")
    raise PermanentHttpError(f"OpenAlex {what}: no results list in the body")


def parse_institutions(data: object) -> list[Institution]:
    """Parse an institution list response ({"meta": ..., "results": [...]})."""
    return [_institution(record) for record in _results(data, "institutions")]


def _swapped_order(a: str, b: str) -> bool:
    """Whether one name key is "X university" and the other "university of X"."""
    for first, second in ((a, b), (b, a)):
        place_kind, kind_of = _PLACE_KIND.match(first), _KIND_OF_PLACE.match(second)
        if (
            place_kind
            and kind_of
            and (place_kind["place"], place_kind["kind"]) == (kind_of["place"], kind_of["kind"])
        ):
            return True
    return False


def institution_match(names: list[str], institution: Institution) -> matching.NameMatch:
    """The best match of our names against the institution's name and alternatives.

    A name that matches only with its words turned round ("Miami University" for
    "University of Miami") scores SWAPPED_ORDER_SCORE: it may be another institution.
    """
    best = matching.NameMatch(0.0, f"no name matched {institution.display_name!r}")
    for candidate in (institution.display_name, *institution.alternative_names):
        found = matching.match_name(names, candidate)
        candidate_key = normalize.name_key(candidate)
        if found.score < 100 and any(
            _swapped_order(normalize.name_key(name), candidate_key) for name in names
        ):
            found = matching.NameMatch(
                min(found.score, SWAPPED_ORDER_SCORE),
                f"{candidate!r} has our name's words in the other order, which often "
                "names another institution",
            )
        if found.score > best.score:
            best = found
    return best


def best_institution(
    names: list[str], institutions: list[Institution], threshold: float
) -> tuple[Institution, matching.NameMatch] | None:
    """The institution our names mean, or None when none or more than one might be.

    One whose name or alternative has our name's key (100) is taken when no other one
    does; otherwise the only one at or above the threshold. Two near matches and no
    exact one ("University of Michigan" written in some other way, against Michigan
    State and Western Michigan) are left unresolved: the entity's OpenAlex or ROR id
    settles it, a guess would read another university's co-publications.
    """
    scored = [(institution_match(names, inst), inst) for inst in institutions]
    scored = [(found, inst) for found, inst in scored if found.score >= threshold]
    distinct = {inst.id: (found, inst) for found, inst in scored}
    exact = [(found, inst) for found, inst in distinct.values() if found.score >= 100]
    if len(exact) == 1:
        found, inst = exact[0]
        return inst, found
    if len(distinct) == 1:
        found, inst = next(iter(distinct.values()))
        return inst, found
    return None


def near_institutions(
    names: list[str], institutions: list[Institution], threshold: float
) -> list[str]:
    """The names and scores of the institutions at or above the threshold, for saying
    why a lookup was left unresolved."""
    scored = sorted(
        ((institution_match(names, inst).score, inst) for inst in institutions),
        key=lambda pair: -pair[0],
    )
    return [
        f"{inst.display_name} ({inst.id}, {score:.0f})"
        for score, inst in scored
        if score >= threshold
    ]


def work_date(work: dict) -> tuple[date | None, str]:
    """The work's publication day, or the first of its year (year precision)."""
    published = parse_day(work.get("publication_date"))
    if published:
        return published, normalize.DatePrecision.DAY
    year = work.get("publication_year")
    if isinstance(year, int) and 1900 <= year <= 9999:
        return date(year, 1, 1), normalize.DatePrecision.YEAR
    return None, ""


def _work_institutions(work: dict) -> Iterator[dict]:
    authorships = work.get("authorships")
    for authorship in authorships if isinstance(authorships, list) else []:
        institutions = authorship.get("institutions") if isinstance(authorship, dict) else None
        for record in institutions if isinstance(institutions, list) else []:
            if isinstance(record, dict) and short_id(record.get("id")):
                yield record


def _lineage(record: dict) -> set[str]:
    """The record's id and its parents' ids (OpenAlex's `lineage`, itself included)."""
    return {short_id(record.get("id"))} | {
        short_id(item) for item in _strings(record.get("lineage"))
    }


def members_on_work(work: dict, members: set[str]) -> set[str]:
    """Which of `members` (institution ids) the work credits, directly or through a child
    institution whose lineage holds them: the works the lineage filter returned for a
    batch of institutions, each attributed to the institutions it carries."""
    found: set[str] = set()
    for record in _work_institutions(work):
        found |= _lineage(record) & members
    return found


def chinese_coauthors(work: dict, institution_id: str) -> Iterator[tuple[str, str, str, bool]]:
    """(id, name, country, under ours) of each CN/HK/MO institution on the work's
    authorships, ours left out; records without an id cannot be cited and are skipped.

    `under ours` is true for a Chinese institution OpenAlex places under ours (a campus
    or joint institute in China): still a party in China, but the analyst should know.
    """
    for record in _work_institutions(work):
        country = str(record.get("country_code") or "").upper()
        other_id = short_id(record.get("id"))
        if country in rules.CHINESE_JURISDICTIONS and other_id != institution_id:
            under_ours = institution_id in _lineage(record)
            yield other_id, str(record.get("display_name") or other_id), country, under_ours


def within(event_date: date | None, precision: str, since: date, until: date | None) -> bool:
    """Whether a work's date falls in [since, until]; an undated work is kept, since the
    API's date filters chose it."""
    if event_date is None:
        return True
    if normalize.period_end(event_date, precision) < since:
        return False
    return until is None or event_date <= until


def parse_work(
    work: object,
    *,
    institution_id: str,
    match: matching.NameMatch,
    since: date,
    evidence_sha256: str,
    until: date | None = None,
) -> list[Hit]:
    """Return one co-publication Hit per CN/HK/MO institution on the work.

    `institution_id` is our institution's (never a counterparty of itself); `match` says
    how the institution was tied to the entity. A work dated before `since` (its whole
    period, for a year-only date) or after `until` gives nothing.
    """
    if not isinstance(work, dict) or not short_id(work.get("id")):
        raise PermanentHttpError("OpenAlex: a work without an id")
    event_date, precision = work_date(work)
    if not within(event_date, precision, since, until):
        return []
    work_id = short_id(work["id"])
    title = work.get("title") or work.get("display_name") or ""
    url = work.get("doi") if isinstance(work.get("doi"), str) and work.get("doi") else work["id"]
    hits: dict[str, Hit] = {}
    for other_id, name, country, under_ours in chinese_coauthors(work, institution_id):
        external_id = f"openalex:{work_id}:{other_id}"
        explanation = match.explanation
        if under_ours:
            explanation += f"; OpenAlex places {name} under {institution_id}"
        hits.setdefault(
            external_id,
            Hit(
                kind=Finding.Kind.CO_PUBLICATION,
                counterparty_name=name,
                counterparty_country=country,
                event_date=event_date,
                event_date_precision=precision,
                url=url,
                excerpt=str(title)[:1000],
                external_id=external_id,
                score=match.score,
                explanation=explanation,
                evidence_sha256=evidence_sha256,
                flags=dod_flags(name),
            ),
        )
    return list(hits.values())


def next_cursor(data: object) -> str:
    meta = data.get("meta") if isinstance(data, dict) else None
    cursor = meta.get("next_cursor") if isinstance(meta, dict) else None
    return cursor if isinstance(cursor, str) else ""


@dataclass
class WorksPage:
    """What one page of a works list gave: hits per member institution, the next cursor,
    the last publication day on the page (the list is sorted by it) and the works left
    out for a date outside the span asked."""

    hits: dict[str, list[Hit]] = field(default_factory=dict)
    next_cursor: str = ""
    works: int = 0
    last_date: date | None = None
    outside: int = 0


def parse_works_page(
    data: object,
    *,
    members: dict[str, matching.NameMatch],
    since: date,
    until: date | None,
    evidence_sha256: str,
) -> WorksPage:
    """Read one page of works asked for a batch of institutions (`members`: id to how it
    was tied to its entity). A work goes to each member it credits (`members_on_work`)
    and gives that member one hit per Chinese co-author; a work that credits none of
    them, which the filter should not have returned, gives nothing."""
    page = WorksPage(hits={member: [] for member in members}, next_cursor=next_cursor(data))
    for work in _results(data, "works"):
        if not isinstance(work, dict) or not short_id(work.get("id")):
            raise PermanentHttpError("OpenAlex: a work without an id")
        page.works += 1
        event_date, precision = work_date(work)
        if event_date is not None:
            page.last_date = event_date
        if not within(event_date, precision, since, until):
            page.outside += 1
            continue
        for member in sorted(members_on_work(work, set(members))):
            page.hits[member].extend(
                parse_work(
                    work,
                    institution_id=member,
                    match=members[member],
                    since=since,
                    until=until,
                    evidence_sha256=evidence_sha256,
                )
            )
    return page


def parse_works(
    data: object,
    *,
    institution_id: str,
    match: matching.NameMatch,
    since: date,
    evidence_sha256: str,
    until: date | None = None,
) -> tuple[list[Hit], str]:
    """Return the hits on one page of one institution's works and the next cursor ("" at
    the end)."""
    page = parse_works_page(
        data,
        members={institution_id: match},
        since=since,
        until=until,
        evidence_sha256=evidence_sha256,
    )
    return page.hits[institution_id], page.next_cursor


def lineage_filter(
    institution_ids: list[str], since: date, until: date, countries: str = "cn|hk|mo"
) -> str:
    """The works filter for co-publications of these institutions (up to 100, OpenAlex's
    limit for one OR list) and their child institutions with CN/HK/MO institutions,
    published from `since` to `until`."""
    if not 1 <= len(institution_ids) <= 100:
        raise ValueError("OpenAlex takes 1 to 100 values in one OR filter")
    return (
        f"authorships.institutions.lineage:{'|'.join(institution_ids)},"
        f"institutions.country_code:{countries},"
        f"from_publication_date:{since.isoformat()},"
        f"to_publication_date:{until.isoformat()}"
    )


def batches(institution_ids: list[str], size: int = 100) -> list[list[str]]:
    """The institutions in groups of at most `size`, repeats removed, order kept."""
    unique = list(dict.fromkeys(institution_ids))
    return [unique[start : start + size] for start in range(0, len(unique), size)]
