"""The admin of teams and their members."""

from django.contrib import admin
from django.db.models import Count

from cases.models import Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "member_count", "case_count", "is_demo"]
    search_fields = ["name"]
    filter_horizontal = ["members"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=Count("members", distinct=True),
                case_count=Count("cases", distinct=True),
            )
        )

    @admin.display(description="members", ordering="member_count")
    def member_count(self, team):
        return team.member_count

    @admin.display(description="cases", ordering="case_count")
    def case_count(self, team):
        return team.case_count
