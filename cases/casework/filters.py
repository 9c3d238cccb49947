"""The case list's and the review queue's filters. Conditions on referrals are EXISTS
subqueries, so an entity referred several times still gives one row and the page needs no
DISTINCT."""

from dataclasses import dataclass

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet, FieldDoesNotExist
from django.db import connection
from django.db.models import Exists, F, Func, OuterRef, Q, QuerySet, Subquery, TextField
from django.http import QueryDict

from cases import access, normalize, rules
from cases.casework.list_forms import JinjaWidgetsForm, ListedChoices
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


def _technology_fields(visible: QuerySet[Case]) -> list[str]:
    """The technology fields of the referrals of the `visible` cases, in order: only the
    fields of the user's own cases, as other teams' work is not shown.

    The distinct fields are walked in the index on technology_field, each found by one
    probe (a loose index scan), and each kept if one of its referrals is of a visible
    case: a scalar subquery, as PostgreSQL turns an EXISTS into a join over every
    referral. A DISTINCT over the visible cases' referrals read every one of them, on
    every case list page (about 150 ms a page at 100,000 cases; this is under 1 ms).
    """
    try:
        entities, params = visible.order_by().values("entity_id").query.sql_with_params()
    except EmptyResultSet:  # no case is visible (Case.objects.none())
        return []
    table = connection.ops.quote_name(Referral._meta.db_table)
    sql = f"""
        WITH RECURSIVE fields (name) AS (
            SELECT MIN(technology_field) FROM {table} WHERE technology_field > ''
            UNION ALL
            SELECT (SELECT MIN(technology_field) FROM {table} WHERE technology_field > fields.name)
            FROM fields WHERE fields.name IS NOT NULL
        )
        SELECT name FROM fields
        WHERE name IS NOT NULL AND (
            SELECT 1 FROM {table} referral
            WHERE referral.technology_field = fields.name AND referral.entity_id IN ({entities})
            LIMIT 1
        ) IS NOT NULL
        ORDER BY name
    """  # only the table's name and the ORM's own SQL are formatted in
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [name for (name,) in cursor.fetchall()]


class FoldedNames(Func):
    """An entity's name, native name and aliases folded (accents and case), one a line:
    the column PostgreSQL generates (migration 0026), of the row of the entity field
    given, `FoldedNames("entity__name")`. Not a field of the model, as the ORM must not
    write it and SQLite has none."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra):
        (column,) = self.get_source_expressions()  # the name's column: its table's alias
        table = compiler.quote_name_unless_alias(column.alias)
        return f"{table}.{connection.ops.quote_name('search_folded')}", []


class CountryField(forms.CharField):
    """A country as an analyst types it: an ISO code or an English name ("DE", "deu",
    "Germany"), read by the importer's own resolver and cleaned to the alpha-2 code."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        code = normalize.parse_country(value)
        if code is None:
            raise forms.ValidationError(
                "No such country: type an English name or an ISO code (Germany or DE).",
                code="invalid",
            )
        return code


class CountryFilter(django_filters.CharFilter):
    field_class = CountryField


class ListedModelChoiceField(django_filters.fields.ModelChoiceField):
    iterator = ListedChoices


class ListedModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = ListedModelChoiceField


class PostChoiceField(ListedModelChoiceField):
    def label_from_instance(self, obj: Post) -> str:
        return f"{obj.name}, {normalize.country_name(obj.host_country)}"


class PostFilter(django_filters.ModelChoiceFilter):
    field_class = PostChoiceField


# The sort keys (the `sort` parameter, ?sort=name or ?sort=-name) and what they order by.
# The first nine are the list's columns, whose headers sort; priority and updated are
# kept for links and scripts made before the headers sorted.
SORT_FIELDS = {
    "name": "entity__name",
    "type": "entity__kind",
    "country": "entity__country",
    "index_date": "index_date",
    "status": "status",
    "team": "team__name",
    "assignee": "assignee__username",
    "leads": "lead_count",
    "outcome": "is_positive",
    "priority": "priority",
    "updated": "updated_at",
}
# Newest referral first: the date is a column of the list (priority, the old default, is
# not), and the newest referrals are the ones least worked.
DEFAULT_SORT = "-index_date"


class HiddenSortInput(django_filters.widgets.BaseCSVWidget, forms.HiddenInput):
    surrogate = forms.HiddenInput  # a sort by several keys stays hidden too


class ListOrderingFilter(django_filters.OrderingFilter):
    """Sort by the keys of SORT_FIELDS, DEFAULT_SORT when none is given; cases without a
    value (no referral date, no team) come last either way, as on every database."""

    def filter(self, qs, value):
        # The cohort and identifier jobs re-read the list's query on cases without the
        # list's counts (lead_count, is_positive); order does not matter to them, so a
        # sort by a count they lack is left out rather than failing.
        keys = [key for key in value or [DEFAULT_SORT] if self._sortable(qs, key)]
        return super().filter(qs, keys)

    def _sortable(self, qs, key: str) -> bool:
        field = self.param_map[key.lstrip("-")]
        if field in qs.query.annotations:
            return True
        try:
            qs.model._meta.get_field(field.split("__")[0])
        except FieldDoesNotExist:
            return False
        return True

    def get_ordering_value(self, param):
        descending = param.startswith("-")
        field = F(self.param_map[param.lstrip("-")])
        return field.desc(nulls_last=True) if descending else field.asc(nulls_last=True)


@dataclass(frozen=True)
class FilterRefusal:
    """A filter value the list could not read, as the banner names it."""

    label: str
    value: str
    message: str
    anchor: str  # the id of the field to correct


