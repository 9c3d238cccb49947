"""Merge records and "not the same" judgements in the admin: read-only, with an Undo
action for those allowed to change merge records."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from cases.identity import merging
from cases.models import DistinctPair, Entity
from tests.factories import CaseFactory, EntityFactory, UserFactory
from tests.identity.test_merging import every_table

pytestmark = pytest.mark.django_db


@pytest.fixture
def merged(admin_user):
    a = CaseFactory(entity=EntityFactory(name="Acme Robotics Limited")).entity
    b = CaseFactory(entity=EntityFactory(name="Acme Robotic Ltd")).entity
    c = CaseFactory(entity=EntityFactory(name="Acme Robotix Ltd")).entity
    merging.entities_judged_distinct(entity_ids=(a.pk, c.pk), actor=admin_user)
    before = every_table()
    return merging.entity_merge(survivor_id=a.pk, merged_id=b.pk, actor=admin_user), before


def test_the_merge_and_judgement_pages_render_read_only(admin_client, merged):
    record, _ = merged
    for name in ("entitymerge", "distinctpair"):
        listing = admin_client.get(reverse(f"admin:cases_{name}_changelist"))
        assert listing.status_code == 200
        assert listing.context["cl"].result_count == 1
        assert admin_client.get(reverse(f"admin:cases_{name}_add")).status_code == 403
    page = admin_client.get(reverse("admin:cases_entitymerge_change", args=[record.pk]))
    assert page.status_code == 200
    assert "Acme Robotic Ltd" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()


def test_the_admin_undoes_a_merge_exactly(admin_client, merged):
    record, before = merged

    response = admin_client.post(
        reverse("admin:cases_entitymerge_changelist"),
        {"action": "undo", "_selected_action": [record.pk]},
    )

    assert response.status_code == 302
    assert every_table() == before
    assert Entity.objects.filter(name="Acme Robotic Ltd").exists()


def test_staff_who_may_only_view_merges_are_not_offered_the_undo(client, merged):
    record, _ = merged
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_entitymerge"))
    client.force_login(viewer)
    after_merge = every_table()

    listing = client.get(reverse("admin:cases_entitymerge_changelist"))
    client.post(
        reverse("admin:cases_entitymerge_changelist"),
        {"action": "undo", "_selected_action": [record.pk]},
    )

    assert listing.status_code == 200
    assert 'value="undo"' not in listing.content.decode()
    assert every_table() == after_merge
    assert DistinctPair.objects.count() == 1
