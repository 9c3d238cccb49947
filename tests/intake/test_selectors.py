"""Reads of the import (`cases.intake.selectors`): similar names are reported as possible
duplicates after an import, never merged; stored referrals read back as their rows."""

import pytest

from cases import normalize
from cases.intake import selectors
from cases.intake.files import read_table
from cases.intake.rows import check_rows
from cases.models import Entity
from tests.factories import EntityFactory
from tests.intake.conftest import GOOD_ROWS, row, run_import, write_csv

pytestmark = pytest.mark.django_db


def test_it_reports_a_similar_name_as_a_possible_duplicate_without_merging(tmp_path, existing):
    path = write_csv(
        tmp_path,
        [row(referral_id="R-1", host_country="GB", entity_name="Acme Robotic Ltd")],
    )

    out = run_import(path)

    assert "1 possible duplicate entit(y/ies), not merged" in out
    assert "'Acme Robotic Ltd' looks like 'Acme Robotics Limited' (GB" in out
    assert Entity.objects.count() == 2
    new = Entity.objects.get(name="Acme Robotic Ltd")
    assert new.name_key == "acme robotic"
    assert new.referrals.get().external_id == "R-1"
    assert existing.entity.referrals.count() == 1


def test_it_does_not_report_a_similar_name_in_another_country(tmp_path, existing):
    path = write_csv(
        tmp_path,
        [row(referral_id="R-1", host_country="US", entity_name="Acme Robotic Ltd")],
    )

    out = run_import(path)

    assert "possible duplicate" not in out


def test_a_stored_referral_reads_back_as_the_row_that_wrote_it(tmp_path):
    path = write_csv(tmp_path, GOOD_ROWS)
    run_import(path)
    checked = check_rows(read_table(path.read_bytes(), path.name))

    stored = selectors.stored_referral_values(
        external_ids=[*(r.external_id for r in checked.records), "NOT-STORED"]
    )

    assert stored == {r.external_id: r.referral_values() for r in checked.records}


def test_a_look_alike_in_another_script_of_a_stored_name_is_a_possible_duplicate(
    tmp_path, existing
):
    # "Асме" with a Cyrillic А and с: a different name key, a name that looks the same.
    look_alike = "\u0410\u0441me Robotics Limited"
    path = write_csv(tmp_path, [row(referral_id="R-1", host_country="GB", entity_name=look_alike)])

    out = run_import(path)

    assert "1 possible duplicate entit(y/ies), not merged" in out
    assert f"{look_alike!r} looks like 'Acme Robotics Limited' (GB, score 100: look-alike" in out
    assert Entity.objects.count() == 2


def test_look_alikes_within_one_file_are_possible_duplicates(tmp_path):
    path = write_csv(
        tmp_path,
        [
            row(referral_id="R-1", host_country="JP", entity_name="Kyoto Optics"),
            row(referral_id="R-2", host_country="JP", entity_name="Ky\u043eto 0ptics"),
        ],
    )

    out = run_import(path)

    assert "1 possible duplicate entit(y/ies), not merged" in out
    assert "score 100: look-alike characters: name keys" in out


@pytest.mark.parametrize(
    ("name", "look_alike"),
    [
        ("acme robotics", "\u0430\u0441me robotics"),  # Cyrillic а, с
        ("paypal", "p\u0430yp\u0430l"),
        ("kyoto optics", "ky0to 0ptics"),
        ("lumiere", "lum\u0456ere"),  # Ukrainian і
        ("robotics", "r\u03bfb\u03bftics"),  # Greek omicron
    ],
)
def test_confusable_key_is_the_same_for_names_that_look_alike(name, look_alike):
    key, other = normalize.name_key(name), normalize.name_key(look_alike)
    assert key != other
    assert selectors.confusable_key(key) == selectors.confusable_key(other)


def test_confusable_key_tells_apart_names_that_do_not_look_alike():
    assert selectors.confusable_key("acme robotics") != selectors.confusable_key("acne robotics")
    assert selectors.confusable_key("한빛") != selectors.confusable_key("한별")


