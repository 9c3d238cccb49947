"""Two people merging or undoing the same pair at once: exactly one goes through, the
other is told why (PostgreSQL: SQLite takes no row locks)."""

import threading

import pytest
from django.db import connection, connections

from cases.identity import merging
from cases.models import Entity, EntityMerge
from tests.factories import AnalystFactory, CaseFactory, EntityFactory, TeamFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people_and_pair():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite takes no row locks")
    team = TeamFactory(name="Team A")
    alice = AnalystFactory(username="alice", teams=[team])
    bob = AnalystFactory(username="bob", teams=[team])
    a = CaseFactory(entity=EntityFactory(name="Acme Robotics Limited"), team=team).entity
    b = CaseFactory(entity=EntityFactory(name="Acme Robotic Ltd"), team=team).entity
    return alice, bob, a, b


def at_once(*calls) -> list[str]:
    """Run the calls in threads released together; return "done" or each refusal."""
    barrier = threading.Barrier(len(calls))
    outcomes = [""] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            call()
            outcomes[index] = "done"
        except merging.MergeRefused as exc:
            outcomes[index] = str(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_people_merging_a_pair_each_way_at_once_merge_it_once(people_and_pair):
    alice, bob, a, b = people_and_pair
    stamps = {"a": merging.merge_stamp(a), "b": merging.merge_stamp(b)}

    outcomes = at_once(
        lambda: merging.entity_merge(
            survivor_id=a.pk, merged_id=b.pk, actor=alice,
            survivor_stamp=stamps["a"], merged_stamp=stamps["b"],
        ),
        lambda: merging.entity_merge(
            survivor_id=b.pk, merged_id=a.pk, actor=bob,
            survivor_stamp=stamps["b"], merged_stamp=stamps["a"],
        ),
    )  # fmt: skip

    assert outcomes.count("done") == 1
    refusal = next(o for o in outcomes if o != "done")
    assert "already merged into" in refusal
    assert Entity.objects.filter(pk__in=[a.pk, b.pk]).count() == 1
    assert EntityMerge.objects.count() == 1


def test_two_people_undoing_a_merge_at_once_undo_it_once(people_and_pair):
    alice, bob, a, b = people_and_pair
    record = merging.entity_merge(survivor_id=a.pk, merged_id=b.pk, actor=alice)

    outcomes = at_once(
        lambda: merging.merge_undo(merge=record, actor=alice),
        lambda: merging.merge_undo(merge=record, actor=bob),
    )

    assert outcomes.count("done") == 1
    assert "already undone by" in next(o for o in outcomes if o != "done")
    assert Entity.objects.filter(pk__in=[a.pk, b.pk]).count() == 2
