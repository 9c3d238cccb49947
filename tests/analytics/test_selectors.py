"""The analytics selectors: outcome rates per cohort with their intervals and medians,
time to the first outcome, referred against control cases, and agreement between two
coders, each checked against figures worked out by hand from the rows made here."""

import datetime
import math
import statistics

import pytest
from scipy.stats import binomtest

from cases import blocs, derived, rules
from cases.analytics import agreement
from cases.analytics import selectors as analytics_selectors
from cases.analytics import services as analytics_services
from cases.analytics.paired import PairTable, paired_difference
from cases.casework import services as casework_services
from cases.models import Case, CheckRun, Cohort, Entity, Finding, Referral
from tests.factories import (
    AnalystFactory,
    CaseFactory,
    CheckRunFactory,
    EntityFactory,
    PostFactory,
    ReferralFactory,
    SupervisorFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date
Z = 1.959963984540054
CONFIRMED = Finding.ReviewState.CONFIRMED
REJECTED = Finding.ReviewState.REJECTED
LEAD = Finding.ReviewState.LEAD
JV = Finding.Kind.JOINT_VENTURE
PARTNERSHIP = Finding.Kind.PARTNERSHIP
CONCLUDED = Case.Status.CONCLUDED
REFERRED_ON = D(2017, 5, 1)
FOUND_ON = D(2019, 1, 1)


@pytest.fixture(autouse=True)
def _reference_lists():
    """Blocs come from the shipped reference lists, read afresh for each test."""
    blocs.memberships.cache_clear()
    yield
    blocs.memberships.cache_clear()


def wilson(positive: int, total: int) -> tuple[float, float]:
    """Wilson (1927) score interval in closed form."""
    p = positive / total
    denom = 1 + Z**2 / total
    centre = (p + Z**2 / (2 * total)) / denom
    half = Z * math.sqrt(p * (1 - p) / total + Z**2 / (4 * total**2)) / denom
    return centre - half, centre + half


def referred(
    *,
    on: D = REFERRED_ON,
    precision: str = "day",
    country: str = "GB",
    methods: tuple[str, ...] = ("joint_venture",),
    kind: str = Entity.Kind.COMPANY,
    status: str = Case.Status.MONITORING,
    team=None,
    field: str = "robotics",
) -> Case:
    """A referred case with one referral, its index date derived by the service."""
    entity = EntityFactory(country=country, kind=kind)
    post = PostFactory(name=f"Embassy in {country}", host_country=country)
    ReferralFactory(
        entity=entity,
        post=post,
        host_country=country,
        date=on,
        date_precision=precision,
        cooperation_methods=list(methods),
        technology_field=field,
    )
    case = CaseFactory(entity=entity, status=status, team=team)
    derived.case_index_dates_refresh(case_ids=[case.pk])
    case.refresh_from_db()
    return case


def finding(
    case: Case,
    *,
    on: D | None = FOUND_ON,
    country: str = "CN",
    kind: str = JV,
    state: str = CONFIRMED,
) -> Finding:
    return derived.finding_create(
        case=case,
        kind=kind,
        counterparty_name="Shenzhen Example Co.",
        counterparty_country=country,
        event_date=on,
        event_date_precision="day" if on else "",
        review_state=state,
    )


def positive_case(days: int, **values) -> Case:
    """A referred case whose first outcome came `days` days after its index date."""
    case = referred(**values)
    finding(case, on=case.index_date + datetime.timedelta(days=days))
    return case


def negative_case(**values) -> Case:
    return referred(status=CONCLUDED, **values)


def control_of(matched: Case, *, name: str, kind: str = Entity.Kind.COMPANY, **values) -> Case:
    """A control matched on its referred case's host country, kind and field (the
    defaults of referred())."""
    return analytics_services.control_case_create(
        name=name,
        country="GB",
        kind=kind,
        technology_fields="robotics",
        matched_case=matched,
        **values,
    )


def rates(by: str = "year", **values) -> dict[str, analytics_selectors.CohortRate]:
    return {
        row.cohort: row
        for row in analytics_selectors.outcome_rates(Case.objects.all(), by=by, **values)
    }


# ----------------------------------------------------------------- rates and intervals


def test_no_cases_no_rows_and_an_empty_total():
    assert analytics_selectors.outcome_rates(Case.objects.all(), by="year") == []
    total = analytics_selectors.outcome_total(Case.objects.all())
    assert (total.cases, total.reviewed, total.positive) == (0, 0, 0)
    assert total.rate is total.ci_low is total.ci_high is total.median_days is None


def test_zero_of_zero_reviewed_has_no_rate_and_no_interval():
    finding(referred(), state=LEAD)
    referred()

    row = rates()["2017"]

    assert (row.cases, row.reviewed, row.positive) == (2, 0, 0)
    assert row.rate is None
    assert row.ci_low is None
    assert row.ci_high is None
    assert row.median_days is None


def test_zero_of_n_is_a_rate_of_zero_with_a_wilson_upper_bound():
    for _ in range(4):
        negative_case()

    row = rates()["2017"]

    assert (row.cases, row.reviewed, row.positive) == (4, 4, 0)
    assert row.rate == 0.0
    assert row.ci_low == pytest.approx(0.0, abs=1e-12)
    assert row.ci_high == pytest.approx(wilson(0, 4)[1])
    assert row.median_days is None


def test_n_of_n_is_a_rate_of_one_with_a_wilson_lower_bound():
    for days in (10, 20, 30):
        positive_case(days)

    row = rates()["2017"]

    assert (row.cases, row.reviewed, row.positive) == (3, 3, 3)
    assert row.rate == 1.0
    assert row.ci_low == pytest.approx(wilson(3, 3)[0])
    assert row.ci_high == pytest.approx(1.0, abs=1e-12)


def test_a_mixed_cohort_has_the_closed_form_wilson_interval():
    for days in (40, 90):
        positive_case(days)
    for _ in range(3):
        negative_case()
    referred()  # not reviewed: counted among cases only

    row = rates()["2017"]

    assert (row.cases, row.reviewed, row.positive) == (6, 5, 2)
    assert row.rate == pytest.approx(2 / 5)
    assert (row.ci_low, row.ci_high) == pytest.approx(wilson(2, 5))


# ------------------------------------------------------------------ what counts as what


def _setup_concluded(case):
    casework_services.case_set_status(case=case, status=CONCLUDED, actor=None)


@pytest.mark.parametrize(
    ("setup", "reviewed"),
    [
        (_setup_concluded, True),
        # A reviewed negative is a concluded case: a decided finding that does not make
        # the case positive leaves it unreviewed (its other evidence may be waiting).
        (lambda case: finding(case, state=REJECTED), False),
        (lambda case: finding(case, state=CONFIRMED, country="US"), False),
        (lambda case: finding(case, state=CONFIRMED), True),
        (lambda case: finding(case, state=LEAD), False),
        (
            lambda case: [finding(case, state=LEAD), finding(case, state=LEAD, kind=PARTNERSHIP)],
            False,
        ),
        (lambda case: None, False),
    ],
    ids=["concluded", "rejected", "confirmed-us", "positive", "one-lead", "leads-only", "nothing"],
)
def test_reviewed_means_concluded_or_positive(setup, reviewed):
    case = referred()
    setup(case)

    row = analytics_selectors.outcome_total(Case.objects.all())

    assert row.cases == 1
    assert row.reviewed == int(reviewed)


@pytest.mark.parametrize(
    ("country", "on", "state", "positive"),
    [
        ("CN", D(2018, 1, 1), CONFIRMED, True),
        ("HK", D(2018, 1, 1), CONFIRMED, True),
        ("MO", D(2018, 1, 1), CONFIRMED, True),
        ("US", D(2018, 1, 1), CONFIRMED, False),
        ("TW", D(2018, 1, 1), CONFIRMED, False),
        ("", D(2018, 1, 1), CONFIRMED, False),
        ("CN", D(2016, 12, 31), CONFIRMED, False),  # before the index date: context
        ("CN", D(2017, 5, 20), CONFIRMED, False),  # same month as the referral: unknown
        ("CN", None, CONFIRMED, False),  # undated: unknown
        ("CN", D(2018, 1, 1), LEAD, False),
        ("CN", D(2018, 1, 1), REJECTED, False),
    ],
)
def test_positive_needs_confirmed_after_with_a_chinese_counterparty(country, on, state, positive):
    case = referred(on=D(2017, 5, 1), precision="month")
    made = finding(case, country=country, on=on, state=state)

    row = analytics_selectors.outcome_total(Case.objects.all())

    assert row.positive == int(positive)
    assert rules.positive_findings().filter(pk=made.pk).exists() == positive


def test_timing_before_and_unknown_as_derived():
    case = referred(on=D(2017, 5, 1), precision="month")

    assert finding(case, on=D(2017, 4, 30)).timing == Finding.Timing.BEFORE
    assert finding(case, on=D(2017, 5, 31)).timing == Finding.Timing.UNKNOWN
    assert finding(case, on=D(2017, 6, 1)).timing == Finding.Timing.AFTER


def test_outcome_of_one_kind_counts_only_that_kind():
    case = referred()
    finding(case, kind=JV, on=D(2018, 3, 1))
    finding(case, kind=PARTNERSHIP, on=D(2016, 3, 1))  # before: context only
    other = referred()
    finding(other, kind=PARTNERSHIP, on=D(2017, 6, 1))

    jv = analytics_selectors.outcome_total(Case.objects.all(), outcome=JV)
    partnership = analytics_selectors.outcome_total(Case.objects.all(), outcome=PARTNERSHIP)
    acquisition = analytics_selectors.outcome_total(
        Case.objects.all(), outcome=Finding.Kind.ACQUISITION
    )
    both = analytics_selectors.outcome_total(Case.objects.all(), outcome="any")

    # Reviewed for a kind: concluded, or positive for that kind.
    assert (jv.reviewed, jv.positive) == (1, 1)
    assert jv.median_days == (D(2018, 3, 1) - D(2017, 5, 1)).days
    assert (partnership.reviewed, partnership.positive) == (1, 1)
    assert partnership.median_days == (D(2017, 6, 1) - D(2017, 5, 1)).days
    assert (acquisition.reviewed, acquisition.positive, acquisition.rate) == (0, 0, None)
    assert (both.reviewed, both.positive) == (2, 2)


def test_an_unknown_outcome_or_dimension_is_refused():
    with pytest.raises(ValueError, match="espionage"):
        analytics_selectors.outcome_rates(Case.objects.all(), by="year", outcome="espionage")
    with pytest.raises(ValueError, match="colour"):
        analytics_selectors.outcome_rates(Case.objects.all(), by="colour")


# ------------------------------------------------------------------------- dimensions


def test_cooperation_method_counts_a_case_in_each_method_of_its_index_referral():
    first = positive_case(100, methods=("joint_venture", "equity_purchase"))
    # A later referral of the same entity seeks a licence: not the index referral.
    ReferralFactory(
        entity=first.entity,
        date=D(2019, 1, 1),
        date_precision="day",
        cooperation_methods=["patent_licence"],
    )
    derived.case_index_dates_refresh(case_ids=[first.pk])
    positive_case(300, methods=("joint_venture",))
    negative_case(methods=("joint_venture",))
    negative_case(methods=())

    by_method = rates("cooperation_method")

    assert set(by_method) == {"joint venture", "equity purchase"}
    jv = by_method["joint venture"]
    assert (jv.cases, jv.reviewed, jv.positive) == (3, 3, 2)
    assert (jv.ci_low, jv.ci_high) == pytest.approx(wilson(2, 3))
    assert jv.median_days == 200.0
    equity = by_method["equity purchase"]
    assert (equity.cases, equity.reviewed, equity.positive) == (1, 1, 1)
    assert equity.median_days == 100.0
    assert list(by_method) == ["joint venture", "equity purchase"]


def test_bloc_is_the_host_countrys_at_the_referral_date():
    # Montenegro joined NATO on 2017-06-05.
    before = referred(country="ME", on=D(2017, 3, 1), precision="month")
    after = referred(country="ME", on=D(2017, 7, 1), precision="month")
    finding(after, on=D(2018, 1, 1))
    casework_services.case_set_status(case=before, status=CONCLUDED, actor=None)

    by_bloc = rates("bloc")

    assert Referral.objects.get(entity=before.entity).alliance_bloc == "other"
    assert Referral.objects.get(entity=after.entity).alliance_bloc == "nato"
    assert before.index_referral == Referral.objects.get(entity=before.entity)
    assert set(by_bloc) == {"other", "NATO"}
    assert (by_bloc["other"].cases, by_bloc["other"].positive) == (1, 0)
    assert (by_bloc["NATO"].cases, by_bloc["NATO"].positive) == (1, 1)


def test_bloc_comes_from_the_index_referral_not_a_later_one():
    case = referred(country="ME", on=D(2017, 3, 1), precision="month")
    ReferralFactory(
        entity=case.entity, host_country="ME", date=D(2018, 2, 1), date_precision="month"
    )
    derived.case_index_dates_refresh(case_ids=[case.pk])

    assert list(rates("bloc")) == ["other"]


def test_host_country_post_field_and_entity_type_come_from_the_case():
    referred(country="US", kind=Entity.Kind.UNIVERSITY, field="biotechnology")
    referred(country="US", kind=Entity.Kind.COMPANY, field="biotechnology")
    referred(country="JP", kind=Entity.Kind.COMPANY, field="artificial intelligence")

    assert {k: r.cases for k, r in rates("host_country").items()} == {"US": 2, "JP": 1}
    assert {k: r.cases for k, r in rates("post").items()} == {
        "Embassy in US": 2,
        "Embassy in JP": 1,
    }
    assert {k: r.cases for k, r in rates("technology_field").items()} == {
        "biotechnology": 2,
        "artificial intelligence": 1,
    }
    assert {k: r.cases for k, r in rates("entity_type").items()} == {
        "company": 2,
        "university": 1,
    }
    assert {k: r.cases for k, r in rates("bloc").items()} == {
        "NATO": 2,
        "US Major Non-NATO Ally": 1,
    }


def test_a_case_without_a_value_is_one_none_cohort():
    """A case never referred and one referred without a field are both "(none)": one row."""
    referred(field="", status=CONCLUDED)
    CaseFactory(entity=EntityFactory(), status=CONCLUDED)

    by_field = analytics_selectors.outcome_rates(Case.objects.all(), by="technology_field")

    assert [(row.cohort, row.cases, row.reviewed) for row in by_field] == [("(none)", 2, 2)]


def test_team_and_cohort_dimensions():
    alpha, beta = TeamFactory(name="Alpha"), TeamFactory(name="Beta")
    a1 = positive_case(10, team=alpha)
    a2 = negative_case(team=alpha)
    b1 = positive_case(30, team=beta)
    negative_case()
    analytics_services.cohort_save(
        name="Sample", cases=Case.objects.filter(pk__in=[a1.pk, b1.pk]), actor=None
    )
    analytics_services.cohort_save(
        name="Alpha only", cases=Case.objects.filter(pk=a2.pk), actor=None
    )

    by_team = rates("team")
    by_cohort = rates("cohort")

    assert {k: (r.cases, r.positive) for k, r in by_team.items()} == {
        "Alpha": (2, 1),
        "Beta": (1, 1),
        "(none)": (1, 0),
    }
    assert {k: (r.cases, r.positive, r.median_days) for k, r in by_cohort.items()} == {
        "Sample": (2, 2, 20.0),
        "Alpha only": (1, 0, None),
    }


def test_rows_are_ordered_by_size_then_name():
    for year in (2016, 2016, 2018, 2015, 2015):
        referred(on=D(year, 3, 1))

    assert [
        row.cohort for row in analytics_selectors.outcome_rates(Case.objects.all(), by="year")
    ] == [
        "2015",
        "2016",
        "2018",
    ]


# ---------------------------------------------------------------------------- medians


@pytest.mark.parametrize("days", [[45], [10, 200, 45], [10, 20, 30, 45], [7, 7, 400, 1000, 3, 3]])
def test_median_days_to_the_first_outcome(days):
    for n in days:
        case = positive_case(n, on=D(2016, 2, 1))
        finding(case, on=case.index_date + datetime.timedelta(days=n + 50))  # a later one
    negative_case(on=D(2016, 6, 1))

    row = rates()["2016"]
    total = analytics_selectors.outcome_total(Case.objects.all())

    assert row.median_days == statistics.median(days)
    assert isinstance(row.median_days, float)
    assert total.median_days == statistics.median(days)
    assert rates("cooperation_method")["joint venture"].median_days == statistics.median(days)


def test_median_days_per_cohort():
    for days in (10, 30):
        positive_case(days, on=D(2016, 2, 1))
    for days in (100, 200, 400):
        positive_case(days, on=D(2019, 2, 1))

    by_year = rates()

    assert by_year["2016"].median_days == 20.0
    assert by_year["2019"].median_days == 200.0
    assert analytics_selectors.outcome_total(Case.objects.all()).median_days == 100.0


def test_median_counts_days_across_month_and_leap_year_ends():
    positive_case(0, on=D(2016, 2, 28))  # an event on the index day itself is not after
    case = referred(on=D(2016, 2, 28))
    finding(case, on=D(2016, 3, 1))  # 2 days: 2016 is a leap year

    row = rates()["2016"]

    assert row.positive == 1
    assert row.median_days == 2.0


# ------------------------------------------------------------------------ control cases


def test_control_cases_are_left_out_of_referred_rates_and_counted_with_kind_control():
    matched = positive_case(100)
    negative_case()
    control = control_of(matched, name="Never Referred Ltd")
    finding(control, on=matched.index_date + datetime.timedelta(days=50))
    other = control_of(matched, name="Also Never Referred")
    casework_services.case_set_status(case=other, status=CONCLUDED, actor=None)

    referred_rows = rates()
    control_rows = rates(kind=Case.Kind.CONTROL)
    total = analytics_selectors.outcome_total(Case.objects.all())
    control_total = analytics_selectors.outcome_total(Case.objects.all(), kind=Case.Kind.CONTROL)

    assert (referred_rows["2017"].cases, referred_rows["2017"].positive) == (2, 1)
    assert (total.cases, total.positive, total.median_days) == (2, 1, 100.0)
    assert (control_rows["2017"].cases, control_rows["2017"].positive) == (2, 1)
    assert (control_total.reviewed, control_total.median_days) == (2, 50.0)


def test_a_control_takes_its_matched_cases_index_date_and_follows_it():
    matched = referred(on=D(2017, 5, 1))
    control = control_of(matched, name="Never Referred Ltd")
    assert control.index_date == D(2017, 5, 1)
    assert control.index_date_precision == "day"
    assert control.index_referral is None
    late = finding(control, on=D(2017, 8, 1))
    assert late.timing == Finding.Timing.AFTER

    Referral.objects.filter(entity=matched.entity).update(date=D(2018, 1, 1))
    derived.case_index_dates_refresh(case_ids=[matched.pk])

    control.refresh_from_db()
    assert control.index_date == D(2018, 1, 1)
    # The control's finding is now before its (moved) index date: context, not outcome.
    late.refresh_from_db()
    assert late.timing == Finding.Timing.BEFORE
    total = analytics_selectors.outcome_total(Case.objects.all(), kind=Case.Kind.CONTROL)
    assert (total.cases, total.positive) == (1, 0)


def test_a_control_follows_its_matched_case_on_a_full_refresh():
    matched = referred(on=D(2017, 5, 1))
    control = control_of(matched, name="Never Referred Ltd")
    late = finding(control, on=D(2017, 8, 1))

    Referral.objects.filter(entity=matched.entity).update(
        date=D(2018, 1, 1), date_precision="month"
    )
    derived.case_index_dates_refresh()

    control.refresh_from_db()
    late.refresh_from_db()
    assert (control.index_date, control.index_date_precision) == (D(2018, 1, 1), "month")
    assert late.timing == Finding.Timing.BEFORE
    year = rates("year", kind=Case.Kind.CONTROL)
    assert list(year) == ["2018"]


# ---------------------------------------------------------------------- time to outcome


def _check(case, status, finished: datetime.datetime | None):
    if finished is None:
        started = datetime.datetime(2024, 1, 1, 12, tzinfo=datetime.UTC)
    else:
        started = finished - datetime.timedelta(minutes=1)
    CheckRunFactory(
        case=case, status=status, queued_at=started, started_at=started, finished_at=finished
    )


def _on(day: D) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, 12, tzinfo=datetime.UTC)


