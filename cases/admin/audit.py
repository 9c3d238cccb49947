"""The audit log in the admin: read, filter, never add, change or delete (superusers
included; the model and, on PostgreSQL, the database refuse it anyway)."""

from django.contrib import admin

from cases.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_name", "action", "target", "ip")
    list_filter = ("action", ("actor", admin.RelatedOnlyFieldListFilter))
    date_hierarchy = "at"
    search_fields = ("actor_name", "target")
    readonly_fields = ("at", "actor", "actor_name", "action", "target", "detail", "ip")
    list_select_related = ("actor",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
