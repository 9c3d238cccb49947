"""The case store: referred entities, the posts that referred them, referrals, cases,
findings (evidence and leads) and the runs of automated checks.

Derived values (name keys, index dates, a finding's timing) are computed by
cases.derived, never typed by hand; the database enforces what it can.
"""

import secrets
from functools import reduce
from operator import or_

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from cases import normalize
from cases.fields import ChoiceListField
from cases.validators import (
    validate_cik,
    validate_country,
    validate_currency,
    validate_lei,
    validate_openalex,
    validate_ror,
    validate_uk_company_number,
    validate_wikidata,
)


class DatePrecision(models.TextChoices):
    DAY = normalize.DatePrecision.DAY, "day"
    MONTH = normalize.DatePrecision.MONTH, "month"
    YEAR = normalize.DatePrecision.YEAR, "year"


COUNTRY_FORMAT = r"^[A-Z]{2}$"


def country_check(field: str, *, blank: bool = False) -> models.CheckConstraint:
    condition = Q(**{f"{field}__regex": COUNTRY_FORMAT})
    if blank:
        condition |= Q(**{field: ""})
    return models.CheckConstraint(condition=condition, name=f"%(app_label)s_%(class)s_{field}_iso2")


# Entities are shared by every team (one case each), so an identifier or a name already
# taken may belong to a case the person saving cannot see. The refusal says the same
# whoever holds it, and never names the holder, its case or its team: Django's default
# ("Constraint entity_unique_lei is violated", or "Entity with this ... already exists")
# told a user which of another team's identifiers and names exist.
def identifier_taken(label: str) -> str:
    return (
        f"This {label} is already recorded on another entity, which may be one you cannot "
        "see. If it is not among your cases, ask an admin."
    )


ENTITY_IDENTIFIERS = (
    ("lei", "entity_unique_lei", "LEI"),
    ("sec_cik", "entity_unique_cik", "SEC CIK"),
    ("uk_company_number", "entity_unique_uk_company_number", "UK company number"),
    ("ror_id", "entity_unique_ror", "ROR id"),
    ("openalex_id", "entity_unique_openalex", "OpenAlex id"),
    ("wikidata_id", "entity_unique_wikidata", "Wikidata id"),
)
ENTITY_NAME_TAKEN = (
    "An entity of this name (ignoring case, accents and legal forms) in this country is "
    "already recorded, which may be one you cannot see. If it is not among your cases, "
    "ask an admin."
)


class Entity(models.Model):
    class Kind(models.TextChoices):
        COMPANY = "company", "company"
        UNIVERSITY = "university", "university"
        RESEARCH_INSTITUTE = "research_institute", "research institute"
        GOVERNMENT_LAB = "government_lab", "government lab"
        INDIVIDUAL = "individual", "individual"
        OTHER = "other", "other"

    name = models.CharField(max_length=300)
    name_native = models.CharField(
        "native-script name", max_length=300, blank=True, help_text="e.g. the Chinese name"
    )
    aliases = models.TextField(blank=True, help_text="Other names and spellings, one per line.")
    name_key = models.CharField(
        max_length=300,
        editable=False,
        help_text="Name folded for matching: case, punctuation and legal forms removed.",
    )
    kind = models.CharField(max_length=24, choices=Kind, default=Kind.COMPANY)
    country = models.CharField(
        max_length=2, validators=[validate_country], help_text="ISO 3166-1 alpha-2"
    )
    city = models.CharField("city or region", max_length=200, blank=True)
    website = models.URLField(max_length=500, blank=True)
    lei = models.CharField("LEI", max_length=20, blank=True, validators=[validate_lei])
    sec_cik = models.CharField("SEC CIK", max_length=10, blank=True, validators=[validate_cik])
    uk_company_number = models.CharField(
        "UK company number", max_length=8, blank=True, validators=[validate_uk_company_number]
    )
    ror_id = models.CharField("ROR id", max_length=9, blank=True, validators=[validate_ror])
    openalex_id = models.CharField(
        "OpenAlex id", max_length=13, blank=True, validators=[validate_openalex]
    )
    wikidata_id = models.CharField(
        "Wikidata id", max_length=12, blank=True, validators=[validate_wikidata]
    )
    technology_fields = models.CharField(
        max_length=500, blank=True, help_text="Fields of technology, separated by semicolons."
    )
    is_demo = models.BooleanField(default=False, help_text="Synthetic demo data.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "entities"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name_key", "country"],
                name="entity_unique_name_key",
                violation_error_message=ENTITY_NAME_TAKEN,
            ),
            models.CheckConstraint(condition=~Q(name_key=""), name="entity_name_key_not_empty"),
            models.CheckConstraint(condition=~Q(name=""), name="entity_name_not_empty"),
            country_check("country"),
            models.CheckConstraint(
                condition=Q(lei="") | Q(lei__regex=r"^[A-Z0-9]{18}[0-9]{2}$"),
                name="entity_lei_format",
            ),
            models.CheckConstraint(
                condition=Q(sec_cik="") | Q(sec_cik__regex=r"^[0-9]{1,10}$"),
                name="entity_cik_format",
            ),
            *(
                models.UniqueConstraint(
                    fields=[field],
                    condition=~Q(**{field: ""}),
                    name=name,
                    violation_error_message=identifier_taken(label),
                )
                for field, name, label in ENTITY_IDENTIFIERS
            ),
        ]
        indexes = [
            models.Index(fields=["country", "kind"]),
            # The case list sorted by name reads the names in order.
            models.Index(fields=["name"], name="entity_name_idx"),
        ]

    def __str__(self):
        return f"{self.name} ({self.country})"

    @property
    def alias_list(self) -> list[str]:
        return normalize.split_list(self.aliases, "\n")


class Post(models.Model):
    class Kind(models.TextChoices):
        EMBASSY = "embassy", "embassy"
        CONSULATE_GENERAL = "consulate_general", "consulate-general"
        CONSULATE = "consulate", "consulate"
        OTHER = "other", "other"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=24, choices=Kind, default=Kind.OTHER)
    city = models.CharField(max_length=200, blank=True)
    host_country = models.CharField(max_length=2, validators=[validate_country])
    is_demo = models.BooleanField(default=False, help_text="Synthetic demo data.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["host_country", "name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "host_country"], name="post_unique_name"),
            models.CheckConstraint(condition=~Q(name=""), name="post_name_not_empty"),
            country_check("host_country"),
        ]

    def __str__(self):
        return f"{self.name} ({self.host_country})"


