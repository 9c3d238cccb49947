"""Merging entities and undoing it: the database, every table, is as it was."""

import datetime

import pytest
from django.apps import apps
from django.db import connection

from cases import derived
from cases.analytics import services as analytics_services
from cases.identity import merging
from cases.models import (
    AuditEvent,
    Case,
    CaseStatusChange,
    Cohort,
    DistinctPair,
    Entity,
    EntityMerge,
    Finding,
    IdentifierCandidate,
    Referral,
    ResolutionAttempt,
)
from tests.factories import (
    CaseFactory,
    CheckRunFactory,
    EntityFactory,
    FindingFactory,
    ReferralFactory,
)

pytestmark = pytest.mark.django_db(transaction=False)

VALID_LEI = "5299000EXAMPLE000185"


def _grown_only(model) -> bool:
    """Tables a merge or an undo adds rows to, rightly: history, the audit log, merges."""
    return model is AuditEvent or model is EntityMerge or model.__name__.startswith("Historical")


def every_table() -> dict[str, list[tuple]]:
    """Every row of every table of every app, apart from those that only grow."""
    tables = {}
    for model in apps.get_models(include_auto_created=True):
        if _grown_only(model) or model._meta.proxy or not model._meta.managed:
            continue
        columns = [f.attname for f in model._meta.concrete_fields]
        tables[model._meta.label] = list(model._base_manager.order_by("pk").values_list(*columns))
    return tables


def grown_tables() -> dict[str, int]:
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models(include_auto_created=True)
        if _grown_only(model)
    }


@pytest.fixture
def pair(team, other_team, analyst, colleague, supervisor):
    """Two entities that are one, each with a full case; and a control matched to one."""
    a = EntityFactory(name="Vextanbio Materials LLC", country="RU", aliases="Vextanbio")
    b = EntityFactory(
        name="Vextanbio Materials Group JSC",
        country="RU",
        lei=VALID_LEI,
        name_native="Вэкстанбио",
        aliases="VBM",
    )
    a_case = CaseFactory(entity=a, team=team, notes="Survivor's notes.")
    b_case = CaseFactory(
        entity=b,
        team=other_team,
        assignee=analyst,
        status=Case.Status.MONITORING,
        priority=Case.Priority.HIGH,
        notes="Merged case's notes.",
    )
    ReferralFactory(entity=a, date=datetime.date(2019, 6, 1), host_country="RU")
    ReferralFactory(entity=b, date=datetime.date(2016, 2, 1), host_country="RU")
    # The same lead on both (unique per case, source and evidence id); reviewed on b.
    FindingFactory(
        case=a_case, source="gleif", external_id="L-1", event_date=datetime.date(2017, 1, 1)
    )
    FindingFactory(
        case=b_case,
        source="gleif",
        external_id="L-1",
        review_state=Finding.ReviewState.CONFIRMED,
        reviewed_at=datetime.datetime(2020, 1, 1, 12, 0, 0, 123456, tzinfo=datetime.UTC),
        reviewed_by=analyst,
    )
    FindingFactory(
        case=b_case, source="gleif", external_id="L-2", event_date=datetime.date(2018, 1, 1)
    )
    FindingFactory(case=a_case, source="opencorporates", external_id="L-1")
    CheckRunFactory(case=b_case, source="gleif")
    CaseStatusChange.objects.create(
        case=b_case, from_status="open", to_status="monitoring", changed_by=analyst
    )
    other_team.members.add(colleague)
    Case.objects.filter(pk=b_case.pk).update(status=Case.Status.CONCLUDED)
    b_case.refresh_from_db()
    analytics_services.second_coding_assign(case=b_case, coder=colleague, actor=supervisor)
    both = Cohort.objects.create(name="Both")
    both.cases.add(a_case, b_case)
    Cohort.objects.create(name="Only b").cases.add(b_case)
    # A control matched on b's referral (host country, kind and field).
    derived.case_index_dates_refresh(case_ids=[b_case.pk])
    b_case.refresh_from_db()
    control_entity = EntityFactory(
        name="Control Sensors", country="RU", technology_fields="robotics"
    )
    CaseFactory(entity=control_entity, kind=Case.Kind.CONTROL, matched_case=b_case)
    other = EntityFactory(name="Vextan Other", country="RU")
    CaseFactory(entity=other)
    DistinctPair.objects.create(low_id=min(b.pk, other.pk), high_id=max(b.pk, other.pk))
    # Registry candidates: one proposed for both (unique per entity), one for b only.
    for entity in (a, b):
        candidate(entity, "gleif", VALID_LEI)
    candidate(b, "wikidata", "Q42", state=IdentifierCandidate.State.REJECTED, judged_by=analyst)
    ResolutionAttempt.objects.create(entity=b, registry="gleif", status="ok", requests=1)
    derived.case_index_dates_refresh()
    return Entity.objects.get(pk=a.pk), Entity.objects.get(pk=b.pk)


