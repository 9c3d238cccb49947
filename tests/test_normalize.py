"""The pure helpers of cases.normalize: name keys, countries, partial dates, period
comparison, identifier formats and post names. No database."""

import datetime

import pytest

from cases import normalize
from cases.normalize import PartialDate, Timing, compare_periods, name_key, parse_partial_date

# -------------------------------------------------------------------------- name_key


@pytest.mark.parametrize(
    ("names", "key"),
    [
        (["Acme Robotics Ltd.", "ACME ROBOTICS LIMITED", "acme robotics"], "acme robotics"),
        (
            ["Acme-Robotics, Inc.", "Acme Robotics Incorporated", "ACME ROBOTICS INC"],
            "acme robotics",
        ),
        (["Acme Robotics Co., Ltd.", "Acme Robotics Company Limited"], "acme robotics"),
        (["Siemens AG", "SIEMENS", "Siemens  "], "siemens"),
        (
            ["Université Paris-Saclay", "Universite Paris Saclay", "UNIVERSITÉ PARIS SACLAY"],
            "universite paris saclay",
        ),
        (["Ångström Labs AB", "Angstrom Labs"], "angstrom labs"),
        (["The Acme Company", "Acme Co", "THE ACME CO."], "acme"),
        (["Johnson & Johnson", "Johnson and Johnson"], "johnson and johnson"),
        (
            ["Shenzhen Example Technology Co., Ltd.", "Shenzhen Example Technology"],
            "shenzhen example technology",
        ),
    ],
)
def test_name_key_folds_case_punctuation_accents_legal_forms_and_a_leading_the(names, key):
    assert {name_key(name) for name in names} == {key}


def test_name_key_drops_legal_forms_only_at_the_end():
    assert name_key("Limited Edition Labs Ltd") == "limited edition labs"
    assert name_key("AG Robotics GmbH") == "ag robotics"


def test_name_key_keeps_the_in_the_middle_of_a_name():
    assert name_key("Bank of the West") == "bank of the west"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Ltd", "ltd"),
        ("Limited", "limited"),
        ("The", "the"),
        ("The Ltd.", "the"),
        ("Co Ltd", "co ltd"),
    ],  # fmt: skip
)
def test_name_key_is_never_empty_for_a_name_with_letters(name, key):
    assert name_key(name) == key


def test_name_key_keeps_non_latin_scripts():
    assert name_key("华为技术") == "华为技术"
    assert name_key("Москва Роботикс") == "москва роботикс"
    # A kana voicing mark decomposes into a combining mark, but is not an accent.
    assert name_key("ガイア") == "ガイア"


@pytest.mark.parametrize(
    ("names", "key"),
    [
        (["Siemens AG", "Siemens Aktiengesellschaft", "SIEMENS A.G."], "siemens"),
        (["Acme GmbH", "Acme Gesellschaft mit beschränkter Haftung", "Acme GmbH & Co. KG"], "acme"),
        (["Vextanbio Materials JSC", "Vextanbio Materials LLC", "Vextanbio Materials PJSC",
          "OOO Vextanbio Materials", "AO Vextanbio Materials", "Vextanbio Materials OAO",
          "ZAO Vextanbio Materials"], "vextanbio materials"),
        (["ООО «Ромашка»", "Общество с ограниченной ответственностью «Ромашка»",
          "АО Ромашка", "ПАО «Ромашка»"], "ромашка"),
        (["Acme SA", "Acme SAS", "Acme SARL", "Acme Société Anonyme"], "acme"),
        (["Acme S.p.A.", "Acme S.r.l.", "Acme Società per Azioni"], "acme"),
        (["Acme S.A.", "Acme S.L."], "acme"),
        (["Acme B.V.", "Acme N.V.", "Acme Naamloze Vennootschap"], "acme"),
        (["Acme AB", "Acme Aktiebolag"], "acme"),
        (["Toyota K.K.", "Toyota Kabushiki Kaisha"], "toyota"),
        (["Acme Sp. z o.o.", "Acme Spółka z ograniczoną odpowiedzialnością"], "acme"),
        (["Acme Oy", "Acme Oyj", "Acme Osakeyhtiö"], "acme"),
        (["华为技术有限公司", "华为技术股份有限公司", "华为技术"], "华为技术"),
        (["トヨタ株式会社", "株式会社トヨタ", "㈱トヨタ"], "トヨタ"),
        (["삼성전자 주식회사", "(주)삼성전자", "㈜삼성전자"], "삼성전자"),
        (["Fénent", "Fenent", "FÉNENT", "Ｆｅｎｅｎｔ"], "fenent"),
    ],
)  # fmt: skip
def test_name_key_folds_legal_forms_of_many_languages_and_scripts(names, key):
    assert {name: name_key(name) for name in names} == dict.fromkeys(names, key)


