"""The Django admin for the case store: lists, filters and bulk actions for the staff.

Writes go through cases.services, so name keys, index dates and timings stay right
whichever page a row is edited on.
"""

from collections.abc import Iterable
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q
from django.template.response import TemplateResponse
from django.urls import path, re_path, reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from . import admin_views, normalize, services
from .models import (
    Case,
    CaseStatusChange,
    CheckRun,
    Cohort,
    Entity,
    Finding,
    Post,
    Referral,
    SecondCoding,
    Team,
)
from .validators import validate_country

admin.site.site_header = "Wishlist administration"
admin.site.site_title = "Wishlist admin"
admin.site.index_title = "Case store"

# Searched on the entity list and, through the entity, on the case list.
ENTITY_SEARCH_FIELDS = [
    "name",
    "name_native",
    "aliases",
    "lei",
    "sec_cik",
    "uk_company_number",
    "ror_id",
    "openalex_id",
    "wikidata_id",
    "referrals__external_id",
]


def _refresh_index_dates(entity_ids: Iterable[int | None]) -> None:
    """Re-derive the index dates of these entities' cases after their referrals changed."""
    ids = {pk for pk in entity_ids if pk is not None}
    case_ids = list(Case.objects.filter(entity_id__in=ids).values_list("pk", flat=True))
    if case_ids:
        services.case_index_dates_refresh(case_ids=case_ids)


# Filters -------------------------------------------------------------------------------


class CountryListFilter(admin.SimpleListFilter):
    """Offer only the countries present, with their names: codes alone are hard to scan."""

    title = "country"
    parameter_name = field_name = "country"

    def lookups(self, request, model_admin):
        codes = (
            model_admin.model._default_manager.exclude(**{self.field_name: ""})
            .order_by(self.field_name)
            .values_list(self.field_name, flat=True)
            .distinct()
        )
        return [(code, f"{code} – {normalize.country_name(code)}") for code in codes]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{self.field_name: self.value()})
        return queryset


class HostCountryFilter(CountryListFilter):
    title = "host country"
    parameter_name = field_name = "host_country"


class EntityCountryFilter(CountryListFilter):
    parameter_name = field_name = "entity__country"


class CounterpartyCountryFilter(CountryListFilter):
    title = "counterparty country"
    parameter_name = field_name = "counterparty_country"


class YearListFilter(admin.SimpleListFilter):
    """Offer the years that occur in a date field, newest first."""

    title = "year"
    parameter_name = field_name = "date"

    def lookups(self, request, model_admin):
        dates = model_admin.model._default_manager.dates(self.field_name, "year", order="DESC")
        return [(str(day.year), str(day.year)) for day in dates]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(**{f"{self.field_name}__year": int(value)})
        return queryset


class ReferralYearFilter(YearListFilter):
    parameter_name = "year"
    field_name = "date"


class IndexYearFilter(YearListFilter):
    title = "index date year"
    parameter_name = "index_year"
    field_name = "index_date"


class HasLeadsFilter(admin.SimpleListFilter):
    title = "leads to review"
    parameter_name = "has_leads"

    def lookups(self, request, model_admin):
        return [("yes", "has leads to review"), ("no", "no leads to review")]

    def queryset(self, request, queryset):
        leads = Finding.objects.filter(case=OuterRef("pk"), review_state=Finding.ReviewState.LEAD)
        if self.value() == "yes":
            return queryset.filter(Exists(leads))
        if self.value() == "no":
            return queryset.filter(~Exists(leads))
        return queryset


class PostKindFilter(admin.SimpleListFilter):
    title = "post kind"
    parameter_name = "post_kind"

    def lookups(self, request, model_admin):
        return Post.Kind.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(post__kind=self.value())
        return queryset


# Forms ---------------------------------------------------------------------------------


class CountryCodeField(forms.CharField):
    """Accept "gb" for "GB": codes are stored upper-case and people type them either way."""

    def to_python(self, value):
        return super().to_python(value).upper()


