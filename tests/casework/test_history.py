"""The case history in words: each history row reads as a sentence naming who did what to
which lead, never a field name or an id."""

from cases.casework import history
from cases.models import Case, Finding

JV = Finding.Kind.JOINT_VENTURE
LEAD = Finding.ReviewState.LEAD
CONFIRMED = Finding.ReviewState.CONFIRMED
REJECTED = Finding.ReviewState.REJECTED


def values(**fields) -> dict:
    base = {"kind": JV, "source": "gdelt", "counterparty_name": "Shenzhen X Co.", "review_note": ""}
    return {**base, **fields}


def state_change(old: str, new: str) -> list[history.Change]:
    return [
        history.Change("review_state", old, new),
        history.Change("reviewed_by", None, 7),
        history.Change("reviewed_at", None, "2026-01-01"),
    ]


def test_a_confirmation_names_the_reviewer_kind_and_source():
    sentence = history.finding_sentence(
        "ana", "changed", values(), state_change(LEAD, CONFIRMED), {}
    )

    assert sentence == "ana confirmed the joint venture lead from gdelt"


def test_a_rejection_gives_its_reason():
    sentence = history.finding_sentence(
        "ana", "changed", values(review_note="wrong company"), state_change(LEAD, REJECTED), {}
    )

    assert sentence == "ana rejected the joint venture lead from gdelt: wrong company"


def test_a_reopening_gives_its_reason():
    sentence = history.finding_sentence(
        "ana", "changed", values(review_note="wrong company"), state_change(CONFIRMED, LEAD), {}
    )

    assert sentence == "ana reopened the joint venture lead from gdelt: wrong company"


def test_a_finding_added_by_hand_names_its_kind_and_counterparty():
    sentence = history.finding_sentence("bob", "created", values(source="manual"), [], {})

    assert sentence == "bob added a finding: joint venture with Shenzhen X Co."


def test_a_lead_filed_by_a_check_names_the_source():
    sentence = history.finding_sentence("", "created", values(counterparty_name=""), [], {})

    assert sentence == "A check of gdelt filed a lead: joint venture with an unnamed party"


def test_a_hand_entered_finding_is_not_called_a_lead_from_manual():
    sentence = history.finding_sentence(
        "ana", "changed", values(source="manual"), state_change(CONFIRMED, REJECTED), {}
    )

    assert sentence == "ana rejected the hand-entered joint venture finding"


def test_a_re_derived_timing_reads_in_words():
    changes = [history.Change("timing", "unknown", "after")]

    sentence = history.finding_sentence("", "changed", values(), changes, {})

    assert sentence == (
        "An automated task changed the joint venture lead from gdelt: "
        "timing from “cannot tell” to “after the referral”"
    )
    assert "unknown" not in sentence


def test_case_changes_read_in_words_with_people_and_teams_by_name():
    changes = [
        history.Change("status", Case.Status.OPEN, Case.Status.IN_REVIEW),
        history.Change("assignee", None, 3),
        history.Change("team", 1, 2),
    ]

    sentence = history.case_sentence("ana", "changed", changes, {3: "bob"}, {2: "Team B"})

    assert sentence == (
        "ana moved the case from open to in review; assigned the case to bob; "
        "moved the case to team Team B"
    )


def test_an_unassignment_and_a_new_case_read_in_words():
    unassigned = history.case_sentence(
        "ana", "changed", [history.Change("assignee", 3, None)], {}, {}
    )
    opened = history.case_sentence("", "created", [], {}, {})

    assert unassigned == "ana unassigned the case"
    assert opened == "An automated task opened the case"


def test_an_entity_edit_names_the_field_by_its_label():
    sentence = history.entity_sentence("ana", "changed", [history.Change("lei", "", "5493")])

    assert sentence == "ana changed the LEI from nothing to “5493”"


def test_a_reopened_case_gives_its_reason():
    reopened = history.status_change_sentence(
        "ana", Case.Status.CONCLUDED, Case.Status.IN_REVIEW, "a new filing"
    )
    moved = history.status_change_sentence("", Case.Status.OPEN, Case.Status.MONITORING, "")

    assert reopened == "ana reopened the concluded case: a new filing"
    assert moved == "An automated task moved the case from open to monitoring"


def test_a_finding_is_named_by_kind_and_counterparty():
    assert history.finding_name(JV, "Shenzhen X Co.") == "joint venture with Shenzhen X Co."
    assert history.finding_name(JV, "") == "joint venture with an unnamed party"


def test_lists_flags_and_empty_values_read_as_words():
    changes = [
        history.Change("match_criteria", [], ["host_country", "entity_kind"]),
        history.Change("index_date", None, "2017-05-01"),
    ]

    sentence = history.case_sentence("", "changed", changes, {}, {})

    assert "from nothing to “host country, entity kind”" in sentence
    assert "from nothing to “2017-05-01”" in sentence
    assert "None" not in sentence and "[" not in sentence
    flag = history.entity_sentence("ana", "changed", [history.Change("is_demo", False, True)])
    assert flag.endswith("from no to yes")
