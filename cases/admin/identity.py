"""Merge records and "not the same" judgements in the admin: read, and undo a merge."""

from django.contrib import admin, messages

from cases.admin.readonly import ReadOnlyAdminMixin
from cases.identity import merging
from cases.models import DistinctPair, EntityMerge


@admin.register(EntityMerge)
class EntityMergeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("pk", "merged_name", "merged_country", "survivor", "merged_by", "merged_at",
                    "undone_by", "undone_at")  # fmt: skip
    list_filter = (("undone_at", admin.EmptyFieldListFilter), "merged_country")
    search_fields = ("merged_name", "survivor__name")
    date_hierarchy = "merged_at"
    list_select_related = ("survivor", "merged_by", "undone_by")
    # The snapshot is what an undo writes back; shown, never edited.
    readonly_fields = ("survivor", "merged_entity_id", "merged_name", "merged_country",
                       "summary", "snapshot", "merged_by", "merged_at", "undone_by",
                       "undone_at")  # fmt: skip
    actions = ["undo"]

    def has_undo_permission(self, request):
        return request.user.has_perm("cases.change_entitymerge")

    @admin.action(description="Undo the selected merges", permissions=["undo"])
    def undo(self, request, queryset):
        # Newest first: a later merge into the same survivor must be undone before an
        # earlier one.
        undone = 0
        for record in queryset.order_by("-merged_at", "-pk"):
            try:
                merging.merge_undo(merge=record, actor=request.user, request=request)
            except merging.MergeRefused as exc:
                self.message_user(request, f"Merge #{record.pk}: {exc}", messages.ERROR)
            else:
                undone += 1
        if undone:
            self.message_user(request, f"Undid {undone} merge(s).", messages.SUCCESS)


@admin.register(DistinctPair)
class DistinctPairAdmin(admin.ModelAdmin):
    """Deleting a judgement lets the pair be reported as a possible duplicate again."""

    list_display = ("pk", "low", "high", "judged_by", "judged_at")
    search_fields = ("low__name", "high__name")
    list_select_related = ("low", "high", "judged_by")
    readonly_fields = ("low", "high", "judged_by", "judged_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