class CountryCodeMixin:
    """Give every country-code field of a model admin or inline the upper-casing field,
    and URL fields Django 6's https default for addresses typed without a scheme."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if validate_country in db_field.validators:
            kwargs.setdefault("form_class", CountryCodeField)
        if isinstance(db_field, models.URLField):
            kwargs.setdefault("assume_scheme", "https")
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class EntityForm(forms.ModelForm):
    """EntityAdmin's form; the admin supplies the model and fields."""

    def clean(self):
        # name_key is derived, so it is not a form field and Django skips its constraints
        # here; a clash would otherwise fail in entity_save, after the form was accepted.
        cleaned = super().clean()
        name, country = cleaned.get("name"), cleaned.get("country")
        if not name:
            return cleaned
        key = normalize.name_key(name)
        if not key:
            self.add_error("name", "A name needs at least one letter or digit.")
        elif country:
            clash = (
                Entity.objects.filter(name_key=key, country=country)
                .exclude(pk=self.instance.pk)
                .first()
            )
            if clash:
                self.add_error("name", f"This name matches the existing entity {clash}.")
        return cleaned


class FindingForm(forms.ModelForm):
    """FindingAdmin's form; the admin supplies the model and fields."""

    def clean(self):
        # The database pairs a date with its precision; say so on the field instead of
        # naming the violated constraint.
        cleaned = super().clean()
        has_date = cleaned.get("event_date") is not None
        has_precision = bool(cleaned.get("event_date_precision"))
        if has_date and not has_precision:
            self.add_error("event_date_precision", "Say how precisely the date is known.")
        elif has_precision and not has_date and "event_date" not in self.errors:
            self.add_error("event_date", "A precision needs a date.")
        return cleaned


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="nobody (unassign)"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = (
            get_user_model().objects.filter(is_active=True).order_by("username")
        )


class TeamForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.all(), empty_label=None)


class RejectForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text="Why these leads are rejected; kept with each finding.",
    )


def _action_form_response(modeladmin, request, queryset, *, form, action, title, submit):
    """Render the intermediate page of an action that needs input before it runs.

    The page posts back to the changelist with the same action and selection, plus
    `apply`, which is how the action knows the form was submitted.
    """
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": modeladmin.model._meta,
        "objects": queryset,
        "form": form,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "submit": submit,
        "media": modeladmin.media + form.media,
    }
    return TemplateResponse(request, "admin/cases/action_form.html", context)


# Entities and posts --------------------------------------------------------------------


class ReferralInline(CountryCodeMixin, admin.TabularInline):
    model = Referral
    fields = [
        "external_id",
        "date",
        "date_precision",
        "post",
        "host_country",
        "technology_field",
    ]
    autocomplete_fields = ["post"]
    extra = 0
    show_change_link = True


