"""Reading news headlines: a labelled set of deal headlines, true and false, read by
news.read_headline and news.headline_hit, and the rules behind them one by one.

headlines.csv holds one headline a row: the entity's names (";" between them), whether
it is a lead at the default threshold (85), and when given the kind, counterparty,
country and flag (its prefix: did_not_complete, unwound, ended) the reading must have.
"""

import csv
from datetime import date
from pathlib import Path

import pytest

from cases.checks import matching
from cases.checks.sources import news

HEADLINES = Path(__file__).with_name("headlines.csv")
THRESHOLD = 85  # settings.WISHLIST_MATCH_THRESHOLD's default


def labelled() -> list[dict[str, str]]:
    with open(HEADLINES, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def hit_of(names: list[str], headline: str, *, min_score: float = THRESHOLD):
    return news.headline_hit(
        names,
        headline,
        published=date(2020, 5, 1),
        since=date(2019, 1, 1),
        url="https://news.example.com/a",
        external_id="test:a",
        details=("Example Wire",),
        evidence_sha256="0" * 64,
        min_score=min_score,
    )


def test_the_labelled_set_is_large_and_has_both_kinds():
    rows = labelled()
    assert len(rows) >= 200
    leads = sum(row["lead"] == "1" for row in rows)
    assert 60 <= leads <= len(rows) - 60


@pytest.mark.parametrize("row", labelled(), ids=lambda row: row["headline"][:60].replace(" ", "_"))
def test_a_labelled_headline_is_read_as_labelled(row):
    names = row["names"].split(";")
    reading = news.read_headline(names, row["headline"])
    hit = hit_of(names, row["headline"])
    read = (
        reading.kind,
        reading.counterparty_name,
        reading.counterparty_country,
        reading.flag.split(":")[0],
    )
    why = f"{row['about']}: read as {read}, score {reading.score}, {reading.match.explanation}"

    assert (hit is not None) == (row["lead"] == "1"), why
    if row["kind"]:
        assert reading.kind == row["kind"], why
    if row["counterparty"]:
        assert reading.counterparty_name == row["counterparty"], why
    if row["country"]:
        assert reading.counterparty_country == row["country"], why
    assert reading.flag.split(":")[0] == row["flag"], why
    if hit:
        assert (hit.kind, hit.counterparty_name, hit.counterparty_country) == read[:3]


# ------------------------------------------------------------------ flags and scores


def test_a_blocked_deal_is_kept_flagged_and_scored_lower():
    names = ["Lindqvist Automation AB"]
    headline = "Government blocks Chinese takeover of Lindqvist Automation"

    assert hit_of(names, headline) is None
    hit = hit_of(names, headline, min_score=0)
    assert hit.flags == ("did_not_complete: blocks",)
    assert hit.score == 100 - news.NOT_AN_EVENT_PENALTY
    assert "did_not_complete: blocks" in hit.explanation


def test_a_chinese_owner_selling_out_is_an_unwinding():
    names = ["Brightwater Genomics Inc"]
    headline = "Chinese owner Huaxia Bio sells Brightwater Genomics to U.S. investor group"

    hit = hit_of(names, headline, min_score=0)
    assert hit.counterparty_name == "Huaxia Bio"
    assert hit.flags == ("unwound: the Chinese party sells",)
    assert hit.score == 70


def test_an_ended_partnership_is_flagged_but_keeps_its_score():
    names = ["University of Leeds"]
    hit = hit_of(names, "University of Leeds ends partnership with Shenzhen University")
    assert hit.flags == ("ended: ends",)
    assert hit.score == 100


def test_a_counterparty_on_the_dod_list_keeps_its_flag_after_the_deal_flag():
    hit = hit_of(
        ["Acme Robotics Ltd"], "Acme Robotics rejects Huawei offer for company", min_score=0
    )
    assert hit.flags[0] == "did_not_complete: rejects"
    assert hit.flags[1].startswith(matching.DOD_1260H_FLAG)


# ------------------------------------------------------------------ parties


def test_the_buyer_after_to_is_the_counterparty_not_the_seller():
    found = news.parties("| sells lamps unit to China's Hengli as Osram exits")
    assert [party.name for party in found] == ["Hengli"]
    reading = news.read_headline(["Valmet"], "Valmet sells Norvik Sensors to China's Hengli")
    assert reading.counterparty_name == "Hengli" and reading.flag == ""


def test_a_party_noun_without_a_name_is_an_unnamed_party():
    [party] = news.parties("Chinese consortium agrees to buy |")
    assert party == news.Party("", "CN", 0)


def test_china_as_a_market_is_no_party():
    for text in (
        "| bets on China growth with new investment push",
        "| sees China demand recovering, plans investment",
        "| warns of China slowdown as acquisition costs weigh",
        "Michigan governor defends Chinese partnership on battery plant",
    ):
        assert news.parties(text) == [], text


def test_a_listing_venue_is_no_party():
    assert news.parties("Hong Kong-listed Razer expands | partnership") == []
    assert news.parties("Razer completes take-private, delists from Hong Kong") == []


def test_taiwan_leaves_only_the_gazetteer():
    assert news.parties("Taiwan's Republic of China Air Force signs | deal") == []
    [party] = news.parties("Taiwan's Pegaron and Huawei form joint venture with |")
    assert party.name == "Huawei"


def test_a_name_with_china_in_it_is_chinese_only_on_some_ground():
    assert news.parties("Yum China, Plano, Texas, signs supply agreement with |") == []
    assert news.parties("China Basin Capital Partners takes stake in |") == []
    [state] = news.parties("China National Building Material buys |")
    assert state.name == "China National Building Material"
    [bank] = news.parties("| sold to Agricultural Bank of China unit")
    assert bank.name == "Agricultural Bank of China"


def test_compound_china_markers():
    for name in ("ChemChina", "PetroChina", "Sinochem", "Sinosteel", "ChinaPower Holdings"):
        [party] = news.parties(f"{name} buys |")
        assert (party.name, party.country) == (name, "CN")
    assert news.parties("Sino-German fund signs | partnership") == []
    assert news.parties("| expands in Indochina") == []


def test_chinese_names_of_any_length_and_not_japanese():
    long_name = "中国航天科工集团第二研究院下属北京航天长峰股份有限公司"
    assert news.chinese_party(f"| 与{long_name}签署合作协议") == long_name
    assert news.chinese_party("同方股份有限公司收购 |") == "同方股份有限公司"
    assert news.chinese_party("| と東京大学が共同研究で提携") == ""
    assert news.chinese_party("| 株式会社日立製作所と提携") == ""


# ------------------------------------------------------------------ the gazetteer


def test_every_gazetteer_row_has_a_country_and_a_source():
    parties = matching.chinese_parties()
    assert len(parties) >= 60
    assert {party.country for party in parties} == {"CN", "HK", "MO"}
    assert all(party.source.startswith("https://") for party in parties)


def test_gazetteer_names_are_found_as_written_or_in_any_case_when_long():
    [mention] = matching.gazetteer_mentions("Chemchina kauft Kraussmaffei")
    assert mention.party.name == "China National Chemical Corporation"
    # Acronyms and names of several words only as written.
    assert matching.gazetteer_mentions("zte shares") == []
    assert matching.gazetteer_mentions("China life expectancy rises") == []
    assert matching.gazetteer_mentions("Beijing Enterprises buys EEW")[0].party.country == "HK"


def test_a_gazetteer_row_without_a_source_is_refused(tmp_path):
    path = tmp_path / "parties.csv"
    path.write_text("name,aliases,country,source\nExample Group,,CN,\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        matching.chinese_parties(path)
    path.write_text("name,country\nExample Group,CN\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no column aliases, source"):
        matching.chinese_parties(path)
