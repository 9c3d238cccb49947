"""Judging hits: name scores with explanations, Chinese places, event kinds, DoD 1260H."""

import pytest

from cases.checks import matching
from cases.models import Entity
from cases.reference import DOD_1260H as DOD
from cases.reference import ReferenceListError

DOD_HEADER = "Name,Clean Name,Alias,Previous Name\n"


def test_the_same_name_key_scores_100_and_says_why():
    result = matching.match_name(["Acme Robotics Ltd"], "ACME ROBOTICS LIMITED")
    assert result.score == 100
    assert "acme robotics" in result.explanation


def test_a_misspelling_scores_high_but_not_full():
    result = matching.match_name(["Acme Robotics Ltd"], "Acme Robotic Limited")
    assert 85 <= result.score < 100
    assert "resembles" in result.explanation


def test_an_unrelated_name_scores_low():
    assert matching.match_name(["Acme Robotics Ltd"], "Globex Pharmaceuticals").score < 60


def test_aliases_and_native_names_take_part():
    entity = Entity(
        name="Kyoto Photonics KK", name_native="京都光子", aliases="KP Labs\nKyoto Photon"
    )
    names = matching.entity_names(entity)
    assert names == ["Kyoto Photonics KK", "京都光子", "KP Labs", "Kyoto Photon"]
    assert matching.match_name(names, "京都光子").score == 100


def test_text_that_names_the_entity_as_a_word_scores_100():
    result = matching.match_in_text(
        ["Acme Robotics Ltd"], "Acme Robotics signs joint venture with Shenzhen partner"
    )
    assert result.score == 100


def test_a_name_inside_another_word_is_not_a_mention():
    assert matching.match_in_text(["Acme"], "Acmeville fair opens").score < 100


@pytest.mark.parametrize(
    "text, country",
    [
        ("Shenzhen Example Technology Co., Ltd.", "CN"),
        ("微软(中国)有限公司", "CN"),
        ("Tsinghua University", "CN"),
        ("Hong Kong Applied Science Ltd", "HK"),
        ("Macau University of Science and Technology", "MO"),
        ("Kyoto University", ""),
        ("Taiwan, Province of China", ""),
        ("トヨタ自動車株式会社と提携", ""),
        ("Macanese investor", "MO"),
        ("Chinatown Deli LLC", ""),
        ("", ""),
    ],
)
def test_chinese_country_from_names(text, country):
    assert matching.chinese_country(text) == country


@pytest.mark.parametrize(
    "text, kind",
    [
        ("Acme forms joint venture with Shanghai firm", "joint_venture"),
        ("Chinese group acquires Acme", "acquisition"),
        ("Tencent takes 20% stake in Acme", "equity_investment"),
        ("Acme signs patent licence with Huawei", "ip_licence"),
        ("Acme and Tsinghua sign MOU", "partnership"),
        ("Acme opens new headquarters", ""),
    ],
)
def test_kind_from_text(text, kind):
    assert matching.kind_from_text(text) == kind


@pytest.fixture
def dod_dir(settings, tmp_path):
    """Settings pointing WISHLIST_REFERENCE_DIR at an empty folder; the list is read
    afresh before and after, so no other test sees what is read here."""
    matching.dod_1260h_names.cache_clear()
    settings.WISHLIST_REFERENCE_DIR = tmp_path
    yield tmp_path
    matching.dod_1260h_names.cache_clear()


def test_dod_1260h_names_and_aliases_are_flagged():
    assert matching.dod_1260h_flag("Aviation Industry Corporation of China, Ltd.").startswith(
        "dod_1260h: Aviation Industry Corporation of China"
    )
    assert matching.dod_1260h_flag("AVIC").startswith("dod_1260h:")
    assert matching.dod_1260h_flag("Acme Robotics Ltd") == ""


def test_the_dod_list_is_read_from_the_configured_folder(dod_dir):
    (dod_dir / DOD).write_text(
        DOD_HEADER + "Example Aerospace Corporation of China (EXAC)*,"
        "Example Aerospace Corporation of China,EXAC;EXA Corp,Old Example Aero\n",
        encoding="utf-8",
    )

    for name in ("Example Aerospace Corporation of China", "EXA Corp", "Old Example Aero"):
        assert matching.dod_1260h_flag(name) == "dod_1260h: Example Aerospace Corporation of China"
    # The shipped list is not read from this folder.
    assert matching.dod_1260h_flag("Aviation Industry Corporation of China") == ""