def test_name_key_keeps_a_legal_form_word_inside_a_name_as_written():
    assert name_key("Sociedad Limitada Labs S.L.") == "sociedad limitada labs"
    assert name_key("Made As One Ltd") == "made as one"
    # "S.A." inside "U.S.A." is no legal form.
    assert name_key("U.S.A. Robotics Inc.") == "usa robotics"


@pytest.mark.parametrize(
    ("word", "expected"),
    [("Ltd.", True), ("AG", True), ("ООО", True), ("S.p.A.", True), ("Aktiengesellschaft", True),
     ("Robotics", False), ("Acme", False), ("", False)],
)  # fmt: skip
def test_is_legal_form(word, expected):
    assert normalize.is_legal_form(word) is expected


def test_fold_folds_case_accents_and_width_and_keeps_scripts():
    assert normalize.fold("Fénent Straße") == "fenent strasse"
    assert normalize.fold("Ｆｅｎｅｎｔ") == "fenent"
    assert normalize.fold("华为") == "华为"
    assert normalize.fold("Fe\u200bnent") == "fenent"


def test_name_key_of_punctuation_only_is_empty_so_the_importer_can_refuse_it():
    assert name_key("!!!") == ""
    assert name_key("") == ""


@pytest.mark.parametrize(
    "names",
    [
        ["Acme S.A.", "Acme SA"],
        ["Acme N.V.", "Acme NV"],
        ["Acme B.V.", "Acme BV"],
    ],
)
def test_name_key_folds_dotted_legal_forms(names):
    assert {name_key(name) for name in names} == {"acme"}


# --------------------------------------------------------------------- parse_country


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("GB", "GB"),
        ("gb", "GB"),
        (" de ", "DE"),
        ("DEU", "DE"),
        ("fra", "FR"),
        ("Germany", "DE"),
        ("germany", "DE"),
        ("Russia", "RU"),
        ("Russian Federation", "RU"),
        ("South Korea", "KR"),
        ("Korea, Republic of", "KR"),
        ("North Korea", "KP"),
        ("Taiwan", "TW"),
        ("Taiwan, Province of China", "TW"),
        ("United Kingdom", "GB"),
        ("UK", "GB"),
        ("USA", "US"),
        ("United States", "US"),
        ("The Netherlands", "NL"),
        ("Netherlands", "NL"),
        ("Czechia", "CZ"),
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("Vietnam", "VN"),
        ("Viet Nam", "VN"),
        ("Iran", "IR"),
        ("Hong Kong", "HK"),
        ("People's Republic of China", "CN"),
        ("China", "CN"),
        ("  Japan  ", "JP"),
    ],
)
def test_parse_country_reads_codes_names_and_aliases(value, code):
    assert normalize.parse_country(value) == code


@pytest.mark.parametrize("value", ["", "  ", "Atlantis", "XX", "ZZZ", "Europe", "G", "Germanyy"])
def test_parse_country_returns_none_for_unknown_values(value):
    assert normalize.parse_country(value) is None


def test_country_helpers():
    assert normalize.is_country_code("GB")
    assert not normalize.is_country_code("gb")
    assert not normalize.is_country_code("UK")
    assert normalize.country_name("TW") == "Taiwan"
    assert normalize.country_name("XX") == "XX"
    assert normalize.is_currency_code("USD")
    assert not normalize.is_currency_code("QQQ")


# ---------------------------------------------------------------- parse_partial_date

TODAY = datetime.date(2024, 6, 15)


