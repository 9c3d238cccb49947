"""Wikidata (the Action API at https://www.wikidata.org/w/api.php, no key): who owns the
entity and what it owns in China, as the entity's item states it.

The item is the entity's Wikidata id, or the best match of `wbsearchentities` by name
read with `wbgetentities`. Its parent organisation (P749) and owners (P127) are what
bought or invested in the entity; its subsidiaries (P355) and holdings (P1830) are what
it set up or bought. Each statement may carry a start (P580) and an end (P582); the
counterparts are read in one batched `wbgetentities` for their labels and country (P17).
A counterpart in CN, HK or MO is a lead, dated by the statement's start.

Reading the API's JSON is in `items` (pure, shared with the identity resolver); judging
what an item says about the period searched is here.
"""

import hashlib
import json
from datetime import date

from django.conf import settings
from django.utils import timezone

from cases import normalize, rules
from cases.checks import matching
from cases.checks.http import HttpClient
from cases.checks.matching import NameMatch
from cases.checks.sources import Hit, SearchResult, Source
from cases.checks.sources.common import JsonReader, dod_flags
from cases.checks.sources.wikidata.items import (
    COUNTRY_ITEMS,
    Relation,
    api_url,
    item_countries,
    item_label,
    item_names,
    parse_items,
    parse_relations,
    parse_search,
    problem,
    search_terms,
    text,
)
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

# The relation properties read, what each says and the kind of lead it gives.
RELATIONS = {
    "P749": ("parent organization", Finding.Kind.ACQUISITION),
    "P127": ("owned by", Finding.Kind.ACQUISITION),
    "P355": ("subsidiary", Finding.Kind.SUBSIDIARY),
    "P1830": ("owner of", Finding.Kind.SUBSIDIARY),
}
OWNERS = ("P749", "P127")
GIVEN = NameMatch(100.0, "Wikidata id given on the entity")

# ----------------------------------------------------------------------------- judging


def entity_terms(names: list[str]) -> list[str]:
    """What to search for an entity known by these names (its name first), at most
    MAX_TERMS: each name and its name key, the native name and aliases after the name,
    for an item labelled with a short form or in another script."""
    terms = [term for name in names for term in search_terms(name)]
    return list(dict.fromkeys(terms))[:MAX_TERMS]


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
    searched_with = ("wikidata_id",)

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
        kept, notes = in_period(
            parse_relations(item, tuple(RELATIONS)), since=since, until=until, today=today
        )
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
                raise problem(f"the entity's item {entity.wikidata_id} is missing")
            return text(item.get("id")) or entity.wikidata_id, item, GIVEN
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