def candidate(entity, registry, identifier, **fields):
    if fields.get("judged_by"):
        fields["judged_at"] = datetime.datetime(2021, 5, 6, 7, 8, 9, 654321, tzinfo=datetime.UTC)
    return IdentifierCandidate.objects.create(
        entity=entity,
        registry=registry,
        identifier=identifier,
        score=88.5,
        explanation="legal name matched",
        evidence={"names": ["Vextanbio"]},
        **fields,
    )


def merge(survivor, merged, user, **kwargs):
    return merging.entity_merge(survivor_id=survivor.pk, merged_id=merged.pk, actor=user, **kwargs)


def test_merge_moves_everything_to_the_survivor(pair, analyst):
    a, b = pair
    b_case_id = b.case.pk

    record = merge(a, b, analyst)

    a.refresh_from_db()
    case = Case.objects.get(entity=a)
    assert not Entity.objects.filter(pk=b.pk).exists()
    assert not Case.objects.filter(pk=b_case_id).exists()
    assert a.lei == VALID_LEI
    assert a.name_native == "Вэкстанбио"
    assert a.alias_list == ["Vextanbio", "Vextanbio Materials Group JSC", "VBM"]
    assert Referral.objects.filter(entity=a).count() == 2
    # The earliest referral, the merged one's, now dates the survivor's case.
    assert case.index_date == datetime.date(2016, 2, 1)
    leads = {(f.source, f.external_id): f for f in case.findings.all()}
    assert len(leads) == 3  # L-1 once (the reviewed one kept), L-2, opencorporates L-1
    assert leads[("gleif", "L-1")].review_state == Finding.ReviewState.CONFIRMED
    assert leads[("gleif", "L-2")].timing == "after"
    assert case.check_runs.count() == 1
    assert case.status_changes.count() == 1
    assert case.second_coding.coder.username == "bob"
    assert sorted(case.cohorts.values_list("name", flat=True)) == ["Both", "Only b"]
    assert Case.objects.get(entity__name="Control Sensors").matched_case == case
    other = Entity.objects.get(name="Vextan Other")
    assert DistinctPair.objects.filter(low_id=min(a.pk, other.pk), high_id=max(a.pk, other.pk))
    assert "Merged case's notes." in case.notes and "Survivor's notes." in case.notes
    assert record.summary["findings_dropped"] and record.merged_by == analyst
    event = AuditEvent.objects.get(action=AuditEvent.Action.MERGE)
    assert event.actor == analyst and event.detail["merge"] == record.pk
    deleted = Entity.history.get(id=b.pk, history_type="-")
    assert deleted.history_user == analyst
    assert deleted.history_change_reason.startswith(f"merge #{record.pk}")
    assert Entity.history.filter(id=a.pk, history_type="~").latest("history_date").lei == VALID_LEI
    # Candidates and attempts move; one the survivor has its own of stays in the record.
    assert sorted(a.identifier_candidates.values_list("registry", "state")) == [
        ("gleif", "suggested"),
        ("wikidata", "rejected"),
    ]
    assert a.resolution_attempts.count() == 1


def test_undo_restores_every_table_exactly(pair, analyst, colleague):
    a, b = pair
    before, grown = every_table(), grown_tables()

    record = merge(a, b, analyst)
    assert every_table() != before
    merging.merge_undo(merge=record, actor=colleague)

    assert every_table() == before
    after = grown_tables()
    assert all(after[label] >= count for label, count in grown.items())
    assert after["cases.HistoricalEntity"] > grown["cases.HistoricalEntity"]
    record.refresh_from_db()
    assert record.undone_by == colleague and record.undone_at is not None
    assert Entity.history.filter(id=b.pk).latest("history_date").history_type == "+"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.MERGE_UNDO).count() == 1


def test_merge_the_other_way_and_undo_is_exact_too(pair, analyst):
    a, b = pair
    Entity.objects.filter(pk=a.pk).update(lei="")
    before = every_table()

    record = merge(b, a, analyst)
    merging.merge_undo(merge=record, actor=analyst)

    assert every_table() == before


def refused(call, match: str):
    before, grown = every_table(), grown_tables()
    with pytest.raises(merging.MergeRefused, match=match):
        call()
    assert every_table() == before
    assert grown_tables() == grown


def test_it_refuses_to_merge_an_entity_with_itself(pair, analyst):
    a, _ = pair
    refused(lambda: merge(a, a, analyst), "with itself")


def test_it_refuses_two_different_values_of_one_identifier(pair, analyst):
    a, b = pair
    Entity.objects.filter(pk=a.pk).update(lei="529900T8BM49AURSDO55")
    refused(lambda: merge(a, b, analyst), "different LEIs")


def test_it_refuses_to_merge_twice(pair, analyst):
    a, b = pair
    merge(a, b, analyst)
    refused(lambda: merge(a, b, analyst), "already merged into Vextanbio Materials LLC by alice")


def test_it_refuses_a_stale_page(pair, analyst):
    a, b = pair
    stamps = {"survivor_stamp": merging.merge_stamp(a), "merged_stamp": merging.merge_stamp(b)}
    Case.objects.filter(entity=b).update(version=5)
    refused(lambda: merge(a, b, analyst, **stamps), "changed after the page was shown")