@pytest.mark.parametrize(
    ("text", "value", "precision"),
    [
        ("2017", datetime.date(2017, 1, 1), "year"),
        ("2017-05", datetime.date(2017, 5, 1), "month"),
        ("2017-5", datetime.date(2017, 5, 1), "month"),
        ("2017-05-03", datetime.date(2017, 5, 3), "day"),
        ("2016-02-29", datetime.date(2016, 2, 29), "day"),
        (" 2017-05 ", datetime.date(2017, 5, 1), "month"),
        ("1900", datetime.date(1900, 1, 1), "year"),
        ("2024-06-15", TODAY, "day"),
        ("2024-06", datetime.date(2024, 6, 1), "month"),
        ("2024", datetime.date(2024, 1, 1), "year"),
    ],
)
def test_parse_partial_date_reads_each_precision(text, value, precision):
    assert parse_partial_date(text, today=TODAY) == PartialDate(value, precision)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2017-02-30", "not a real calendar date"),
        ("2017-02-29", "not a real calendar date"),
        ("2017-13", "not a real calendar date"),
        ("2017-00", "not a real calendar date"),
        ("2017-05-00", "not a real calendar date"),
        ("2024-06-16", "in the future"),
        ("2024-07", "in the future"),
        ("2025", "in the future"),
        ("1899", "before 1900"),
        ("03/05/2017", "is not a date in the form"),
        ("2017/05/03", "is not a date in the form"),
        ("May 2017", "is not a date in the form"),
        ("17", "is not a date in the form"),
        ("2017-05-03T10:00", "is not a date in the form"),
        ("", "is not a date in the form"),
    ],
)
def test_parse_partial_date_refuses_bad_dates_with_a_reason(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_partial_date(text, today=TODAY)


def test_a_partial_date_knows_its_end_and_prints_at_its_precision():
    assert PartialDate(datetime.date(2016, 2, 1), "month").end == datetime.date(2016, 2, 29)
    assert PartialDate(datetime.date(2017, 1, 1), "year").end == datetime.date(2017, 12, 31)
    assert PartialDate(datetime.date(2017, 5, 3), "day").end == datetime.date(2017, 5, 3)
    assert str(PartialDate(datetime.date(2017, 5, 1), "month")) == "2017-05"
    assert str(PartialDate(datetime.date(2017, 1, 1), "year")) == "2017"
    assert str(PartialDate(datetime.date(2017, 5, 3), "day")) == "2017-05-03"
    assert normalize.format_partial_date(None, None) == ""


# ------------------------------------------------------------------ compare_periods


def period(text: str) -> tuple[datetime.date, str]:
    parsed = parse_partial_date(text, today=TODAY)
    return parsed.value, parsed.precision


@pytest.mark.parametrize(
    ("event", "index", "timing"),
    [
        ("2016", "2017", Timing.BEFORE),
        ("2018", "2017", Timing.AFTER),
        ("2017", "2017", Timing.UNKNOWN),
        ("2017", "2017-05", Timing.UNKNOWN),
        ("2017-05", "2017", Timing.UNKNOWN),
        ("2017-05-31", "2017-05", Timing.UNKNOWN),
        ("2017-04-30", "2017-05", Timing.BEFORE),
        ("2017-06-01", "2017-05", Timing.AFTER),
        ("2017-05-02", "2017-05-03", Timing.BEFORE),
        ("2017-05-03", "2017-05-03", Timing.UNKNOWN),
        ("2017-05-04", "2017-05-03", Timing.AFTER),
        ("2016-12", "2017", Timing.BEFORE),
        ("2018-01", "2017", Timing.AFTER),
        ("2018", "2017-12-31", Timing.AFTER),
        ("2017", "2017-12-31", Timing.UNKNOWN),
    ],
)
def test_compare_periods_places_an_event_only_when_the_periods_do_not_overlap(event, index, timing):
    assert compare_periods(*period(event), *period(index)) == timing


def test_compare_periods_is_unknown_without_both_dates_and_precisions():
    day = datetime.date(2017, 5, 3)
    assert compare_periods(None, "", day, "day") == Timing.UNKNOWN
    assert compare_periods(day, "day", None, "") == Timing.UNKNOWN
    assert compare_periods(day, "", day, "day") == Timing.UNKNOWN
    assert compare_periods(day, "day", day, "") == Timing.UNKNOWN


# ---------------------------------------------------------------------- identifiers


def test_a_real_lei_is_valid():
    assert normalize.lei_error("INR2EJN1ERAN0W5ZP974") == ""


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("INR2EJN1ERAN0W5ZP975", "check digits do not match"),
        ("INR2EJN1ERAN0W5ZP964", "check digits do not match"),
        ("INR2EJN1ERAN0W5ZQ974", "check digits do not match"),
        ("inr2ejn1eran0w5zp974", "18 letters or digits"),
        ("INR2EJN1ERAN0W5ZP97", "18 letters or digits"),
        ("INR2EJN1ERAN0W5ZP9744", "18 letters or digits"),
        ("INR2EJN1ERAN0W5ZP9X4", "18 letters or digits"),
        ("", "18 letters or digits"),
    ],
)
def test_a_changed_or_malformed_lei_is_invalid(value, reason):
    assert reason in normalize.lei_error(value)