@dataclass(frozen=True)
class SortHeader:
    """A column header's link: to sort by its key ascending, or descending when the list
    is sorted by it ascending already; `direction` is the list's current sort by it."""

    key: str
    href: str
    direction: str  # "ascending", "descending" or ""


def sort_headers(query: QueryDict, current: str) -> dict[str, SortHeader]:
    """The column headers' links by sort key, each keeping the other parameters of the
    query (filters, page size) and leaving out the page (a new order starts at page 1)."""
    headers = {}
    for key in SORT_FIELDS:
        direction = {key: "ascending", f"-{key}": "descending"}.get(current, "")
        linked = query.copy()
        linked.pop("page", None)
        linked["sort"] = f"-{key}" if direction == "ascending" else key
        headers[key] = SortHeader(key=key, href=f"?{linked.urlencode()}", direction=direction)
    return headers


class CaseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search names", method="search")
    # A status is a column of the case: no join to repeat rows, so no DISTINCT (which
    # made the page's count sort every matching case).
    status = django_filters.MultipleChoiceFilter(
        choices=Case.Status.choices, widget=forms.CheckboxSelectMultiple, distinct=False
    )
    team = ListedModelChoiceFilter(queryset=None)
    assignee = ListedModelChoiceFilter(queryset=None, null_label="nobody")
    host_country = CountryFilter(label="Host country", method="filter_host_country", max_length=100)
    bloc = django_filters.ChoiceFilter(
        label="Alliance bloc at referral", choices=AllianceBloc.choices, method="filter_bloc"
    )
    post = PostFilter(label="Referring post", queryset=None, method="filter_post")
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
    cohort = ListedModelChoiceFilter(label="Named cohort", queryset=None, field_name="cohorts")
    tag = django_filters.ChoiceFilter(label="Tag", choices=(), method="filter_tag")
    sort = ListOrderingFilter(
        label="Sort",
        fields=[(field, key) for key, field in SORT_FIELDS.items()],
        field_labels={
            field: "referral date" if key == "index_date" else key
            for key, field in SORT_FIELDS.items()
        },
        widget=HiddenSortInput,  # the column headers sort; the form only keeps the sort
    )

    class Meta:
        model = Case
        fields: list[str] = []
        form = JinjaWidgetsForm  # a few hundred options a page

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
        # Each post's referrals are probed until one is of a visible case (a scalar
        # subquery with LIMIT 1, as for the technology fields): an EXISTS over the
        # visible cases' referrals was planned as a join over all of them (20 ms a page
        # at 100,000 cases; this is about 1 ms).
        first_visible = (
            Referral.objects.filter(
                Exists(visible.filter(entity_id=OuterRef("entity_id"))), post=OuterRef("pk")
            )
            .order_by()
            .values("pk")[:1]
        )
        self.filters["post"].queryset = (
            Post.objects.alias(first_visible=Subquery(first_visible))
            .filter(first_visible__isnull=False)
            .order_by("host_country", "name")
        )
        self.filters["cohort"].queryset = access.visible_cohorts(user, cases=visible).order_by(
            "name"
        )
        fields = _technology_fields(visible)
        self.filters["technology_field"].extra["choices"] = [(f, f) for f in fields]
        self.filters["tag"].extra["choices"] = tag_choices(user)

    def current_sort(self) -> str:
        """The sort the list is in: the first key the user gave, else DEFAULT_SORT."""
        given = self.form.cleaned_data.get("sort") if self.is_valid() else None
        return given[0] if given else DEFAULT_SORT

    def refusals(self) -> list[FilterRefusal]:
        """Each filter the form could not read: its label, the value as given and why."""
        found = []
        for name, errors in self.form.errors.items():
            field = self.form[name]
            # The sort is kept in a hidden field: the headers that set it are its place.
            anchor = "case-table" if field.is_hidden else field.id_for_label or field.auto_id
            value = ", ".join(self.data.getlist(name))
            for message in errors:
                found.append(
                    FilterRefusal(
                        label=str(field.label), value=value, message=message, anchor=anchor
                    )
                )
        return found

    def search(self, queryset: QuerySet[Case], name, value: str) -> QuerySet[Case]:
        """Find the query in names, native names and aliases, case and accents ignored
        ("Fenent" finds "Fénent" and the other way round), and in name keys, so a query
        with a legal form finds the name with another ("Siemens Aktiengesellschaft"
        finds "Siemens AG")."""
        value = value.strip()
        if not value:
            return queryset
        # PostgreSQL matches the names folded in the database (migration 0026), from a
        # trigram index; the pattern of accent classes made it read every name.
        folded = connection.vendor == "postgresql"
        pattern = (normalize.folded_search_pattern if folded else normalize.search_pattern)(value)
        if not pattern:  # punctuation only: as typed
            return queryset.filter(
                Q(entity__name__icontains=value)
                | Q(entity__name_native__icontains=value)
                | Q(entity__aliases__icontains=value)
            )
        if folded:
            queryset = queryset.alias(folded_names=FoldedNames("entity__name"))
            found = Q(folded_names__regex=pattern)
        else:
            found = Q()
            for column in ("name", "name_native", "aliases"):
                found |= Q(**{f"entity__{column}__iregex": pattern})
        key = normalize.name_key(value)
        if key:
            found |= Q(entity__name_key__contains=key)
        return queryset.filter(found)

    def filter_host_country(self, queryset, name, value):
        return queryset.filter(_referrals_where(host_country=value))

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
    team = ListedModelChoiceFilter(queryset=None, field_name="case__team", empty_label="all")
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
        form = JinjaWidgetsForm  # a few hundred options a page

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
