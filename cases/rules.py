"""The research rules, each written once: which jurisdictions count as Chinese, which
findings make a case positive, which cases count as reviewed, which referral starts a
case's clock, which cases have leads waiting (DOMAIN.md, "Outcome"), and what makes a
control comparable to the referred case it is matched to.

Each rule comes as an ORM expression for the queries and, where Python code needs to
judge rows it already holds (the demo builder, the import), as a predicate on them.
Selectors, services, filters, the admin and the demo data all import them from here:
a copied rule drifts, and copies here once disagreed.
"""

from collections.abc import Iterable
from datetime import date

from django.db.models import Case as SqlCase
from django.db.models import Exists, IntegerField, OuterRef, Q, QuerySet, Value, When

from cases import normalize
from cases.models import Case, CheckRun, DatePrecision, Entity, Finding, MatchCriterion

# Mainland China, Hong Kong and Macau. Taiwan (TW) is not among them.
CHINESE_JURISDICTIONS = frozenset({"CN", "HK", "MO"})

# Review states that record a person's judgement of a finding.
DECIDED_STATES = (Finding.ReviewState.CONFIRMED, Finding.ReviewState.REJECTED)

# Checks that reached their source and read its answer: a case counts as followed up
# (censored, in the survival analysis) until the last of them.
SUCCESSFUL_CHECK_STATES = (CheckRun.Status.OK, CheckRun.Status.NO_RESULTS)

# Finer precision first, so that of two referrals starting on the same day the one known
# to the day sets the index date.
PRECISION_ORDER = (DatePrecision.DAY, DatePrecision.MONTH, DatePrecision.YEAR)


def is_chinese(country: str | None) -> bool:
    """Whether an ISO country code is one of the Chinese jurisdictions."""
    return (country or "").upper() in CHINESE_JURISDICTIONS


# --- positive ---


def positive_finding_q(kind: str | None = None, *, prefix: str = "") -> Q:
    """A finding that makes its case positive: confirmed, dated after the case's index date,
    with a counterparty in a Chinese jurisdiction; of `kind` unless it is None or "any".

    `prefix` ("findings__") applies the rule from the case side of a join.
    """
    condition = Q(
        **{
            f"{prefix}review_state": Finding.ReviewState.CONFIRMED,
            f"{prefix}timing": Finding.Timing.AFTER,
            f"{prefix}counterparty_country__in": sorted(CHINESE_JURISDICTIONS),
        }
    )
    if kind and kind != "any":
        condition &= Q(**{f"{prefix}kind": kind})
    return condition


def is_positive_finding(finding: Finding, kind: str | None = None) -> bool:
    """The same rule as positive_finding_q, on a finding in hand (its timing derived)."""
    return (
        finding.review_state == Finding.ReviewState.CONFIRMED
        and finding.timing == Finding.Timing.AFTER
        and is_chinese(finding.counterparty_country)
        and (not kind or kind == "any" or finding.kind == kind)
    )


def cannot_change_outcome_q(*, prefix: str = "") -> Q:
    """A finding dated before its case's index date: confirming it can never make the case
    positive (positive_finding_q wants it after), so a reviewer's time is better spent on
    others first."""
    return Q(**{f"{prefix}timing": Finding.Timing.BEFORE})


def positive_findings(kind: str | None = None) -> QuerySet[Finding]:
    """Every finding that makes its case positive (for `kind`, or any kind)."""
    return Finding.objects.filter(positive_finding_q(kind))


# --- reviewed ---


def decided_findings(case_ref=None) -> QuerySet[Finding]:
    """Findings a person confirmed or rejected, of the outer case unless `case_ref` is given."""
    return Finding.objects.filter(
        case=OuterRef("pk") if case_ref is None else case_ref, review_state__in=DECIDED_STATES
    )


def reviewed_case_q(kind: str | None = None) -> Q:
    """A reviewed case: concluded, or with a finding that makes it positive (for `kind`).

    A reviewed negative is a concluded case: one rejected lead says nothing about the
    leads not yet found or read, and counting such cases as negatives put open cases in
    the denominator (issue 13, item 1). A positive case is reviewed by definition.
    """
    return Q(status=Case.Status.CONCLUDED) | Q(
        Exists(Finding.objects.filter(positive_finding_q(kind), case=OuterRef("pk")))
    )


def is_reviewed_case(case: Case, findings: Iterable[Finding], kind: str | None = None) -> bool:
    """The same rule as reviewed_case_q, on a case and its findings in hand."""
    return case.status == Case.Status.CONCLUDED or any(
        is_positive_finding(f, kind) for f in findings
    )


# --- leads waiting ---


def waiting_leads(case_ref=None) -> QuerySet[Finding]:
    """Leads nobody has reviewed yet, of the outer case unless `case_ref` is given."""
    return Finding.objects.filter(
        case=OuterRef("pk") if case_ref is None else case_ref,
        review_state=Finding.ReviewState.LEAD,
    )