@pytest.mark.parametrize(
    ("validator", "good", "bad"),
    [
        (normalize.cik_error, ["320193", "0000320193", "1"], ["", "00003201931", "32O193", "-1"]),
        (
            normalize.uk_company_number_error,
            ["00445790", "SC123456", "NI000001"],
            ["445790", "sc123456", "SC1234567", "S1234567", ""],
        ),
        (
            normalize.ror_error,
            ["052gg0110", "03yrm5c26"],
            ["152gg0110", "052GG0110", "052gg011", "052gl0110", "https://ror.org/052gg0110"],
        ),
        (
            normalize.openalex_error,
            ["I27837315", "A5023888391", "F4320306076"],
            ["i27837315", "W2741809807", "I123", ""],
        ),
        (normalize.wikidata_error, ["Q2283", "Q1"], ["Q0123", "q2283", "P31", "Q", ""]),
    ],
)
def test_identifier_validators_accept_good_and_refuse_bad_formats(validator, good, bad):
    assert [value for value in good if validator(value)] == []
    assert [value for value in bad if not validator(value)] == []


# ------------------------------------------------------------------------ other


def test_split_list_trims_drops_empties_and_repeats_and_keeps_order():
    assert normalize.split_list(" b ; a;;b\n c ") == ["b", "a", "c"]
    assert normalize.split_list("a,b", ";") == ["a,b"]
    assert normalize.split_list("") == []


@pytest.mark.parametrize(
    ("name", "kind", "city"),
    [
        ("Consulate-General in Houston", "consulate_general", "Houston"),
        ("Consulate General in São Paulo", "consulate_general", "São Paulo"),
        ("Consulate in Osaka", "consulate", "Osaka"),
        ("Embassy in Tokyo", "embassy", "Tokyo"),
        ("Embassy in Japan", "embassy", ""),
        ("Embassy in the Netherlands", "embassy", ""),
        ("Trade Office in Taipei", "other", "Taipei"),
        ("Embassy", "embassy", ""),
        ("Liaison office", "other", ""),
    ],
)
def test_post_kind_and_city_are_read_from_the_post_name(name, kind, city):
    assert normalize.post_kind(name) == kind
    assert normalize.post_city(name) == city


# ------------------------------------------------------------------- strip_invisible

INVISIBLE = [
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # bidi embeddings and overrides
    "\u2066", "\u2067", "\u2068", "\u2069",  # bidi isolates
    "\u200e", "\u200f", "\u061c",  # directional marks
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",  # zero width
    "\U000e0041",  # a tag character
]  # fmt: skip


@pytest.mark.parametrize("character", INVISIBLE, ids=[f"U+{ord(c):04X}" for c in INVISIBLE])
def test_strip_invisible_removes_a_control_that_changes_how_a_name_shows(character):
    assert normalize.strip_invisible(f"Acme{character} Robo{character}tics") == (
        "Acme Robotics",
        2,
    )


@pytest.mark.parametrize(
    "text",
    [
        "Acme Robotics",
        "Lumière Systèmes",
        "한빛반도체",
        "شركة الروبوتات",
        "Ｆｕｌｌ",
        "a\u00a0b",
        "",
    ],
)
def test_strip_invisible_leaves_visible_text_of_any_script_alone(text):
    assert normalize.strip_invisible(text) == (text, 0)


def test_fold_strips_accents_and_vowel_points_but_keeps_letters_that_combine():
    assert normalize.fold("Йошкар-Ола") == "иошкар-ола"
    assert normalize.fold("مُحَمَّد") == "محمد"
    assert normalize.fold("हिन्दी") == "हिन्दी"  # Indic vowel signs are letters
    assert normalize.fold("ガ") == "ガ"  # a kana voicing mark is not an accent