@admin.register(Entity)
class EntityAdmin(CountryCodeMixin, SimpleHistoryAdmin):
    form = EntityForm
    list_display = [
        "name",
        "name_native",
        "kind",
        "country",
        "lei",
        "referral_count",
        "case_link",
        "is_demo",
    ]
    list_select_related = ["case"]
    # Meta.ordering is not applied to aggregating queries such as the counts below.
    ordering = ["name"]
    list_filter = ["kind", CountryListFilter, "is_demo"]
    search_fields = ENTITY_SEARCH_FIELDS
    readonly_fields = ["name_key", "case_link", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "name_native", "aliases", "name_key", "kind", "country"]}),
        ("Details", {"fields": ["city", "website", "technology_fields", "is_demo"]}),
        (
            "Identifiers",
            {
                "fields": [
                    "lei",
                    "sec_cik",
                    "uk_company_number",
                    "ror_id",
                    "openalex_id",
                    "wikidata_id",
                ]
            },
        ),
        ("Record", {"fields": ["case_link", "created_at", "updated_at"]}),
    ]
    inlines = [ReferralInline]

    def get_queryset(self, request):
        # The changelist skips list_select_related when the queryset already joins
        # something, so the admins here join it themselves (also for other pages).
        return (
            super()
            .get_queryset(request)
            .select_related(*self.list_select_related)
            # distinct: a search on referral ids joins the referrals a second time.
            .annotate(referral_count=Count("referrals", distinct=True))
        )

    @admin.display(description="referrals", ordering="referral_count")
    def referral_count(self, obj):
        return obj.referral_count

    @admin.display(description="case")
    def case_link(self, obj):
        try:
            case = obj.case
        except Case.DoesNotExist:
            return "-"
        url = reverse("admin:cases_case_change", args=[case.pk])
        return format_html('<a href="{}">{}</a>', url, case.get_status_display())

    def save_model(self, request, obj, form, change):
        services.entity_save(entity=obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The referral inline may have added, moved or removed the earliest referral.
        _refresh_index_dates([form.instance.pk])


@admin.register(Post)
class PostAdmin(CountryCodeMixin, SimpleHistoryAdmin):
    list_display = ["name", "kind", "city", "host_country", "referral_count", "is_demo"]
    ordering = ["host_country", "name"]
    list_filter = ["kind", HostCountryFilter, "is_demo"]
    search_fields = ["name", "city", "host_country"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(referral_count=Count("referrals"))

    @admin.display(description="referrals", ordering="referral_count")
    def referral_count(self, obj):
        return obj.referral_count


# Referrals -----------------------------------------------------------------------------


@admin.register(Referral)
class ReferralAdmin(CountryCodeMixin, SimpleHistoryAdmin):
    list_display = [
        "external_id",
        "entity",
        "post",
        "referral_period",
        "host_country",
        "technology_field",
        "cooperation",
    ]
    list_select_related = ["entity", "post"]
    list_filter = [
        HostCountryFilter,
        "date_precision",
        ReferralYearFilter,
        "technology_field",
        PostKindFilter,
    ]
    search_fields = [
        "external_id",
        "entity__name",
        "entity__name_native",
        "entity__aliases",
        "entity__lei",
        "technology_field",
    ]
    date_hierarchy = "date"
    autocomplete_fields = ["entity", "post"]
    readonly_fields = ["created_at"]
    fieldsets = [
        (None, {"fields": ["external_id", "entity", "post", ("date", "date_precision")]}),
        (
            "Proposal",
            {
                "fields": [
                    "host_country",
                    "technology_field",
                    "cooperation_methods",
                    ("proposed_amount", "currency"),
                    "summary",
                    "original_text",
                ]
            },
        ),
        ("Source", {"fields": ["source_url", "source_reference", "created_at"]}),
    ]

    def get_urls(self):
        view = self.admin_site.admin_view(partial(admin_views.referral_import_view, self))
        return [path("import/", view, name="cases_referral_import"), *super().get_urls()]

    def get_queryset(self, request):
        # Referral.__str__ names the entity (delete pages, history, autocomplete).
        return super().get_queryset(request).select_related(*self.list_select_related)

    @admin.display(description="date", ordering="date")
    def referral_period(self, obj):
        return obj.date_display

    @admin.display(description="cooperation methods")
    def cooperation(self, obj):
        return obj.cooperation_labels

    def save_model(self, request, obj, form, change):
        previous_entity_id = None
        if change:
            previous_entity_id = (
                Referral.objects.filter(pk=obj.pk).values_list("entity_id", flat=True).first()
            )
        super().save_model(request, obj, form, change)
        _refresh_index_dates([obj.entity_id, previous_entity_id])

    def delete_model(self, request, obj):
        entity_id = obj.entity_id
        super().delete_model(request, obj)
        _refresh_index_dates([entity_id])

    def delete_queryset(self, request, queryset):
        entity_ids = set(queryset.values_list("entity_id", flat=True))
        super().delete_queryset(request, queryset)
        _refresh_index_dates(entity_ids)


# Cases ---------------------------------------------------------------------------------


class FindingInline(admin.TabularInline):
    """The case's findings at a glance; each is edited and reviewed on its own page."""

    model = Finding
    fields = readonly_fields = [
        "kind",
        "counterparty_name",
        "counterparty_country",
        "event_period",
        "timing",
        "source",
        "review_state",
        "confidence",
    ]
    extra = 0
    show_change_link = True

    @admin.display(description="event date")
    def event_period(self, obj):
        return obj.event_date_display

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _status_action(status: Case.Status):
    def set_status(modeladmin, request, queryset):
        count = services.cases_set_status(cases=queryset, status=status, actor=request.user)
        modeladmin.message_user(
            request, f"Set the status of {count} case(s) to “{status.label}”.", messages.SUCCESS
        )

    set_status.__name__ = f"set_status_{status.value}"
    return admin.action(description=f"Set status to “{status.label}”", permissions=["change"])(
        set_status
    )


@admin.register(Case)
class CaseAdmin(SimpleHistoryAdmin):
    list_display = [
        "entity_name",
        "entity__country",
        "entity__kind",
        "status",
        "team",
        "assignee",
        "index_period",
        "priority",
        "referral_count",
        "lead_count",
        "confirmed_count",
    ]
    list_select_related = ["entity", "assignee", "team"]
    # As on EntityAdmin: the counts make an aggregating query, which drops Meta.ordering.
    ordering = ["-priority", "index_date", "id"]
    list_filter = [
        "status",
        "priority",
        "team",
        ("assignee", admin.RelatedOnlyFieldListFilter),
        "entity__kind",
        EntityCountryFilter,
        IndexYearFilter,
        HasLeadsFilter,
    ]
    search_fields = [f"entity__{field}" for field in ENTITY_SEARCH_FIELDS] + ["notes"]
    autocomplete_fields = ["entity", "assignee", "matched_case"]
    readonly_fields = ["index_period", "referrals_table", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["entity", "team", "status", "priority", "assignee", "notes"]}),
        ("Control case", {"fields": ["kind", "matched_case"], "classes": ["collapse"]}),
        ("Referrals", {"fields": ["index_period", "referrals_table"]}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]
    add_fieldsets = [
        (None, {"fields": ["entity", "team", "status", "priority", "assignee", "notes"]}),
        ("Control case", {"fields": ["kind", "matched_case"]}),
    ]
    inlines = [FindingInline]
    actions = ["assign", "move_to_team", *(_status_action(status) for status in Case.Status)]

    def get_urls(self):
        view = self.admin_site.admin_view(partial(admin_views.case_export_view, self))
        return [
            re_path(r"^export/(?P<format>csv|json)/$", view, name="cases_case_export"),
            *super().get_urls(),
        ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(*self.list_select_related)
            .annotate(
                referral_count=Count("entity__referrals", distinct=True),
                lead_count=Count(
                    "findings",
                    filter=Q(findings__review_state=Finding.ReviewState.LEAD),
                    distinct=True,
                ),
                confirmed_count=Count(
                    "findings",
                    filter=Q(findings__review_state=Finding.ReviewState.CONFIRMED),
                    distinct=True,
                ),
            )
        )

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        # A case belongs to its entity; moving it would carry findings to another one.
        return [*readonly, "entity"] if obj is not None else readonly

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    @admin.display(description="entity", ordering="entity__name")
    def entity_name(self, obj):
        return obj.entity.name

    @admin.display(description="index date", ordering="index_date")
    def index_period(self, obj):
        return obj.index_date_display

    @admin.display(description="referrals", ordering="referral_count")
    def referral_count(self, obj):
        return obj.referral_count

    @admin.display(description="leads", ordering="lead_count")
    def lead_count(self, obj):
        return obj.lead_count

    @admin.display(description="confirmed", ordering="confirmed_count")
    def confirmed_count(self, obj):
        return obj.confirmed_count

    @admin.display(description="the entity's referrals")
    def referrals_table(self, obj):
        referrals = obj.entity.referrals.select_related("post").order_by("date", "external_id")
        rows = format_html_join(
            "\n",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td>'
            "<td>{}</td><td>{}</td></tr>",
            (
                (
                    reverse("admin:cases_referral_change", args=[referral.pk]),
                    referral.external_id,
                    referral.date_display,
                    referral.post or "",
                    referral.host_country,
                    referral.technology_field,
                    referral.cooperation_labels,
                )
                for referral in referrals
            ),
        )
        if not rows:
            return "none"
        return format_html(
            "<table><thead><tr><th>referral</th><th>date</th><th>post</th>"
            "<th>host country</th><th>technology field</th><th>cooperation methods</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    def save_model(self, request, obj, form, change):
        if change:
            # Forms open on the research pages are now stale.
            obj.version += 1
            if "status" in form.changed_data:
                services.case_status_change_record(
                    case=obj,
                    from_status=form.initial["status"],
                    to_status=obj.status,
                    actor=request.user,
                )
        super().save_model(request, obj, form, change)
        # A control case's index date comes from its matched case.
        if not change or {"kind", "matched_case"} & set(form.changed_data):
            _refresh_index_dates([obj.entity_id])

    @admin.action(description="Move to a team…", permissions=["change"])
    def move_to_team(self, request, queryset):
        form = TeamForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            team = form.cleaned_data["team"]
            count = services.cases_move_to_team(cases=queryset, team=team)
            self.message_user(request, f"Moved {count} case(s) to {team}.", messages.SUCCESS)
            return None
        return _action_form_response(
            self,
            request,
            queryset,
            form=form,
            action="move_to_team",
            title="Move cases to a team",
            submit="Move",
        )

    @admin.action(description="Assign to a user…", permissions=["change"])
    def assign(self, request, queryset):
        form = AssignForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            assignee = form.cleaned_data["assignee"]
            try:
                count = services.cases_assign(cases=queryset, assignee=assignee, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
                return None
            who = assignee.get_username() if assignee else "nobody"
            self.message_user(request, f"Assigned {count} case(s) to {who}.", messages.SUCCESS)
            return None
        return _action_form_response(
            self,
            request,
            queryset,
            form=form,
            action="assign",
            title="Assign cases",
            submit="Assign",
        )


# Findings and check runs ---------------------------------------------------------------


@admin.register(Finding)
class FindingAdmin(CountryCodeMixin, SimpleHistoryAdmin):
    form = FindingForm
    list_display = [
        "case_entity",
        "kind",
        "counterparty_name",
        "counterparty_country",
        "event_period",
        "timing",
        "source",
        "review_state",
        "match_score",
        "flags",
    ]
    list_select_related = ["case__entity"]
    list_filter = [
        "review_state",
        "kind",
        "source",
        "timing",
        CounterpartyCountryFilter,
        "confidence",
    ]
    search_fields = [
        "counterparty_name",
        "case__entity__name",
        "case__entity__name_native",
        "case__entity__aliases",
        "external_id",
        "source_url",
    ]
    date_hierarchy = "event_date"
    # reviewed_by is not here: a review is recorded by the confirm and reject actions,
    # which set who and when together, so the review fields are read-only.
    autocomplete_fields = ["case", "created_by"]
    readonly_fields = [
        "timing",
        "evidence_sha256",
        "match_score",
        "match_explanation",
        "flags",
        "review_state",
        "reviewed_by",
        "reviewed_at",
        "review_note",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "case",
                    "kind",
                    "counterparty_name",
                    "counterparty_country",
                    ("event_date", "event_date_precision"),
                    "timing",
                    "confidence",
                ]
            },
        ),
        (
            "Evidence",
            {
                "fields": [
                    "source",
                    "source_url",
                    "external_id",
                    "retrieved_at",
                    "excerpt",
                    "evidence_sha256",
                    "match_score",
                    "match_explanation",
                    "flags",
                ]
            },
        ),
        ("Review", {"fields": ["review_state", "reviewed_by", "reviewed_at", "review_note"]}),
        ("Record", {"fields": ["created_by", "created_at", "updated_at"]}),
    ]
    actions = ["confirm_leads", "reject_leads"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.list_select_related)

    def get_changeform_initial_data(self, request):
        return {"created_by": request.user.pk, **super().get_changeform_initial_data(request)}

    @admin.display(description="entity", ordering="case__entity__name")
    def case_entity(self, obj):
        return obj.case.entity.name

    @admin.display(description="event date", ordering="event_date")
    def event_period(self, obj):
        return obj.event_date_display

    def save_model(self, request, obj, form, change):
        services.finding_save(finding=obj)

    def _leads(self, request, queryset):
        """Return the leads among the selection, telling the user about the others."""
        leads = queryset.filter(review_state=Finding.ReviewState.LEAD)
        skipped = queryset.count() - leads.count()
        if skipped:
            self.message_user(
                request,
                f"Skipped {skipped} finding(s) that were already reviewed.",
                messages.WARNING,
            )
        return leads

    @admin.action(description="Confirm selected leads", permissions=["change"])
    def confirm_leads(self, request, queryset):
        count = services.findings_review(
            findings=self._leads(request, queryset),
            state=Finding.ReviewState.CONFIRMED,
            reviewer=request.user,
        )
        self.message_user(request, f"Confirmed {count} lead(s).", messages.SUCCESS)

    @admin.action(description="Reject selected leads…", permissions=["change"])
    def reject_leads(self, request, queryset):
        applying = "apply" in request.POST
        # Report skipped findings once, on the first step.
        leads = (
            queryset.filter(review_state=Finding.ReviewState.LEAD)
            if applying
            else self._leads(request, queryset)
        )
        if not leads.exists():
            self.message_user(request, "None of the selected findings is a lead.", messages.INFO)
            return None
        form = RejectForm(request.POST if applying else None)
        if form.is_valid():
            count = services.findings_review(
                findings=leads,
                state=Finding.ReviewState.REJECTED,
                reviewer=request.user,
                note=form.cleaned_data["note"],
            )
            self.message_user(request, f"Rejected {count} lead(s).", messages.SUCCESS)
            return None
        return _action_form_response(
            self,
            request,
            leads,
            form=form,
            action="reject_leads",
            title="Reject leads",
            submit="Reject",
        )


