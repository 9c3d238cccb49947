"""Comments, watches and notifications in the admin: read and searched. A comment is
changed only by its author on the case page; an admin may delete one (an abusive or
mistaken note), and its history keeps what it said and who deleted it."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from cases.admin.readonly import ReadOnlyAdminMixin
from cases.models import Comment, Notification, Watch


@admin.register(Comment)
class CommentAdmin(SimpleHistoryAdmin):
    list_display = ("created_at", "author", "case", "finding", "edited_at")
    list_filter = (("author", admin.RelatedOnlyFieldListFilter),)
    date_hierarchy = "created_at"
    search_fields = ("body", "author__username", "case__entity__name")
    readonly_fields = ("case", "finding", "author", "body", "created_at", "edited_at", "version")
    list_select_related = ("author", "case__entity", "finding")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Watch)
class WatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "user", "case")
    search_fields = ("user__username", "case__entity__name")
    list_select_related = ("user", "case__entity")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "recipient", "kind", "text", "read_at")
    list_filter = ("kind", ("recipient", admin.RelatedOnlyFieldListFilter))
    date_hierarchy = "created_at"
    search_fields = ("text", "recipient__username")
    list_select_related = ("recipient",)
