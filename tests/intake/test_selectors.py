"""Reads of the import (`cases.intake.selectors`): similar names are reported as possible
duplicates after an import, never merged; stored referrals read back as their rows."""

import pytest

from cases.intake import selectors
from cases.intake.files import read_table
from cases.intake.rows import check_rows
from cases.models import Entity
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