class AllianceBloc(models.TextChoices):
    """A host country's bloc on the referral date; Russia is reported on its own."""

    NATO = "nato", "NATO"
    MNNA = "mnna", "US Major Non-NATO Ally"
    RUSSIA = "russia", "Russia"
    OTHER = "other", "other"


class CooperationMethod(models.TextChoices):
    EQUITY_PURCHASE = "equity_purchase", "equity purchase"
    INVESTMENT = "investment", "investment"
    PATENT_LICENCE = "patent_licence", "patent licence"
    TECHNOLOGY_TRANSFER = "technology_transfer", "technology transfer"
    JOINT_VENTURE = "joint_venture", "joint venture"
    JOINT_RD = "joint_rd", "joint R&D"
    PRODUCTION_IN_CHINA = "production_in_china", "production in China"
    RD_STAFF_HIRING = "rd_staff_hiring", "R&D staff hiring"
    OTHER = "other", "other"


class Referral(models.Model):
    external_id = models.CharField(
        "referral id", max_length=100, unique=True, help_text="The id in the source data."
    )
    entity = models.ForeignKey(Entity, on_delete=models.PROTECT, related_name="referrals")
    post = models.ForeignKey(
        Post, on_delete=models.PROTECT, related_name="referrals", null=True, blank=True
    )
    date = models.DateField(help_text="First day of the period the referral is dated to.")
    date_precision = models.CharField(max_length=5, choices=DatePrecision)
    host_country = models.CharField(max_length=2, validators=[validate_country])
    alliance_bloc = models.CharField(
        "alliance bloc at referral",
        max_length=6,
        choices=AllianceBloc,
        blank=True,
        editable=False,
        help_text="Derived from the host country and the date; empty when the reference "
        "lists were not available.",
    )
    technology_field = models.CharField(max_length=200, blank=True)
    cooperation_methods = ChoiceListField(choices=CooperationMethod, blank=True)
    proposed_amount = models.DecimalField(
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    currency = models.CharField(max_length=3, blank=True, validators=[validate_currency])
    summary = models.TextField(blank=True)
    original_text = models.TextField("original-language text", blank=True)
    source_url = models.URLField(max_length=1000, blank=True)
    source_reference = models.CharField(
        "document reference", max_length=500, blank=True, help_text="When there is no URL."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["date", "external_id"]
        constraints = [
            models.CheckConstraint(condition=~Q(external_id=""), name="referral_id_not_empty"),
            country_check("host_country"),
            models.CheckConstraint(
                condition=Q(proposed_amount__isnull=True) | Q(proposed_amount__gte=0),
                name="referral_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(proposed_amount__isnull=True) | ~Q(currency=""),
                name="referral_amount_has_currency",
            ),
            models.CheckConstraint(
                condition=Q(date_precision__in=DatePrecision.values),
                name="referral_date_precision_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["date"]),
            models.Index(fields=["host_country"]),
            models.Index(fields=["technology_field"]),
        ]

    def __str__(self):
        return f"{self.external_id}: {self.entity.name}"

    @property
    def date_display(self) -> str:
        return normalize.format_partial_date(self.date, self.date_precision)

    @property
    def cooperation_labels(self) -> str:
        labels = dict(CooperationMethod.choices)
        return ", ".join(labels.get(method, method) for method in self.cooperation_methods)


class Team(models.Model):
    """A research team: it owns cases, and its members see only its cases."""

    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    is_demo = models.BooleanField(default=False, help_text="Synthetic demo data.")

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=~Q(name=""), name="team_name_not_empty")]

    def __str__(self):
        return self.name


class MatchCriterion(models.TextChoices):
    """What a control shares with its matched referred case (cases.rules.control_match)."""

    HOST_COUNTRY = "host_country", "same host country"
    ENTITY_KIND = "entity_kind", "same entity kind"
    TECHNOLOGY_FIELD = "technology_field", "same technology field"


def _criterion_accounted(criterion: str) -> Q:
    """A control's criterion is met or relaxed, not both (lists are stored ",a,b,")."""
    met = Q(match_criteria__contains=f",{criterion},")
    relaxed = Q(match_relaxed__contains=f",{criterion},")
    return (met & ~relaxed) | (relaxed & ~met)


class Case(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "open"
        MONITORING = "monitoring", "monitoring"
        IN_REVIEW = "in_review", "in review"
        CONCLUDED = "concluded", "concluded"
        CLOSED = "closed", "closed"

    class Priority(models.IntegerChoices):
        LOW = 1, "low"
        NORMAL = 2, "normal"
        HIGH = 3, "high"
        URGENT = 4, "urgent"

    class Kind(models.TextChoices):
        REFERRED = "referred", "referred"
        CONTROL = "control", "control (never referred)"

    entity = models.OneToOneField(Entity, on_delete=models.CASCADE, related_name="case")
    kind = models.CharField(
        max_length=8,
        choices=Kind,
        default=Kind.REFERRED,
        help_text="A control case follows a comparable entity that was never referred.",
    )
    matched_case = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="controls",
        help_text="For a control case: the referred case whose index date it takes.",
    )
    match_criteria = ChoiceListField(
        choices=MatchCriterion,
        blank=True,
        editable=False,
        help_text="For a control case: the criteria it meets against its matched case, "
        "derived when it is matched.",
    )
    match_relaxed = ChoiceListField(
        "criteria relaxed",
        choices=MatchCriterion,
        blank=True,
        help_text="For a control case: criteria it does not meet that a person chose to "
        "waive; a control must meet or waive each one.",
    )
    match_note = models.CharField(
        max_length=500, blank=True, help_text="Why a matching criterion was relaxed."
    )
    referred_later_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="For a control case: when its entity was found to have been referred "
        "after all; it has then left its pair (kept if it is made a referred case).",
    )
    later_referral = models.ForeignKey(
        "Referral",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="The referral that took a control case out of its pair.",
    )
    index_referral = models.ForeignKey(
        "Referral",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="The earliest referral, which starts the clock and places the case in "
        "its cohorts (year, post, field, bloc).",
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        help_text="Only the team's members see the case; without a team only admins do.",
    )
    status = models.CharField(max_length=12, choices=Status, default=Status.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_cases",
    )
    index_date = models.DateField(
        null=True, blank=True, editable=False, help_text="The entity's earliest referral date."
    )
    index_date_precision = models.CharField(
        max_length=5, choices=DatePrecision, blank=True, editable=False
    )
    index_period_end = models.DateField(
        null=True,
        blank=True,
        editable=False,
        help_text="The last day of the index period: the earliest end among the entity's "
        "referral periods (cases.rules.index_period_end).",
    )
    priority = models.PositiveSmallIntegerField(choices=Priority, default=Priority.NORMAL)
    notes = models.TextField(blank=True)
    version = models.PositiveIntegerField(
        default=1,
        editable=False,
        help_text="Raised by every edit from the research pages, so a stale form is refused.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-priority", "index_date", "id"]
        # Access: seeing and working every team's cases is granted, not implied by the
        # staff flag (cases/access.py).
        permissions = [("view_all_teams", "Can see and work every team's cases")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["open", "monitoring", "in_review", "concluded", "closed"]),
                name="case_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(index_date__isnull=True, index_date_precision="")
                | Q(index_date__isnull=False, index_date_precision__in=DatePrecision.values),
                name="case_index_date_has_precision",
            ),
            models.CheckConstraint(
                condition=Q(index_date__isnull=True, index_period_end__isnull=True)
                | Q(
                    index_date__isnull=False,
                    index_period_end__isnull=False,
                    index_period_end__gte=F("index_date"),
                ),
                name="case_index_period_ordered",
            ),
            models.CheckConstraint(condition=Q(priority__in=[1, 2, 3, 4]), name="case_priority"),
            models.CheckConstraint(
                condition=Q(kind="referred", matched_case__isnull=True)
                | Q(kind="control", matched_case__isnull=False),
                name="case_control_is_matched",
            ),
            # A control meets or waives every criterion, never both; a referred case has
            # no matching record. Whether it meets them is a join, derived in Python.
            models.CheckConstraint(
                condition=Q(kind="referred", match_criteria="", match_relaxed="", match_note="")
                | Q(*(_criterion_accounted(c) for c in MatchCriterion.values), kind="control"),
                name="case_control_criteria_accounted",
            ),
        ]
        indexes = [
            models.Index(fields=["status"]),
            models.Index(fields=["index_date"]),
            models.Index(fields=["team", "status"]),
        ]

    def __str__(self):
        return f"Case {self.pk}: {self.entity.name}"

    def get_absolute_url(self):
        return reverse("cases:case_detail", args=[self.pk])

    @property
    def index_date_display(self) -> str:
        return normalize.format_partial_date(self.index_date, self.index_date_precision)


