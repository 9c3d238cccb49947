"""The workflow services: finding reviews, case status, assignment, team moves and entity
corrections. Every edit raises the row's version and refuses a stale one, naming who got
there first; a refused edit saves nothing."""

import threading
from contextlib import contextmanager
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test import RequestFactory
from django.utils import timezone
from simple_history.models import HistoricalRecords

from cases import derived, rules
from cases.casework import selectors as casework_selectors
from cases.casework import services
from cases.models import Case, CaseStatusChange, Entity, Finding
from tests.factories import (
    AnalystFactory,
    CaseFactory,
    EntityFactory,
    FindingFactory,
    ReferralFactory,
    SupervisorFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db

LEAD = Finding.ReviewState.LEAD
CONFIRMED = Finding.ReviewState.CONFIRMED
REJECTED = Finding.ReviewState.REJECTED
HOSTILE = '<script>alert("x")</script> & <b>bold</b> \' " {{ var }} {% now "Y" %}'
VALID_LEI = "5493001KJTIIGC8Y1R12"
OTHER_VALID_LEI = "HWUPKR0MPOU8FGXBT394"


@contextmanager
def signed_in(user):
    """Run as if inside a request by `user`, as the history middleware records it."""
    request = RequestFactory().post("/")
    request.user = user
    HistoricalRecords.context.request = request
    try:
        yield
    finally:
        del HistoricalRecords.context.request


@pytest.fixture
def alice(team):
    return AnalystFactory(username="alice", teams=[team])


@pytest.fixture
def bob(team):
    return AnalystFactory(username="bob", teams=[team])


@pytest.fixture
def case(team):
    return CaseFactory(team=team)


@pytest.fixture
def lead(case):
    return FindingFactory(case=case, review_state=LEAD, source="gdelt")


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


# ------------------------------------------------------------------------ finding review


def test_confirming_a_lead_records_who_and_when_and_raises_the_version(lead, alice):
    started = timezone.now()

    result = services.finding_review(
        finding=lead, state=CONFIRMED, reviewer=alice, note="", version=1
    )

    stored = fresh(lead)
    assert result is lead
    assert stored.review_state == CONFIRMED
    assert stored.reviewed_by == alice
    assert stored.reviewed_at >= started
    assert stored.version == 2
    assert lead.version == 2 and lead.review_state == CONFIRMED


def test_each_review_raises_the_version_again(lead, alice):
    services.finding_review(finding=lead, state=CONFIRMED, reviewer=alice, version=1)
    services.finding_review(
        finding=lead, state=REJECTED, reviewer=alice, note="Wrong company.", version=2
    )

    assert fresh(lead).version == 3
    assert fresh(lead).review_state == REJECTED


@pytest.mark.parametrize("note", ["", "   ", "\n\t"])
def test_rejecting_without_a_note_is_refused(lead, alice, note):
    with pytest.raises(ValidationError) as exc_info:
        services.finding_review(finding=lead, state=REJECTED, reviewer=alice, note=note)

    assert "note" in exc_info.value.message_dict
    stored = fresh(lead)
    assert stored.review_state == LEAD
    assert stored.reviewed_by is None
    assert stored.version == 1


def test_a_rejection_note_is_stored_as_typed_even_with_markup(lead, alice):
    services.finding_review(finding=lead, state=REJECTED, reviewer=alice, note=HOSTILE)

    assert fresh(lead).review_note == HOSTILE


@pytest.mark.parametrize("state", [LEAD, "approved", ""])
def test_a_review_sets_confirmed_or_rejected_only(lead, alice, state):
    with pytest.raises(ValueError):
        services.finding_review(finding=lead, state=state, reviewer=alice, note="x")

    assert fresh(lead).version == 1


def test_a_stale_review_is_refused_naming_who_reviewed_it_first(lead, alice, bob):
    with signed_in(alice):
        services.finding_review(finding=lead, state=CONFIRMED, reviewer=alice, version=1)

    with signed_in(bob), pytest.raises(services.EditConflict) as exc_info:
        services.finding_review(
            finding=fresh(lead), state=REJECTED, reviewer=bob, note="Not them.", version=1
        )

    message = str(exc_info.value)
    # Named by kind and counterparty, as the analyst knows it, not by id.
    assert f"The {lead}" in message
    assert f"Finding {lead.pk}" not in message
    assert "alice" in message
    assert "not saved" in message
    stored = fresh(lead)
    assert (stored.review_state, stored.reviewed_by, stored.version) == (CONFIRMED, alice, 2)
    assert stored.review_note == ""
    assert stored.history.count() == 2


def test_a_stale_review_names_the_reviewer_even_outside_a_request(lead, alice, bob):
    services.finding_review(finding=lead, state=CONFIRMED, reviewer=alice, version=1)

    with pytest.raises(services.EditConflict) as exc_info:
        services.finding_review(finding=lead, state=CONFIRMED, reviewer=bob, version=1)

    assert "alice" in str(exc_info.value)


def test_a_review_without_a_version_is_not_checked(lead, alice, bob):
    services.finding_review(finding=lead, state=CONFIRMED, reviewer=alice, version=1)

    services.finding_review(finding=lead, state=REJECTED, reviewer=bob, note="No.", version=None)

    assert fresh(lead).reviewed_by == bob
    assert fresh(lead).version == 3


# ------------------------------------------------------------------------ bulk review


def test_a_bulk_review_reviews_every_finding_and_records_each(case, alice):
    leads = FindingFactory.create_batch(3, case=case, review_state=LEAD)

    count = services.findings_review(
        findings=leads,
        state=CONFIRMED,
        reviewer=alice,
        versions={f.pk: f.version for f in leads},
    )

    assert count == 3
    for finding in leads:
        stored = fresh(finding)
        assert (stored.review_state, stored.reviewed_by, stored.version) == (CONFIRMED, alice, 2)
        assert stored.history.count() == 2


def test_a_bulk_review_with_one_stale_finding_saves_none(case, alice, bob):
    leads = FindingFactory.create_batch(3, case=case, review_state=LEAD)
    versions = {f.pk: f.version for f in leads}
    with signed_in(alice):
        services.finding_review(
            finding=leads[2], state=REJECTED, reviewer=alice, note="Dup.", version=1
        )

    with signed_in(bob), pytest.raises(services.EditConflict) as exc_info:
        services.findings_review(findings=leads, state=CONFIRMED, reviewer=bob, versions=versions)

    assert f"The {leads[2]}" in str(exc_info.value)
    assert "alice" in str(exc_info.value)
    for finding in leads[:2]:
        stored = fresh(finding)
        assert (stored.review_state, stored.reviewed_by, stored.version) == (LEAD, None, 1)
        assert stored.history.count() == 1
    assert fresh(leads[2]).review_state == REJECTED


def test_a_bulk_rejection_without_a_note_saves_none(case, alice):
    leads = FindingFactory.create_batch(2, case=case, review_state=LEAD)

    with pytest.raises(ValidationError):
        services.findings_review(findings=leads, state=REJECTED, reviewer=alice, note=" ")

    assert not Finding.objects.exclude(review_state=LEAD).exists()


# ------------------------------------------------------------------------ case status


def test_a_status_change_is_logged_with_who_when_from_and_to(case, alice):
    started = timezone.now()

    services.case_set_status(case=case, status=Case.Status.IN_REVIEW, actor=alice, version=1)

    change = CaseStatusChange.objects.get(case=case)
    assert (change.from_status, change.to_status) == (Case.Status.OPEN, Case.Status.IN_REVIEW)
    assert change.changed_by == alice
    assert started <= change.changed_at <= timezone.now()
    stored = fresh(case)
    assert (stored.status, stored.version) == (Case.Status.IN_REVIEW, 2)
    assert (case.status, case.version) == (Case.Status.IN_REVIEW, 2)


def test_successive_status_changes_are_logged_in_order(case, alice, bob):
    services.case_set_status(case=case, status=Case.Status.IN_REVIEW, actor=alice, version=1)
    services.case_set_status(case=case, status=Case.Status.CONCLUDED, actor=bob, version=2)

    log = list(case.status_changes.values_list("from_status", "to_status", "changed_by"))
    assert log == [
        (Case.Status.OPEN, Case.Status.IN_REVIEW, alice.pk),
        (Case.Status.IN_REVIEW, Case.Status.CONCLUDED, bob.pk),
    ]
    assert fresh(case).version == 3


def test_setting_the_same_status_logs_nothing_and_keeps_the_version(case, alice):
    services.case_set_status(case=case, status=Case.Status.OPEN, actor=alice, version=1)

    assert not CaseStatusChange.objects.exists()
    assert fresh(case).version == 1


@pytest.mark.parametrize("status", ["done", "", "OPEN"])
def test_an_unknown_status_is_refused(case, alice, status):
    with pytest.raises(ValidationError):
        services.case_set_status(case=case, status=status, actor=alice, version=1)

    assert fresh(case).status == Case.Status.OPEN
    assert not CaseStatusChange.objects.exists()


def test_a_stale_status_change_is_refused_and_logs_nothing(case, alice, bob):
    with signed_in(alice):
        services.case_set_status(case=case, status=Case.Status.MONITORING, actor=alice, version=1)

    with signed_in(bob), pytest.raises(services.EditConflict) as exc_info:
        services.case_set_status(case=case, status=Case.Status.CLOSED, actor=bob, version=1)

    assert f"Case {case.pk}" in str(exc_info.value)
    assert "alice" in str(exc_info.value)
    assert fresh(case).status == Case.Status.MONITORING
    assert list(case.status_changes.values_list("to_status", flat=True)) == ["monitoring"]


def test_bulk_status_changes_log_each_case(team, alice):
    cases = CaseFactory.create_batch(2, team=team)

    services.cases_set_status(cases=cases, status=Case.Status.CLOSED, actor=alice)

    for item in cases:
        assert list(item.status_changes.values_list("to_status", "changed_by")) == [
            ("closed", alice.pk)
        ]


def test_a_status_change_made_elsewhere_is_logged_unless_nothing_changed(case, alice):
    assert (
        services.case_status_change_record(
            case=case, from_status="open", to_status="open", actor=alice
        )
        is None
    )

    change = services.case_status_change_record(
        case=case, from_status="open", to_status="closed", actor=alice
    )

    assert list(CaseStatusChange.objects.all()) == [change]
    assert change.changed_by == alice


# ------------------------------------------------------------------------ assignment


def test_a_case_can_be_given_to_a_member_of_its_team(case, alice, bob):
    services.case_assign(case=case, assignee=alice, actor=bob, version=1)

    stored = fresh(case)
    assert (stored.assignee, stored.version) == (alice, 2)
    assert case.assignee == alice


def test_giving_a_case_to_someone_off_its_team_is_refused(case, alice):
    outsider = AnalystFactory(username="outsider", teams=[TeamFactory(name="Team B")])
    services.case_assign(case=case, assignee=alice, actor=alice, version=1)

    with pytest.raises(ValidationError) as exc_info:
        services.case_assign(case=case, assignee=outsider, actor=alice, version=2)

    assert "outsider" in str(exc_info.value)
    stored = fresh(case)
    assert (stored.assignee, stored.version) == (alice, 2)


def test_a_supervisor_cannot_be_assigned_a_case_they_only_read(case, team):
    supervisor = SupervisorFactory(username="sue", teams=[team])

    with pytest.raises(ValidationError, match="not an analyst"):
        services.case_assign(case=case, assignee=supervisor, actor=supervisor, version=1)

    assert fresh(case).assignee is None


def test_a_case_can_be_unassigned(case, alice):
    services.case_assign(case=case, assignee=alice, actor=alice, version=1)

    services.case_assign(case=case, assignee=None, actor=alice, version=2)

    assert (fresh(case).assignee, fresh(case).version) == (None, 3)


def test_assigning_the_same_person_again_keeps_the_version(case, alice):
    services.case_assign(case=case, assignee=alice, actor=alice, version=1)

    services.case_assign(case=case, assignee=alice, actor=alice, version=2)

    assert fresh(case).version == 2


def test_a_stale_assignment_is_refused(case, alice, bob):
    with signed_in(alice):
        services.case_assign(case=case, assignee=alice, actor=alice, version=1)

    with signed_in(bob), pytest.raises(services.EditConflict) as exc_info:
        services.case_assign(case=case, assignee=bob, actor=bob, version=1)

    assert "alice" in str(exc_info.value)
    assert fresh(case).assignee == alice


def test_bulk_assignment_to_an_outsider_assigns_none(team, alice):
    cases = CaseFactory.create_batch(2, team=team)
    outsider = AnalystFactory(username="outsider")

    with pytest.raises(ValidationError):
        services.cases_assign(cases=cases, assignee=outsider, actor=alice)

    assert not Case.objects.filter(assignee__isnull=False).exists()


# ------------------------------------------------------------------------ team moves


def test_moving_cases_to_a_team_unassigns_an_assignee_not_on_it(team, alice, bob):
    other = TeamFactory(name="Team B", members=[bob])
    bob.teams.add(team)
    kept, dropped = CaseFactory.create_batch(2, team=team)
    services.case_assign(case=kept, assignee=bob, actor=bob)
    services.case_assign(case=dropped, assignee=alice, actor=alice)

    count = services.cases_move_to_team(cases=[kept, dropped], team=other)

    assert count == 2
    kept, dropped = fresh(kept), fresh(dropped)
    assert (kept.team, kept.assignee, kept.version) == (other, bob, 3)
    assert (dropped.team, dropped.assignee, dropped.version) == (other, None, 3)


def test_a_case_without_a_team_can_be_moved_to_one(alice):
    case = CaseFactory(team=None)
    team = TeamFactory(name="Team C", members=[alice])

    services.cases_move_to_team(cases=[case], team=team)

    assert fresh(case).team == team


# ------------------------------------------------------------------------ entity edits


def test_an_entity_correction_is_saved_and_raises_the_case_version(case, alice):
    name_key = case.entity.name_key

    entity = services.case_entity_update(
        case=case,
        values={"lei": VALID_LEI, "website": "https://example.org/", "aliases": "ACME"},
        actor=alice,
        version=1,
    )

    stored = Entity.objects.get(pk=case.entity_id)
    assert entity == stored
    assert (stored.lei, stored.website, stored.aliases) == (
        VALID_LEI,
        "https://example.org/",
        "ACME",
    )
    assert stored.name_key == name_key
    assert fresh(case).version == 2
    assert case.version == 2


@pytest.mark.parametrize("lei", ["5493001KJTIIGC8Y1R13", "not-an-lei", "5493001KJTIIGC8Y1R1"])
def test_an_invalid_lei_is_refused_and_nothing_is_saved(case, alice, lei):
    with pytest.raises(ValidationError) as exc_info:
        services.case_entity_update(
            case=case, values={"lei": lei, "aliases": "ACME"}, actor=alice, version=1
        )

    assert "lei" in exc_info.value.message_dict
    stored = Entity.objects.get(pk=case.entity_id)
    assert (stored.lei, stored.aliases) == ("", "")
    assert fresh(case).version == 1


def test_an_lei_already_on_another_entity_is_refused(case, alice):
    EntityFactory(name="Other Robotics Ltd", lei=OTHER_VALID_LEI)

    with pytest.raises(ValidationError):
        services.case_entity_update(
            case=case, values={"lei": OTHER_VALID_LEI}, actor=alice, version=1
        )

    assert Entity.objects.get(pk=case.entity_id).lei == ""
    assert fresh(case).version == 1


@pytest.mark.parametrize(
    "values",
    [{"name": "Renamed Ltd"}, {"country": "US"}, {"is_demo": True}, {"lei": "", "kind": "x"}],
)
def test_fields_not_editable_from_the_case_page_are_refused(case, alice, values):
    before = Entity.objects.filter(pk=case.entity_id).values().get()

    with pytest.raises(ValueError):
        services.case_entity_update(case=case, values=values, actor=alice, version=1)

    assert Entity.objects.filter(pk=case.entity_id).values().get() == before
    assert fresh(case).version == 1


def test_a_stale_entity_correction_is_refused(case, alice, bob):
    with signed_in(alice):
        services.case_set_status(case=case, status=Case.Status.IN_REVIEW, actor=alice, version=1)

    with signed_in(bob), pytest.raises(services.EditConflict) as exc_info:
        services.case_entity_update(case=case, values={"lei": VALID_LEI}, actor=bob, version=1)

    assert "alice" in str(exc_info.value)
    assert Entity.objects.get(pk=case.entity_id).lei == ""


def test_names_and_aliases_are_stored_as_typed_even_with_markup(case, alice):
    services.case_entity_update(
        case=case, values={"aliases": HOSTILE, "name_native": HOSTILE}, actor=alice, version=1
    )

    stored = Entity.objects.get(pk=case.entity_id)
    assert stored.aliases == HOSTILE
    assert stored.name_native == HOSTILE


# ------------------------------------------------------------------------ whole-case saves


def case_rows(case):
    """What a refused save must leave as it was: the case row, the status log, the history."""
    return (
        list(Case.objects.filter(entity=case.entity_id).values()),
        list(CaseStatusChange.objects.values()),
        Case.history.count(),
    )


def test_a_case_save_raises_the_version_and_logs_the_status_change(case, alice):
    case.status, case.notes = Case.Status.MONITORING, HOSTILE

    services.case_save(case=case, actor=alice)

    stored = fresh(case)
    assert (stored.status, stored.notes, stored.version) == (Case.Status.MONITORING, HOSTILE, 2)
    assert list(case.status_changes.values_list("from_status", "to_status", "changed_by")) == [
        (Case.Status.OPEN, Case.Status.MONITORING, alice.pk)
    ]
    assert case.history.first().history_user == alice


def test_a_case_save_keeping_the_status_logs_nothing_but_raises_the_version(case, alice):
    case.priority = Case.Priority.URGENT

    services.case_save(case=case, actor=alice)

    assert (fresh(case).priority, fresh(case).version) == (Case.Priority.URGENT, 2)
    assert not CaseStatusChange.objects.exists()


def test_a_stale_case_save_is_refused_and_changes_nothing(case, alice, bob):
    opened = fresh(case)  # bob opens the form at version 1
    with signed_in(alice):
        services.case_set_status(case=case, status=Case.Status.IN_REVIEW, actor=alice, version=1)
    before = case_rows(case)
    opened.status, opened.notes = Case.Status.CLOSED, "Nothing found."

    with signed_in(bob), pytest.raises(services.EditConflict) as exc_info:
        services.case_save(case=opened, actor=bob, version=1)

    assert "alice" in str(exc_info.value)
    assert case_rows(case) == before


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "<script>alert(1)</script>"},
        {"status": ""},
        {"priority": 9},
        {"kind": Case.Kind.CONTROL},  # a control case needs the case it is matched to
    ],
)
def test_an_invalid_case_save_is_refused_and_changes_nothing(case, alice, changes):
    before = case_rows(case)
    for name, value in changes.items():
        setattr(case, name, value)

    with pytest.raises(ValidationError):
        services.case_save(case=case, actor=alice)

    assert case_rows(case) == before