def test_a_current_page_merges(pair, analyst):
    a, b = pair
    stamps = {"survivor_stamp": merging.merge_stamp(a), "merged_stamp": merging.merge_stamp(b)}
    assert merge(a, b, analyst, **stamps).pk


def test_it_refuses_to_undo_twice(pair, analyst):
    a, b = pair
    record = merge(a, b, analyst)
    merging.merge_undo(merge=record, actor=analyst)
    refused(lambda: merging.merge_undo(merge=record, actor=analyst), "already undone by alice")


def test_it_refuses_to_undo_over_a_later_edit_of_the_survivor(pair, analyst):
    a, b = pair
    record = merge(a, b, analyst)
    Case.objects.filter(entity=a).update(version=99)
    refused(lambda: merging.merge_undo(merge=record, actor=analyst), "changed after the merge")


def test_it_refuses_to_undo_over_a_moved_finding_reviewed_since_naming_it(pair, analyst):
    a, b = pair
    record = merge(a, b, analyst)
    moved = Finding.objects.get(case__entity=a, source="gleif", external_id="L-2")
    Finding.objects.filter(pk=moved.pk).update(
        version=moved.version + 1,
        review_state=Finding.ReviewState.REJECTED,
        reviewed_at=datetime.datetime(2021, 1, 1, tzinfo=datetime.UTC),
    )

    with pytest.raises(merging.MergeRefused) as error:
        merging.merge_undo(merge=record, actor=analyst)

    assert str(error.value) == (
        "A finding the merge moved (joint venture with Shenzhen Example Technology Co., Ltd.) "
        "was reviewed since; nothing was undone."
    )
    assert str(moved.pk) not in str(error.value)


def test_it_refuses_to_undo_when_the_name_was_taken_since(pair, analyst):
    a, b = pair
    record = merge(a, b, analyst)
    EntityFactory(name=b.name, country=b.country)
    refused(lambda: merging.merge_undo(merge=record, actor=analyst), "cannot be restored")


def test_judging_a_pair_distinct_is_kept_once(pair, analyst):
    a, b = pair
    first = merging.entities_judged_distinct(entity_ids=(b.pk, a.pk), actor=analyst)
    again = merging.entities_judged_distinct(entity_ids=(a.pk, b.pk), actor=analyst)
    assert first == again and (first.low_id, first.high_id) == tuple(sorted((a.pk, b.pk)))
    assert first.judged_by == analyst


def test_the_test_sees_every_table():
    """The comparison covers the tables of every app, not only the case store."""
    labels = set(every_table())
    assert {"cases.Entity", "cases.Case", "cases.Cohort_cases", "auth.User"} <= labels
    assert connection.vendor in {"sqlite", "postgresql"}


def test_what_the_survivor_has_already_stays_and_the_undo_is_exact(
    pair, analyst, colleague, supervisor, team
):
    """Both cases with a second reading, the shared lead unreviewed on both: the
    survivor's are kept, the merged case's are in the record, and come back."""
    a, b = pair
    Finding.objects.filter(case__entity=b).update(review_state=Finding.ReviewState.LEAD)
    Case.objects.filter(pk=a.case.pk).update(status=Case.Status.CONCLUDED)
    analytics_services.second_coding_assign(
        case=Case.objects.get(pk=a.case.pk), coder=colleague, actor=supervisor
    )
    kept = Finding.objects.get(case__entity=a, source="gleif", external_id="L-1").pk
    before = every_table()

    record = merge(a, b, analyst)

    case = Case.objects.get(entity=a)
    assert case.findings.get(source="gleif", external_id="L-1").pk == kept
    assert case.second_coding.pk == a.case.second_coding.pk
    assert record.summary["second_coding"] == "kept in the record"
    merging.merge_undo(merge=record, actor=analyst)
    assert every_table() == before


def test_a_chain_of_merges_is_undone_newest_first(pair, analyst):
    a, b = pair
    c = EntityFactory(name="Vextanbio Mats OOO", country="RU")
    CaseFactory(entity=c)
    before = every_table()
    first = merge(a, b, analyst)
    second = merge(a, c, analyst)

    refused(lambda: merging.merge_undo(merge=first, actor=analyst), "changed after the merge")
    merging.merge_undo(merge=second, actor=analyst)
    merging.merge_undo(merge=first, actor=analyst)

    assert every_table() == before


def test_an_entity_that_survived_a_merge_cannot_be_merged_away(pair, analyst):
    a, b = pair
    c = EntityFactory(name="Vextanbio Mats OOO", country="RU")
    CaseFactory(entity=c)
    merge(a, b, analyst)
    refused(lambda: merge(c, a, analyst), "survivor of 1 earlier merge")


def test_rows_of_a_relation_not_handled_by_name_move_unless_the_survivor_has_their_own(pair):
    """Any later model pointing at an entity or a case moves with the merge, row by row;
    Finding.case stands in for one here (its evidence is unique per case)."""
    a, b = pair
    relation = Case._meta.get_field("findings")

    merging._rows_move(relation, b.case, a.case)

    left = Finding.objects.filter(case__entity=b)
    assert list(left.values_list("source", "external_id")) == [("gleif", "L-1")]
    assert Finding.objects.filter(case__entity=a, external_id="L-2").exists()