class Finding(models.Model):
    class Kind(models.TextChoices):
        PARTNERSHIP = "partnership", "partnership or MOU"
        JOINT_VENTURE = "joint_venture", "joint venture"
        EQUITY_INVESTMENT = "equity_investment", "equity investment"
        ACQUISITION = "acquisition", "acquisition"
        IP_LICENCE = "ip_licence", "IP licence or assignment"
        CO_PUBLICATION = "co_publication", "co-invention or co-publication"
        SUBSIDIARY = "subsidiary", "subsidiary or office in China"
        RD_STAFF = "rd_staff", "R&D staff hired"
        OTHER = "other", "other"

    class Timing(models.TextChoices):
        BEFORE = normalize.Timing.BEFORE, "before the referral"
        AFTER = normalize.Timing.AFTER, "after the referral"
        UNKNOWN = normalize.Timing.UNKNOWN, "cannot tell"

    class ReviewState(models.TextChoices):
        LEAD = "lead", "lead (not reviewed)"
        CONFIRMED = "confirmed", "confirmed"
        REJECTED = "rejected", "rejected"

    class Confidence(models.TextChoices):
        LOW = "low", "low"
        MEDIUM = "medium", "medium"
        HIGH = "high", "high"

    MANUAL = "manual"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="findings")
    kind = models.CharField(max_length=20, choices=Kind)
    counterparty_name = models.CharField(max_length=300, blank=True)
    counterparty_country = models.CharField(
        max_length=2, blank=True, validators=[validate_country], help_text="ISO alpha-2"
    )
    event_date = models.DateField(null=True, blank=True)
    event_date_precision = models.CharField(max_length=5, choices=DatePrecision, blank=True)
    timing = models.CharField(
        max_length=8,
        choices=Timing,
        default=Timing.UNKNOWN,
        editable=False,
        help_text="Derived from the event date and the case's index date.",
    )
    source = models.CharField(
        max_length=40, default=MANUAL, help_text="'manual' or the automated source's name."
    )
    source_url = models.URLField(max_length=1000, blank=True)
    excerpt = models.TextField(blank=True)
    retrieved_at = models.DateTimeField(null=True, blank=True)
    evidence_sha256 = models.CharField("evidence SHA-256", max_length=64, blank=True)
    external_id = models.CharField(
        max_length=300, blank=True, help_text="The source's id for this evidence."
    )
    review_state = models.CharField(max_length=10, choices=ReviewState, default=ReviewState.LEAD)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reviewed_findings",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)
    confidence = models.CharField(max_length=6, choices=Confidence, default=Confidence.MEDIUM)
    match_score = models.FloatField(
        null=True, blank=True, help_text="0-100: how well the evidence names the entity."
    )
    match_explanation = models.TextField(blank=True, help_text="Which name matched, and how.")
    flags = models.CharField(
        max_length=300, blank=True, help_text="e.g. the counterparty is on the DoD 1260H list."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="created_findings",
        help_text="The person who recorded it; empty when an automated source did.",
    )
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Raised by every review, so a stale form is refused."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["case", "event_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "source", "external_id"],
                condition=~Q(external_id=""),
                name="finding_unique_source_evidence",
            ),
            country_check("counterparty_country", blank=True),
            models.CheckConstraint(
                condition=Q(evidence_sha256="") | Q(evidence_sha256__regex=r"^[0-9a-f]{64}$"),
                name="finding_sha256_format",
            ),
            models.CheckConstraint(
                condition=Q(event_date__isnull=True, event_date_precision="")
                | Q(event_date__isnull=False, event_date_precision__in=DatePrecision.values),
                name="finding_event_date_has_precision",
            ),
            models.CheckConstraint(
                condition=Q(review_state="lead") | Q(reviewed_at__isnull=False),
                name="finding_reviewed_has_time",
            ),
            models.CheckConstraint(
                condition=Q(review_state__in=["lead", "confirmed", "rejected"]),
                name="finding_review_state_valid",
            ),
            models.CheckConstraint(condition=~Q(source=""), name="finding_source_not_empty"),
        ]
        indexes = [
            models.Index(fields=["review_state", "kind"]),
            models.Index(fields=["source"]),
            models.Index(fields=["event_date"]),
            # A case's waiting leads and its positive findings, counted or probed for each
            # row of the case list (cases.casework.selectors.cases_with_outcome).
            models.Index(
                fields=["case"], condition=Q(review_state="lead"), name="finding_lead_case_idx"
            ),
            models.Index(
                fields=["case"],
                condition=Q(review_state="confirmed", timing="after"),
                name="finding_positive_case_idx",
            ),
        ]

    def __str__(self):
        who = self.counterparty_name or "unknown counterparty"
        return f"{self.get_kind_display()} with {who}"

    @property
    def event_date_display(self) -> str:
        return normalize.format_partial_date(self.event_date, self.event_date_precision)


