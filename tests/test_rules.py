"""The research rules: each one's ORM expression and its Python predicate say the same of
the same rows, and the rules themselves (DOMAIN.md, "Outcome")."""

import datetime
import itertools

import pytest

from cases import derived, rules
from cases.models import Case, DatePrecision, Finding, Referral
from tests.factories import CaseFactory, EntityFactory, ReferralFactory

D = datetime.date
REFERRED_ON = D(2017, 5, 10)
CONFIRMED, REJECTED, LEAD = (
    Finding.ReviewState.CONFIRMED,
    Finding.ReviewState.REJECTED,
    Finding.ReviewState.LEAD,
)

pytestmark = pytest.mark.django_db


def referred_case(status: str = Case.Status.MONITORING) -> Case:
    entity = EntityFactory()
    ReferralFactory(entity=entity, date=REFERRED_ON, date_precision="day")
    case = CaseFactory(entity=entity, status=status)
    derived.case_index_dates_refresh(case_ids=[case.pk])
    case.refresh_from_db()
    return case


def add_finding(case: Case, *, state: str, country: str, on: D | None, kind=None) -> Finding:
    return derived.finding_create(
        case=case,
        kind=kind or Finding.Kind.JOINT_VENTURE,
        counterparty_name="Example counterparty",
        counterparty_country=country,
        event_date=on,
        event_date_precision="day" if on else "",
        review_state=state,
    )


@pytest.mark.parametrize(
    "country, expected", [("CN", True), ("HK", True), ("MO", True), ("cn", True), ("TW", False)]
)
def test_the_chinese_jurisdictions_are_the_mainland_hong_kong_and_macau(country, expected):
    assert rules.is_chinese(country) is expected


def test_an_empty_country_is_not_chinese():
    assert rules.is_chinese("") is False
    assert rules.is_chinese(None) is False


def test_the_positive_query_and_predicate_agree_on_every_kind_of_finding():
    case = referred_case()
    grid = itertools.product(
        [CONFIRMED, REJECTED, LEAD],
        ["CN", "HK", "MO", "TW", "US", ""],
        [D(2019, 1, 1), D(2016, 1, 1), REFERRED_ON, None],
        [Finding.Kind.JOINT_VENTURE, Finding.Kind.ACQUISITION],
    )
    made = [
        add_finding(case, state=state, country=country, on=on, kind=kind)
        for state, country, on, kind in grid
    ]
    for kind in (None, "any", Finding.Kind.JOINT_VENTURE, Finding.Kind.ACQUISITION):
        by_query = set(rules.positive_findings(kind).values_list("pk", flat=True))
        by_predicate = {
            f.pk
            for f in Finding.objects.filter(pk__in=[m.pk for m in made])
            if rules.is_positive_finding(f, kind)
        }
        assert by_query == by_predicate
    # Only confirmed findings after the referral with a Chinese counterparty count: 3
    # jurisdictions x 2 kinds.
    assert rules.positive_findings().count() == 6
    assert rules.positive_findings(Finding.Kind.ACQUISITION).count() == 3


def test_a_finding_inside_the_referral_day_or_undated_is_not_positive():
    case = referred_case()
    same_day = add_finding(case, state=CONFIRMED, country="CN", on=REFERRED_ON)
    undated = add_finding(case, state=CONFIRMED, country="CN", on=None)

    assert not rules.positive_findings().filter(pk__in=[same_day.pk, undated.pk]).exists()


@pytest.mark.parametrize(
    "status, states, reviewed",
    [
        (Case.Status.CONCLUDED, [], True),
        (Case.Status.MONITORING, [], False),
        (Case.Status.MONITORING, [LEAD], False),
        (Case.Status.MONITORING, [REJECTED], False),
        (Case.Status.OPEN, [LEAD, CONFIRMED], True),
    ],
)
def test_the_reviewed_query_and_predicate_agree(status, states, reviewed):
    case = referred_case(status=status)
    for state in states:
        add_finding(case, state=state, country="CN", on=D(2019, 1, 1))

    by_query = Case.objects.filter(rules.reviewed_case_q(), pk=case.pk).exists()
    by_predicate = rules.is_reviewed_case(case, case.findings.all())

    assert by_query is by_predicate is reviewed


def test_waiting_leads_are_the_unreviewed_findings_of_the_case():
    with_lead, without = referred_case(), referred_case()
    add_finding(with_lead, state=LEAD, country="US", on=None)
    add_finding(without, state=REJECTED, country="CN", on=D(2019, 1, 1))

    waiting = set(Case.objects.filter(rules.has_waiting_leads()).values_list("pk", flat=True))

    assert waiting == {with_lead.pk}
    assert rules.waiting_leads(with_lead).count() == 1


def test_precisions_rank_finest_first_in_python_and_in_the_database():
    assert [rules.precision_rank(p) for p in ("day", "month", "year")] == [0, 1, 2]
    entity = EntityFactory()
    for precision in ("year", "month", "day"):
        ReferralFactory(entity=entity, date=D(2017, 1, 1), date_precision=precision)

    ordered = Referral.objects.filter(entity=entity).order_by(rules.precision_rank_expression())

    assert [r.date_precision for r in ordered] == ["day", "month", "year"]