def test_a_missing_dod_list_is_an_error_naming_the_file_and_the_setting(dod_dir):
    with pytest.raises(ReferenceListError) as error:
        matching.dod_1260h_flag("Aviation Industry Corporation of China")

    assert str(error.value) == (
        f"Reference list {dod_dir / DOD} is missing (read from WISHLIST_REFERENCE_DIR)."
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("Name,Alias,Previous Name\nAVIC,,\n", "has no column Clean Name"),
        (DOD_HEADER, "has no rows"),
        (DOD_HEADER + "AVIC,AVIC,,\n,,Nameless,\n", "line 3: no Name or Clean Name"),
    ],
)
def test_a_malformed_dod_list_is_an_error(dod_dir, content, problem):
    (dod_dir / DOD).write_text(content, encoding="utf-8")

    with pytest.raises(ReferenceListError) as error:
        matching.dod_1260h_names()

    assert error.value.path == dod_dir / DOD
    assert error.value.problem == problem


def test_a_chinese_name_inside_chinese_text_is_a_mention():
    text = "艾克米机器人与华为技术有限公司签署合作协议"
    assert matching.match_in_text(["艾克米机器人"], text).score == 100


def test_accents_are_folded_in_text_as_in_name_keys():
    text = "Mueller and Müller Präzision sign MOU with Shanghai partner"
    assert matching.match_in_text(["Müller Präzision GmbH"], text).score == 100


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ("Siemens AG", "Siemens Aktiengesellschaft"),
        ("Romashka OOO", "Romashka LLC"),
        ("Cambridge University", "University of Cambridge"),
        ("Oxford Nanopore", "Oxford Nanopore Technologies"),
        ("Газпром", "Gazprom PJSC"),
        ("华为", "Huawei"),
    ],
)
def test_legal_forms_word_order_short_forms_and_scripts_match(ours, theirs):
    result = matching.match_name([ours], theirs)
    assert result.score >= 85, result.explanation


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ("University of Cambridge", "Cambridge University of Technology"),
        ("China Aerospace Science and Technology Corporation",
         "China Aerospace Science and Industry Corporation"),
        ("Beijing University", "Beijing Normal University"),
        ("Acme Robotics", "Acme Pharmaceuticals"),
    ],
)  # fmt: skip
def test_names_that_share_words_but_differ_by_one_do_not_match(ours, theirs):
    result = matching.match_name([ours], theirs)
    assert result.score < 85, result.explanation


def test_a_two_character_chinese_name_is_a_mention_as_a_word_or_before_a_company_word():
    assert matching.match_in_text(["华为"], "华为公司与某大学签署合作协议").score == 100
    assert matching.match_in_text(["华为"], "据报道 华为 收购了一家公司").score == 100
    names = ["Huawei", "华为技术有限公司"]
    assert matching.match_in_text(names, "华为技术有限公司发布").score == 100


def test_a_two_character_chinese_name_inside_a_longer_word_is_not_a_mention():
    # 中华为... ("China is ...") holds 华为 without naming the company.
    result = matching.match_in_text(["华为"], "中华为世界第二大经济体")
    assert result.score < 85
    assert "inside longer words" in result.explanation


def test_a_university_named_in_the_other_order_in_text_is_a_mention():
    text = "The University of Cambridge signs a partnership with a Shenzhen firm"
    assert matching.match_in_text(["Cambridge University"], text).score == 100


def test_two_character_chinese_names_on_the_dod_list_are_kept(dod_dir):
    (dod_dir / DOD).write_text(DOD_HEADER + "Zhongxing,中兴,,\n", encoding="utf-8")
    matching.dod_1260h_names.cache_clear()
    assert matching.dod_1260h_flag("中兴") == matching.DOD_1260H_FLAG + "中兴"


# ------------------------------------------------------------------ names in free text


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("Geely takes control of Lotus", 90),  # a short form of "Group Lotus", mid-sentence
        ("Lotus Cars signs deal with Geely", 90),  # before a company word
        ("Lotus signs deal with Geely", 90),  # the subject of a deal verb
        ("Lotus flower festival draws investment", 75),  # may be the flower
        ("lotus root exports rise", 0),  # lower case: the word
        ("Lotus Bakeries signs partnership", 50),  # the start of another name
    ],
)
def test_a_name_that_is_a_common_word_counts_where_used_as_a_name(text, score):
    assert matching.match_in_text(["Group Lotus"], text).score == score