class CaseStatusChange(models.Model):
    """One transition of a case's status: who moved it, from what, to what, and when."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=12, choices=Case.Status)
    to_status = models.CharField(max_length=12, choices=Case.Status)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="case_status_changes",
    )
    changed_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(
        blank=True, help_text="Why, when the change needs one (reopening a concluded case)."
    )

    class Meta:
        ordering = ["case", "changed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_status=models.F("to_status")), name="status_change_changes"
            ),
        ]
        indexes = [models.Index(fields=["case", "changed_at"])]

    def __str__(self):
        return f"case {self.case_id}: {self.from_status} → {self.to_status}"


class Cohort(models.Model):
    """A named set of cases: saved from a filtered list, or drawn from one at random.

    A sample records its seed, the filter, the frame's case ids, the time and the code
    version, so drawing again with the same seed over the stored frame gives the same
    cases however the filtered set has changed since.
    """

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    cases = models.ManyToManyField(Case, related_name="cohorts", blank=True)
    filter_query = models.CharField(
        max_length=2000, blank=True, help_text="The case-list filter the cohort was made from."
    )
    population = models.PositiveIntegerField(
        null=True, blank=True, help_text="Cases in the filtered set when it was made."
    )
    seed = models.BigIntegerField(null=True, blank=True, help_text="The random sample's seed.")
    sample_size = models.PositiveIntegerField(null=True, blank=True)
    # The frame is stored, not re-read from the filter: cases that enter the filtered set
    # later would change what the same seed draws (services.sample_redraw).
    frame = models.JSONField(
        default=list,
        blank=True,
        help_text="A sample's frame: the ids of the cases it was drawn from, sorted.",
    )
    code_version = models.CharField(
        max_length=64, blank=True, help_text="The code version that drew the sample."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            # Unique per person, not across the site: a site-wide name told anyone trying
            # a name whether another team had saved a cohort by it. Cohorts without a
            # maker (the demo's, a deleted user's) are not held to it. The analytics tell
            # same-named cohorts apart by their makers (analytics/selectors.py).
            models.UniqueConstraint(
                fields=["created_by", "name"],
                name="cohort_unique_name_per_creator",
                violation_error_message="You already have a cohort of this name.",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="cohort_name_not_empty"),
            models.CheckConstraint(
                condition=Q(seed__isnull=True, sample_size__isnull=True)
                | Q(seed__isnull=False, sample_size__isnull=False),
                name="cohort_sample_has_seed",
            ),
        ]

    def __str__(self):
        return self.name


class SecondCoding(models.Model):
    """A second analyst's blind reading of a case's outcome, to measure agreement.

    The second coder records which outcome kinds the evidence shows (none: negative)
    without seeing the first analyst's review decisions.
    """

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="second_coding")
    coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="second_codings"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="second_codings_assigned",
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    positive_kinds = ChoiceListField(
        choices=Finding.Kind, blank=True, help_text="Empty when the coder saw no outcome."
    )
    note = models.TextField(blank=True)
    recorded_at = models.DateTimeField(null=True, blank=True)
    # The first reading, frozen when the second is recorded: settling a disagreement later
    # changes the case's findings, and agreement measured against the settled outcome
    # would count the second coder's catch as the first analyst's.
    first_positive_kinds = ChoiceListField(
        choices=Finding.Kind,
        blank=True,
        help_text="The case's positive outcome kinds when the second reading was recorded.",
    )
    first_read_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the first reading was frozen; empty for readings recorded before "
        "readings were frozen, which the agreement figures leave out.",
    )
    draw_seed = models.BigIntegerField(
        null=True, blank=True, help_text="The seed of the stratified draw that gave the case."
    )

    class Meta:
        ordering = ["-assigned_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_read_at__isnull=True) | Q(recorded_at__isnull=False),
                name="second_coding_frozen_only_when_recorded",
            ),
        ]

    def __str__(self):
        return f"second coding of case {self.case_id} by {self.coder}"


class CheckRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        OK = "ok", "ok"
        NO_RESULTS = "no_results", "no results"
        SKIPPED = "skipped", "skipped"
        ERROR = "error", "error"
        RATE_LIMITED = "rate_limited", "rate limited"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="check_runs")
    source = models.CharField(max_length=40)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(
        default=0,
        help_text="Deliveries of its task and sends the broker lost; over one after a crash.",
    )
    error = models.TextField(blank=True)
    leads_created = models.PositiveIntegerField(default=0)
    query = models.TextField(blank=True, help_text="The query sent to the source.")
    # Coverage: the period this run actually searched (advanced span by span, so a run cut
    # short still says what it read) and the finding kinds its source can detect. A
    # silent run is evidence of absence for those kinds over that period, nothing more.
    searched_from = models.DateField(
        null=True, blank=True, help_text="First day searched; empty: nothing was searched."
    )
    searched_to = models.DateField(null=True, blank=True, help_text="Last day searched.")
    cut_short = models.BooleanField(
        default=False,
        help_text="The run stopped before the end of its period; the next resumes after it.",
    )
    searched_as = models.CharField(
        max_length=32,
        blank=True,
        help_text="Fingerprint of the names and identifiers searched with (coverage is per "
        "fingerprint).",
    )
    detects = models.CharField(
        max_length=300,
        blank=True,
        help_text="Finding kinds the source can detect, separated by commas.",
    )
    # Check outbox: the row is its own outbox entry, so a run queued while the broker
    # was down is sent by the relay, and one the broker or a worker lost is found again.
    published_at = models.DateTimeField(
        null=True, blank=True, help_text="When its task was last sent; empty: waiting to be sent."
    )
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker last took the run."
    )
    delivery = models.CharField(
        max_length=64, blank=True, help_text="The task message that holds the run."
    )

    class Meta:
        ordering = ["-queued_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(finished_at__gte=models.F("started_at")),
                name="checkrun_finished_after_start",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "queued",
                        "running",
                        "ok",
                        "no_results",
                        "skipped",
                        "error",
                        "rate_limited",
                    ]
                ),
                name="checkrun_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(searched_from__isnull=True, searched_to__isnull=True)
                | Q(
                    searched_from__isnull=False,
                    searched_to__isnull=False,
                    searched_to__gte=models.F("searched_from"),
                ),
                name="checkrun_searched_period_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["case", "source", "status", "-finished_at"]),
            # The relay's and the reaper's questions: runs not yet finished, by when sent.
            models.Index(
                fields=["status", "published_at"],
                condition=Q(status__in=["queued", "running"]),
                name="checkrun_pending",
            ),
        ]

    def __str__(self):
        return f"{self.source} for case {self.case_id}: {self.status}"


# Sign-in and audit -----------------------------------------------------------------------


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditEventImmutable("Audit events cannot be changed.")

    def delete(self):
        raise AuditEventImmutable("Audit events cannot be deleted.")


class AuditEvent(models.Model):
    """One thing a person did that must be answerable later: a sign-in or a failed one, an
    export, a download, an import, an admin change. Rows are only ever added: save()
    refuses to change one and delete() refuses to remove one, and on PostgreSQL a trigger
    (migration 0007) refuses UPDATE and DELETE from anywhere, raw SQL included."""

    class Action(models.TextChoices):
        SIGN_IN = "sign_in", "signed in"
        SIGN_IN_FAILED = "sign_in_failed", "sign-in failed"
        SIGN_OUT = "sign_out", "signed out"
        LOCKED_OUT = "locked_out", "locked out"
        OTP_VERIFIED = "otp_verified", "second factor verified"
        OTP_FAILED = "otp_failed", "second factor failed"
        OTP_DEVICE_ADDED = "otp_device_added", "second factor set up"
        EXPORT = "export", "export"
        DOWNLOAD = "download", "download"
        IMPORT = "import", "import"
        ADMIN_ACTION = "admin_action", "admin action"
        MERGE = "merge", "entities merged"
        MERGE_UNDO = "merge_undo", "merge undone"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # Kept when the user is deleted: the name below still says who it was.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    actor_name = models.CharField(
        max_length=150, blank=True, help_text="The username, kept when the user is deleted."
    )
    action = models.CharField(max_length=20, choices=Action.choices, db_index=True)
    target = models.CharField(max_length=500, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    # Deleting a user still works: Django's collector nulls `actor` through the base
    # manager, which the trigger allows and nothing else does.
    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    action__in=[
                        "sign_in",
                        "sign_in_failed",
                        "sign_out",
                        "locked_out",
                        "otp_verified",
                        "otp_failed",
                        "otp_device_added",
                        "export",
                        "download",
                        "import",
                        "admin_action",
                        "merge",
                        "merge_undo",
                    ]
                ),
                name="auditevent_action_valid",
            ),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name or '-'} {self.action} {self.target}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditEventImmutable("An audit event cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditEventImmutable("An audit event cannot be deleted.")


class AuditEventImmutable(Exception):
    """An attempt to change or delete an audit event."""


# Import records ---------------------------------------------------------------------------


class ImportRecord(models.Model):
    """One referral import, previewed or written, from the admin or the command: who, what
    file, how far it got and what it did. History rows of what it created name it."""

    class State(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        REFUSED = "refused", "refused"
        FAILED = "failed", "failed"
        EXPIRED = "expired", "expired"

    class Origin(models.TextChoices):
        ADMIN = "admin", "admin upload"
        COMMAND = "command", "import_referrals command"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="import_records",
    )
    origin = models.CharField(max_length=8, choices=Origin, default=Origin.ADMIN)
    dry_run = models.BooleanField(default=False, help_text="A preview: nothing was written.")
    preview = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="confirmations",
        help_text="The preview this import confirmed.",
    )
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.PositiveBigIntegerField(help_text="Bytes.")
    stored_file = models.CharField(
        max_length=80,
        blank=True,
        help_text="The upload waiting in IMPORT_UPLOAD_DIR; empty once deleted.",
    )
    state = models.CharField(max_length=8, choices=State, default=State.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_total = models.PositiveIntegerField(null=True, blank=True, help_text="Estimated.")
    rows_done = models.PositiveIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    referrals_created = models.PositiveIntegerField(default=0)
    entities_created = models.PositiveIntegerField(default=0)
    cases_created = models.PositiveIntegerField(default=0)
    posts_created = models.PositiveIntegerField(default=0)
    rows_skipped = models.PositiveIntegerField(
        default=0, help_text="Repeated rows and referrals already stored unchanged."
    )
    errors = models.PositiveIntegerField(default=0)
    changed_anything = models.BooleanField(default=False)
    report = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Imports are serialised: on SQLite this is the lock itself, on PostgreSQL
            # it backs the advisory lock (cases.intake.jobs).
            models.UniqueConstraint(
                fields=["state"], condition=Q(state="running"), name="import_one_running"
            ),
            models.CheckConstraint(
                condition=Q(
                    state__in=["queued", "running", "done", "refused", "failed", "expired"]
                ),
                name="import_state_valid",
            ),
        ]

    def __str__(self):
        kind = "preview" if self.dry_run else "import"
        return f"{kind} #{self.pk} of {self.file_name} ({self.state})"

    @property
    def history_reason(self) -> str:
        """The change reason of the history rows this import writes (at most 100 chars)."""
        return f"import #{self.pk}: {self.file_name}"[:100]

    @property
    def finished(self) -> bool:
        return self.state not in {self.State.QUEUED, self.State.RUNNING}


# ------------------------------------------------------------------------ identity
# Registry identifiers proposed for an entity (cases.identity) and a person's judgement.

# Registry name: the Entity field its identifier fills. Written once here because the
# constraints, the services and the resolvers all need it.
REGISTRY_FIELDS = {
    "gleif": "lei",
    "sec_edgar": "sec_cik",
    "companies_house": "uk_company_number",
    "ror": "ror_id",
    "openalex": "openalex_id",
    "wikidata": "wikidata_id",
}


CANDIDATE_FORMATS = {
    "gleif": r"^[A-Z0-9]{18}[0-9]{2}$",
    "sec_edgar": r"^[0-9]{1,10}$",
    "companies_house": r"^([0-9]{8}|[A-Z]{2}[0-9]{6})$",
    "ror": r"^0[a-hj-km-np-tv-z0-9]{6}[0-9]{2}$",
    "openalex": r"^[IAF][0-9]{4,12}$",
    "wikidata": r"^Q[1-9][0-9]*$",
}


class Registry(models.TextChoices):
    GLEIF = "gleif", "GLEIF (LEI)"
    SEC_EDGAR = "sec_edgar", "SEC EDGAR (CIK)"
    COMPANIES_HOUSE = "companies_house", "Companies House (UK company number)"
    ROR = "ror", "ROR"
    OPENALEX = "openalex", "OpenAlex (institution)"
    WIKIDATA = "wikidata", "Wikidata (QID)"


class IdentifierCandidate(models.Model):
    """One registry record proposed as the entity, with what it was proposed on."""

    class State(models.TextChoices):
        SUGGESTED = "suggested", "suggested"
        CONFIRMED = "confirmed", "confirmed"
        REJECTED = "rejected", "rejected"
        UNSURE = "unsure", "unsure"

    entity = models.ForeignKey(
        Entity, on_delete=models.CASCADE, related_name="identifier_candidates"
    )
    registry = models.CharField(max_length=20, choices=Registry)
    identifier = models.CharField(max_length=20)
    registry_name = models.CharField("name on the registry", max_length=500, blank=True)
    score = models.FloatField(help_text="0-100: how well the record matches the entity")
    explanation = models.TextField(help_text="Which name matched and how; country; legal form.")
    evidence = models.JSONField(
        default=dict,
        blank=True,
        help_text="What it was proposed on: the URLs asked, the record's names and country, "
        "the other registries' identifiers it carries.",
    )
    state = models.CharField(max_length=10, choices=State, default=State.SUGGESTED)
    automatic = models.BooleanField(
        default=False, help_text="Confirmed because two registries agree by identifier."
    )
    judged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    judged_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["entity", "-score", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "registry", "identifier"], name="candidate_unique"
            ),
            models.CheckConstraint(
                condition=Q(registry__in=list(REGISTRY_FIELDS)), name="candidate_registry_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["suggested", "confirmed", "rejected", "unsure"]),
                name="candidate_state_valid",
            ),
            # The format each registry's identifier has (as cases.normalize checks it, the
            # LEI's check digits aside): a registry's typo never reaches an entity.
            models.CheckConstraint(
                condition=reduce(
                    or_,
                    (
                        Q(registry=registry, identifier__regex=pattern)
                        for registry, pattern in CANDIDATE_FORMATS.items()
                    ),
                ),
                name="candidate_identifier_format",
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=100), name="candidate_score_range"
            ),
            # One confirmed record per registry and entity: the entity has one LEI.
            models.UniqueConstraint(
                fields=["entity", "registry"],
                condition=Q(state="confirmed"),
                name="candidate_one_confirmed",
            ),
            models.CheckConstraint(
                condition=Q(automatic=False) | Q(state="confirmed"),
                name="candidate_automatic_is_confirmed",
            ),
        ]
        indexes = [models.Index(fields=["state", "registry"])]

    def __str__(self):
        return f"{self.registry} {self.identifier} for {self.entity_id} ({self.state})"

    @property
    def field(self) -> str:
        return REGISTRY_FIELDS[self.registry]


class ResolutionAttempt(models.Model):
    """One registry asked about one entity: what came of it, even when nothing did."""

    class Status(models.TextChoices):
        OK = "ok", "ok"
        ERROR = "error", "error"
        RATE_LIMITED = "rate_limited", "rate limited"
        SKIPPED = "skipped", "skipped"

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="resolution_attempts")
    registry = models.CharField(max_length=20, choices=Registry)
    at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=12, choices=Status)
    error = models.TextField(blank=True, help_text="Why it failed or was skipped.")
    requests = models.PositiveIntegerField(default=0)
    proposed = models.PositiveIntegerField(default=0, help_text="Candidates new this time.")
    asked = models.TextField(blank=True, help_text="The URLs asked, one a line.")

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["ok", "error", "rate_limited", "skipped"]),
                name="attempt_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["entity", "registry", "-at"])]

    def __str__(self):
        return f"{self.registry} for {self.entity_id} at {self.at:%Y-%m-%d %H:%M} ({self.status})"


# ------------------------------------------------------------------------ resolution jobs
# "Find identifiers" for a filtered case list (or one case), run as a background job whose
# progress a page follows (cases.identity.jobs).


class ResolutionJob(models.Model):
    """Identifier resolution of a set of cases: who asked, for which filter, how far."""

    class State(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resolution_jobs",
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    filter_query = models.CharField(
        max_length=2000, blank=True, help_text="The case-list filter the job was started from."
    )
    # The entities counted when the job started: the filter read later may match others.
    entity_ids = models.JSONField(default=list, blank=True)
    case_count = models.PositiveIntegerField()
    done_count = models.PositiveIntegerField(default=0)
    proposed_count = models.PositiveIntegerField(default=0, help_text="Candidates new.")
    failed_count = models.PositiveIntegerField(
        default=0, help_text="Entities whose resolution stopped on an unexpected error."
    )
    state = models.CharField(max_length=8, choices=State, default=State.QUEUED)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["queued", "running", "done", "failed"]),
                name="resolution_job_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(done_count__lte=models.F("case_count")),
                name="resolution_job_done_within_count",
            ),
        ]

    def __str__(self):
        return f"resolution job #{self.pk}: {self.done_count} of {self.case_count} ({self.state})"

    @property
    def finished(self) -> bool:
        return self.state in {self.State.DONE, self.State.FAILED}


# Merges ----------------------------------------------------------------------------------


class EntityMerge(models.Model):
    """One entity merged into another (the survivor), with every row the merge changed or
    removed as it was before, so that undoing it restores them with their primary keys."""

    survivor = models.ForeignKey(Entity, on_delete=models.PROTECT, related_name="merges")
    merged_entity_id = models.PositiveBigIntegerField(
        help_text="The merged entity's id, free while merged and taken again by an undo."
    )
    merged_name = models.CharField(max_length=300)
    merged_country = models.CharField(max_length=2)
    summary = models.JSONField(default=dict, help_text="What moved, in counts and names.")
    snapshot = models.JSONField(
        default=dict, help_text="The rows as they were before the merge (serialized)."
    )
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    merged_at = models.DateTimeField(default=timezone.now)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]
        constraints = [
            # An entity id is merged away at most once at a time.
            models.UniqueConstraint(
                fields=["merged_entity_id"],
                condition=Q(undone_at__isnull=True),
                name="entitymerge_one_active_per_entity",
            ),
            models.CheckConstraint(
                condition=Q(undone_at__isnull=True) | Q(undone_at__gte=models.F("merged_at")),
                name="entitymerge_undone_after_merge",
            ),
        ]

    def __str__(self):
        return f"merge #{self.pk}: {self.merged_name} into {self.survivor_id}"

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None


class DistinctPair(models.Model):
    """Two entities a person judged not the same, so the pair is not reported again."""

    low = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="+")
    high = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="+")
    judged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    judged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-judged_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["low", "high"], name="distinctpair_unique"),
            models.CheckConstraint(
                condition=Q(low__lt=models.F("high")), name="distinctpair_ordered"
            ),
        ]

    def __str__(self):
        return f"entities {self.low_id} and {self.high_id} are not the same"


# Outgoing webhooks ---------------------------------------------------------------------


def _webhook_secret() -> str:
    return secrets.token_hex(32)


class TeamWebhook(models.Model):
    """An address a team's own systems listen on: new leads and confirmed findings of the
    team's cases are POSTed there, signed with the webhook's secret (HMAC-SHA256)."""

    class Event(models.TextChoices):
        LEADS_FILED = "leads_filed", "new leads filed"
        FINDING_CONFIRMED = "finding_confirmed", "finding confirmed"
        PING = "ping", "test ping"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500, help_text="Where to POST: http or https.")
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(
        max_length=64,
        default=_webhook_secret,
        help_text="Signs every delivery: the receiver checks X-Wishlist-Signature with it.",
    )
    on_leads_filed = models.BooleanField("new leads", default=True)
    on_finding_confirmed = models.BooleanField("confirmed findings", default=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["team__name", "url"]
        constraints = [
            models.UniqueConstraint(fields=["team", "url"], name="teamwebhook_unique_url"),
            models.CheckConstraint(
                condition=Q(url__startswith="https://") | Q(url__startswith="http://"),
                name="teamwebhook_url_http",
            ),
            models.CheckConstraint(condition=~Q(secret=""), name="teamwebhook_secret_set"),
        ]

    def __str__(self):
        return f"{self.team}: {self.url}"

    def wants(self, event: str) -> bool:
        return {
            self.Event.LEADS_FILED: self.on_leads_filed,
            self.Event.FINDING_CONFIRMED: self.on_finding_confirmed,
            self.Event.PING: True,
        }[event]


class WebhookDelivery(models.Model):
    """One event for one webhook, and what became of sending it: the delivery log.

    The row is its own outbox entry: it is written in the transaction that made the
    event, so an event is never sent for a write that rolled back, and a delivery the
    broker or a crash lost is found again by the every-minute sweep."""

    class State(models.TextChoices):
        PENDING = "pending", "waiting to be sent"
        SENDING = "sending", "being sent"
        DELIVERED = "delivered", "delivered"
        GAVE_UP = "gave_up", "gave up"

    webhook = models.ForeignKey(TeamWebhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=20, choices=TeamWebhook.Event)
    payload = models.JSONField()
    state = models.CharField(max_length=10, choices=State, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When it is sent (again); empty once delivered or given up.",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The HTTP status of the last answer."
    )
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["pending", "sending", "delivered", "gave_up"]),
                name="webhookdelivery_state_valid",
            ),
            models.CheckConstraint(
                condition=~Q(state="delivered") | Q(delivered_at__isnull=False),
                name="webhookdelivery_delivered_when",
            ),
            models.CheckConstraint(
                condition=~Q(state="pending") | Q(next_attempt_at__isnull=False),
                name="webhookdelivery_pending_when",
            ),
        ]
        indexes = [
            # The sweep's question: deliveries due now, or claimed and never finished.
            models.Index(
                fields=["state", "next_attempt_at"],
                condition=Q(state__in=["pending", "sending"]),
                name="webhookdelivery_due",
            ),
        ]

    def __str__(self):
        return f"{self.get_event_display()} to {self.webhook.url}: {self.get_state_display()}"


class UserPreferences(models.Model):
    """One person's settings for the research pages and what those settings remember: the
    email digest they chose and the last one sent, and when they last opened My work."""

    class Digest(models.TextChoices):
        OFF = "off", "off"
        DAILY = "daily", "daily"
        WEEKLY = "weekly", "weekly"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wishlist_preferences"
    )
    digest = models.CharField("email digest", max_length=6, choices=Digest, default=Digest.OFF)
    digest_period = models.CharField(
        max_length=10,
        blank=True,
        editable=False,
        help_text="The day (2026-12-02) or ISO week (2026-W49) of the last digest sent, so a "
        "second run in the same period sends nothing.",
    )
    digest_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # "New since my last visit": leads filed after my_work_new_since are new. It moves to
    # the end of the previous visit only when a new visit starts, so a reload within a
    # visit keeps showing what was new when it began (cases.casework.dashboard).
    my_work_seen_at = models.DateTimeField(null=True, blank=True, editable=False)
    my_work_new_since = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name_plural = "user preferences"
        constraints = [
            models.CheckConstraint(
                condition=Q(digest__in=["off", "daily", "weekly"]), name="preferences_digest_valid"
            ),
        ]

    def __str__(self):
        return f"preferences of {self.user}"


# Tags and saved searches ------------------------------------------------------------------


class Tag(models.Model):
    """A team's label for its cases ("needs translation", "escalate").

    Tags belong to a team, as its cases do: a site-wide vocabulary would show every team
    the words other teams use about their cases. Names are unique per team ignoring case
    and runs of spaces; `key` holds that folded form, derived by casework.tags, never typed.
    """

    NAME_LENGTH = 50

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=NAME_LENGTH)
    key = models.CharField(
        max_length=NAME_LENGTH, editable=False, help_text="The name case-folded, for uniqueness."
    )
    cases = models.ManyToManyField(Case, through="CaseTag", related_name="tags", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["team", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "key"],
                name="tag_unique_name_per_team",
                violation_error_message="The team has a tag of this name already.",
            ),
            models.CheckConstraint(condition=~Q(name="") & ~Q(key=""), name="tag_name_not_empty"),
        ]

    def __str__(self):
        return self.name


class CaseTag(models.Model):
    """A tag on a case: who put it there and when."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="case_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="case_tags")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["case", "tag"]
        constraints = [models.UniqueConstraint(fields=["case", "tag"], name="casetag_unique")]

    def __str__(self):
        return f"{self.tag} on case {self.case_id}"


