"""The admin of referrals, with the referral import (upload, preview, confirm)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from cases import derived
from cases.admin.filters import HostCountryFilter, PostKindFilter, ReferralYearFilter
from cases.admin.forms import CountryCodeMixin
from cases.admin.urls import referral_import_urls
from cases.models import Referral


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