def test_a_common_word_name_with_its_legal_form_or_possessive_is_the_name():
    assert matching.match_in_text(["Frost Ltd"], "Tencent takes stake in Frost Ltd").score == 100
    assert matching.match_in_text(["Frost Ltd"], "Frost's data unit sold").score == 100
    assert matching.match_in_text(["Frost Ltd"], "Early frost hits growers").score == 0


@pytest.mark.parametrize(
    ("ours", "text"),
    [
        ("University of Michigan", "Michigan State University signs partnership"),
        ("Michigan State University", "University of Michigan signs partnership"),
        ("Cambridge University", "Cambridge University of Technology signs MOU"),
        ("Zhejiang University", "Zhejiang University of Technology signs MOU"),
        ("Kyoto University", "Kyoto University of Advanced Science partners"),
    ],
)
def test_a_university_is_not_matched_to_a_similarly_named_one(ours, text):
    result = matching.match_in_text([ours], text)
    assert result.score < 85, result.explanation


def test_short_forms_of_a_company_name():
    assert matching.short_form("Group Lotus") == "lotus"
    assert matching.short_form("KraussMaffei Group GmbH") == "kraussmaffei"
    assert matching.short_form("Pirelli & C. S.p.A.") == "pirelli"
    assert matching.short_form("EEW Energy from Waste GmbH") == "eew"
    assert matching.short_form("Acme Robotics Ltd") == ""
    assert matching.match_in_text(["EEW Energy from Waste GmbH"], "EEW sale completed").score == 90


# ------------------------------------------------------------------ China markers


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("ChemChina", "CN"),
        ("PetroChina Company Limited", "CN"),
        ("Sinochem Holdings", "CN"),
        ("Beijing Enterprises Holdings", "HK"),  # the gazetteer: a Hong Kong company
        ("SJM Holdings", "MO"),
        ("Republic of China Air Force", ""),
        ("People's Republic of China", "CN"),
        ("Taipei Fubon Bank", ""),
        ("Indochina Capital", ""),
        ("Sino-German Fund", ""),
        ("株式会社日立製作所", ""),  # Japanese legal form, no kana
        ("東京電力", ""),  # Tokyo
        ("広島大学", ""),  # a Japanese-only character form
        ("北京大学", "CN"),
    ],
)
def test_chinese_country_reads_the_gazetteer_compounds_taiwan_and_japanese(text, country):
    assert matching.chinese_country(text) == country


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Weichai buys Acme", "acquisition"),
        ("Weichai bought Acme", "acquisition"),
        ("Weichai to take over Acme", "acquisition"),
        ("Acme tender offer reaches 88 percent", "acquisition"),
        ("Chinese buyers snap up Acme", "acquisition"),
        ("Acme to merge with BYD unit", "acquisition"),
        ("Kunlun to take full control of Acme", "acquisition"),
        ("Acme is now fully owned by Kunlun", "acquisition"),
        ("Valeant sells Acme to Sanpower", "acquisition"),
        ("Acme sale to Beijing Enterprises completed", "acquisition"),
        ("Zoomlion launches bid for Acme", "acquisition"),
        ("Chemchina kauft Acme", "acquisition"),
        ("Kunlun Tech buys 60 percent stake in Acme", "equity_investment"),
        ("Fosun buys into Acme", "equity_investment"),
        ("Shanghai Electric becomes anchor shareholder of Acme", "equity_investment"),
        ("Acme licences antibody to Fosun Pharma", "ip_licence"),
        ("Acme and Hisense form venture", "joint_venture"),
        ("Fosun Pharma teams up with Acme", "partnership"),
        ("Acme strikes vaccine pact with Fosun", "partnership"),
        ("Acme and Fosun agree to supply vaccine doses", "partnership"),
        ("Acme signs supply agreement with SAIC", "partnership"),
        ("Investor group sells nothing", ""),  # "investor" names a party, not a deal
    ],
)
def test_deal_and_purchase_verbs_in_many_forms(text, kind):
    assert matching.kind_from_text(text) == kind


@pytest.mark.parametrize(
    ("name", "country"),
    [
        ("China Basin Capital Partners, L.P.", ""),
        ("Yum China Holdings", ""),
        ("China National Building Material", "CN"),
        ("Agricultural Bank of China", "CN"),
        ("Siemens (China) Co., Ltd.", "CN"),
        ("China Merchants Port", "CN"),  # the gazetteer
        ("Shenzhen Example Technology", "CN"),
        ("PetroChina", "CN"),
    ],
)
def test_china_in_a_partys_own_name_counts_only_on_some_ground(name, country):
    assert matching.chinese_country(name, as_name=True) == country