class SavedSearch(models.Model):
    """A named case-list filter, evaluated afresh each time it is opened (a cohort, by
    contrast, keeps the cases it held when it was saved). Its owner may share it with one
    of their teams; its members see it and apply it to the cases they may see."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches"
    )
    name = models.CharField(max_length=100)
    query = models.CharField(
        max_length=2000, blank=True, help_text="The case list's query string, without paging."
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="saved_searches",
        help_text="Shared with this team's members; empty for the owner alone.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "saved searches"
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"],
                name="savedsearch_unique_name_per_owner",
                violation_error_message="You already have a saved search of this name.",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="savedsearch_name_not_empty"),
        ]

    def __str__(self):
        return self.name


# Comments, watches and in-app notifications -----------------------------------------------

COMMENT_BODY_MAX = 10_000


class Comment(models.Model):
    """A note a person left on a case, or on one of its findings (a lead, usually).

    The body is plain text: pages escape it and keep its line breaks, never render it as
    HTML. A comment on a finding belongs to the finding's case; the database refuses any
    other (a trigger, migration 0020, as a composite key is not expressible here).
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="comments")
    # A finding dropped by a merge leaves its comments on the case, not deleted with it.
    finding = models.ForeignKey(
        Finding, on_delete=models.SET_NULL, null=True, blank=True, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="comments",
    )
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(
        null=True, blank=True, help_text="When the author last changed it; shown as edited."
    )
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Raised by every edit, so a stale form is refused."
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="comment_body_not_empty"),
            models.CheckConstraint(
                condition=models.lookups.LessThanOrEqual(
                    models.functions.Length("body"), COMMENT_BODY_MAX
                ),
                name="comment_body_max_length",
            ),
            models.CheckConstraint(
                condition=Q(edited_at__isnull=True) | Q(edited_at__gte=F("created_at")),
                name="comment_edited_after_created",
            ),
        ]
        indexes = [models.Index(fields=["case", "created_at"])]

    def __str__(self):
        return f"comment {self.pk} on case {self.case_id}"

    def get_absolute_url(self):
        return f"{self.case.get_absolute_url()}#comment-{self.pk}"


