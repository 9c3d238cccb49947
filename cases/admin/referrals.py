"""The admin of referrals, with the referral import (upload, preview, confirm) and the
record of every import."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from cases import derived
from cases.admin.filters import HostCountryFilter, PostKindFilter, ReferralYearFilter
from cases.admin.forms import CountryCodeMixin
from cases.admin.readonly import ReadOnlyAdminMixin
from cases.admin.urls import referral_import_urls
from cases.models import Entity, ImportRecord, Referral


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
        return [*referral_import_urls(self), *super().get_urls()]

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
        derived.referral_save(referral=obj)

    def delete_model(self, request, obj):
        derived.referrals_delete(referrals=Referral.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        derived.referrals_delete(referrals=queryset)


@admin.register(ImportRecord)
class ImportRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: the record of an import is written by the import alone."""

    list_display = [
        "id",
        "created_at",
        "user",
        "origin",
        "file_name",
        "dry_run",
        "state",
        "rows_read",
        "referrals_created",
        "entities_created",
        "cases_created",
        "rows_skipped",
        "errors",
    ]
    list_display_links = ["id", "file_name"]
    list_filter = ["state", "dry_run", "origin"]
    list_select_related = ["user"]
    search_fields = ["file_name", "sha256", "user__username"]
    date_hierarchy = "created_at"
    fields = [
        ("user", "origin", "dry_run", "preview"),
        ("file_name", "size", "sha256"),
        ("state", "created_at", "started_at", "finished_at"),
        ("rows_total", "rows_done", "rows_read", "rows_skipped", "errors"),
        ("referrals_created", "entities_created", "cases_created", "posts_created"),
        "report",
        "created_objects",
    ]
    readonly_fields = [
        name for line in fields for name in (line if isinstance(line, tuple) else (line,))
    ]

    @admin.display(description="what it created (from the history)")
    def created_objects(self, obj):
        if obj.dry_run or not obj.pk:
            return "nothing: a preview writes nothing"
        parts = []
        for model, label, name in (
            (Referral, "referrals", "external_id"),
            (Entity, "entities", "name"),
        ):
            rows = model.history.filter(history_change_reason=obj.history_reason, history_type="+")
            total = rows.count()
            shown = rows.order_by("id")[:LISTED]
            url = f"admin:cases_{model._meta.model_name}_change"
            links = format_html_join(
                ", ",
                '<a href="{}">{}</a>',
                ((reverse(url, args=[h.id]), getattr(h, name)) for h in shown),
            )
            more = f" and {total - LISTED} more" if total > LISTED else ""
            parts.append(format_html("<p>{} {}: {}{}</p>", total, label, links, more))
        return format_html_join("", "{}", ((p,) for p in parts))


LISTED = 50  # created rows linked on an import's page
