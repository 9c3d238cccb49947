"""The definitions written once and the metadata every download carries. No database."""

import datetime
import json
import re

from cases.analytics import downloads, estimates, methods
from tests import commented_csv
from wishlist.version import code_version

NOON = datetime.datetime(2026, 12, 2, 12, 30, 5, 123456, tzinfo=datetime.UTC)


def test_the_definitions_name_every_figure_of_the_table_once():
    terms = [item.term for item in methods.definitions()]

    assert len(terms) == len(set(terms))
    for term in ("Case", "Checked", "Reviewed", "Concluded", "Positive", "Rate", "Bounds"):
        assert term in terms
    for term in ("Waiting bound", "Corrected", "Small", "p (Holm)", "Followed", "Not followed"):
        assert term in terms


def test_the_definitions_state_the_constants_the_figures_use():
    text = {item.term: item.text for item in methods.definitions()}

    assert f"fewer than {estimates.SMALL_COHORT} reviewed" in text["Small"]
    assert f"seed {estimates.BOOTSTRAP_SEED}" in text["Corrected"]
    assert "Begg-Greenes" in text["Corrected"]
    assert "Wilson" in text["Rate"]


def test_the_extraction_time_is_utc_iso_to_the_second():
    eastern = NOON.astimezone(datetime.timezone(datetime.timedelta(hours=-5)))

    assert methods.extraction_time(eastern) == "2026-12-02T12:30:05Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", methods.extraction_time())


def test_the_metadata_holds_filters_time_version_and_definitions():
    metadata = methods.download_metadata(
        title="t.csv", filters={"dimension": "year", "team": None}, now=NOON
    )

    assert metadata["title"] == "t.csv"
    assert metadata["extracted_at"] == "2026-12-02T12:30:05Z"
    assert metadata["code_version"] == code_version()
    assert metadata["filters"] == {"dimension": "year", "team": ""}
    assert metadata["definitions"]["Reviewed"].startswith("the concluded cases")


def test_a_csv_leads_with_its_metadata_then_the_header():
    metadata = methods.download_metadata(filters={"outcome": "any"}, title="x.csv", now=NOON)

    text = downloads.csv_with_metadata("a,b\r\n1,2\r\n", metadata)
    comments, table = commented_csv.split_metadata(text)

    assert comments[0] == "x.csv"
    assert table == "a,b\r\n1,2\r\n"
    assert commented_csv.metadata(text)["filter outcome"] == "any"
    assert commented_csv.metadata(text)["extracted_at"] == "2026-12-02T12:30:05Z"
    assert commented_csv.metadata(text)["code_version"] == code_version()
    assert commented_csv.metadata(text)["definition Small"].startswith("a cohort with fewer")


def test_a_line_break_in_a_filter_cannot_end_the_comment_block():
    metadata = methods.download_metadata(filters={"q": "Acme\r\n=1+2,3"}, now=NOON)

    text = downloads.csv_with_metadata("a\r\n", metadata)

    assert commented_csv.metadata(text)["filter q"] == "Acme =1+2,3"
    assert commented_csv.table(text) == [["a"]]


def test_json_puts_the_metadata_beside_the_data():
    metadata = methods.download_metadata(filters={"outcome": "any"}, now=NOON)

    document = json.loads(downloads.json_with_metadata([{"cohort": "北京"}], metadata))

    assert document == {"metadata": metadata, "data": [{"cohort": "北京"}]}