@admin.register(CheckRun)
class CheckRunAdmin(admin.ModelAdmin):
    """A log written by the automated checks: people read it, they do not edit it."""

    list_display = [
        "queued_at",
        "case_entity",
        "source",
        "status",
        "leads_created",
        "attempts",
        "started_at",
        "finished_at",
    ]
    list_select_related = ["case__entity"]
    list_filter = ["status", "source", "queued_at"]
    search_fields = ["case__entity__name", "source", "query", "error"]
    date_hierarchy = "queued_at"
    autocomplete_fields = ["case"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.list_select_related)

    @admin.display(description="entity", ordering="case__entity__name")
    def case_entity(self, obj):
        return obj.case.entity.name

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "member_count", "case_count", "is_demo"]
    search_fields = ["name"]
    filter_horizontal = ["members"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=Count("members", distinct=True),
                case_count=Count("cases", distinct=True),
            )
        )

    @admin.display(description="members", ordering="member_count")
    def member_count(self, team):
        return team.member_count

    @admin.display(description="cases", ordering="case_count")
    def case_count(self, team):
        return team.case_count


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "case_count",
        "population",
        "sample_size",
        "seed",
        "created_by",
        "created_at",
    ]
    search_fields = ["name", "description"]
    readonly_fields = [
        "filter_query",
        "population",
        "seed",
        "sample_size",
        "created_by",
        "created_at",
    ]
    filter_horizontal = ["cases"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(case_count=Count("cases"))

    @admin.display(description="cases", ordering="case_count")
    def case_count(self, cohort):
        return cohort.case_count


@admin.register(SecondCoding)
class SecondCodingAdmin(admin.ModelAdmin):
    list_display = ["case", "coder", "assigned_by", "assigned_at", "recorded_at"]
    list_select_related = ["case__entity", "coder", "assigned_by"]
    list_filter = [("recorded_at", admin.EmptyFieldListFilter)]
    raw_id_fields = ["case"]
    autocomplete_fields = ["coder", "assigned_by"]


@admin.register(CaseStatusChange)
class CaseStatusChangeAdmin(admin.ModelAdmin):
    """The transition log is written by the services; here it is only read."""

    list_display = ["case", "from_status", "to_status", "changed_by", "changed_at"]
    list_select_related = ["case__entity", "changed_by"]
    list_filter = ["to_status", "from_status"]
    date_hierarchy = "changed_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