# ---------------------------------------------------------------------- control comparison


# Each side of a pair: True positive, False a reviewed negative, None not reviewed.
PAIRS = {
    Entity.Kind.COMPANY: [
        *[(True, True)] * 2,
        *[(True, False)] * 3,
        (False, True),
        *[(False, False)] * 2,
        (None, False),  # the referred case not reviewed
        (True, None),  # the control not reviewed
    ],
    Entity.Kind.UNIVERSITY: [*[(True, False)] * 2, (False, False)],
}


def _side(case: Case, sign: bool | None) -> None:
    """Positive: a confirmed JV after the index date, the case left open (reviewed only
    because it is positive). Negative: concluded. None: open, nothing found."""
    if sign:
        finding(case, on=case.index_date + datetime.timedelta(days=30))
    elif sign is False:
        casework_services.case_set_status(case=case, status=CONCLUDED, actor=None)
    # Checked: each referred case once, each control twice (the failed run is not a check).
    for _ in range(1 if case.kind == Case.Kind.REFERRED else 2):
        CheckRunFactory(case=case, status=CheckRun.Status.OK)
    CheckRunFactory(case=case, status=CheckRun.Status.ERROR)


@pytest.fixture
def pairs():
    n = 0
    for kind, signs in PAIRS.items():
        for ref_sign, ctl_sign in signs:
            matched = referred(kind=kind, status=Case.Status.OPEN)
            control = control_of(matched, name=f"Control {n}", kind=kind)
            _side(matched, ref_sign)
            _side(control, ctl_sign)
            n += 1
    # A positive control whose entity was then referred: out of its pair.
    matched = referred(status=CONCLUDED)
    left = control_of(matched, name="Referred After All Ltd")
    finding(left, on=left.index_date + datetime.timedelta(days=30))
    derived.referral_save(
        referral=ReferralFactory.build(entity=left.entity, post=None, date=D(2020, 1, 1))
    )
    return left


