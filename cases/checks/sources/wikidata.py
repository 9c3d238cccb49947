"""Wikidata (the Action API at https://www.wikidata.org/w/api.php, no key): who owns the
entity and what it owns in China, as the entity's item states it.

The item is the entity's Wikidata id, or the best match of `wbsearchentities` by name
read with `wbgetentities`. Its parent organisation (P749) and owners (P127) are what
bought or invested in the entity; its subsidiaries (P355) and holdings (P1830) are what
it set up or bought. Each statement may carry a start (P580) and an end (P582); the
counterparts are read in one batched `wbgetentities` for their labels and country (P17).
A counterpart in CN, HK or MO is a lead, dated by the statement's start.

Statements are the JSON of https://doc.wikimedia.org/Wikibase/master/php/docs_topics_json.html.
The API answers its errors with HTTP 200 and an `error` member: those are errors here
too, and a statement of another shape is skipped rather than read wrong. The identity
resolver (cases.identity.resolvers.wikidata) reads items with the parsers here.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.utils import timezone

from cases import normalize, rules
from cases.checks import matching
from cases.checks.http import HttpClient, PermanentHttpError, RateLimitedError, TransientHttpError
from cases.checks.matching import NameMatch
from cases.checks.sources import Hit, SearchResult, Source
from cases.checks.sources.common import JsonReader, dod_flags
from cases.models import Entity, Finding

PUBLIC_URL = "https://www.wikidata.org/w"
ITEM_URL = "https://www.wikidata.org/wiki/{qid}"
# The search ranks exact and prefix matches of a label or alias first; twenty items are
# ample for one name and keep the claims of the batch read after it to a modest body.
SEARCH_LIMIT = 20
# Searches per entity without an id: its name and name key, then one more of its names;
# most entities are not on Wikidata, and each term is a request.
MAX_TERMS = 3
BATCH = 50  # wbgetentities takes at most 50 ids a request
MAX_COUNTERPARTS = 500  # ten batches: beyond any real company's statements
# English, the language-neutral "mul" and Chinese are the names this work reads.
LANGUAGES = "en|mul|zh"
# Wikimedia asks automated clients to send maxlag=5 so they back off while the database
# replicas lag (https://www.mediawiki.org/wiki/Manual:Maxlag_parameter).
MAXLAG = 5
COMMON = {"format": "json", "maxlag": MAXLAG}

COUNTRY = "P17"
START, END, SHARE = "P580", "P582", "P1107"
# The relation properties read, what each says and the kind of lead it gives.
RELATIONS = {
    "P749": ("parent organization", Finding.Kind.ACQUISITION),
    "P127": ("owned by", Finding.Kind.ACQUISITION),
    "P355": ("subsidiary", Finding.Kind.SUBSIDIARY),
    "P1830": ("owner of", Finding.Kind.SUBSIDIARY),
}
OWNERS = ("P749", "P127")
# A Wikibase time's precision: 9 a year, 10 a month, 11 a day; coarser (a decade, a
# century) dates nothing this work can use.
PRECISIONS = {
    9: normalize.DatePrecision.YEAR,
    10: normalize.DatePrecision.MONTH,
    11: normalize.DatePrecision.DAY,
}
PERCENT = "http://www.wikidata.org/entity/Q11229"  # a quantity's unit "percent"
GIVEN = NameMatch(100.0, "Wikidata id given on the entity")
# Country items of the countries referrals come from (P17's values); another country
# gives no country to compare rather than a wrong one. Q865 is Taiwan: not China.
COUNTRY_ITEMS = {
    "Q30": "US", "Q145": "GB", "Q183": "DE", "Q142": "FR", "Q38": "IT", "Q17": "JP",
    "Q884": "KR", "Q148": "CN", "Q159": "RU", "Q16": "CA", "Q408": "AU", "Q55": "NL",
    "Q39": "CH", "Q34": "SE", "Q801": "IL", "Q668": "IN", "Q29": "ES", "Q40": "AT",
    "Q31": "BE", "Q35": "DK", "Q33": "FI", "Q20": "NO", "Q27": "IE", "Q36": "PL",
    "Q334": "SG", "Q865": "TW", "Q8646": "HK", "Q14773": "MO", "Q155": "BR", "Q664": "NZ",
    "Q45": "PT", "Q213": "CZ", "Q28": "HU", "Q41": "GR", "Q43": "TR", "Q96": "MX",
    "Q32": "LU", "Q191": "EE", "Q211": "LV", "Q37": "LT", "Q212": "UA", "Q218": "RO",
    "Q219": "BG", "Q224": "HR", "Q215": "SI", "Q214": "SK", "Q252": "ID", "Q833": "MY",
    "Q869": "TH", "Q881": "VN", "Q928": "PH", "Q79": "EG", "Q258": "ZA", "Q414": "AR",
    "Q298": "CL", "Q739": "CO", "Q419": "PE", "Q794": "IR", "Q851": "SA", "Q878": "AE",
    "Q843": "PK", "Q902": "BD", "Q189": "IS", "Q229": "CY", "Q233": "MT", "Q232": "KZ",
    "Q184": "BY", "Q1033": "NG", "Q114": "KE",
}  # fmt: skip


@dataclass(frozen=True)
class Relation:
    """One relation statement of the entity's item."""

    prop: str  # a RELATIONS key
    counterpart: str  # the QID of the other party
    start: date | None
    start_precision: str  # "" without a start
    end: date | None
    end_precision: str
    share: float | None  # P1107, 0-1, when stated


