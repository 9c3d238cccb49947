"""The admin of findings: leads and evidence, reviewed singly or in bulk."""

from django.contrib import admin, messages
from simple_history.admin import SimpleHistoryAdmin

from cases import derived
from cases.admin.actions import action_form_response
from cases.admin.filters import CounterpartyCountryFilter
from cases.admin.forms import CountryCodeMixin, FindingAdminForm, RejectActionForm
from cases.casework import services as casework_services
from cases.models import Finding


@admin.register(Finding)
class FindingAdmin(CountryCodeMixin, SimpleHistoryAdmin):
    form = FindingAdminForm
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
        derived.finding_save(finding=obj)

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
        count = casework_services.findings_review(
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
        form = RejectActionForm(request.POST if applying else None)
        if form.is_valid():
            count = casework_services.findings_review(
                findings=leads,
                state=Finding.ReviewState.REJECTED,
                reviewer=request.user,
                note=form.cleaned_data["note"],
            )
            self.message_user(request, f"Rejected {count} lead(s).", messages.SUCCESS)
            return None
        return action_form_response(
            self,
            request,
            leads,
            form=form,
            action="reject_leads",
            title="Reject leads",
            submit="Reject",
        )
