"""The admin of cohorts, second codings and the read-only status log."""

from django.contrib import admin
from django.db.models import Count

from cases.models import CaseStatusChange, Cohort, SecondCoding


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
    # The frozen first reading is what agreement is measured against; editing it here
    # would undo the freeze, and a draw's seed is a record of how the case was chosen.
    readonly_fields = ["first_positive_kinds", "first_read_at", "draw_seed"]


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
