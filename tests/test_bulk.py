"""bulk_insert writes exactly the values given, whatever the database (binary COPY on
PostgreSQL, bulk_create elsewhere)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.bulk import bulk_insert, filter_in
from cases.models import Entity, Referral
from tests.factories import EntityFactory

HOSTILE = [
    "tab\there",
    "new\nline",
    "carriage\rreturn",
    "back\\slash",
    "\\N",
    "\\.",
    "'; DROP TABLE cases_entity; --",
    "北京 大学 ©",
    "",
]


@pytest.mark.django_db
def test_it_round_trips_hostile_strings():
    now = timezone.now()
    rows = [
        (f"Name {i} {text}", text, f"name {i}", "GB", "company", now, now)
        for i, text in enumerate(HOSTILE)
    ]
    bulk_insert(
        Entity,
        ["name", "name_native", "name_key", "country", "kind", "created_at", "updated_at"],
        rows,
    )
    stored = dict(Entity.objects.values_list("name_key", "name_native"))
    assert stored == {f"name {i}": text for i, text in enumerate(HOSTILE)}
    # Columns not given get their field defaults.
    entity = Entity.objects.get(name_key="name 0")
    assert entity.lei == "" and entity.is_demo is False and entity.aliases == ""


@pytest.mark.django_db
def test_it_writes_dates_amounts_nulls_and_choice_lists():
    entity = EntityFactory()
    now = timezone.now()
    bulk_insert(
        Referral,
        [
            "external_id",
            "entity_id",
            "post_id",
            "date",
            "date_precision",
            "host_country",
            "cooperation_methods",
            "proposed_amount",
            "currency",
            "created_at",
        ],  # fmt: skip
        [
            (
                "X1",
                entity.id,
                None,
                datetime.date(2017, 5, 1),
                "month",
                "GB",
                ["joint_venture", "investment"],
                Decimal("1500000.50"),
                "USD",
                now,
            ),
            ("X2", entity.id, None, datetime.date(2016, 1, 1), "year", "GB", [], None, "", now),
        ],  # fmt: skip
    )
    first, second = Referral.objects.order_by("external_id")
    assert first.date == datetime.date(2017, 5, 1)
    assert first.cooperation_methods == ["joint_venture", "investment"]
    assert first.proposed_amount == Decimal("1500000.50")
    assert first.post is None
    assert second.cooperation_methods == [] and second.proposed_amount is None
    assert Referral.objects.filter(cooperation_methods__has="investment").count() == 1


@pytest.mark.django_db
def test_filter_in_selects_across_chunks():
    entities = EntityFactory.create_batch(3)
    wanted = [e.name_key for e in entities[:2]] + [f"missing {i}" for i in range(6000)]
    found = set()
    for queryset in filter_in(Entity.objects.all(), "name_key", wanted):
        found.update(queryset.values_list("id", flat=True))
    assert found == {entities[0].id, entities[1].id}
