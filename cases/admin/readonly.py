"""Admin pages of records the app writes and nobody edits by hand."""


class ReadOnlyAdminMixin:
    """Listed and shown, never added, changed or deleted from the admin: audit events,
    check runs, import records, merges, identifier candidates and the like are written by
    the app (an audit event cannot be changed at all), and an edit by hand would make
    them say what did not happen. Put it before ModelAdmin among the bases."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