def has_waiting_leads() -> Exists:
    """Whether the outer case has a lead waiting for review."""
    return Exists(waiting_leads())


# --- index referral ---


def precision_rank(precision: str) -> int:
    """Rank of a date precision, finest first (day 0, month 1, year 2)."""
    return PRECISION_ORDER.index(precision)


def precision_rank_expression(field: str = "date_precision") -> SqlCase:
    """precision_rank as a database expression over `field`."""
    return SqlCase(
        *(When(**{field: p}, then=Value(rank)) for rank, p in enumerate(PRECISION_ORDER[:-1])),
        default=Value(len(PRECISION_ORDER) - 1),
        output_field=IntegerField(),
    )


def index_referral_order() -> tuple:
    """The order of an entity's referrals in which the first one is its index referral:
    earliest start first and, on the same day, the most precise date."""
    return ("date", precision_rank_expression(), "pk")


def index_referral_key(start, precision: str) -> tuple:
    """index_referral_order as a sort key for (start date, precision) pairs in hand."""
    return (start, precision_rank(precision))


# --- index period ---


def index_period_end(referrals: Iterable[tuple[date, str]]) -> date | None:
    """The last day of an entity's index period: the earliest end among its referrals'
    periods, given as (first day, precision) pairs; None without referrals.

    The index period starts on the first day of the earliest referral (index_referral_order)
    and ends when some referral had certainly happened. Referred in "2017" and on
    2017-03-05, the entity was first referred between 2017-01-01 and 2017-03-05, so a
    finding of 2017-06-10 is after its referral, not unknown (issue 13, item 2): the
    period of the index referral alone ("2017") would end on 2017-12-31.
    """
    return min((normalize.period_end(day, precision) for day, precision in referrals), default=None)


def finding_timing(event: date | None, precision: str | None, case: Case) -> str:
    """Before/after/unknown for a finding's date against its case's index period."""
    return normalize.compare_to_period(event, precision, case.index_date, case.index_period_end)


# --- matched controls ---


def technology_field_set(text: str) -> set[str]:
    """Fields of technology as compared for matching: split on ";", case and spaces
    ignored."""
    return {" ".join(part.split()).casefold() for part in (text or "").split(";")} - {""}


def matched_profile(matched: Case) -> tuple[str, str, set[str]]:
    """What a control is matched on in its referred case: the host country of the
    referral that set its index date, its entity's kind, and that referral's field (the
    entity's own country and fields when the case has no referral yet)."""
    referral = matched.index_referral
    if referral is not None:
        return (
            referral.host_country,
            matched.entity.kind,
            technology_field_set(referral.technology_field),
        )
    entity = matched.entity
    return entity.country, entity.kind, technology_field_set(entity.technology_fields)


def control_match(entity: Entity, matched: Case) -> list[str]:
    """The matching criteria a control's entity meets against its referred case
    (MatchCriterion, in their order): same host country, same entity kind, a technology
    field in common. A referred case with no field recorded matches no control on field:
    unknown is not the same."""
    country, kind, fields = matched_profile(matched)
    met = {
        MatchCriterion.HOST_COUNTRY: entity.country == country,
        MatchCriterion.ENTITY_KIND: entity.kind == kind,
        MatchCriterion.TECHNOLOGY_FIELD: bool(
            fields & technology_field_set(entity.technology_fields)
        ),
    }
    return [criterion.value for criterion in MatchCriterion if met[criterion]]


# Hand-entered findings that look like one already recorded: the same event reported by
# another article is the same evidence, and counting it twice inflates nothing in the
# outcome rule but clutters the case and the agreement figures. A person decides.
SAME_EVENT_DAYS = 30


def looks_like_same_event(
    kind: str,
    counterparty_name: str,
    event: date | None,
    precision: str | None,
    other: Finding,
) -> bool:
    """Whether a finding of `kind` with this counterparty and event period looks like
    `other`: the same kind, the same counterparty once legal forms, case and accents are
    set aside ("Huawei Technologies Co., Ltd." is "HUAWEI TECHNOLOGIES"), and periods no
    more than SAME_EVENT_DAYS apart ("2021-03" and 2021-04-20 are close; "2021" overlaps
    every day of 2021). Undated or unnamed findings are never alike: nothing says so."""
    if kind != other.kind or event is None or other.event_date is None:
        return False
    if not precision or not other.event_date_precision:
        return False
    key = normalize.name_key(counterparty_name)
    if not key or key != normalize.name_key(other.counterparty_name):
        return False
    end = normalize.period_end(event, precision)
    other_end = normalize.period_end(other.event_date, other.event_date_precision)
    gap = max(event, other.event_date) - min(end, other_end)
    return gap.days <= SAME_EVENT_DAYS
