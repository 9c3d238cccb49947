"""The admin of entities and posts."""

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from cases import derived
from cases.admin.filters import CountryListFilter, HostCountryFilter
from cases.admin.forms import CountryCodeMixin, EntityAdminForm
from cases.models import (
    Case,
    Entity,
    Post,
    Referral,
)

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
    form = EntityAdminForm
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
        derived.entity_save(entity=obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The referral inline may have added, moved or removed the earliest referral.
        derived.entity_index_dates_refresh(entity_ids=[form.instance.pk])


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