def test_the_pair_table_matches_the_hand_built_pairs(pairs):
    groups = {
        g.group: g for g in analytics_selectors.control_pairs(Case.objects.all(), by="entity_type")
    }

    assert list(groups) == ["all", "company", "university"]
    overall, company, university = groups["all"], groups["company"], groups["university"]
    assert overall.table == PairTable(2, 5, 1, 3)
    assert company.table == PairTable(2, 3, 1, 2)
    assert university.table == PairTable(0, 2, 0, 1)
    assert (overall.unreviewed, overall.referred_unreviewed, overall.control_unreviewed) == (
        2,
        1,
        1,
    )
    assert (overall.left, company.left, university.left) == (1, 1, 0)
    assert overall.referred_rate == pytest.approx(7 / 11)
    assert overall.control_rate == pytest.approx(3 / 11)


def test_the_paired_figures_are_those_of_the_table(pairs):
    overall = analytics_selectors.control_pairs(Case.objects.all())[0]

    # Independent: the exact McNemar test is a binomial test of the 6 discordant pairs.
    assert overall.p_value == pytest.approx(binomtest(1, 6, 0.5).pvalue)
    assert overall.difference == paired_difference(PairTable(2, 5, 1, 3))
    assert overall.difference[0] == pytest.approx((5 - 1) / 11)
    # With 1:1 pairs the Mantel-Haenszel odds ratio is b / c.
    assert overall.odds_ratio[0] == pytest.approx(5 / 1)
    university = analytics_selectors.control_pairs(Case.objects.all(), by="entity_type")[2]
    assert university.odds_ratio is None  # no pair with only the control positive