def test_a_second_case_for_one_entity_is_refused(case, alice):
    before = case_rows(case)

    with pytest.raises(ValidationError):
        services.case_save(case=Case(entity=case.entity), actor=alice)

    assert case_rows(case) == before


def test_a_new_case_takes_its_entitys_earliest_referral_as_its_index_date(alice):
    entity = EntityFactory()
    ReferralFactory(entity=entity, date=date(2016, 3, 1), date_precision="month")

    case = services.case_save(case=Case(entity=entity), actor=alice)

    stored = fresh(case)
    assert (stored.index_date, stored.index_date_precision) == (date(2016, 3, 1), "month")
    assert stored.version == 1
    assert not CaseStatusChange.objects.exists()


def _referred_in_2015():
    referred = CaseFactory()
    ReferralFactory(entity=referred.entity, date=date(2015, 1, 1), date_precision="year")
    derived.case_index_dates_refresh(case_ids=[referred.pk])
    return Case.objects.get(pk=referred.pk)


def test_a_case_made_a_control_takes_its_matched_cases_index_date(case, alice):
    referred = _referred_in_2015()
    # Same country (GB) and kind as the referral; its field too, so it is comparable.
    Entity.objects.filter(pk=case.entity_id).update(technology_fields="robotics")
    case = fresh(case)
    case.kind, case.matched_case = Case.Kind.CONTROL, referred

    services.case_save(case=case, actor=alice)

    stored = fresh(case)
    assert (stored.index_date, stored.index_date_precision) == (date(2015, 1, 1), "year")
    assert stored.match_criteria == ["host_country", "entity_kind", "technology_field"]
    assert stored.match_relaxed == []


