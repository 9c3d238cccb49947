"""Possible duplicates (`cases.intake.selectors.entity_possible_duplicates`): similar
names are reported after an import, never merged."""

import pytest

from cases.models import Entity
from tests.intake.conftest import row, run_import, write_csv

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
