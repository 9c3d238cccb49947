"""Reads of the analytics: outcome rates per cohort, time to outcome, referred against
control cases, agreement between first and second readings, and the named cohorts and
second readings the supervisor pages list.
"""

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    DateField,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models import Case as SQLCase
from django.db.models.functions import Coalesce

from cases import access, rules
from cases.analytics import agreement, estimates, paired, stats
from cases.analytics.cohorts import (
    DIMENSIONS,
    check_outcome,
    cohort_keys,
    cohort_label,
    group_annotation,
)
from cases.analytics.figures import cohort_figures
from cases.models import Case, CheckRun, Cohort, Finding, SecondCoding


@dataclass
class CohortRate:
    cohort: str
    cases: int
    reviewed: int
    positive: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    median_days: float | None
    # Verification (issue 13, items 1, 3, 6): estimates.py says which is which.
    checked: int = 0
    concluded: int = 0
    bound_low: float | None = None
    bound_high: float | None = None
    corrected: float | None = None
    corrected_ci_low: float | None = None
    corrected_ci_high: float | None = None
    small: bool = True
    p_adjusted: float | None = None  # Holm, this cohort against the rest
    p_bh: float | None = None  # Benjamini-Hochberg
    waiting: int = 0
    waiting_bound: float | None = None
    unknown_timing: int = 0
    rate_unknown_after: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


RATE_FIELDS = [f.name for f in fields(CohortRate)]


def _first_positive(outcome: str) -> Subquery:
    first = (
        rules.positive_findings(outcome)
        .filter(case=OuterRef("pk"))
        .order_by()
        .values("case")
        .annotate(first=Min("event_date"))
        .values("first")
    )
    return Subquery(first, output_field=DateField())


def _outcome_cases(cases: QuerySet[Case], outcome: str) -> QuerySet[Case]:
    """Cases annotated with the date of their first positive finding (or None)."""
    check_outcome(outcome)
    return cases.annotate(first_positive=_first_positive(outcome))


def _rate_row(
    cohort: str, values: dict, median_days: float | None = None, interval: str = "wilson"
) -> CohortRate:
    low, high = estimates.interval(values["positive"], values["reviewed"], interval)
    median = values.get("median_days", median_days)
    return CohortRate(
        cohort=cohort,
        cases=values["cases"],
        reviewed=values["reviewed"],
        positive=values["positive"],
        rate=stats.rate(values["positive"], values["reviewed"]),
        ci_low=low,
        ci_high=high,
        median_days=float(median) if median is not None else None,
        **_verification(values),
    )


def _verification(values: dict) -> dict:
    cases, reviewed, positive = values["cases"], values["reviewed"], values["positive"]
    low, high = estimates.bounds(positive, reviewed, cases)
    evidence, evidence_reviewed = values.get("evidence", 0), values.get("evidence_reviewed", 0)
    strata = [
        estimates.Stratum(evidence, evidence_reviewed, positive),
        estimates.Stratum(cases - evidence, reviewed - evidence_reviewed, 0),
    ]
    ci_low, ci_high = estimates.corrected_interval(strata)
    unknown = values.get("unknown_timing", 0)
    return {
        "checked": values.get("checked", 0),
        "concluded": values.get("concluded", 0),
        "bound_low": low,
        "bound_high": high,
        "corrected": estimates.begg_greenes(strata),
        "corrected_ci_low": ci_low,
        "corrected_ci_high": ci_high,
        "small": reviewed < estimates.SMALL_COHORT,
        "waiting": values.get("waiting", 0),
        "waiting_bound": estimates.waiting_bound(positive, values.get("waiting", 0), cases),
        "unknown_timing": unknown,
        "rate_unknown_after": estimates.unknown_timing_bounds(
            positive, reviewed, unknown, values.get("unknown_unreviewed", 0)
        )[1],
    }