def test_checks_per_case_count_successful_checks_of_each_arm(pairs):
    overall = analytics_selectors.control_pairs(Case.objects.all())[0]

    # 13 pairs in play (11 counted, 2 not): the left one is out.
    assert (overall.referred_cases, overall.control_cases) == (13, 13)
    assert (overall.referred_checks_per_case, overall.control_checks_per_case) == (1.0, 2.0)


def test_reviewed_is_judged_for_the_outcome_kind(pairs):
    overall = analytics_selectors.control_pairs(Case.objects.all(), outcome=PARTNERSHIP)[0]

    # No partnership anywhere: the open cases positive for a JV are not reviewed for it,
    # so only the pairs concluded on both sides count, both negative.
    assert overall.table == PairTable(0, 0, 0, 3)
    assert overall.unreviewed == 10


def test_a_pair_outside_the_viewers_cases_is_not_counted(pairs):
    visible = Case.objects.filter(entity__kind=Entity.Kind.UNIVERSITY)

    overall = analytics_selectors.control_pairs(visible)[0]

    assert overall.table == PairTable(0, 2, 0, 1)
    assert analytics_selectors.controls_left(visible).count() == 0
    assert list(analytics_selectors.controls_left(Case.objects.all())) == [pairs]


def test_no_pairs_no_rows():
    referred()

    assert analytics_selectors.control_pairs(Case.objects.all(), by="year") == []


