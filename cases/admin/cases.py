"""The admin of cases: status, assignee and team actions, the case export."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from cases import derived
from cases.admin.actions import action_form_response
from cases.admin.entities import ENTITY_SEARCH_FIELDS
from cases.admin.filters import EntityCountryFilter, HasLeadsFilter, IndexYearFilter
from cases.admin.forms import AssignActionForm, TeamActionForm
from cases.admin.urls import case_export_urls
from cases.casework import services
from cases.models import Case, Finding


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


class CaseAdminForm(forms.ModelForm):
    """A case made a control here is held to the matching criteria as on the analytics
    page: refused with the criteria it misses unless they are relaxed. (The admin gives
    it its model and fields.)"""

    def clean(self):
        data = super().clean()
        entity = data.get("entity") or getattr(self.instance, "entity", None)
        if entity is None:
            return data
        probe = Case(
            entity=entity,
            kind=data.get("kind") or Case.Kind.REFERRED,
            matched_case=data.get("matched_case"),
            match_relaxed=data.get("match_relaxed") or [],
            match_note=data.get("match_note") or "",
        )
        try:
            derived.control_match_derive(probe)
        except ValidationError as exc:
            self.add_error(None, exc)
            return data
        # What it meets is no form field: set on the instance, which the form's own
        # checks then see. A criterion ticked as relaxed but met is not relaxed.
        self.instance.match_criteria = probe.match_criteria
        data["match_relaxed"], data["match_note"] = probe.match_relaxed, probe.match_note
        return data


@admin.register(Case)
class CaseAdmin(SimpleHistoryAdmin):
    form = CaseAdminForm
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
    readonly_fields = [
        "index_period",
        "referrals_table",
        "match_criteria",
        "referred_later_at",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["entity", "team", "status", "priority", "assignee", "notes"]}),
        (
            "Control case",
            {
                "fields": [
                    "kind",
                    "matched_case",
                    "match_criteria",
                    "match_relaxed",
                    "match_note",
                    "referred_later_at",
                ],
                "classes": ["collapse"],
            },
        ),
        ("Referrals", {"fields": ["index_period", "referrals_table"]}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]
    add_fieldsets = [
        (None, {"fields": ["entity", "team", "status", "priority", "assignee", "notes"]}),
        ("Control case", {"fields": ["kind", "matched_case", "match_relaxed", "match_note"]}),
    ]
    inlines = [FindingInline]
    actions = ["assign", "move_to_team", *(_status_action(status) for status in Case.Status)]

    def get_urls(self):
        return [*case_export_urls(self), *super().get_urls()]

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
        services.case_save(case=obj, actor=request.user)

    @admin.action(description="Move to a team…", permissions=["change"])
    def move_to_team(self, request, queryset):
        form = TeamActionForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            team = form.cleaned_data["team"]
            count = services.cases_move_to_team(cases=queryset, team=team, actor=request.user)
            self.message_user(request, f"Moved {count} case(s) to {team}.", messages.SUCCESS)
            return None
        return action_form_response(
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
        form = AssignActionForm(request.POST if "apply" in request.POST else None)
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
        return action_form_response(
            self,
            request,
            queryset,
            form=form,
            action="assign",
            title="Assign cases",
            submit="Assign",
        )