def _adjust_p_values(rows: list[CohortRate]) -> None:
    """Each cohort's Fisher p-value against the rest, adjusted by Holm and by BH."""
    raw = estimates.versus_rest_p_values([(row.positive, row.reviewed) for row in rows])
    for row, holm, bh in zip(
        rows, estimates.adjust(raw, "holm"), estimates.adjust(raw, "fdr_bh"), strict=True
    ):
        row.p_adjusted, row.p_bh = holm, bh


SMALL_GROUP = "other, small"


def outcome_rates(
    cases: QuerySet[Case],
    *,
    by: str,
    outcome: str = "any",
    kind: str = Case.Kind.REFERRED,
    interval: str = "wilson",
    group_small: bool = False,
) -> list[CohortRate]:
    """Per cohort of `by`: cases, reviewed, positive, rate over reviewed with its 95 %
    interval (Wilson unless `interval` names another of estimates.INTERVAL_METHODS) and
    the median days from index date to the first positive finding. With `group_small`
    the cohorts under estimates.SMALL_COHORT reviewed cases are pooled into one row,
    "other, small", placed last.

    One aggregate query over the whole set (figures.cohort_figures); on SQLite, which
    lacks a median, one more query reads the days of the positive cases only.
    """
    if by not in DIMENSIONS:
        raise ValueError(f"Unknown dimension {by!r}; one of {', '.join(DIMENSIONS)}")
    groups = cohort_figures(cases, by=by, outcome=outcome, kind=kind)
    medians = (
        {}
        if connection.vendor == "postgresql"
        else _medians_in_python(_outcome_cases(cases.filter(kind=kind), outcome), by)
    )
    label = _labeller(by, cases)
    groups = {
        value: values
        for value, values in groups.items()
        if values["cases"] and not (by == "cohort" and value is None)
    }
    pooled = _pool_small(groups) if group_small else None
    result = [
        _rate_row(label(value), values, medians.get(value), interval)
        for value, values in groups.items()
    ]
    if by == "year":
        # Years in calendar order, the cases without a referral year after them.
        result.sort(key=lambda row: (not row.cohort.isdigit(), row.cohort))
    else:
        result.sort(key=lambda row: (-row.cases, row.cohort))
    if pooled is not None:
        count, values = pooled
        result.append(_rate_row(f"{SMALL_GROUP} ({count} cohorts)", values, None, interval))
    # After pooling: the p-values compare the rows the table shows.
    _adjust_p_values(result)
    return result


def _pool_small(groups: dict) -> tuple[int, dict] | None:
    """Take the cohorts under SMALL_COHORT reviewed cases out of `groups` and return how
    many there were and their summed counts; None when fewer than two are small (one
    small cohort pooled alone would only be renamed). Medians are not summable: the
    pooled row has none."""
    small = [key for key, values in groups.items() if values["reviewed"] < estimates.SMALL_COHORT]
    if len(small) < 2:
        return None
    pooled: dict = {}
    for key in small:
        for name, number in groups.pop(key).items():
            if name != "median_days":
                pooled[name] = pooled.get(name, 0) + (number or 0)
    return len(small), pooled


def _labeller(by: str | None, cases: QuerySet[Case]) -> Callable[[object], str]:
    """How the tables name the cohorts of `by` over `cases`. A named cohort is grouped by
    its id and shown by its name, with its maker's when two cohorts of these cases share
    the name (names are unique per person only)."""
    if by != "cohort":
        return lambda key: cohort_label(by, key)
    rows = list(
        Cohort.objects.filter(cases__in=cases.values("pk"))
        .distinct()
        .values_list("pk", "name", "created_by__username")
    )
    taken = Counter(name for _, name, _ in rows)
    names = {
        pk: name if taken[name] == 1 else f"{name} ({maker or 'nobody'})"
        for pk, name, maker in rows
    }
    return lambda key: names[key] if key in names else cohort_label(by, None)