# ------------------------------------------------------------------ agreement of coders


def _code(case, coder, kinds: list[str]):
    """Conclude the case (only a concluded case is read twice) and record its reading."""
    Case.objects.filter(pk=case.pk).update(status=CONCLUDED)
    case.refresh_from_db()
    coding = analytics_services.second_coding_assign(case=case, coder=coder, actor=None)
    analytics_services.second_coding_record(
        coding=coding, positive_kinds=kinds, note="", actor=coder
    )


def test_kappa_of_a_textbook_two_by_two_table():
    """First analyst by rows, second coder by columns, 10 cases:

                    second +   second -
        first +        3          1
        first -        2          4

    observed agreement 7/10; chance agreement 4/10 * 5/10 + 6/10 * 5/10 = 1/2;
    kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
    """
    team = TeamFactory(name="Coders")
    coder = AnalystFactory(username="second", teams=[team])
    table = [("positive", "positive")] * 3 + [("positive", "negative")]
    table += [("negative", "positive")] * 2 + [("negative", "negative")] * 4
    for number, (first, second) in enumerate(table):
        on = D(2016 if number % 2 else 2018, 3, 1)
        if first == "positive":
            case = positive_case(30, team=team, on=on)
        else:
            case = negative_case(team=team, on=on)
        _code(case, coder, [JV, PARTNERSHIP] if second == "positive" else [])
    # Assigned but not yet recorded: not a pair.
    analytics_services.second_coding_assign(case=negative_case(team=team), coder=coder, actor=None)

    pairs = analytics_selectors.coding_pairs(Case.objects.all())
    [overall] = analytics_selectors.agreement_by_cohort(pairs)

    assert sorted((p.first, p.second) for p in pairs) == sorted(table)
    assert {p.coder for p in pairs} == {"second"}
    p_observed = (3 + 4) / 10
    p_chance = (4 / 10) * (5 / 10) + (6 / 10) * (5 / 10)
    assert overall.cohort == "all"
    assert overall.agreement.table == agreement.Table(a=3, b=1, c=2, d=4)
    assert overall.agreement.observed == pytest.approx(p_observed)
    assert overall.agreement.kappa == pytest.approx((p_observed - p_chance) / (1 - p_chance))
    assert overall.agreement.kappa == pytest.approx(0.4)
    assert overall.disagreements == 3
    # Per kind: the readings were [JV, PARTNERSHIP] or nothing; the positive cases'
    # findings are joint ventures, so partnership is the second reading's only.
    kinds = {k.kind: k for k in analytics_selectors.agreement_by_kind(pairs)}
    assert kinds["any"].kappa == pytest.approx(0.4)
    assert kinds[JV].table == agreement.Table(a=3, b=1, c=2, d=4)
    assert kinds[PARTNERSHIP].table == agreement.Table(a=0, b=0, c=5, d=5)
    assert kinds[PARTNERSHIP].label == "partnership or MOU"

    by_year = {
        a.cohort: a
        for a in analytics_selectors.agreement_by_cohort(
            analytics_selectors.coding_pairs(Case.objects.all(), by="year")
        )
    }
    # Five cases a year: each is too few to say, with its table.
    assert by_year["2016"].agreement.too_few == by_year["2018"].agreement.too_few != ""
    assert by_year["2016"].agreement.n + by_year["2018"].agreement.n == 10
    assert by_year["2016"].disagreements + by_year["2018"].disagreements == 3