def test_equivalent_legal_forms_of_one_name_in_one_country_are_one_entity(tmp_path):
    path = write_csv(
        tmp_path,
        [
            row(referral_id="R-1", host_country="RU", entity_name="Vextanbio Materials JSC"),
            row(referral_id="R-2", host_country="RU", entity_name="Vextanbio Materials LLC"),
            row(referral_id="R-3", host_country="RU", entity_name="OOO Vextanbio Materials"),
            row(referral_id="R-4", host_country="DE", entity_name="Fénent Optik AG"),
            row(
                referral_id="R-5", host_country="DE", entity_name="Fenent Optik Aktiengesellschaft"
            ),
        ],
    )

    run_import(path)

    entities = Entity.objects.order_by("country")
    assert [(e.country, e.name_key, e.referrals.count()) for e in entities] == [
        ("DE", "fenent optik", 2),
        ("RU", "vextanbio materials", 3),
    ]


def test_a_reordered_name_or_a_short_form_is_a_possible_duplicate(tmp_path):
    path = write_csv(
        tmp_path,
        [
            row(referral_id="R-1", host_country="GB", entity_name="Cambridge University"),
            row(referral_id="R-2", host_country="GB", entity_name="University of Cambridge"),
            row(referral_id="R-3", host_country="GB", entity_name="Oxford Nanopore"),
            row(referral_id="R-4", host_country="GB", entity_name="Oxford Nanopore Technologies"),
        ],
    )

    out = run_import(path)

    assert "2 possible duplicate entit(y/ies), not merged" in out
    assert "the same words in another order" in out
    assert "a short form: one leaves out 'technology'" in out
    assert Entity.objects.count() == 4


def test_names_that_differ_by_a_word_are_not_possible_duplicates(tmp_path):
    path = write_csv(
        tmp_path,
        [
            row(referral_id="R-1", host_country="CN", entity_name="Beijing University"),
            row(referral_id="R-2", host_country="CN", entity_name="Beijing Normal University"),
            row(referral_id="R-3", host_country="GB", entity_name="University of Cambridge"),
            row(
                referral_id="R-4",
                host_country="GB",
                entity_name="Cambridge University of Technology",
            ),
        ],
    )

    out = run_import(path)

    assert "possible duplicate" not in out


@pytest.mark.parametrize(
    ("key", "other", "least", "below"),
    [
        ("acme robotics", "\u0430\u0441me robotics", 100, 101),
        ("cambridge university", "university of cambridge", 90, 100),
        ("acme robotics", "acme robotic", 90, 100),
        ("china aerospace science and technology", "china aerospace science and industry", 0, 90),
    ],
)
def test_duplicate_score(key, other, least, below):
    assert least <= selectors.duplicate_score(key, other).score < below


def test_an_entity_whose_stored_key_predates_the_folding_is_a_possible_duplicate(tmp_path):
    # As migration 0010 leaves a collision: the JSC keeps its old key.
    kept = EntityFactory(name="Vextanbio Materials JSC", name_key="vextanbio materials jsc")
    Entity.objects.filter(pk=kept.pk).update(country="RU", name_key="vextanbio materials jsc")
    path = write_csv(
        tmp_path, [row(referral_id="R-1", host_country="RU", entity_name="Vextanbio Materials")]
    )

    out = run_import(path)

    assert "1 possible duplicate entit(y/ies), not merged" in out
    assert "the same name key" in out
    assert Entity.objects.count() == 2


def test_an_alias_of_one_entity_that_is_the_name_of_another_is_a_possible_duplicate(tmp_path):
    EntityFactory(name="Kestrel Optics", country="GB", aliases="Zephyr Photonics Ltd")
    path = write_csv(
        tmp_path, [row(referral_id="R-1", host_country="GB", entity_name="Zephyr Photonics")]
    )

    out = run_import(path)

    assert "'Zephyr Photonics' looks like 'Zephyr Photonics Ltd' (GB, score 100" in out