def _medians_in_python(annotated: QuerySet[Case], by: str | None) -> dict:
    """Median days per cohort ("all" without `by`), from the positive cases only
    (databases without a median)."""
    days: dict = defaultdict(list)
    positives = annotated.filter(first_positive__isnull=False)
    if by is not None:
        positives = positives.annotate(group=group_annotation(by))
    rows = positives.values_list("first_positive", "index_date", *(["group"] if by else []))
    for first, start, *group in rows:
        for key in cohort_keys(by, group[0] if group else None):
            days[key].append((first - start).days)
    return {key: stats.median_or_none(values) for key, values in days.items()}


def outcome_total(
    cases: QuerySet[Case],
    *,
    outcome: str = "any",
    kind: str = Case.Kind.REFERRED,
    interval: str = "wilson",
) -> CohortRate:
    """The same figures over every case of the set, as one row."""
    values = cohort_figures(cases, by=None, outcome=outcome, kind=kind).get(
        "all", {"cases": 0, "reviewed": 0, "positive": 0}
    )
    median = values.get("median_days")
    if connection.vendor != "postgresql":
        annotated = _outcome_cases(cases.filter(kind=kind), outcome)
        median = _medians_in_python(annotated, None).get("all")
    return _rate_row("all", values, median, interval)


# --- time to outcome ---


@dataclass
class CohortSurvival:
    cohort: str
    curve: stats.SurvivalCurve
    watched: int  # cases with an event or a successful check
    unwatched: int  # never checked successfully and no positive finding: left out
    durations: list[float]  # days to the event or to censoring, for the number at risk
    # Filled by cases.analytics.survival (coverage censoring): whether each duration is an
    # event, the population before the not-followed were set apart, bands and summaries.
    observed: list[bool] = field(default_factory=list)
    population: int = 0
    band: object = None
    incidence: list = field(default_factory=list)
    median: object = None
    # The incidence with every date placed earliest and latest in its period.
    incidence_bounds: list = field(default_factory=list)
    # (case id, days, earliest days, latest days, "event" / "censored" / "not followed"),
    # one per case of the population; the days are None for a case not followed.
    members: list = field(default_factory=list)

    @property
    def events(self) -> int:
        return sum(self.observed)

    @property
    def horizons(self) -> list[tuple]:
        """(incidence with its interval, incidence under the earliest and latest dating)
        at each horizon, for the survival panel."""
        return list(zip(self.incidence, self.incidence_bounds, strict=True))


def time_to_outcome(
    cases: QuerySet[Case], *, by: str | None = None, outcome: str = "any"
) -> list[CohortSurvival]:
    """Kaplan-Meier curves censored by coverage: see cases.analytics.survival."""
    from cases.analytics import survival

    return survival.time_to_outcome(cases, by=by, outcome=outcome)


def curves_and_overall(
    cases: QuerySet[Case], *, by: str, outcome: str = "any"
) -> tuple[list[CohortSurvival], CohortSurvival | None]:
    """The curves per cohort of `by` and over all the cases, read once (the page's pair)."""
    from cases.analytics import survival

    return survival.curves_and_overall(cases, by=by, outcome=outcome)


# --- referred against control: matched pairs ---


@dataclass
class PairedGroup:
    """The matched pairs of one cohort (of the referred case): a pair counts when both its
    referred case and its control are reviewed for the outcome."""

    group: str
    table: paired.PairTable  # counted pairs: ++, +-, -+, --
    unreviewed: int = 0  # pairs with a side not reviewed: counted apart
    referred_unreviewed: int = 0  # of those, pairs whose referred case is not reviewed
    control_unreviewed: int = 0  # ... whose control is not reviewed
    left: int = 0  # controls referred after all: out of their pairs
    referred_cases: int = 0  # distinct cases of the pairs (counted and not), each arm
    control_cases: int = 0
    referred_checks: int = 0  # their successful checks, each arm
    control_checks: int = 0
    p_value: float | None = None  # McNemar exact
    difference: tuple[float, float, float] | None = None  # Newcombe (1998) method 10
    odds_ratio: tuple[float, float, float] | None = None  # Mantel-Haenszel, pair strata

    @property
    def pairs(self) -> int:
        return self.table.n

    @property
    def referred_rate(self) -> float | None:
        return stats.rate(self.table.both + self.table.referred_only, self.table.n)

    @property
    def control_rate(self) -> float | None:
        return stats.rate(self.table.both + self.table.control_only, self.table.n)

    @property
    def referred_checks_per_case(self) -> float | None:
        return self.referred_checks / self.referred_cases if self.referred_cases else None

    @property
    def control_checks_per_case(self) -> float | None:
        return self.control_checks / self.control_cases if self.control_cases else None


