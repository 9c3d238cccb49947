"""The audit log in the admin: read, filter, never add, change or delete (superusers
included; the model and, on PostgreSQL, the database refuse it anyway)."""

from django.contrib import admin

from cases.admin.readonly import ReadOnlyAdminMixin
from cases.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "actor_name", "action", "target", "ip")
    list_filter = ("action", ("actor", admin.RelatedOnlyFieldListFilter))
    date_hierarchy = "at"
    search_fields = ("actor_name", "target")
    readonly_fields = ("at", "actor", "actor_name", "action", "target", "detail", "ip")
    list_select_related = ("actor",)