# ----------------------------------------------------------------------------- parsing


def _problem(message: str) -> PermanentHttpError:
    return PermanentHttpError(f"Wikidata: {message}")


def _text(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def api_url(base: str) -> str:
    """The api.php endpoint under a base URL (".../w"), or the base when it names it."""
    return base if base.endswith("api.php") else f"{base}/api.php"


def api_error(body: object) -> None:
    """Raise for a body that is no JSON object or that carries the API's `error` member.

    `maxlag` (the replicas lag, retry later) is transient and `ratelimited` a rate limit;
    every other code (a bad parameter, an unknown action) will not mend by retrying.
    """
    if not isinstance(body, dict):
        raise _problem("the response is not a JSON object")
    error = body.get("error")
    if error is None:
        return
    code = _text(error.get("code")) if isinstance(error, dict) else ""
    info = (_text(error.get("info")) if isinstance(error, dict) else "") or code or str(error)
    if code == "maxlag":
        raise TransientHttpError(f"Wikidata: replicas lag, retry later: {info}")
    if code == "ratelimited":
        raise RateLimitedError(f"Wikidata: rate limited: {info}")
    raise _problem(f"API error: {info}")


def search_terms(name: str) -> list[str]:
    """The name, then its name key (legal form and punctuation dropped): the search
    matches a label's or alias's prefix, so "Dendreon Corporation" misses an item
    labelled "Dendreon" and "dendreon" finds it (the search ignores case)."""
    key = normalize.name_key(name)
    return [name, key] if key and key != name.casefold() else [name]


def entity_terms(names: list[str]) -> list[str]:
    """What to search for an entity known by these names (its name first), at most
    MAX_TERMS: each name and its name key, the native name and aliases after the name,
    for an item labelled with a short form or in another script."""
    terms = [term for name in names for term in search_terms(name)]
    return list(dict.fromkeys(terms))[:MAX_TERMS]


def parse_search(body: object) -> list[str]:
    """Return the QIDs of a wbsearchentities response, in its order (pure)."""
    api_error(body)
    if not isinstance(body.get("search"), list):
        raise _problem("wbsearchentities: no search list")
    return [
        _text(hit.get("id")) for hit in body["search"] if isinstance(hit, dict) and hit.get("id")
    ]


def parse_items(body: object) -> dict[str, dict]:
    """Return the items of a wbgetentities response by QID, missing ones left out (pure).

    An id that redirects to another item (two merged items) comes back as the target,
    under the id asked or with `redirects.from` naming it: the item is found under the
    id asked and under its own.
    """
    api_error(body)
    if not isinstance(body.get("entities"), dict):
        raise _problem("wbgetentities: no entities object")
    items = {}
    for key, item in body["entities"].items():
        if not isinstance(item, dict) or "missing" in item:
            continue
        items[key] = items[_text(item.get("id")) or key] = item
        redirect = item.get("redirects")
        if isinstance(redirect, dict) and _text(redirect.get("from")):
            items[_text(redirect["from"])] = item
    return items


def _statements(item: dict, prop: str) -> list[dict]:
    """The statements of `prop` an item asserts: deprecated ones (known wrong) left out."""
    claims = item.get("claims")
    found = claims.get(prop) if isinstance(claims, dict) else None
    if not isinstance(found, list):
        return []
    return [
        statement
        for statement in found
        if isinstance(statement, dict) and statement.get("rank") != "deprecated"
    ]


def _value(snak: object) -> object:
    """The value of a snak with one; None for "no value", "unknown value" or another shape."""
    if not isinstance(snak, dict) or snak.get("snaktype", "value") != "value":
        return None
    datavalue = snak.get("datavalue")
    return datavalue.get("value") if isinstance(datavalue, dict) else None


def claim_values(item: dict, prop: str) -> list[object]:
    """The main values of an item's statements of `prop`, in the item's order."""
    values = [_value(statement.get("mainsnak")) for statement in _statements(item, prop)]
    return [value for value in values if value is not None]


def _item_id(value: object) -> str:
    """The QID a wikibase-entityid value names, or ""."""
    if isinstance(value, dict) and value.get("entity-type", "item") == "item":
        qid = _text(value.get("id"))
        if qid.startswith("Q") and qid[1:].isdigit():
            return qid
        if isinstance(value.get("numeric-id"), int):
            return f"Q{value['numeric-id']}"
    return ""


def item_names(item: dict) -> tuple[str, ...]:
    """English label first, then every other label, then aliases."""
    labels = item.get("labels") if isinstance(item.get("labels"), dict) else {}
    aliases = item.get("aliases") if isinstance(item.get("aliases"), dict) else {}
    ordered = sorted(labels.items(), key=lambda pair: pair[0] != "en")
    names = [_text(label.get("value")) for _, label in ordered if isinstance(label, dict)]
    for entries in aliases.values():
        if isinstance(entries, list):
            names += [_text(entry.get("value")) for entry in entries if isinstance(entry, dict)]
    return tuple(dict.fromkeys(name for name in names if name))


def item_label(item: dict) -> str:
    """The English label, else any label, else ""."""
    labels = item.get("labels") if isinstance(item.get("labels"), dict) else {}
    for language in ("en", "mul", *labels):
        label = labels.get(language)
        if isinstance(label, dict) and _text(label.get("value")):
            return _text(label["value"])
    return ""


def item_countries(item: dict) -> list[str]:
    """The countries (ISO codes) of an item's P17 statements of the best rank it gives.

    Wikidata marks the current country "preferred" when an item has had several; a
    country not in COUNTRY_ITEMS gives nothing rather than a wrong code.
    """
    statements = _statements(item, COUNTRY)
    preferred = [statement for statement in statements if statement.get("rank") == "preferred"]
    countries = []
    for statement in preferred or statements:
        code = COUNTRY_ITEMS.get(_item_id(_value(statement.get("mainsnak"))), "")
        if code and code not in countries:
            countries.append(code)
    return countries


def parse_time(value: object) -> tuple[date | None, str]:
    """The day and precision of a Wikibase time value, or (None, "").

    Times are written "+2016-04-21T00:00:00Z", with "00" for the month or day a year
    or month precision leaves open; precisions coarser than a year, years before the
    common era and impossible days give no date.
    """
    if not isinstance(value, dict):
        return None, ""
    precision = PRECISIONS.get(value.get("precision"))
    written = value.get("time")
    if precision is None or not isinstance(written, str) or not written.startswith("+"):
        return None, ""
    try:
        year, month, day = (int(part) for part in written[1:].split("T", 1)[0].split("-"))
        return date(year, max(month, 1), max(day, 1)), precision
    except ValueError:
        return None, ""


def _qualifier(statement: dict, prop: str) -> object:
    """The value of the statement's first qualifier of `prop`, or None."""
    qualifiers = statement.get("qualifiers")
    snaks = qualifiers.get(prop) if isinstance(qualifiers, dict) else None
    if not isinstance(snaks, list) or not snaks:
        return None
    return _value(snaks[0])


def _share(value: object) -> float | None:
    """A P1107 proportion (a quantity: "+0.6" with unit "1", or "+60" in percent) as 0-1."""
    if not isinstance(value, dict):
        return None
    try:
        amount = float(value.get("amount"))
    except (TypeError, ValueError):
        return None
    if value.get("unit") == PERCENT:
        amount /= 100
    return amount if 0 <= amount <= 1 else None


def parse_relations(item: dict) -> list[Relation]:
    """The item's RELATIONS statements whose value is an item, in property order (pure).

    A statement whose value is "unknown" or "no value", or not an item, is skipped.
    """
    relations = []
    for prop in RELATIONS:
        for statement in _statements(item, prop):
            counterpart = _item_id(_value(statement.get("mainsnak")))
            if not counterpart:
                continue
            start, start_precision = parse_time(_qualifier(statement, START))
            end, end_precision = parse_time(_qualifier(statement, END))
            relations.append(
                Relation(
                    prop,
                    counterpart,
                    start,
                    start_precision,
                    end,
                    end_precision,
                    _share(_qualifier(statement, SHARE)),
                )
            )
    return relations


def best_item(
    items: dict[str, dict], names: list[str], country: str
) -> tuple[str, dict, NameMatch] | None:
    """The item whose label or alias best matches our names, in our country (pure).

    An item in another country, or with no country we know when ours is known, is not
    ours: a name alone confuses a company with its namesakes elsewhere.
    """
    best = None
    for qid, item in items.items():
        countries = item_countries(item)
        if country and country not in countries:
            continue
        for name in item_names(item):
            found = matching.match_name(names, name)
            if best is None or found.score > best[2].score:
                where = f"country {country} agrees" if country else "no country to compare"
                best = (qid, item, NameMatch(found.score, f"{found.explanation}; {where}"))
    return best


def in_period(
    relations: list[Relation], *, since: date, until: date, today: date
) -> tuple[list[Relation], list[str]]:
    """The relations that may have begun in [since, until], and why others are left (pure).

    A start in the future is bad data; one whose period ends before `since` or begins
    after `until` is outside the span; an end before `since` means the relation was over
    before the span. A relation with no start is kept: Wikidata often states a parent or
    owner without a date, and a Chinese owner is what the analyst most needs to know, so
    it is filed undated ("timing unknown") for them to place.
    """
    kept, notes = [], []
    for relation in relations:
        what = f"{relation.prop} {relation.counterpart}"
        start, end = relation.start, relation.end
        if start and start > today:
            notes.append(f"skipped {what}: its start {start.isoformat()} is in the future")
        elif start and end and end < start:
            notes.append(f"skipped {what}: it ends ({end.isoformat()}) before it starts")
        elif end and normalize.period_end(end, relation.end_precision) < since:
            notes.append(f"skipped {what}: ended {end.isoformat()}, before {since.isoformat()}")
        elif start and normalize.period_end(start, relation.start_precision) < since:
            continue  # began before the span: not news of this period
        elif start and start > until:
            continue  # a later span's
        else:
            kept.append(relation)
    return kept, notes


def _dated(day: date | None, precision: str) -> str:
    return normalize.format_partial_date(day, precision)


def relation_hits(
    qid: str,
    item: dict,
    relations: list[Relation],
    counterparts: dict[str, dict],
    *,
    match: NameMatch,
) -> list[Hit]:
    """One lead per relation whose counterpart's country is CN, HK or MO (pure).

    `counterparts` are the other parties' items by QID; one absent (missing from
    Wikidata) or without a Chinese country gives nothing. An owner holding under half
    (P1107) is an equity investment, not an acquisition.
    """
    entity_label = item_label(item) or qid
    evidence = hashlib.sha256(json.dumps(item, sort_keys=True).encode()).hexdigest()
    hits = []
    for relation in relations:
        other = counterparts.get(relation.counterpart)
        if other is None:
            continue
        # An owner may be the state itself (owned by Q148, the People's Republic).
        countries = [COUNTRY_ITEMS.get(relation.counterpart, ""), *item_countries(other)]
        chinese = [code for code in countries if code in rules.CHINESE_JURISDICTIONS]
        if not chinese:
            continue
        says, kind = RELATIONS[relation.prop]
        if relation.prop in OWNERS and relation.share is not None and relation.share < 0.5:
            kind = Finding.Kind.EQUITY_INVESTMENT
        name = item_label(other) or relation.counterpart
        excerpt = f"Wikidata: {entity_label} — {says} ({relation.prop}) {name}" + (
            f" since {_dated(relation.start, relation.start_precision)}"
            if relation.start
            else ", with no start date"
        )
        if relation.end:
            excerpt += f", until {_dated(relation.end, relation.end_precision)}"
        if relation.share is not None:
            excerpt += f", a share of {relation.share:.0%}"
        hits.append(
            Hit(
                kind=kind,
                counterparty_name=name,
                counterparty_country=chinese[0],
                event_date=relation.start,
                event_date_precision=relation.start_precision,
                url=ITEM_URL.format(qid=qid),
                excerpt=excerpt + ".",
                external_id=f"wikidata:{qid}:{relation.prop}:{relation.counterpart}",
                score=match.score,
                explanation=f"Wikidata {qid}: {match.explanation}",
                evidence_sha256=evidence,
                flags=dod_flags(*item_names(other)),
            )
        )
    return hits


# ----------------------------------------------------------------------------- fetching


class WikidataSource(Source):
    name = "wikidata"
    default_url = PUBLIC_URL
    # Wikimedia sets no hard limit on reads but asks clients to send one request at a
    # time, with a User-Agent naming a contact (the HTTP client sends one) and maxlag
    # (https://www.mediawiki.org/wiki/API:Etiquette): 5 a second across all workers is
    # within what one serial client reaches.
    rate_per_second = 5
    detects = (
        Finding.Kind.ACQUISITION,
        Finding.Kind.EQUITY_INVESTMENT,
        Finding.Kind.SUBSIDIARY,
    )

    def skip_reason(self, entity: Entity) -> str:
        reason = super().skip_reason(entity)
        if not reason and entity.kind == Entity.Kind.INDIVIDUAL:
            reason = "Wikidata's ownership statements are for organisations"
        return reason

    def search(
        self, entity: Entity, since: date, client: HttpClient, *, until: date | None = None
    ) -> SearchResult:
        today = timezone.localdate()
        until = min(until or today, today)
        reader = JsonReader(client, api_url(self.base_url), public_url=api_url(PUBLIC_URL))
        found = self._item(reader, entity)
        if found is None:
            reader.asked.append("no item matched the name well enough")
            return SearchResult(query="\n".join(reader.asked))
        qid, item, match = found
        kept, notes = in_period(parse_relations(item), since=since, until=until, today=today)
        counterparts = self._counterparts(reader, [relation.counterpart for relation in kept])
        hits = relation_hits(qid, item, kept, counterparts, match=match)
        asked = [f"item {qid} ({item_label(item) or 'no label'}): {match.explanation}"]
        return SearchResult(hits=hits, query="\n".join(asked + reader.asked + notes))

    def _get(self, reader: JsonReader, ids: list[str], props: str) -> dict[str, dict]:
        data, _ = reader.get(
            "",
            {
                "action": "wbgetentities",
                "ids": "|".join(ids),
                "props": props,
                "languages": LANGUAGES,
                **COMMON,
            },
        )
        return parse_items(data)

    def _item(self, reader: JsonReader, entity: Entity) -> tuple[str, dict, NameMatch] | None:
        """The entity's item by its Wikidata id, else the best match of a search by name
        (None below the match threshold)."""
        props = "labels|aliases|claims|descriptions"
        if entity.wikidata_id:
            items = self._get(reader, [entity.wikidata_id], props)
            item = items.get(entity.wikidata_id)
            if item is None:
                raise _problem(f"the entity's item {entity.wikidata_id} is missing")
            return _text(item.get("id")) or entity.wikidata_id, item, GIVEN
        names = matching.entity_names(entity)
        read: set[str] = set()
        for term in entity_terms(names):
            data, _ = reader.get(
                "",
                {
                    "action": "wbsearchentities",
                    "search": term,
                    "language": "en",
                    "type": "item",
                    "limit": SEARCH_LIMIT,
                    **COMMON,
                },
            )
            qids = [qid for qid in parse_search(data)[:BATCH] if qid not in read]
            if not qids:
                continue
            read.update(qids)
            best = best_item(self._get(reader, qids, props), names, entity.country)
            if best is not None and best[2].score >= settings.WISHLIST_MATCH_THRESHOLD:
                qid, item, found = best
                return qid, item, NameMatch(found.score, f"found by {term!r}: {found.explanation}")
        return None

    def _counterparts(self, reader: JsonReader, qids: list[str]) -> dict[str, dict]:
        """The counterparts' items, in batches of BATCH ids, at most MAX_COUNTERPARTS."""
        wanted = list(dict.fromkeys(qids))
        if len(wanted) > MAX_COUNTERPARTS:
            reader.asked.append(
                f"(read the first {MAX_COUNTERPARTS} of {len(wanted)} counterparts)"
            )
            wanted = wanted[:MAX_COUNTERPARTS]
        found: dict[str, dict] = {}
        for first in range(0, len(wanted), BATCH):
            found.update(self._get(reader, wanted[first : first + BATCH], "labels|aliases|claims"))
        return found


SOURCE = WikidataSource()