def test_the_index_referral_is_the_earliest_then_the_most_precise():
    entity = EntityFactory()
    ReferralFactory(entity=entity, date=D(2017, 1, 1), date_precision=DatePrecision.YEAR)
    ReferralFactory(entity=entity, date=D(2017, 1, 1), date_precision=DatePrecision.DAY)
    ReferralFactory(entity=entity, date=D(2016, 12, 1), date_precision=DatePrecision.MONTH)
    case = CaseFactory(entity=entity)

    derived.case_index_dates_refresh(case_ids=[case.pk])
    case.refresh_from_db()
    in_python = min(
        Referral.objects.filter(entity=entity),
        key=lambda r: rules.index_referral_key(r.date, r.date_precision),
    )

    assert (case.index_date, case.index_date_precision) == (D(2016, 12, 1), "month")
    assert case.index_referral_id == in_python.pk


def test_the_same_day_known_to_the_day_wins_over_the_year():
    entity = EntityFactory()
    ReferralFactory(entity=entity, date=D(2017, 1, 1), date_precision=DatePrecision.YEAR)
    day = ReferralFactory(entity=entity, date=D(2017, 1, 1), date_precision=DatePrecision.DAY)
    case = CaseFactory(entity=entity)

    derived.case_index_dates_refresh(case_ids=[case.pk])
    case.refresh_from_db()

    assert case.index_referral_id == day.pk
    assert case.index_date_precision == "day"


def test_the_index_period_ends_at_the_earliest_end_among_the_referrals():
    """Issue 13's example: referred in "2017" and on 2017-03-05, the entity was first
    referred by 2017-03-05, so a finding of 2017-06-10 is after its referral."""
    entity = EntityFactory()
    ReferralFactory(entity=entity, date=D(2017, 1, 1), date_precision=DatePrecision.YEAR)
    ReferralFactory(entity=entity, date=D(2017, 3, 5), date_precision=DatePrecision.DAY)
    case = CaseFactory(entity=entity, status=Case.Status.MONITORING)

    derived.case_index_dates_refresh(case_ids=[case.pk])
    case.refresh_from_db()
    finding = add_finding(case, state=CONFIRMED, country="CN", on=D(2017, 6, 10))
    inside = add_finding(case, state=CONFIRMED, country="CN", on=D(2017, 2, 1))

    assert (case.index_date, case.index_period_end) == (D(2017, 1, 1), D(2017, 3, 5))
    assert finding.timing == Finding.Timing.AFTER
    assert inside.timing == Finding.Timing.UNKNOWN
    assert rules.positive_findings().filter(case=case).get() == finding


def test_the_index_period_end_in_python():
    assert rules.index_period_end([(D(2017, 1, 1), "year"), (D(2017, 3, 5), "day")]) == D(
        2017, 3, 5
    )
    # A later referral known to the month can end the period of an earlier one by the year.
    assert rules.index_period_end([(D(2016, 1, 1), "year"), (D(2016, 5, 1), "month")]) == D(
        2016, 5, 31
    )
    assert rules.index_period_end([(D(2016, 5, 1), "month")]) == D(2016, 5, 31)
    assert rules.index_period_end([]) is None


def test_a_control_takes_the_index_period_of_its_matched_case():
    entity = EntityFactory()
    ReferralFactory(entity=entity, date=D(2017, 1, 1), date_precision=DatePrecision.YEAR)
    ReferralFactory(entity=entity, date=D(2017, 3, 5), date_precision=DatePrecision.DAY)
    case = CaseFactory(entity=entity)
    derived.case_index_dates_refresh(case_ids=[case.pk])
    case.refresh_from_db()  # its index referral, which the control is matched on
    control = CaseFactory(kind=Case.Kind.CONTROL, matched_case=case)
    Case.objects.filter(pk=control.pk).update(index_date=None, index_period_end=None)

    derived.case_index_dates_refresh(case_ids=[case.pk])
    control.refresh_from_db()

    assert (control.index_date, control.index_period_end) == (D(2017, 1, 1), D(2017, 3, 5))


# ------------------------------------------------------------------ matched controls


def _control_against(referral_field: str, **entity):
    matched = CaseFactory(entity=EntityFactory(country="GB"))
    referral = ReferralFactory(
        entity=matched.entity, host_country="GB", technology_field=referral_field
    )
    matched.index_referral = referral
    return rules.control_match(EntityFactory.build(**entity), matched)


def test_a_control_with_the_referrals_country_kind_and_a_shared_field_meets_all():
    met = _control_against(
        "Artificial  Intelligence",
        country="GB",
        technology_fields="robotics; artificial intelligence",
    )

    assert met == ["host_country", "entity_kind", "technology_field"]


def test_a_control_is_matched_on_the_referrals_host_country_not_the_matched_entitys():
    matched = CaseFactory(entity=EntityFactory(country="FR"))
    matched.index_referral = ReferralFactory(entity=matched.entity, host_country="GB")

    met = rules.control_match(
        EntityFactory.build(country="FR", technology_fields="robotics"), matched
    )

    assert met == ["entity_kind", "technology_field"]


def test_no_field_on_the_referral_matches_no_control_on_field():
    assert _control_against("", country="GB", technology_fields="") == [
        "host_country",
        "entity_kind",
    ]


def test_another_kind_misses_the_kind_criterion():
    met = _control_against(
        "robotics", country="GB", kind="university", technology_fields="Robotics"
    )

    assert met == ["host_country", "technology_field"]