def test_a_case_made_a_control_that_misses_a_criterion_is_refused_and_changes_nothing(case, alice):
    referred = _referred_in_2015()  # robotics; the case's entity has no field
    before = case_rows(case)
    case.kind, case.matched_case = Case.Kind.CONTROL, referred

    with pytest.raises(ValidationError) as exc_info:
        services.case_save(case=case, actor=alice)

    assert "same technology field (no field against robotics)" in str(exc_info.value)
    assert case_rows(case) == before


def test_a_criterion_relaxed_without_a_reason_is_refused(case, alice):
    referred = _referred_in_2015()
    before = case_rows(case)
    case.kind, case.matched_case = Case.Kind.CONTROL, referred
    case.match_relaxed = ["technology_field"]

    with pytest.raises(ValidationError, match="Say why"):
        services.case_save(case=case, actor=alice)

    assert case_rows(case) == before


def test_a_control_referred_after_all_can_be_made_a_referred_case(case, alice):
    referred = _referred_in_2015()
    control = CaseFactory(kind=Case.Kind.CONTROL, matched_case=referred)
    ReferralFactory(entity=control.entity, date=date(2020, 1, 1), date_precision="year")
    derived.case_index_dates_refresh(case_ids=[control.pk])
    control = fresh(control)
    assert control.referred_later_at is not None
    control.kind, control.matched_case = Case.Kind.REFERRED, None

    services.case_save(case=control, actor=alice)

    stored = fresh(control)
    assert (stored.kind, stored.match_criteria) == (Case.Kind.REFERRED, [])
    assert stored.index_date == date(2020, 1, 1)  # its own referral now starts its clock
    assert stored.referred_later_at == control.referred_later_at  # kept: no history row has it


