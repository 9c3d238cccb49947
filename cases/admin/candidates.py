"""The admin of identity judgements: candidates with their history (who judged what,
when, and why), registry attempts and "find identifiers" jobs, all read-only: judging is
done on the research pages, where the stale-edit check and the entity's validation run."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from cases.admin.readonly import ReadOnlyAdminMixin
from cases.models import IdentifierCandidate, ResolutionAttempt, ResolutionJob


@admin.register(IdentifierCandidate)
class IdentifierCandidateAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "entity",
        "registry",
        "identifier",
        "score",
        "state",
        "automatic",
        "judged_by",
        "judged_at",
    ]
    list_select_related = ["entity", "judged_by"]
    list_filter = ["registry", "state", "automatic"]
    search_fields = ["entity__name", "identifier", "registry_name"]
    date_hierarchy = "created_at"
    history_list_display = ["state", "automatic", "judged_by", "version"]


@admin.register(ResolutionAttempt)
class ResolutionAttemptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["at", "entity", "registry", "status", "requests", "proposed"]
    list_select_related = ["entity"]
    list_filter = ["registry", "status"]
    search_fields = ["entity__name", "error"]
    date_hierarchy = "at"


@admin.register(ResolutionJob)
class ResolutionJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "user",
        "state",
        "case_count",
        "done_count",
        "proposed_count",
        "failed_count",
        "filter_query",
    ]
    list_select_related = ["user"]
    list_filter = ["state"]
    search_fields = ["user__username", "filter_query", "error"]
    date_hierarchy = "created_at"
    exclude = ["entity_ids"]
