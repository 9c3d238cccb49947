"""The admin of follow-up check runs (read-only)."""

from django.contrib import admin

from cases.admin.readonly import ReadOnlyAdminMixin
from cases.models import CheckRun


@admin.register(CheckRun)
class CheckRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A log written by the automated checks: people read it, they do not edit it."""

    list_display = [
        "queued_at",
        "case_entity",
        "source",
        "status",
        "leads_created",
        "searched_from",
        "searched_to",
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