def _pair_side(outcome: str) -> dict:
    """What each side of a pair is read for: reviewed (the rule, for the outcome kind),
    positive, and its successful checks."""
    checks = (
        CheckRun.objects.filter(case=OuterRef("pk"), status__in=rules.SUCCESSFUL_CHECK_STATES)
        .order_by()
        .values("case")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return {
        "reviewed": SQLCase(
            When(rules.reviewed_case_q(outcome), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        "positive": Exists(rules.positive_findings(outcome).filter(case=OuterRef("pk"))),
        "checks": Coalesce(Subquery(checks, output_field=IntegerField()), 0),
    }


_SIGNS = {
    (True, True): "both",
    (True, False): "referred_only",
    (False, True): "control_only",
    (False, False): "neither",
}


def control_pairs(
    cases: QuerySet[Case], *, outcome: str = "any", by: str | None = None
) -> list[PairedGroup]:
    """Each control with the referred case it is matched to, as pairs: over all pairs
    ("all") and, with `by`, per cohort of the referred case (a pair is in every cohort its
    referred case is in). Only pairs whose two cases are among `cases`.

    A pair counts when both sides are reviewed (rules.reviewed_case_q for `outcome`);
    the others are counted apart. A control whose entity was later referred has left its
    pair and is only counted in `left`. Per group: the PairTable, McNemar's exact p, the
    paired difference with Newcombe's interval, the Mantel-Haenszel odds ratio by pair,
    and the successful checks per case of each arm.
    """
    check_outcome(outcome)
    if by is not None and by not in DIMENSIONS:
        raise ValueError(f"Unknown dimension {by!r}; one of {', '.join(DIMENSIONS)}")
    side = _pair_side(outcome)
    controls = list(
        cases.filter(kind=Case.Kind.CONTROL, matched_case__in=cases.values("pk"))
        .annotate(**side)
        .values_list("pk", "matched_case_id", "referred_later_at", "reviewed", "positive", "checks")
    )
    referred_rows = cases.filter(pk__in={c[1] for c in controls}).annotate(**side)
    if by is not None:
        referred_rows = referred_rows.annotate(group=group_annotation(by))
    referred: dict[int, dict] = {}
    for pk, reviewed, positive, checks, *group in referred_rows.values_list(
        "pk", "reviewed", "positive", "checks", *(["group"] if by else [])
    ):
        entry = referred.setdefault(
            pk, {"reviewed": reviewed, "positive": positive, "checks": checks, "keys": []}
        )
        entry["keys"] += cohort_keys(by, group[0]) if by else []
    label = _labeller(by, cases)
    tallies: dict[str, dict] = {}
    for pk, matched_id, left_at, reviewed, positive, checks in controls:
        ref = referred[matched_id]
        for key in ["all", *({label(k) for k in ref["keys"]} if by else [])]:
            tally = tallies.setdefault(key, _pair_tally())
            if left_at is not None:
                tally["left"] += 1
                continue
            tally["referred"][matched_id] = ref["checks"]
            tally["control"][pk] = checks
            if ref["reviewed"] and reviewed:
                tally[_SIGNS[(ref["positive"], positive)]] += 1
            else:
                tally["referred_unreviewed"] += not ref["reviewed"]
                tally["control_unreviewed"] += not reviewed
                tally["unreviewed"] += 1
    groups = [_paired_group(key, tally) for key, tally in tallies.items()]
    overall = [g for g in groups if g.group == "all"]
    rest = [g for g in groups if g.group != "all"]
    if by == "year":
        rest.sort(key=lambda g: (not g.group.isdigit(), g.group))
    else:
        rest.sort(key=lambda g: (-(g.pairs + g.unreviewed), g.group))
    return overall + rest


def _pair_tally() -> dict:
    names = ("both", "referred_only", "control_only", "neither", "unreviewed", "left")
    return {
        **dict.fromkeys(names, 0),
        "referred_unreviewed": 0,
        "control_unreviewed": 0,
        "referred": {},  # case id: successful checks
        "control": {},
    }


def _paired_group(key: str, tally: dict) -> PairedGroup:
    table = paired.PairTable(
        tally["both"], tally["referred_only"], tally["control_only"], tally["neither"]
    )
    return PairedGroup(
        group=key,
        table=table,
        unreviewed=tally["unreviewed"],
        referred_unreviewed=tally["referred_unreviewed"],
        control_unreviewed=tally["control_unreviewed"],
        left=tally["left"],
        referred_cases=len(tally["referred"]),
        control_cases=len(tally["control"]),
        referred_checks=sum(tally["referred"].values()),
        control_checks=sum(tally["control"].values()),
        p_value=paired.mcnemar_exact_p(table),
        difference=paired.paired_difference(table),
        odds_ratio=paired.mantel_haenszel_pairs(table),
    )


def controls_left(cases: QuerySet[Case]) -> QuerySet[Case]:
    """The controls among `cases` whose entity was referred after all, newest flag first."""
    return (
        cases.filter(kind=Case.Kind.CONTROL, referred_later_at__isnull=False)
        .select_related("entity", "matched_case__entity", "later_referral")
        .order_by("-referred_later_at", "pk")
    )


# --- agreement between coders ---


@dataclass
class CodingPair:
    case_id: int
    entity_name: str
    cohort: str
    first: str  # the first reading, frozen when the second was recorded
    second: str  # the second coder's blind reading
    coder: str
    first_kinds: tuple[str, ...] = ()
    second_kinds: tuple[str, ...] = ()


def _reads_positive(kinds: list[str], outcome: str) -> bool:
    return bool(kinds) if outcome == "any" else outcome in kinds


def coding_pairs(
    cases: QuerySet[Case], *, outcome: str = "any", by: str | None = None
) -> list[CodingPair]:
    """(first, second) readings of every double-coded case: "positive" or "negative".

    The first reading is the case's positive kinds under the outcome rule as they stood
    when the second reading was recorded (SecondCoding.first_positive_kinds), so settling
    a disagreement afterwards changes neither reading. Readings recorded before first
    readings were frozen have no first reading and are left out (unfrozen_second_codings).
    """
    check_outcome(outcome)
    coded = cases.filter(second_coding__first_read_at__isnull=False).select_related(
        "entity", "second_coding__coder"
    )
    if by is not None:
        coded = coded.annotate(group=group_annotation(by))
    label = _labeller(by, cases)
    pairs = []
    for case in coded.order_by("pk"):
        coding = case.second_coding
        first, second = coding.first_positive_kinds, coding.positive_kinds
        for key in cohort_keys(by, getattr(case, "group", None)):
            pairs.append(
                CodingPair(
                    case_id=case.pk,
                    entity_name=case.entity.name,
                    cohort=label(key),
                    first="positive" if _reads_positive(first, outcome) else "negative",
                    second="positive" if _reads_positive(second, outcome) else "negative",
                    coder=coding.coder.get_username(),
                    first_kinds=tuple(first),
                    second_kinds=tuple(second),
                )
            )
    return pairs


def unfrozen_second_codings(cases: QuerySet[Case]) -> int:
    """Recorded second readings without a frozen first reading: left out of agreement."""
    return SecondCoding.objects.filter(
        case__in=cases, recorded_at__isnull=False, first_read_at__isnull=True
    ).count()


def disagreements(pairs: list[CodingPair]) -> list[CodingPair]:
    """The pairs whose two readings differ: the cases to settle."""
    return [p for p in pairs if p.first != p.second]


def agreement_by_kind(pairs: list[CodingPair]) -> list[agreement.KindAgreement]:
    """Agreement for any outcome and for each kind, over the cases of `pairs` (each once,
    whatever cohorts it was paired in)."""
    readings = {p.case_id: (p.first_kinds, p.second_kinds) for p in pairs}
    return agreement.agreement_by_kind(
        [readings[pk] for pk in sorted(readings)],
        list(Finding.Kind.values),
        labels={agreement.ANY: "any outcome", **dict(Finding.Kind.choices)},
    )


@dataclass
class CohortAgreement:
    cohort: str
    agreement: agreement.KindAgreement
    disagreements: int


def agreement_by_cohort(pairs: list[CodingPair], *, outcome: str = "any") -> list[CohortAgreement]:
    """Agreement on `outcome` (the outcome `pairs` were read for) per cohort of the pairs."""
    grouped: dict[str, list[CodingPair]] = defaultdict(list)
    for pair in pairs:
        grouped[pair.cohort].append(pair)
    result = []
    for cohort, items in grouped.items():
        figures = agreement.kind_agreement(
            outcome, [(p.first == "positive", p.second == "positive") for p in items], label=cohort
        )
        result.append(CohortAgreement(cohort, figures, figures.disagreements))
    return sorted(result, key=lambda a: (-a.agreement.n, a.cohort))


def agreement_tables(
    cases: QuerySet[Case], *, by: str, outcome: str
) -> tuple[list[agreement.KindAgreement], list[CohortAgreement], list[CodingPair]]:
    """What the page and its download show: agreement per kind over every double-coded
    case, agreement on `outcome` per cohort of `by`, and the pairs read for `outcome`."""
    overall = coding_pairs(cases, outcome=outcome)
    per_cohort = coding_pairs(cases, outcome=outcome, by=by)
    return agreement_by_kind(overall), agreement_by_cohort(per_cohort, outcome=outcome), overall


# --- second readings ---


def pending_second_codings(cases: QuerySet[Case]) -> int:
    """How many second readings of `cases` are given out and not recorded yet."""
    return SecondCoding.objects.filter(case__in=cases, recorded_at__isnull=True).count()


def second_coding_queue(coder: AbstractBaseUser) -> QuerySet[SecondCoding]:
    """The second readings given to `coder` among the cases they see, by when they were
    recorded, then given (SQLite puts the unrecorded first, PostgreSQL last)."""
    return (
        SecondCoding.objects.filter(coder=coder, case__in=access.team_cases(coder))
        .select_related("case__entity")
        .order_by("recorded_at", "assigned_at")
    )


def second_coding_evidence(case: Case) -> QuerySet[Finding]:
    """The case's findings as the blind page shows them: the evidence without the first
    analyst's review decisions, nor its source's name (a "manual" finding is one someone
    entered by hand, and those are mostly confirmed ones)."""
    return case.findings.only(
        "kind",
        "counterparty_name",
        "counterparty_country",
        "event_date",
        "event_date_precision",
        "source_url",
        "excerpt",
    ).order_by("event_date", "id")


# --- named cohorts ---


def cohort_list(
    user: AbstractBaseUser, *, cases: QuerySet[Case], limit: int = 50
) -> QuerySet[Cohort]:
    """The cohorts `user` sees, newest first, each with `visible`: how many of `cases`
    (the cases the user may see) it holds, so nobody counts another team's cases, and
    `drawn_from`: the size of the set a sample was drawn from, for its maker only (someone
    else's sample may have been drawn from cases the user cannot see)."""
    return (
        access.visible_cohorts(user, cases=cases)
        .select_related("created_by")
        .annotate(
            visible=Count("cases", filter=Q(cases__in=cases.values("pk"))),
            drawn_from=SQLCase(When(created_by=user.pk, then=F("population")), default=None),
        )
        .order_by("-created_at")[:limit]
    )
