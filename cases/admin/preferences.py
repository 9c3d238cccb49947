"""The admin of people's preferences: the digest each chose and when it was last sent."""

from django.contrib import admin

from cases.models import UserPreferences


@admin.register(UserPreferences)
class UserPreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "digest", "digest_period", "digest_sent_at", "my_work_seen_at"]
    list_select_related = ["user"]
    list_filter = ["digest"]
    search_fields = ["user__username", "user__email"]
    # The digest's record is what keeps a period's digest from going out twice; the
    # visits decide what My work marks new. Both are the app's to write.
    readonly_fields = [
        "user",
        "digest_period",
        "digest_sent_at",
        "my_work_seen_at",
        "my_work_new_since",
    ]

    def has_add_permission(self, request):
        return False