def test_coding_pairs_for_one_kind_read_that_kind_only():
    team = TeamFactory(name="Coders")
    coder = AnalystFactory(username="second", teams=[team])
    jv_case = positive_case(30, team=team)
    _code(jv_case, coder, [PARTNERSHIP])

    [jv] = analytics_selectors.coding_pairs(Case.objects.all(), outcome=JV)
    [partnership] = analytics_selectors.coding_pairs(Case.objects.all(), outcome=PARTNERSHIP)
    [anything] = analytics_selectors.coding_pairs(Case.objects.all())

    assert (jv.first, jv.second) == ("positive", "negative")
    assert (partnership.first, partnership.second) == ("negative", "positive")
    assert (anything.first, anything.second) == ("positive", "positive")


def test_disagreements_are_the_pairs_whose_readings_differ():
    team = TeamFactory(name="Coders")
    coder = AnalystFactory(username="second", teams=[team])
    agreed, disputed = positive_case(30, team=team), positive_case(40, team=team)
    _code(agreed, coder, [JV])
    _code(disputed, coder, [])

    pairs = analytics_selectors.coding_pairs(Case.objects.all())

    assert [p.case_id for p in analytics_selectors.disagreements(pairs)] == [disputed.pk]
    assert analytics_selectors.disagreements([]) == []


