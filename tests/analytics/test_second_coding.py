"""Second readings: only of concluded cases, drawn by a seeded stratified draw, and with the
first reading frozen beside them so that settling a disagreement later changes nothing."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from cases import derived
from cases.analytics import selectors as analytics_selectors
from cases.analytics import services as analytics_services
from cases.analytics.agreement import Table
from cases.casework import services as casework_services
from cases.models import Case, Finding, SecondCoding
from tests.factories import (
    AnalystFactory,
    CaseFactory,
    EntityFactory,
    ReferralFactory,
    SupervisorFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date
JV = Finding.Kind.JOINT_VENTURE
PARTNERSHIP = Finding.Kind.PARTNERSHIP


@pytest.fixture
def team():
    return TeamFactory(name="Coders")


@pytest.fixture
def bob(team):
    return AnalystFactory(username="bob", teams=[team])


@pytest.fixture
def alice(team):
    return AnalystFactory(username="alice", teams=[team])


def case_of(team, name: str, *, status: str = Case.Status.CONCLUDED, positive: bool = False):
    entity = EntityFactory(name=name)
    ReferralFactory(entity=entity, date=D(2017, 5, 1), date_precision="day")
    case = CaseFactory(entity=entity, team=team, status=status)
    derived.case_index_dates_refresh(case_ids=[case.pk])
    case.refresh_from_db()  # the index date, which the findings' timing is derived from
    if positive:
        finding_of(case, JV, Finding.ReviewState.CONFIRMED)
    return case


def finding_of(case: Case, kind: str, state: str) -> Finding:
    return derived.finding_create(
        case=case,
        kind=kind,
        counterparty_name=f"Shenzhen {kind} Co.",
        counterparty_country="CN",
        event_date=D(2019, 3, 1),
        event_date_precision="day",
        review_state=state,
    )


def read(case: Case, coder, kinds: list[str]) -> SecondCoding:
    coding = analytics_services.second_coding_assign(case=case, coder=coder, actor=None)
    return analytics_services.second_coding_record(
        coding=coding, positive_kinds=kinds, note="", actor=coder
    )


def snapshot() -> list[tuple]:
    return list(SecondCoding.objects.order_by("pk").values_list())


# ------------------------------------------------------------------ concluded only


@pytest.mark.parametrize(
    "status", [Case.Status.OPEN, Case.Status.MONITORING, Case.Status.IN_REVIEW, Case.Status.CLOSED]
)
def test_only_a_concluded_case_is_given_for_a_second_reading(team, bob, status):
    case = case_of(team, "Open Optics Ltd", status=status, positive=True)
    before = snapshot()

    with pytest.raises(ValidationError) as error:
        analytics_services.second_coding_assign(case=case, coder=bob, actor=None)

    assert error.value.message_dict["case"] == [
        f"Open Optics Ltd is {case.get_status_display()}: only a concluded case can be read "
        "a second time."
    ]
    assert snapshot() == before == []


# ------------------------------------------------------------------ frozen first reading


def test_recording_freezes_the_first_reading_beside_the_second(team, bob):
    case = case_of(team, "Kestrel Photonics Ltd", positive=True)
    finding_of(case, PARTNERSHIP, Finding.ReviewState.LEAD)  # not positive: a lead

    coding = read(case, bob, [PARTNERSHIP])

    coding.refresh_from_db()
    assert coding.first_positive_kinds == [JV]
    assert coding.first_read_at == coding.recorded_at is not None
    [pair] = analytics_selectors.coding_pairs(Case.objects.all(), outcome=JV)
    assert (pair.first, pair.second) == ("positive", "negative")


def test_settling_disagreements_later_changes_no_agreement_figure(team, bob, alice):
    """Twelve cases: 5 positive both times, 5 negative both times, one the second reading
    missed and one it found. Then the first analyst settles both in the second coder's
    favour, and every figure stays."""
    cases = [case_of(team, f"Agreed {n} Ltd", positive=n < 5) for n in range(10)]
    missed = case_of(team, "Missed Ltd", positive=True)
    found = case_of(team, "Found Ltd")
    lead = finding_of(found, PARTNERSHIP, Finding.ReviewState.LEAD)
    for n, case in enumerate(cases):
        read(case, bob, [JV] if n < 5 else [])
    read(missed, bob, [])
    read(found, bob, [PARTNERSHIP])

    def figures():
        pairs = analytics_selectors.coding_pairs(Case.objects.all())
        return (
            [(p.case_id, p.first, p.second) for p in pairs],
            analytics_selectors.agreement_by_kind(pairs),
            analytics_selectors.agreement_by_cohort(pairs),
        )

    before = figures()
    any_kind = before[1][0]
    assert any_kind.table == Table(a=5, b=1, c=1, d=5)
    assert any_kind.kappa == pytest.approx(4 / 6)  # po 10/12, pe 1/2

    # Settling: the missed joint venture was wrong, the found partnership right.
    casework_services.finding_review(
        finding=missed.findings.get(),
        state=Finding.ReviewState.REJECTED,
        reviewer=alice,
        note="Another company.",
    )
    casework_services.finding_review(
        finding=lead, state=Finding.ReviewState.CONFIRMED, reviewer=alice
    )
    assert analytics_selectors.outcome_total(Case.objects.all()).positive == 6 - 1 + 1

    assert figures() == before


def test_readings_recorded_before_freezing_are_left_out_and_counted(team, bob):
    old = read(case_of(team, "Old Reading Ltd", positive=True), bob, [JV])
    read(case_of(team, "New Reading Ltd"), bob, [])
    # As the migration leaves a reading recorded before first readings were frozen.
    SecondCoding.objects.filter(pk=old.pk).update(first_positive_kinds=[], first_read_at=None)

    pairs = analytics_selectors.coding_pairs(Case.objects.all())

    assert [p.entity_name for p in pairs] == ["New Reading Ltd"]
    assert analytics_selectors.unfrozen_second_codings(Case.objects.all()) == 1


def test_a_first_reading_cannot_be_frozen_before_the_second_is_recorded(team, bob):
    coding = analytics_services.second_coding_assign(
        case=case_of(team, "Pending Ltd"), coder=bob, actor=None
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        SecondCoding.objects.filter(pk=coding.pk).update(first_read_at=timezone.now())


# ------------------------------------------------------------------ stratified draw


def test_stratified_sample_allocates_proportionally_by_largest_remainder():
    strata = {"positive": range(1, 4), "negative": range(100, 107)}  # 3 and 7 of 10

    picked = analytics_services.stratified_sample(strata, size=5, seed=1)

    # 5 * 3/10 = 1.5 and 5 * 7/10 = 3.5: equal remainders, the first stratum gets the case.
    assert len([i for i in picked if i < 100]) == 2
    assert len([i for i in picked if i >= 100]) == 3
    assert len(set(picked)) == 5


def test_stratified_sample_is_the_same_for_the_same_seed_whatever_the_order():
    strata = {"positive": [5, 3, 9, 1], "negative": list(range(20, 40))}
    shuffled = {"positive": [9, 1, 5, 3], "negative": list(reversed(range(20, 40)))}

    first = analytics_services.stratified_sample(strata, size=8, seed=42)

    assert analytics_services.stratified_sample(shuffled, size=8, seed=42) == first
    assert analytics_services.stratified_sample(strata, size=8, seed=43) != first


@pytest.mark.parametrize("size", [0, 11])
def test_stratified_sample_refuses_an_impossible_size(size):
    with pytest.raises(ValidationError):
        analytics_services.stratified_sample(
            {"positive": [1, 2], "negative": range(10, 18)}, size=size, seed=1
        )


def draw_world(team, alice):
    """Concluded cases: 4 positive and 8 negative that bob can read, and cases he
    cannot: open, already given, alice's case he reviewed a finding of, another team's."""
    positive = [case_of(team, f"Positive {n} Ltd", positive=True) for n in range(4)]
    negative = [case_of(team, f"Negative {n} Ltd") for n in range(8)]
    excluded = [
        case_of(team, "Open Ltd", status=Case.Status.OPEN),
        case_of(TeamFactory(name="Elsewhere"), "Elsewhere Ltd"),
    ]
    given = case_of(team, "Given Ltd")
    analytics_services.second_coding_assign(case=given, coder=alice, actor=None)
    reviewed = case_of(team, "Reviewed Ltd", positive=True)
    return positive, negative, excluded + [given, reviewed]


def test_a_draw_gives_proportional_strata_of_eligible_cases_and_stores_its_seed(team, bob, alice):
    positive, negative, excluded = draw_world(team, alice)
    reviewed = excluded[-1]
    Finding.objects.filter(case=reviewed).update(reviewed_by=bob)

    codings = analytics_services.second_coding_draw(
        cases=Case.objects.all(), size=6, coder=bob, actor=alice, seed=20131
    )

    ids = {c.case_id for c in codings}
    # 6 of 12: 4/12 positive gives 2, 8/12 negative gives 4.
    assert len(ids & {c.pk for c in positive}) == 2
    assert len(ids & {c.pk for c in negative}) == 4
    assert not ids & {c.pk for c in excluded}
    stored = SecondCoding.objects.filter(case__in=ids)
    assert set(stored.values_list("coder__username", "assigned_by__username", "draw_seed")) == {
        ("bob", "alice", 20131)
    }


def test_the_same_seed_draws_the_same_cases(team, bob, alice):
    draw_world(team, alice)

    first = analytics_services.second_coding_draw(
        cases=Case.objects.all(), size=5, coder=bob, actor=None, seed=7
    )
    first_ids = sorted(c.case_id for c in first)
    SecondCoding.objects.filter(draw_seed=7).delete()
    again = analytics_services.second_coding_draw(
        cases=Case.objects.all(), size=5, coder=bob, actor=None, seed=7
    )

    assert sorted(c.case_id for c in again) == first_ids


def test_a_draw_larger_than_its_frame_is_refused_and_gives_nothing(team, bob, alice):
    draw_world(team, alice)
    before = snapshot()

    with pytest.raises(ValidationError, match="Only 13 case"):
        analytics_services.second_coding_draw(
            cases=Case.objects.all(), size=14, coder=bob, actor=None, seed=1
        )

    assert snapshot() == before


def test_a_draw_without_a_seed_records_the_one_it_drew(team, bob, alice):
    draw_world(team, alice)

    codings = analytics_services.second_coding_draw(
        cases=Case.objects.all(), size=2, coder=bob, actor=None
    )

    seeds = set(SecondCoding.objects.filter(coder=bob).values_list("draw_seed", flat=True))
    assert seeds == {codings[0].draw_seed} and None not in seeds


# ------------------------------------------------------------------ the page


@pytest.fixture
def sam(team):
    return SupervisorFactory(username="sam", teams=[team])


def draw_post(client, **data):
    return client.post(reverse("cases:second_coding_draw"), data)


def test_a_supervisor_draws_from_a_cohort_and_is_told_the_seed(client, team, bob, alice, sam):
    positive, negative, _ = draw_world(team, alice)
    cohort = analytics_services.cohort_save(
        name="Half", cases=Case.objects.filter(pk__in=[c.pk for c in negative[:4]]), actor=sam
    )
    client.force_login(sam)

    response = draw_post(client, coder=bob.pk, size=3, seed=99, cohort=cohort.pk)

    assert response.status_code == 302
    assert response.url == reverse("cases:analytics") + "#agreement"
    given = set(SecondCoding.objects.filter(coder=bob).values_list("case", flat=True))
    assert len(given) == 3 and given <= {c.pk for c in negative[:4]}
    assert any("seed 99" in str(m) for m in get_messages(response.wsgi_request))


@pytest.mark.parametrize(
    "data, message",
    [
        ({"size": 50, "seed": 1}, "Only 13 case(s) can be drawn"),
        ({"size": 0}, "size"),
        ({"size": "many"}, "size"),
    ],
)
def test_a_draw_that_cannot_be_made_is_refused_with_a_message(
    client, team, bob, alice, sam, data, message
):
    draw_world(team, alice)
    before = snapshot()
    client.force_login(sam)

    response = draw_post(client, coder=bob.pk, **data)

    assert response.status_code == 302
    assert any(message in str(m) for m in get_messages(response.wsgi_request))
    assert snapshot() == before


def test_the_page_shows_each_kinds_figures_or_too_few_to_say(client, team, bob, sam):
    # 12 cases read twice, as in the settling test: any outcome and joint ventures have
    # figures; the partnership the second reading alone found is listed too.
    for n in range(12):
        read(case_of(team, f"Read {n} Ltd", positive=n < 6), bob, [JV] if 1 <= n < 7 else [])
    client.force_login(sam)

    html = client.get(reverse("cases:analytics")).content.decode()

    section = html.split('id="agreement"', 1)[1].split("</section>", 1)[0]
    row = section.split('id="agreement-kind-any"', 1)[1].split("</tr>", 1)[0]
    # a 5, b 1, c 1, d 5: kappa 4/6, PABAK 2 * 10/12 - 1 = 0.67, PI 0, BI 0, ps = pn = 10/12.
    assert "<td>12</td>" in row
    assert "5 · 1 · 1 · 5" in row
    assert row.count("0.67") == 2 and row.count("0.83") == 2
    assert row.count(" [") == 4  # kappa, PABAK, ps and pn each with an interval
    assert 'id="agreement-kind-joint_venture"' in section
    assert 'id="agreement-kind-partnership"' not in section  # neither reading found one
    assert "seed 20131" in section and "2000 resamples" in section
    by_year = section.split('id="agreement-table"', 1)[1]
    assert "too few to say" not in by_year  # all twelve are of 2017


def second_reading_section(client, case: Case) -> str:
    html = client.get(case.get_absolute_url()).content.decode()
    return html.split('id="second-coding"', 1)[1].split("</section>", 1)[0]


def test_the_case_page_offers_a_second_reading_of_concluded_cases_only(client, team, sam):
    client.force_login(sam)
    open_case = case_of(team, "Open Ltd", status=Case.Status.MONITORING)
    concluded = case_of(team, "Concluded Ltd")

    refused, offered = (second_reading_section(client, c) for c in (open_case, concluded))

    assert "Ask for a blind second reading" not in refused
    assert "Only a concluded case is read a second time; this one is monitoring." in refused
    assert "Ask for a blind second reading" in offered


def test_the_case_page_shows_the_frozen_first_reading(client, team, bob, sam):
    case = case_of(team, "Kestrel Photonics Ltd", positive=True)
    read(case, bob, [])
    client.force_login(sam)

    section = second_reading_section(client, case)

    assert "no outcome" in section  # the second reading
    assert "First reading when it was recorded" in section
    assert "outcome kinds joint_venture." in section
