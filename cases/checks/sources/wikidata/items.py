"""Reading Wikidata's JSON (https://doc.wikimedia.org/Wikibase/master/php/docs_topics_json.html):
the Action API's answers and errors, an item's names, country and dated statements.

Pure functions, shared by the Wikidata check and the identity resolver, so both read
statements alike. A statement of another shape than the documented one is skipped rather
than read wrong; a body that is not the documented answer raises PermanentHttpError.
"""

from dataclasses import dataclass
from datetime import date

from cases import normalize
from cases.checks.http import PermanentHttpError, RateLimitedError, TransientHttpError

COUNTRY = "P17"
START, END, SHARE = "P580", "P582", "P1107"

# A Wikibase time's precision: 9 a year, 10 a month, 11 a day; coarser (a decade, a
# century) dates nothing this work can use.
PRECISIONS = {
    9: normalize.DatePrecision.YEAR,
    10: normalize.DatePrecision.MONTH,
    11: normalize.DatePrecision.DAY,
}
PERCENT = "http://www.wikidata.org/entity/Q11229"  # a quantity's unit "percent"
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

    prop: str  # the relation property, e.g. P127
    counterpart: str  # the QID of the other party
    start: date | None
    start_precision: str  # "" without a start
    end: date | None
    end_precision: str
    share: float | None  # P1107, 0-1, when stated


def problem(message: str) -> PermanentHttpError:
    return PermanentHttpError(f"Wikidata: {message}")


def text(value: object) -> str:
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
        raise problem("the response is not a JSON object")
    error = body.get("error")
    if error is None:
        return
    code = text(error.get("code")) if isinstance(error, dict) else ""
    info = (text(error.get("info")) if isinstance(error, dict) else "") or code or str(error)
    if code == "maxlag":
        raise TransientHttpError(f"Wikidata: replicas lag, retry later: {info}")
    if code == "ratelimited":
        raise RateLimitedError(f"Wikidata: rate limited: {info}")
    raise problem(f"API error: {info}")


def search_terms(name: str) -> list[str]:
    """The name, then its name key (legal form and punctuation dropped): the search
    matches a label's or alias's prefix, so "Dendreon Corporation" misses an item
    labelled "Dendreon" and "dendreon" finds it (the search ignores case)."""
    key = normalize.name_key(name)
    return [name, key] if key and key != name.casefold() else [name]


def parse_search(body: object) -> list[str]:
    """Return the QIDs of a wbsearchentities response, in its order (pure)."""
    api_error(body)
    if not isinstance(body.get("search"), list):
        raise problem("wbsearchentities: no search list")
    return [
        text(hit.get("id")) for hit in body["search"] if isinstance(hit, dict) and hit.get("id")
    ]


def parse_items(body: object) -> dict[str, dict]:
    """Return the items of a wbgetentities response by QID, missing ones left out (pure).

    An id that redirects to another item (two merged items) comes back as the target,
    under the id asked or with `redirects.from` naming it: the item is found under the
    id asked and under its own.
    """
    api_error(body)
    if not isinstance(body.get("entities"), dict):
        raise problem("wbgetentities: no entities object")
    items = {}
    for key, item in body["entities"].items():
        if not isinstance(item, dict) or "missing" in item:
            continue
        items[key] = items[text(item.get("id")) or key] = item
        redirect = item.get("redirects")
        if isinstance(redirect, dict) and text(redirect.get("from")):
            items[text(redirect["from"])] = item
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
        qid = text(value.get("id"))
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
    names = [text(label.get("value")) for _, label in ordered if isinstance(label, dict)]
    for entries in aliases.values():
        if isinstance(entries, list):
            names += [text(entry.get("value")) for entry in entries if isinstance(entry, dict)]
    return tuple(dict.fromkeys(name for name in names if name))


def item_label(item: dict) -> str:
    """The English label, else any label, else ""."""
    labels = item.get("labels") if isinstance(item.get("labels"), dict) else {}
    for language in ("en", "mul", *labels):
        label = labels.get(language)
        if isinstance(label, dict) and text(label.get("value")):
            return text(label["value"])
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


def parse_share(value: object) -> float | None:
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


def parse_relations(item: dict, props: tuple[str, ...]) -> list[Relation]:
    """The item's statements of `props` whose value is an item, in that order (pure).

    A statement whose value is "unknown" or "no value", or not an item, is skipped.
    """
    relations = []
    for prop in props:
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
                    parse_share(_qualifier(statement, SHARE)),
                )
            )
    return relations