def test_coding_pairs_by_cooperation_method_pair_a_case_in_each_method():
    team = TeamFactory(name="Coders")
    coder = AnalystFactory(username="second", teams=[team])
    _code(positive_case(30, team=team, methods=("joint_venture", "investment")), coder, [JV])

    pairs = analytics_selectors.coding_pairs(Case.objects.all(), by="cooperation_method")

    assert sorted(p.cohort for p in pairs) == ["investment", "joint venture"]


# ------------------------------------------------------- second readings and cohorts


def test_pending_second_codings_counts_the_unrecorded_readings_of_the_cases():
    team, other = TeamFactory(name="Coders"), TeamFactory(name="Others")
    coder = AnalystFactory(username="second", teams=[team, other])
    _code(negative_case(team=team), coder, [])
    for case in (negative_case(team=team), negative_case(team=other)):
        analytics_services.second_coding_assign(case=case, coder=coder, actor=None)

    assert analytics_selectors.pending_second_codings(Case.objects.all()) == 2
    assert analytics_selectors.pending_second_codings(Case.objects.filter(team=team)) == 1
    assert analytics_selectors.pending_second_codings(Case.objects.none()) == 0


def test_the_second_coding_queue_lists_the_readings_given_to_the_coder_among_their_cases():
    team, other = TeamFactory(name="Coders"), TeamFactory(name="Others")
    coder = AnalystFactory(username="second", teams=[team])
    someone = AnalystFactory(username="third", teams=[team, other])
    recorded, waiting = negative_case(team=team), negative_case(team=team)
    _code(recorded, coder, [])
    analytics_services.second_coding_assign(case=waiting, coder=coder, actor=None)
    analytics_services.second_coding_assign(
        case=negative_case(team=team), coder=someone, actor=None
    )
    moved = negative_case(team=team)
    analytics_services.second_coding_assign(case=moved, coder=coder, actor=None)
    Case.objects.filter(pk=moved.pk).update(team=other)  # no longer among the coder's cases

    queue = analytics_selectors.second_coding_queue(coder)

    assert sorted(coding.case_id for coding in queue) == sorted([waiting.pk, recorded.pk])


