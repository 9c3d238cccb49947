"""Writing checked referrals (`cases.intake.services.referrals_import`): posts,
entities, cases and referrals written whole, stored entities reused, index dates
kept right, and re-importing changes nothing."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from cases import derived
from cases.intake.files import COLUMNS
from cases.models import Case, Entity, Finding, Post, Referral
from tests.factories import CaseFactory, EntityFactory
from tests.intake.conftest import (
    GOOD_ROWS,
    refused,
    row,
    run_import,
    snapshot,
    write_csv,
    write_xlsx,
)

pytestmark = pytest.mark.django_db


def test_it_imports_a_good_csv_with_the_right_values(tmp_path):
    out = run_import(write_csv(tmp_path, GOOD_ROWS))

    assert "Read 5 row(s); created 5 referral(s), 5 entit(y/ies), 5 case(s), 4 post(s)" in out
    assert Referral.objects.count() == 5
    assert Entity.objects.count() == Case.objects.count() == 5

    r1 = Referral.objects.get(external_id="R-001")
    assert (r1.date, r1.date_precision) == (datetime.date(2017, 5, 3), "day")
    assert r1.host_country == "RU"
    assert r1.cooperation_methods == ["joint_venture", "investment"]
    assert r1.proposed_amount == Decimal("1000000")
    assert r1.currency == "USD"
    assert r1.summary == "Offered to buy a stake."
    assert r1.source_url == "https://example.org/cables/r-001"
    assert r1.source_reference == ""
    assert r1.technology_field == "robotics"
    assert (r1.post.name, r1.post.kind, r1.post.city, r1.post.host_country) == (
        "Embassy in Moscow",
        Post.Kind.EMBASSY,
        "Moscow",
        "RU",
    )
    assert (r1.entity.name, r1.entity.name_key, r1.entity.country, r1.entity.kind) == (
        "Acme Robotics Ltd.",
        "acme robotics",
        "RU",
        Entity.Kind.COMPANY,
    )
    case = r1.entity.case
    assert (case.index_date, case.index_date_precision, case.status) == (
        datetime.date(2017, 5, 3),
        "day",
        Case.Status.OPEN,
    )

    r2 = Referral.objects.get(external_id="R-002")
    assert (r2.date, r2.date_precision) == (datetime.date(2018, 7, 1), "month")
    assert r2.host_country == "KR"
    assert r2.source_url == ""
    assert r2.source_reference == "Cable 2018/07/12 para 4"
    assert r2.proposed_amount is None
    assert r2.currency == ""
    assert r2.cooperation_methods == ["patent_licence"]
    assert (r2.post.kind, r2.post.city) == (Post.Kind.CONSULATE_GENERAL, "Busan")
    assert r2.entity.name_native == "한빛반도체"
    assert r2.entity.kind == Entity.Kind.UNIVERSITY
    assert r2.entity.technology_fields == "semiconductors"
    assert r2.entity.case.index_date_precision == "month"

    r3 = Referral.objects.get(external_id="R-003")
    assert (r3.date, r3.date_precision) == (datetime.date(2016, 1, 1), "year")
    assert r3.host_country == "TW"
    assert r3.post is None
    assert r3.cooperation_methods == []
    assert r3.entity.kind == Entity.Kind.RESEARCH_INSTITUTE
    assert r3.entity.case.index_date == datetime.date(2016, 1, 1)

    r4 = Referral.objects.get(external_id="R-004")
    assert r4.host_country == "DE"
    assert r4.cooperation_methods == ["joint_rd", "rd_staff_hiring"]
    assert (r4.proposed_amount, r4.currency) == (Decimal("2500.50"), "EUR")

    r5 = Referral.objects.get(external_id="R-005")
    assert r5.host_country == "FR"
    assert r5.entity.name == "Lumière Systèmes SA"
    assert r5.entity.name_key == "lumiere systemes"


def test_it_makes_one_entity_of_two_spellings_and_keeps_the_other_as_alias(tmp_path):
    path = write_csv(
        tmp_path,
        [
            row(referral_id="R-1", host_country="GB", entity_name="Acme Robotics Ltd."),
            row(
                referral_id="R-2",
                host_country="United Kingdom",
                entity_name="ACME ROBOTICS LIMITED",
                referral_date="2016-02",
            ),
            row(referral_id="R-3", host_country="US", entity_name="Acme Robotics Inc"),
        ],
    )

    out = run_import(path)

    assert "created 3 referral(s), 2 entit(y/ies), 2 case(s)" in out
    entity = Entity.objects.get(country="GB")
    assert entity.name == "Acme Robotics Ltd."
    assert entity.name_key == "acme robotics"
    assert entity.alias_list == ["ACME ROBOTICS LIMITED"]
    assert set(entity.referrals.values_list("external_id", flat=True)) == {"R-1", "R-2"}
    assert (entity.case.index_date, entity.case.index_date_precision) == (
        datetime.date(2016, 2, 1),
        "month",
    )
    # Same name in another country is another entity.
    assert Entity.objects.get(country="US").referrals.get().external_id == "R-3"


def test_it_adds_referrals_to_an_existing_entity_by_name_key(tmp_path, existing):
    path = write_csv(
        tmp_path,
        [row(referral_id="R-1", host_country="GB", entity_name="ACME ROBOTICS LTD")],
    )

    out = run_import(path)

    assert "created 1 referral(s), 0 entit(y/ies), 0 case(s)" in out
    assert Entity.objects.count() == 1
    assert existing.entity.referrals.count() == 2


def test_an_entity_stored_without_a_case_gets_one_with_its_index_date(tmp_path):
    entity = EntityFactory(name="Orphan Optics Ltd", country="GB")
    assert not Case.objects.filter(entity=entity).exists()
    path = write_csv(
        tmp_path,
        [
            row(
                referral_id="R-1",
                referral_date="2018-09",
                host_country="GB",
                entity_name="Orphan Optics Ltd",
            )
        ],
    )

    out = run_import(path)

    assert "created 1 referral(s), 0 entit(y/ies), 1 case(s)" in out
    case = Case.objects.get(entity=entity)
    assert (case.index_date, case.index_date_precision) == (datetime.date(2018, 9, 1), "month")


def test_a_new_spelling_of_a_stored_entity_is_kept_as_an_alias(tmp_path, existing):
    path = write_csv(
        tmp_path,
        [row(referral_id="R-1", host_country="GB", entity_name="ACME ROBOTICS LTD")],
    )

    run_import(path)

    existing.entity.refresh_from_db()
    assert existing.entity.name == "Acme Robotics Limited"
    assert "ACME ROBOTICS LTD" in existing.entity.alias_list


def test_a_kind_different_from_the_stored_one_is_a_warning_and_the_stored_kind_is_kept(
    tmp_path, existing
):
    path = write_csv(
        tmp_path,
        [
            row(
                referral_id="R-1",
                host_country="GB",
                entity_name="Acme Robotics Ltd",
                entity_type="university",
            )
        ],
    )

    out = run_import(path)

    assert "Warning: line 2:" in out
    existing.entity.refresh_from_db()
    assert existing.entity.kind == Entity.Kind.COMPANY


def test_importing_the_same_file_twice_changes_nothing_the_second_time(tmp_path):
    path = write_csv(tmp_path, GOOD_ROWS)
    run_import(path)
    after_first = snapshot()
    stored = list(Referral.objects.values().order_by("external_id"))

    out = run_import(path)

    assert "created 0 referral(s), 0 entit(y/ies), 0 case(s), 0 post(s)" in out
    assert "5 referral(s) already stored unchanged" in out
    assert "Nothing to change" in out
    assert snapshot() == after_first
    assert list(Referral.objects.values().order_by("external_id")) == stored


def test_an_xlsx_of_already_imported_referrals_changes_nothing(tmp_path):
    run_import(write_csv(tmp_path, GOOD_ROWS))
    after_first = snapshot()
    path = write_xlsx(tmp_path, list(COLUMNS), [[cells[c] for c in COLUMNS] for cells in GOOD_ROWS])

    out = run_import(path)

    assert "Nothing to change" in out
    assert snapshot() == after_first


def test_it_refuses_a_referral_id_stored_with_other_content(tmp_path, existing):
    path = write_csv(
        tmp_path,
        [
            row(referral_id="R-NEW", entity_name="Good Robotics Ltd"),
            row(referral_id="OLD-1", entity_name="Acme Robotics Ltd", host_country="GB"),
        ],
    )
    before = snapshot()

    report = refused(path)

    assert "line 3, column referral_id: referral id 'OLD-1' is already stored with a" in report
    assert "nothing was written" in report
    assert snapshot() == before


def test_an_earlier_referral_moves_the_index_date_and_rederives_finding_timing(tmp_path, existing):
    finding = derived.finding_create(
        case=existing,
        kind=Finding.Kind.JOINT_VENTURE,
        event_date=datetime.date(2018, 3, 1),
        event_date_precision="day",
    )
    assert (existing.index_date, existing.index_date_precision) == (
        datetime.date(2019, 1, 1),
        "year",
    )
    assert finding.timing == Finding.Timing.BEFORE
    path = write_csv(
        tmp_path,
        [
            row(
                referral_id="R-EARLY",
                referral_date="2017",
                host_country="GB",
                post="Embassy in London",
                entity_name="Acme Robotics Ltd",
            )
        ],
    )

    out = run_import(path)

    assert "created 1 referral(s), 0 entit(y/ies), 0 case(s), 0 post(s)" in out
    existing.refresh_from_db()
    assert (existing.index_date, existing.index_date_precision) == (
        datetime.date(2017, 1, 1),
        "year",
    )
    finding.refresh_from_db()
    assert finding.timing == Finding.Timing.AFTER


def test_a_later_referral_leaves_the_index_date_alone(tmp_path, existing):
    path = write_csv(
        tmp_path,
        [
            row(
                referral_id="R-LATE",
                referral_date="2021-04",
                host_country="GB",
                entity_name="Acme Robotics Ltd",
            )
        ],
    )

    run_import(path)

    existing.refresh_from_db()
    assert (existing.index_date, existing.index_date_precision) == (
        datetime.date(2019, 1, 1),
        "year",
    )


def test_a_dry_run_reports_the_counts_and_writes_nothing(tmp_path, existing):
    path = write_csv(
        tmp_path,
        [
            *GOOD_ROWS,
            row(
                referral_id="R-6",
                post="Embassy in London",
                host_country="GB",
                entity_name="Acme Robotic Ltd",
            ),
        ],
    )
    before = snapshot()

    out = run_import(path, "--dry-run")

    assert "Read 6 row(s); would create 6 referral(s), 6 entit(y/ies), 6 case(s), 4 post(s)" in out
    assert "possible duplicate" in out
    assert "Dry run: nothing was written." in out
    assert snapshot() == before


def test_a_dry_run_of_a_bad_file_is_refused_the_same_way(tmp_path, existing):
    path = write_csv(tmp_path, [row(referral_id="R-1"), row(referral_id="R-2", currency="QQQ")])
    before = snapshot()

    report = refused(path, "--dry-run")

    assert "line 3, column currency: unknown currency 'QQQ'" in report
    assert snapshot() == before


def test_it_imports_several_thousand_rows_in_chunks(tmp_path):
    countries = ["DE", "FR", "JP", "KR", "US", "GB"]
    count = 6000
    rows = [
        row(
            referral_id=f"B-{n:05d}",
            referral_date=f"{2015 + n % 5}-{1 + n % 12:02d}",
            post=f"Embassy in Capital {n % 40}",
            host_country=countries[n % len(countries)],
            entity_name=f"Bulk Entity {n:05d} Ltd",
            cooperation_method="joint venture; investment" if n % 2 else "patent licence",
            proposed_amount=f"{n * 1000:,}" if n % 3 == 0 else "",
            currency="USD" if n % 3 == 0 else "",
        )
        for n in range(count)
    ]
    path = write_csv(tmp_path, rows)

    out = run_import(path)

    assert f"Read {count} row(s); created {count} referral(s), {count} entit(y/ies)" in out
    assert Referral.objects.count() == Entity.objects.count() == Case.objects.count() == count
    assert Case.objects.filter(index_date__isnull=True).count() == 0
    sample = Referral.objects.get(external_id="B-04203")
    assert sample.host_country == countries[4203 % 6]
    assert (sample.date, sample.date_precision) == (
        datetime.date(2015 + 4203 % 5, 1 + 4203 % 12, 1),
        "month",
    )
    assert sample.proposed_amount == Decimal("4203000")
    assert sample.cooperation_methods == ["joint_venture", "investment"]
    assert sample.entity.case.index_date == sample.date
    assert Referral.objects.filter(cooperation_methods__has="patent_licence").count() == 3000

    # Again: every id is looked up (in chunks) and found unchanged.
    out = run_import(path)
    assert f"{count} referral(s) already stored unchanged" in out
    assert "Nothing to change" in out

    # Earlier referrals for every entity: each stored case's index date is recomputed.
    earlier = [
        {**cells, "referral_id": f"E-{n:05d}", "referral_date": "2010"}
        for n, cells in enumerate(rows)
    ]
    out = run_import(write_csv(tmp_path, earlier, name="earlier.csv"))
    assert f"created {count} referral(s), 0 entit(y/ies), 0 case(s)" in out
    assert Case.objects.filter(index_date=datetime.date(2010, 1, 1)).count() == count
    assert Case.objects.exclude(index_date_precision="year").count() == 0


# ------------------------------------------------------- a control referred after all


@pytest.fixture
def control(existing):
    """A control matched to the existing case: a GB company in robotics, never referred."""
    return CaseFactory(
        entity=EntityFactory(name="Gamma Sensors Ltd", technology_fields="robotics"),
        kind=Case.Kind.CONTROL,
        matched_case=existing,
    )


def test_a_control_the_file_refers_is_flagged_with_when_and_leaves_its_pair(
    tmp_path, existing, control
):
    path = write_csv(
        tmp_path,
        [row(referral_id="R-9", host_country="GB", entity_name="GAMMA SENSORS LIMITED")],
    )
    started = timezone.now()

    out = run_import(path)

    stored = Case.objects.get(pk=control.pk)
    referral = Referral.objects.get(external_id="R-9")
    assert referral.entity_id == control.entity_id  # the same entity, by its name key
    assert "1 control case(s) are referred in this file" in out
    assert stored.kind == Case.Kind.CONTROL
    assert stored.later_referral == referral
    assert started <= stored.referred_later_at <= timezone.now()
    # Still on its matched case's clock; its history row records the flag.
    assert stored.index_date == existing.index_date
    assert stored.history.first().referred_later_at == stored.referred_later_at


def test_a_control_referred_again_keeps_when_it_was_first_flagged(tmp_path, control):
    run_import(
        write_csv(
            tmp_path, [row(referral_id="R-9", host_country="GB", entity_name="Gamma Sensors Ltd")]
        )
    )
    first = Case.objects.get(pk=control.pk).referred_later_at

    out = run_import(
        write_csv(
            tmp_path,
            [row(referral_id="R-10", host_country="GB", entity_name="Gamma Sensors Ltd")],
            name="more.csv",
        )
    )

    assert "control case(s)" not in out
    assert Case.objects.get(pk=control.pk).referred_later_at == first


def test_a_dry_run_flags_no_control(tmp_path, control):
    path = write_csv(
        tmp_path, [row(referral_id="R-9", host_country="GB", entity_name="Gamma Sensors Ltd")]
    )

    out = run_import(path, "--dry-run")

    assert "1 control case(s) are referred in this file" in out
    assert Case.objects.get(pk=control.pk).referred_later_at is None


def test_a_referral_entered_by_hand_flags_the_control_too(control):
    referral = derived.referral_save(
        referral=Referral(
            external_id="HAND-1",
            entity=control.entity,
            date=datetime.date(2020, 1, 1),
            date_precision="year",
            host_country="GB",
        )
    )

    stored = Case.objects.get(pk=control.pk)
    assert (stored.later_referral, stored.referred_later_at is not None) == (referral, True)
