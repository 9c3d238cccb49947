"""The possible-duplicates page, the merge confirmation and the merges list: pairs judged
not the same are not reported again (here nor by the import), and every refusal leaves
the database as it was."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from cases import derived
from cases.identity import duplicates, merging
from cases.intake.selectors import entity_possible_duplicates
from cases.models import Case, DistinctPair, Entity, EntityMerge
from tests.admin.test_imports import GOOD, confirmed, status_url, uploaded
from tests.factories import CaseFactory, EntityFactory, ReferralFactory
from tests.identity.test_merging import every_table, grown_tables

pytestmark = pytest.mark.django_db


@pytest.fixture
def alike(team, other_team):
    """Two alike names in Team A, and a third alike one in Team B."""
    entities = []
    for name, which in (
        ("Acme Robotics Limited", team),
        ("Acme Robotic Ltd", team),
        ("Acme Robotix Ltd", other_team),
    ):
        entity = EntityFactory(name=name, country="GB")
        CaseFactory(entity=entity, team=which)
        ReferralFactory(entity=entity, date=datetime.date(2018, 1, 1))
        entities.append(entity)
    derived.case_index_dates_refresh()
    return entities


def names(pairs) -> set[frozenset[str]]:
    return {frozenset((p.first.name, p.second.name)) for p in pairs}


def test_the_page_pairs_only_entities_the_user_sees(client, alike, analyst, other_analyst):
    client.force_login(analyst)

    response = client.get(reverse("cases:duplicate_list"))

    body = response.content.decode()
    assert response.status_code == 200
    assert names(response.context["pairs"]) == {
        frozenset({"Acme Robotics Limited", "Acme Robotic Ltd"})
    }
    assert "Acme Robotix" not in body
    assert duplicates.possible_duplicate_pairs(other_analyst) == []


def test_a_pair_judged_not_the_same_is_not_shown_again(client, alike, analyst):
    client.force_login(analyst)
    first, second, _ = alike

    response = client.post(
        reverse("cases:duplicate_distinct"), {"first": second.pk, "second": first.pk}
    )

    assert response.status_code == 302
    pair = DistinctPair.objects.get()
    assert (pair.low_id, pair.high_id, pair.judged_by) == (first.pk, second.pk, analyst)
    assert client.get(reverse("cases:duplicate_list")).context["pairs"] == []


def test_the_import_comparison_leaves_out_a_pair_judged_not_the_same(alike, analyst):
    """The import reports pairs through the same comparison (cases.intake.selectors)."""
    first, second, third = alike
    found = entity_possible_duplicates(entity_ids=[first.pk], threshold=80)
    assert {d.other_id for d in found} == {second.pk, third.pk}

    merging.entities_judged_distinct(entity_ids=(first.pk, third.pk), actor=analyst)

    found = entity_possible_duplicates(entity_ids=[first.pk], threshold=80)
    assert {d.other_id for d in found} == {second.pk}


def test_the_import_page_links_its_possible_duplicates_to_the_page(
    admin_client, settings, tmp_path
):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "imports"
    settings.WISHLIST_IMPORT_IN_THREAD = False
    CaseFactory(entity=EntityFactory(name="Kyoto Photonic", country="JP"))
    preview = uploaded(admin_client, GOOD)
    assert 'id="possible-duplicates"' not in admin_client.get(status_url(preview)).content.decode()

    record = confirmed(admin_client, preview)

    page = admin_client.get(status_url(record)).content.decode()
    assert "looks like" in page
    assert f'href="{reverse("cases:duplicate_list")}" id="possible-duplicates"' in page


def confirm_url(first, second, keep) -> str:
    return reverse("cases:merge_confirm") + f"?first={first.pk}&second={second.pk}&keep={keep.pk}"


def test_the_confirmation_shows_what_moves_and_merging_sends_to_the_survivor(
    client, alike, analyst
):
    client.force_login(analyst)
    first, second, _ = alike

    page = client.get(confirm_url(first, second, keep=second))

    body = page.content.decode()
    assert "Merge <em>Acme Robotics Limited</em> into <em>Acme Robotic Ltd</em>?" in body
    assert "1 referral(s)" in body
    response = client.post(
        reverse("cases:merge_confirm"),
        {
            "survivor": second.pk,
            "merged": first.pk,
            "survivor_stamp": page.context["survivor_stamp"],
            "merged_stamp": page.context["merged_stamp"],
        },
    )
    assert response.status_code == 302
    assert response.url == Case.objects.get(entity=second).get_absolute_url()
    assert not Entity.objects.filter(pk=first.pk).exists()
    assert "Acme Robotics Limited" in Entity.objects.get(pk=second.pk).alias_list


def post_merge(client, survivor, merged, **stamps):
    """Merge as from a confirmation page shown now (or with the stamps given)."""
    stamps = stamps or {
        "survivor_stamp": merging.merge_stamp(Entity.objects.get(pk=survivor.pk)),
        "merged_stamp": merging.merge_stamp(
            Entity.objects.filter(pk=merged.pk).first() or survivor
        ),
    }
    return client.post(
        reverse("cases:merge_confirm"), {"survivor": survivor.pk, "merged": merged.pk, **stamps}
    )


def unchanged(call):
    before, grown = every_table(), grown_tables()
    response = call()
    assert every_table() == before
    assert grown_tables() == grown
    return response


def test_a_stale_confirmation_is_refused_with_a_409(client, alike, analyst):
    client.force_login(analyst)
    first, second, _ = alike
    page = client.get(confirm_url(first, second, keep=first))
    Case.objects.filter(entity=second).update(version=7)
    stamps = {k: page.context[k] for k in ("survivor_stamp", "merged_stamp")}

    response = unchanged(lambda: post_merge(client, first, second, **stamps))

    assert response.status_code == 409
    assert "changed after the page was shown" in response.content.decode()


def test_merging_with_an_entity_of_another_team_is_a_404(client, alike, analyst):
    client.force_login(analyst)
    first, _, foreign = alike

    assert unchanged(lambda: post_merge(client, first, foreign)).status_code == 404
    assert unchanged(lambda: post_merge(client, foreign, first)).status_code == 404
    assert client.get(confirm_url(first, foreign, keep=first)).status_code == 404


def test_merging_an_entity_with_itself_is_refused(client, alike, analyst):
    client.force_login(analyst)
    first = alike[0]

    response = unchanged(lambda: post_merge(client, first, first))

    assert response.status_code == 409
    assert "cannot be merged with itself" in response.content.decode()


def test_merging_twice_says_it_was_merged_already(client, alike, analyst):
    client.force_login(analyst)
    first, second, _ = alike
    assert post_merge(client, first, second).status_code == 302

    response = unchanged(lambda: post_merge(client, first, second))

    assert response.status_code == 302
    notices = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("already merged into Acme Robotics Limited by alice" in n for n in notices)


def test_undo_from_the_merges_list_then_again(client, alike, analyst):
    client.force_login(analyst)
    first, second, _ = alike
    before = every_table()
    post_merge(client, first, second)
    record = EntityMerge.objects.get()
    listing = client.get(reverse("cases:merge_list")).content.decode()
    assert reverse("cases:merge_undo", args=[record.pk]) in listing

    client.post(reverse("cases:merge_undo", args=[record.pk]))

    assert every_table() == before
    response = unchanged(lambda: client.post(reverse("cases:merge_undo", args=[record.pk])))
    notices = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("already undone by alice" in n for n in notices)


def test_the_survivors_case_page_names_what_was_merged_into_it(client, alike, analyst):
    client.force_login(analyst)
    first, second, _ = alike
    post_merge(client, first, second)

    page = client.get(Case.objects.get(entity=first).get_absolute_url()).content.decode()

    assert "Merged into this entity:" in page
    assert "Acme Robotic Ltd" in page
    assert reverse("cases:merge_list") in page