def test_the_second_coding_evidence_is_the_findings_in_date_order():
    case = referred()
    late = finding(case, on=D(2020, 1, 1), state=LEAD)
    early = finding(case, on=D(2018, 1, 1), state=REJECTED)

    evidence = list(analytics_selectors.second_coding_evidence(case))

    assert [f.pk for f in evidence] == [early.pk, late.pk]


def test_the_cohort_list_counts_only_the_cases_the_viewer_sees():
    team, other = TeamFactory(name="Coders"), TeamFactory(name="Others")
    supervisor = SupervisorFactory(username="sup", teams=[team])
    mine = [negative_case(team=team), negative_case(team=team)]
    theirs = negative_case(team=other)
    analytics_services.cohort_save(
        name="Mixed", cases=Case.objects.filter(pk__in=[mine[0].pk, theirs.pk]), actor=None
    )
    analytics_services.cohort_save(
        name="Theirs", cases=Case.objects.filter(pk=theirs.pk), actor=None
    )
    analytics_services.cohort_save(name="Empty", cases=Case.objects.none(), actor=supervisor)
    visible = Case.objects.filter(team=team)

    listed = analytics_selectors.cohort_list(supervisor, cases=visible)

    assert [(c.name, c.visible) for c in listed] == [("Empty", 0), ("Mixed", 1)]
    assert len(analytics_selectors.cohort_list(supervisor, cases=visible, limit=1)) == 1


def test_the_cohort_list_gives_a_samples_population_to_its_maker_only():
    """Someone else's sample may be drawn from every team's cases: its size says how
    many cases there are that the viewer cannot see."""
    team, other = TeamFactory(name="Coders"), TeamFactory(name="Others")
    supervisor = SupervisorFactory(username="sup", teams=[team])
    mine = negative_case(team=team)
    for _ in range(3):
        negative_case(team=other)
    analytics_services.cohort_sample_draw(
        name="Admin sample", cases=Case.objects.all(), size=1, seed=mine.pk, actor=None
    )
    Cohort.objects.filter(name="Admin sample").get().cases.set([mine])
    analytics_services.cohort_sample_draw(
        name="My sample", cases=Case.objects.filter(team=team), size=1, actor=supervisor
    )

    listed = analytics_selectors.cohort_list(supervisor, cases=Case.objects.filter(team=team))

    assert {c.name: (c.visible, c.drawn_from) for c in listed} == {
        "Admin sample": (1, None),
        "My sample": (1, 1),
    }


def test_two_peoples_cohorts_of_one_name_are_two_rows_named_with_their_makers():
    """Cohort names are unique per person: two supervisors' "Sample" must not be merged
    into one row, in rates, survival or agreement."""
    team = TeamFactory(name="Alpha")
    first, second, third = (positive_case(10 * n, team=team) for n in (1, 2, 3))
    sam, sue = UserFactory(username="sam"), UserFactory(username="sue")
    analytics_services.cohort_save(
        name="Sample", cases=Case.objects.filter(pk__in=[first.pk, second.pk]), actor=sam
    )
    analytics_services.cohort_save(name="Sample", cases=Case.objects.filter(pk=third.pk), actor=sue)
    analytics_services.cohort_save(name="Unique", cases=Case.objects.all(), actor=sue)

    by_cohort = {row.cohort: row.cases for row in rates("cohort").values()}
    curves = analytics_selectors.time_to_outcome(Case.objects.all(), by="cohort")

    assert by_cohort == {"Sample (sam)": 2, "Sample (sue)": 1, "Unique": 3}
    assert {c.cohort for c in curves} == {"Sample (sam)", "Sample (sue)", "Unique"}
