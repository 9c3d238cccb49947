"""The case list's and the review queue's filters. Conditions on referrals are EXISTS
subqueries, so an entity referred several times still gives one row and the page needs no
DISTINCT."""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet

from cases import access, normalize, rules
from cases.casework.tags import tag_choices
from cases.models import (
    AllianceBloc,
    Case,
    CaseTag,
    CooperationMethod,
    Entity,
    Finding,
    Post,
    Referral,
)


def _referrals_where(**conditions) -> Exists:
    return Exists(Referral.objects.filter(entity_id=OuterRef("entity_id"), **conditions))


class CaseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search names", method="search")
    status = django_filters.MultipleChoiceFilter(
        choices=Case.Status.choices, widget=forms.CheckboxSelectMultiple
    )
    team = django_filters.ModelChoiceFilter(queryset=None)
    assignee = django_filters.ModelChoiceFilter(queryset=None, null_label="nobody")
    host_country = django_filters.CharFilter(
        label="Host country", method="filter_host_country", max_length=2
    )
    bloc = django_filters.ChoiceFilter(
        label="Alliance bloc at referral", choices=AllianceBloc.choices, method="filter_bloc"
    )
    post = django_filters.ModelChoiceFilter(queryset=None, method="filter_post")
    technology_field = django_filters.ChoiceFilter(
        label="Technology field", choices=(), method="filter_technology_field"
    )
    entity_type = django_filters.ChoiceFilter(
        label="Entity type", choices=Entity.Kind.choices, field_name="entity__kind"
    )
    cooperation_method = django_filters.ChoiceFilter(
        label="Cooperation sought", choices=CooperationMethod.choices, method="filter_method"
    )
    year = django_filters.NumberFilter(
        label="Referral year",
        field_name="index_date",
        lookup_expr="year",
        min_value=1900,
        max_value=2100,
    )
    outcome = django_filters.ChoiceFilter(
        label="Outcome",
        choices=[("positive", "positive"), ("none", "no outcome yet")],
        method="filter_outcome",
    )
    has_leads = django_filters.BooleanFilter(
        label="Has leads to review",
        method="filter_has_leads",
        widget=forms.Select(choices=[("", "any"), ("true", "yes"), ("false", "no")]),
    )
    kind = django_filters.ChoiceFilter(label="Referred or control", choices=Case.Kind.choices)
    cohort = django_filters.ModelChoiceFilter(
        label="Named cohort", queryset=None, field_name="cohorts"
    )
    tag = django_filters.ChoiceFilter(label="Tag", choices=(), method="filter_tag")
    sort = django_filters.OrderingFilter(
        fields=(
            ("index_date", "index_date"),
            ("entity__name", "name"),
            ("entity__country", "country"),
            ("status", "status"),
            ("priority", "priority"),
            ("lead_count", "leads"),
            ("updated_at", "updated"),
        ),
        field_labels={"index_date": "referral date", "entity__name": "name"},
    )

    class Meta:
        model = Case
        fields: list[str] = []

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        teams = access.visible_teams(user)
        self.filters["team"].queryset = teams
        members = get_user_model().objects.filter(is_active=True).order_by("username")
        if not access.is_admin(user):
            members = members.filter(teams__in=teams.values("id")).distinct()
        self.filters["assignee"].queryset = members
        visible = access.visible_cases(user)
        # Only posts that referred one of the user's cases: a post's name and country
        # would tell of other teams' referrals.
        self.filters["post"].queryset = Post.objects.filter(
            Exists(
                Referral.objects.filter(post=OuterRef("pk"), entity__case__in=visible.values("id"))
            )
        ).order_by("host_country", "name")
        self.filters["cohort"].queryset = access.visible_cohorts(user, cases=visible).order_by(
            "name"
        )
        # Only the fields of the user's own cases: other teams' work is not shown.
        fields = (
            Referral.objects.filter(entity__case__in=visible.values("id"))
            .exclude(technology_field="")
            .order_by("technology_field")
            .values_list("technology_field", flat=True)
            .distinct()
        )
        self.filters["technology_field"].extra["choices"] = [(f, f) for f in fields]
        self.filters["tag"].extra["choices"] = tag_choices(user)

    def search(self, queryset: QuerySet[Case], name, value: str) -> QuerySet[Case]:
        """Find the query in names, native names and aliases, case and accents ignored
        ("Fenent" finds "Fénent" and the other way round), and in name keys, so a query
        with a legal form finds the name with another ("Siemens Aktiengesellschaft"
        finds "Siemens AG")."""
        value = value.strip()
        if not value:
            return queryset
        pattern = normalize.search_pattern(value)
        if not pattern:  # punctuation only: as typed
            return queryset.filter(
                Q(entity__name__icontains=value)
                | Q(entity__name_native__icontains=value)
                | Q(entity__aliases__icontains=value)
            )
        found = (
            Q(entity__name__iregex=pattern)
            | Q(entity__name_native__iregex=pattern)
            | Q(entity__aliases__iregex=pattern)
        )
        key = normalize.name_key(value)
        if key:
            found |= Q(entity__name_key__contains=key)
        return queryset.filter(found)

    def filter_host_country(self, queryset, name, value):
        return queryset.filter(_referrals_where(host_country=value.strip().upper()))

    def filter_bloc(self, queryset, name, value):
        return queryset.filter(_referrals_where(alliance_bloc=value))

    def filter_post(self, queryset, name, value):
        return queryset.filter(_referrals_where(post=value))

    def filter_technology_field(self, queryset, name, value):
        return queryset.filter(_referrals_where(technology_field=value))

    def filter_method(self, queryset, name, value):
        return queryset.filter(_referrals_where(cooperation_methods__has=value))

    def filter_outcome(self, queryset, name, value):
        positive = Exists(rules.positive_findings().filter(case=OuterRef("pk")))
        return queryset.filter(positive if value == "positive" else ~positive)

    def filter_has_leads(self, queryset, name, value):
        leads = rules.has_waiting_leads()
        return queryset.filter(leads if value else ~leads)

    def filter_tag(self, queryset, name, value):
        return queryset.filter(Exists(CaseTag.objects.filter(case=OuterRef("pk"), tag__key=value)))