class Watch(models.Model):
    """A person following a case: they are told of its new leads and comments."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watches"
    )
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="watches")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "case"], name="watch_unique")]

    def __str__(self):
        return f"user {self.user_id} watches case {self.case_id}"


class Notification(models.Model):
    """Something on a case that a person should know about, shown in the app until read.

    The text is written in words when the notification is made (who did what to which
    case), so the list reads the same after names change. Nobody is notified of their
    own action: the database refuses an actor who is the recipient.
    """

    class Kind(models.TextChoices):
        NEW_LEADS = "new_leads", "new leads"
        ASSIGNED = "assigned", "assigned to you"
        MENTION = "mention", "mentioned you"
        REFUSED_EDIT = "refused_edit", "an edit refused"
        COMMENT_ON_WATCHED = "comment_on_watched", "comment on a watched case"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=Kind)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notifications")
    comment = models.ForeignKey(
        Comment, on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who did it; empty for an automated check.",
    )
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "new_leads",
                        "assigned",
                        "mention",
                        "refused_edit",
                        "comment_on_watched",
                    ]
                ),
                name="notification_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(actor__isnull=True) | ~Q(actor=F("recipient")),
                name="notification_not_to_actor",
            ),
            models.CheckConstraint(condition=~Q(text=""), name="notification_text_not_empty"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"]),
            # The unread count on every page.
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self):
        return self.text

    def get_absolute_url(self):
        if self.comment_id:
            return f"{self.case.get_absolute_url()}#comment-{self.comment_id}"
        return self.case.get_absolute_url()


def evidence_storage():
    """Where kept evidence lives: STORAGES["evidence"] (a local folder, or an S3-compatible
    store when configured), looked up when a file is read or written, not at import."""
    from django.core.files.storage import storages

    return storages["evidence"]


class Evidence(models.Model):
    """A copy of a finding's evidence kept by us, since news links rot: a captured page
    (a WARC of the request and response, its text, a screenshot when Chromium is there) or
    a file an analyst attached. Files are stored once and never changed."""

    class Kind(models.TextChoices):
        CAPTURE = "capture", "captured page"
        ATTACHMENT = "attachment", "attached file"

    class State(models.TextChoices):
        PENDING = "pending", "being captured"
        OK = "ok", "kept"
        FAILED = "failed", "failed"

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=10, choices=Kind)
    state = models.CharField(max_length=7, choices=State, default=State.PENDING)
    error = models.TextField(blank=True, help_text="Why the capture failed, in words.")
    url = models.URLField("URL asked", max_length=2000, blank=True)
    final_url = models.URLField("URL after redirects", max_length=2000, blank=True)
    http_status = models.PositiveSmallIntegerField("HTTP status", null=True, blank=True)
    content_type = models.CharField(max_length=200, blank=True)
    original_filename = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(
        "SHA-256", max_length=64, blank=True, help_text="Of the page's body or the file."
    )
    size = models.PositiveBigIntegerField(null=True, blank=True, help_text="Bytes.")
    retrieved_at = models.DateTimeField(null=True, blank=True)
    warc = models.FileField(storage=evidence_storage, upload_to="evidence/", blank=True)
    text = models.FileField(storage=evidence_storage, upload_to="evidence/", blank=True)
    screenshot = models.FileField(storage=evidence_storage, upload_to="evidence/", blank=True)
    screenshot_note = models.CharField(
        max_length=300, blank=True, help_text='Why there is none, e.g. "Chromium not found".'
    )
    attachment = models.FileField(storage=evidence_storage, upload_to="evidence/", blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for a capture made when the finding was confirmed by a job.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["finding", "-created_at", "-id"]
        verbose_name_plural = "evidence"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["capture", "attachment"]), name="evidence_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "ok", "failed"]), name="evidence_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(sha256="") | Q(sha256__regex=r"^[0-9a-f]{64}$"),
                name="evidence_sha256_format",
            ),
            # Kept means hashed and dated; a failure says why.
            models.CheckConstraint(
                condition=~Q(state="ok") | (~Q(sha256="") & Q(retrieved_at__isnull=False)),
                name="evidence_ok_has_hash",
            ),
            models.CheckConstraint(
                condition=~Q(state="failed") | ~Q(error=""), name="evidence_failed_has_error"
            ),
            models.CheckConstraint(
                condition=Q(kind="capture") | (Q(state="ok") & ~Q(attachment="")),
                name="evidence_attachment_has_file",
            ),
            # One capture at a time per finding (a double click, a confirm and a click).
            models.UniqueConstraint(
                fields=["finding"],
                condition=Q(kind="capture", state="pending"),
                name="evidence_one_pending_capture",
            ),
            models.UniqueConstraint(
                fields=["finding", "sha256"],
                condition=Q(kind="attachment"),
                name="evidence_attachment_unique_file",
            ),
        ]

    def __str__(self):
        what = self.original_filename or self.final_url or self.url
        return f"{self.get_kind_display()}: {what}"
