"""Hand-made registry bodies in the documented shapes, for what no recorded response
shows (ROR, Wikidata) and for answers a test needs to control."""

LEI_BMW = "YEH5ZCD6E441RHVHD759"  # a valid LEI (ISO 7064 check digits)
LEI_OTHER = "529900T8BM49AURSDO55"


def lei_record(lei: str, name: str, country: str, other_names: tuple[str, ...] = ()) -> dict:
    return {
        "type": "lei-records",
        "id": lei,
        "attributes": {
            "lei": lei,
            "entity": {
                "legalName": {"name": name, "language": "de"},
                "otherNames": [
                    {"name": other, "type": "ALTERNATIVE_LANGUAGE_LEGAL_NAME"}
                    for other in other_names
                ],
                "transliteratedOtherNames": [],
                "legalAddress": {"city": "München", "country": country},
                "headquartersAddress": {"country": country},
            },
        },
    }


def lei_records(*records: dict) -> dict:
    return {"meta": {"pagination": {"total": len(records)}}, "data": list(records)}


def wikidata_search(*qids: str) -> dict:
    return {
        "searchinfo": {"search": "x"},
        "search": [{"id": qid, "label": qid, "match": {"type": "label"}} for qid in qids],
        "success": 1,
    }


def _statement(prop: str, value) -> dict:
    if isinstance(value, str) and value.startswith("Q") and prop in ("P17", "P31"):
        datavalue = {"value": {"entity-type": "item", "id": value}, "type": "wikibase-entityid"}
    else:
        datavalue = {"value": value, "type": "string"}
    return {
        "mainsnak": {"snaktype": "value", "property": prop, "datavalue": datavalue},
        "type": "statement",
        "rank": "normal",
    }


def wikidata_item(qid: str, label: str, *, aliases=(), claims: dict | None = None) -> dict:
    return {
        "type": "item",
        "id": qid,
        "labels": {"en": {"language": "en", "value": label}},
        "aliases": {"en": [{"language": "en", "value": alias} for alias in aliases]},
        "claims": {prop: [_statement(prop, value)] for prop, value in (claims or {}).items()},
    }


def wikidata_entities(*items: dict) -> dict:
    return {"entities": {item["id"]: item for item in items}, "success": 1}


def ror_item(
    ror_id: str, name: str, country: str, *, aliases=(), wikidata: str = "", status="active"
) -> dict:
    return {
        "id": f"https://ror.org/{ror_id}",
        "status": status,
        "types": ["education"],
        "names": [
            {"value": name, "types": ["ror_display", "label"], "lang": "en"},
            *({"value": alias, "types": ["alias"], "lang": None} for alias in aliases),
        ],
        "locations": [
            {"geonames_id": 1, "geonames_details": {"country_code": country, "name": "x"}}
        ],
        "external_ids": (
            [{"type": "wikidata", "all": [wikidata], "preferred": wikidata}] if wikidata else []
        ),
    }


def ror_items(*items: dict) -> dict:
    return {"number_of_results": len(items), "time_taken": 3, "items": list(items), "meta": {}}