class ReviewQueueFilter(django_filters.FilterSet):
    """The review queue's filters over the leads a user may see. A value that is not one
    of the choices is an error, and the view then lists nothing rather than every lead
    under a filter that seems to apply."""

    UNDATED = "undated"

    source = django_filters.ChoiceFilter(choices=())
    team = django_filters.ModelChoiceFilter(
        queryset=None, field_name="case__team", empty_label="all"
    )
    mine = django_filters.ChoiceFilter(
        label="My cases", choices=[("1", "assigned to me")], method="filter_mine"
    )
    timing = django_filters.ChoiceFilter(
        label="Dated",
        choices=[
            (Finding.Timing.AFTER, "after the referral"),
            (Finding.Timing.BEFORE, "before the referral"),
            (Finding.Timing.UNKNOWN, "cannot tell"),
            (UNDATED, "undated"),
        ],
        method="filter_timing",
        empty_label="any time",
    )
    min_score = django_filters.NumberFilter(
        label="Match score at least",
        field_name="match_score",
        lookup_expr="gte",
        min_value=0,
        max_value=100,
    )

    class Meta:
        model = Finding
        fields: list[str] = []

    def __init__(self, *args, user, sources, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.filters["source"].extra["choices"] = [(s, s) for s in sorted(sources)]
        self.filters["team"].queryset = access.visible_teams(user).order_by("name")

    def filter_mine(self, queryset: QuerySet[Finding], name, value) -> QuerySet[Finding]:
        return queryset.filter(case__assignee=self.user)

    def filter_timing(self, queryset: QuerySet[Finding], name, value) -> QuerySet[Finding]:
        if value == self.UNDATED:
            return queryset.filter(event_date__isnull=True)
        return queryset.filter(timing=value)
