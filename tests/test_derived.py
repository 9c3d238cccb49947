"""The index dates kept right when referrals are saved, moved or deleted one by one (the
admin's referral pages and the entity page's referral inline); a refused save changes
nothing."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from cases import derived, normalize
from cases.models import Case, Entity, Finding, Referral
from tests.factories import CaseFactory, FindingFactory, PostFactory, ReferralFactory

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"


def stored_rows():
    """What a refused write must leave as it was: referrals, index dates and history."""
    return (
        list(Referral.objects.order_by("pk").values()),
        list(Case.objects.order_by("pk").values("pk", "index_date", "index_referral")),
        Referral.history.count(),
    )


def new_referral(entity, **fields) -> Referral:
    values = {
        "external_id": "R-NEW",
        "post": PostFactory(),
        "date": date(2017, 5, 1),
        "date_precision": "month",
        "host_country": "GB",
        **fields,
    }
    return Referral(entity=entity, **values)


def index_of(case) -> tuple:
    case = Case.objects.get(pk=case.pk)
    return case.index_date, case.index_date_precision


# ------------------------------------------------------------- entity_index_dates_refresh


def test_it_refreshes_the_cases_of_the_entities_named_only():
    case, other = CaseFactory(), CaseFactory()
    ReferralFactory(entity=case.entity)
    ReferralFactory(entity=other.entity)

    updated = derived.entity_index_dates_refresh(entity_ids=[case.entity_id, None])

    assert updated == 1
    assert index_of(case) == (date(2017, 5, 1), "month")
    assert index_of(other) == (None, "")


def test_it_refreshes_nothing_for_no_saved_entity():
    assert derived.entity_index_dates_refresh(entity_ids=[None]) == 0


# ------------------------------------------------------------------------ referral_save


def test_a_saved_referral_sets_the_index_date_and_the_finding_timing():
    case = CaseFactory()
    finding = FindingFactory(case=case, event_date=date(2019, 3, 1))

    referral = derived.referral_save(referral=new_referral(case.entity, summary=HOSTILE))

    assert index_of(case) == (date(2017, 5, 1), "month")
    assert Case.objects.get(pk=case.pk).index_referral == referral
    assert Finding.objects.get(pk=finding.pk).timing == Finding.Timing.AFTER
    assert Referral.objects.get(pk=referral.pk).summary == HOSTILE


def test_a_referral_moved_to_another_entity_refreshes_both_cases():
    old, new = CaseFactory(), CaseFactory()
    referral = ReferralFactory(entity=old.entity)
    derived.case_index_dates_refresh(case_ids=[old.pk])
    referral.entity = new.entity

    derived.referral_save(referral=referral)

    assert index_of(old) == (None, "")
    assert index_of(new) == (date(2017, 5, 1), "month")


def test_a_referral_with_a_taken_id_is_refused_and_changes_nothing():
    case = CaseFactory()
    ReferralFactory(entity=case.entity, external_id="R-1", date=date(2018, 6, 1))
    derived.case_index_dates_refresh(case_ids=[case.pk])
    before = stored_rows()

    with pytest.raises(ValidationError) as exc_info:
        derived.referral_save(
            referral=new_referral(case.entity, external_id="R-1", date=date(2015, 1, 1))
        )

    assert "external_id" in exc_info.value.message_dict
    assert stored_rows() == before


@pytest.mark.parametrize(
    "fields",
    [
        {"host_country": "<b"},
        {"host_country": "XX"},
        {"date_precision": "week"},
        {"external_id": ""},
        {"proposed_amount": -1, "currency": "USD"},
        {"cooperation_methods": ["bribery"]},
    ],
)
def test_an_invalid_referral_is_refused_and_changes_nothing(fields):
    case = CaseFactory()
    before = stored_rows()

    with pytest.raises(ValidationError):
        derived.referral_save(referral=new_referral(case.entity, **fields))

    assert stored_rows() == before


# ------------------------------------------------------------------------ referrals_delete


def test_deleting_a_referral_refreshes_its_case_and_counts_it():
    case, other = CaseFactory(), CaseFactory()
    early = ReferralFactory(entity=case.entity, date=date(2015, 1, 1), date_precision="year")
    later = ReferralFactory(entity=case.entity, date=date(2018, 6, 1))
    ReferralFactory(entity=other.entity)
    derived.case_index_dates_refresh()

    deleted = derived.referrals_delete(referrals=Referral.objects.filter(pk=early.pk))

    assert deleted == 1
    assert index_of(case) == (date(2018, 6, 1), "month")
    assert Case.objects.get(pk=case.pk).index_referral == later
    assert index_of(other) == (date(2017, 5, 1), "month")


def test_deleting_a_referral_twice_deletes_nothing_more():
    case = CaseFactory()
    referral = ReferralFactory(entity=case.entity)
    ReferralFactory(entity=case.entity, date=date(2019, 1, 1), date_precision="year")
    derived.referrals_delete(referrals=Referral.objects.filter(pk=referral.pk))
    before = stored_rows()

    deleted = derived.referrals_delete(referrals=Referral.objects.filter(pk=referral.pk))

    assert deleted == 0
    assert stored_rows() == before


def test_deleting_every_referral_of_a_case_clears_its_index_date():
    case = CaseFactory()
    ReferralFactory.create_batch(2, entity=case.entity)
    derived.case_index_dates_refresh(case_ids=[case.pk])

    deleted = derived.referrals_delete(referrals=Referral.objects.filter(entity=case.entity))

    assert deleted == 2
    assert index_of(case) == (None, "")


# ------------------------------------------------------------- entity_save


def test_a_saved_entity_loses_the_invisible_characters_of_its_names():
    entity = Entity(
        name="Acme\u202e Photonics\u200b",
        name_native="\u2066阿克米\u2069",
        aliases="Acme\u200d Labs",
        country="DE",
    )

    derived.entity_save(entity=entity)

    stored = Entity.objects.get(pk=entity.pk)
    assert (stored.name, stored.name_native, stored.aliases) == (
        "Acme Photonics",
        "阿克米",
        "Acme Labs",
    )
    assert stored.name_key == normalize.name_key("Acme Photonics")
    assert Case.objects.filter(entity=stored).exists()


def test_the_migration_derives_index_period_ends_and_the_timings_that_follow():
    """Rows saved before the rule existed: the migration gives each case the earliest end
    among its referral periods (a control its matched case's) and re-derives timings."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("cases.migrations.0016_surv_index_period_end")
    entity = CaseFactory().entity
    ReferralFactory(entity=entity, date=date(2017, 1, 1), date_precision="year")
    ReferralFactory(entity=entity, date=date(2017, 3, 5), date_precision="day")
    case = CaseFactory(entity=entity)
    derived.case_index_dates_refresh(case_ids=[case.pk])
    case.refresh_from_db()  # its index referral, which the control is matched on
    control = CaseFactory(kind=Case.Kind.CONTROL, matched_case=case)
    derived.case_index_dates_refresh(case_ids=[case.pk])
    finding = FindingFactory(case=case, event_date=date(2017, 6, 10))
    # As the rows stood under the old rule: the period of the "2017" referral alone.
    Case.objects.filter(pk__in=[case.pk, control.pk]).update(index_period_end=date(2017, 12, 31))
    Finding.objects.filter(pk=finding.pk).update(timing=Finding.Timing.UNKNOWN)

    migration.index_period_ends(apps, None)

    assert set(Case.objects.values_list("index_period_end", flat=True)) == {date(2017, 3, 5)}
    assert Finding.objects.get(pk=finding.pk).timing == Finding.Timing.AFTER