def test_a_relaxed_criterion_is_recorded_with_its_reason(case, alice):
    referred = _referred_in_2015()
    case.kind, case.matched_case = Case.Kind.CONTROL, referred
    # Relaxing a criterion it meets records nothing for it.
    case.match_relaxed = ["technology_field", "host_country"]
    case.match_note = "  No robotics firm of this size was found unreferred.  "

    services.case_save(case=case, actor=alice)

    stored = fresh(case)
    assert stored.match_criteria == ["host_country", "entity_kind"]
    assert stored.match_relaxed == ["technology_field"]
    assert stored.match_note == "No robotics firm of this size was found unreferred."


# ------------------------------------------------------------------------ real concurrency


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_reviews_of_one_version_let_exactly_one_through():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite takes no row locks")
    team = TeamFactory(name="Team A")
    alice = AnalystFactory(username="alice", teams=[team])
    bob = AnalystFactory(username="bob", teams=[team])
    lead = FindingFactory(case=CaseFactory(team=team), review_state=LEAD)
    barrier = threading.Barrier(2)
    outcomes = {}

    def review(user, state, note):
        try:
            barrier.wait(timeout=10)
            services.finding_review(
                finding=Finding.objects.get(pk=lead.pk),
                state=state,
                reviewer=user,
                note=note,
                version=1,
            )
            outcomes[user.username] = "saved"
        except services.EditConflict:
            outcomes[user.username] = "conflict"
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=review, args=(alice, CONFIRMED, "")),
        threading.Thread(target=review, args=(bob, REJECTED, "Not them.")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == ["conflict", "saved"]
    winner = next(name for name, outcome in outcomes.items() if outcome == "saved")
    stored = Finding.objects.get(pk=lead.pk)
    assert stored.version == 2
    assert stored.reviewed_by.username == winner


# ------------------------------------------------------------------------ reopening


def reviewed_lead(case, alice, state=CONFIRMED) -> Finding:
    lead = FindingFactory(case=case, review_state=LEAD, source="gdelt")
    with signed_in(alice):
        services.finding_review(
            finding=lead, state=state, reviewer=alice, note="Not them.", version=1
        )
    return fresh(lead)


def positive_case(team) -> tuple[Case, Finding]:
    """A referred case made positive by one confirmed joint venture after its referral."""
    case = CaseFactory(team=team, index_date=date(2017, 5, 1), index_date_precision="month")
    finding = FindingFactory(
        case=case,
        kind=Finding.Kind.JOINT_VENTURE,
        counterparty_country="CN",
        event_date=date(2019, 3, 1),
        event_date_precision="day",
        review_state=CONFIRMED,
        reviewed_at=timezone.now(),
    )
    derived.finding_timings_refresh(case_ids=[case.pk])
    return case, fresh(finding)


@pytest.mark.parametrize("state", [CONFIRMED, REJECTED])
def test_a_reviewed_finding_reopens_as_a_lead_with_its_reason(case, alice, bob, state):
    finding = reviewed_lead(case, alice, state)

    with signed_in(bob):
        services.finding_reopen(finding=finding, reviewer=bob, reason=" Wrong company. ", version=2)

    stored = fresh(finding)
    assert stored.review_state == LEAD
    assert (stored.reviewed_by, stored.reviewed_at) == (None, None)
    assert stored.review_note == "Wrong company."
    assert stored.version == 3
    # The history keeps the review and its undoing, each with who did it.
    record = stored.history.first()
    assert (record.review_state, record.history_user) == (LEAD, bob)
    assert stored.history.count() == 3


@pytest.mark.parametrize("reason", ["", "   "])
def test_reopening_a_finding_without_a_reason_is_refused_and_changes_nothing(case, alice, reason):
    finding = reviewed_lead(case, alice)

    with pytest.raises(ValidationError) as exc_info:
        services.finding_reopen(finding=finding, reviewer=alice, reason=reason, version=2)

    assert "Say why" in str(exc_info.value)
    stored = fresh(finding)
    assert (stored.review_state, stored.reviewed_by, stored.version) == (CONFIRMED, alice, 2)
    assert stored.history.count() == 2


def test_a_stale_reopening_is_refused_naming_who_changed_the_finding(case, alice, bob):
    finding = reviewed_lead(case, alice)
    with signed_in(alice):
        services.finding_reopen(finding=finding, reviewer=alice, reason="Recheck.", version=2)

    with pytest.raises(services.EditConflict) as exc_info:
        services.finding_reopen(finding=finding, reviewer=bob, reason="Also.", version=2)

    assert "alice" in str(exc_info.value)
    assert f"The {finding}" in str(exc_info.value)
    assert fresh(finding).version == 3


def test_a_lead_waiting_for_review_is_not_reopened(lead, alice):
    with pytest.raises(ValidationError) as exc_info:
        services.finding_reopen(finding=lead, reviewer=alice, reason="Why not.", version=1)

    assert "nothing to reopen" in str(exc_info.value)
    assert fresh(lead).version == 1


def test_reopening_the_finding_that_made_a_case_positive_makes_it_not_positive(team, alice):
    case, finding = positive_case(team)
    assert casework_selectors.case_outcome(case).positive

    services.finding_reopen(finding=finding, reviewer=alice, reason="Wrong JV.", version=1)

    assert not casework_selectors.case_outcome(case).positive
    assert not rules.positive_findings().filter(case=case).exists()


def test_a_concluded_case_reopens_in_review_and_logs_the_reason(case, alice):
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CONCLUDED)

    services.case_reopen(case=fresh(case), actor=alice, reason=" New filing. ", version=1)

    stored = fresh(case)
    assert (stored.status, stored.version) == (Case.Status.IN_REVIEW, 2)
    change = CaseStatusChange.objects.get(case=case)
    assert (change.from_status, change.to_status, change.changed_by, change.reason) == (
        Case.Status.CONCLUDED,
        Case.Status.IN_REVIEW,
        alice,
        "New filing.",
    )


def test_reopening_a_case_without_a_reason_is_refused_and_changes_nothing(case, alice):
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CONCLUDED)

    with pytest.raises(ValidationError):
        services.case_reopen(case=fresh(case), actor=alice, reason=" ", version=1)

    assert (fresh(case).status, fresh(case).version) == (Case.Status.CONCLUDED, 1)
    assert not CaseStatusChange.objects.filter(case=case).exists()


def test_only_a_concluded_case_is_reopened(case, alice):
    with pytest.raises(ValidationError) as exc_info:
        services.case_reopen(case=case, actor=alice, reason="Again.", version=1)

    assert "this one is open" in str(exc_info.value)
    assert not CaseStatusChange.objects.filter(case=case).exists()


def test_a_stale_case_reopening_is_refused(case, alice):
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CONCLUDED, version=4)

    with pytest.raises(services.EditConflict):
        services.case_reopen(case=fresh(case), actor=alice, reason="Again.", version=3)

    assert fresh(case).status == Case.Status.CONCLUDED
