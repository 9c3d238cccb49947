"""The admin of kept evidence (read-only): captured pages and attached files."""

from django.contrib import admin

from cases.admin.readonly import ReadOnlyAdminMixin
from cases.models import Evidence


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Kept as captured or attached: an edit would make the copy say what it did not."""

    list_display = [
        "created_at",
        "case_entity",
        "finding",
        "kind",
        "state",
        "size",
        "content_type",
        "retrieved_at",
        "added_by",
    ]
    list_select_related = ["finding__case__entity", "added_by"]
    list_filter = ["kind", "state", "created_at"]
    search_fields = [
        "finding__case__entity__name",
        "url",
        "final_url",
        "original_filename",
        "sha256",
    ]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.list_select_related)

    @admin.display(description="entity", ordering="finding__case__entity__name")
    def case_entity(self, obj):
        return obj.finding.case.entity.name
