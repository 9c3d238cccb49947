"""Routes of the research pages."""

from django.urls import path

from cases.analytics import views as analytics_views
from cases.casework import comment_views, dashboard_views, list_views, views
from cases.evidence import views as evidence_views
from cases.identity import resolution_views
from cases.identity import views as identity_views
from cases.notifications import views as notification_views

app_name = "cases"

urlpatterns = [
    path("cases/", views.case_list, name="case_list"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/status/", views.case_status, name="case_status"),
    path("cases/<int:pk>/assign/", views.case_assign, name="case_assign"),
    path("cases/<int:pk>/entity/", views.case_entity, name="case_entity"),
    path("cases/<int:pk>/findings/", views.case_finding_add, name="case_finding_add"),
    path("cases/<int:pk>/check/", views.case_check_now, name="case_check_now"),
    path("cases/<int:pk>/checks/", views.case_checks, name="case_checks"),
    path("cases/<int:pk>/reopen/", views.case_reopen, name="case_reopen"),
    path("findings/<int:pk>/review/", views.finding_review, name="finding_review"),
    path("findings/<int:pk>/reopen/", views.finding_reopen, name="finding_reopen"),
    path("review/", views.review_queue, name="review_queue"),
    path("review/bulk/", views.review_bulk, name="review_bulk"),
    path("my/", views.my_work, name="my_work"),
    path("backlog/", dashboard_views.backlog, name="backlog"),
    path("settings/", dashboard_views.user_settings, name="preferences"),
    path("analytics/", analytics_views.analytics, name="analytics"),
    path("analytics/models/", analytics_views.analytics_models, name="analytics_models"),
    path("analytics/report/", analytics_views.analytics_report, name="analytics_report"),
    path("analytics/cohorts/", analytics_views.cohort_create, name="cohort_create"),
    path("analytics/controls/", analytics_views.control_case_create, name="control_create"),
    path(
        "cases/<int:pk>/second-coder/",
        analytics_views.second_coder_assign,
        name="second_coder_assign",
    ),
    path(
        "analytics/second-codings/",
        analytics_views.second_coding_draw,
        name="second_coding_draw",
    ),
    path("coding/", analytics_views.coding_queue, name="coding_queue"),
    path("coding/<int:pk>/", analytics_views.coding_detail, name="coding_detail"),
    # Identity resolution: judging candidates, the queue, "find identifiers" jobs.
    path("cases/<int:pk>/resolve/", resolution_views.case_resolve, name="case_resolve"),
    path(
        "identities/candidates/<int:pk>/",
        resolution_views.candidate_judge,
        name="candidate_judge",
    ),
    path("identities/", resolution_views.identity_queue, name="identity_queue"),
    path("identities/jobs/", resolution_views.resolution_job_start, name="resolution_job_start"),
    path("identities/jobs/<int:pk>/", resolution_views.resolution_job, name="resolution_job"),
    # Possible duplicates, merges and their undo.
    path("duplicates/", identity_views.duplicate_list, name="duplicate_list"),
    path("duplicates/merge/", identity_views.merge_confirm, name="merge_confirm"),
    path("duplicates/distinct/", identity_views.duplicate_distinct, name="duplicate_distinct"),
    path("merges/", identity_views.merge_list, name="merge_list"),
    path("merges/<int:pk>/undo/", identity_views.merge_undo, name="merge_undo"),
    # Tags, bulk actions and saved searches of the case list.
    path("cases/<int:pk>/tags/", list_views.case_tag_add, name="case_tag_add"),
    path("cases/<int:pk>/tags/remove/", list_views.case_tag_remove, name="case_tag_remove"),
    path("cases/bulk/", list_views.case_bulk, name="case_bulk"),
    path("searches/", list_views.saved_search_create, name="saved_search_create"),
    path("searches/<int:pk>/", list_views.saved_search_update, name="saved_search_update"),
    path("searches/<int:pk>/delete/", list_views.saved_search_delete, name="saved_search_delete"),
]

# Comments, watching a case, notifications (cases/casework/comments.py, cases/notifications/).
urlpatterns += [
    path("cases/<int:pk>/comments/", comment_views.comment_add, name="comment_add"),
    path("comments/<int:pk>/edit/", comment_views.comment_edit, name="comment_edit"),
    path("cases/<int:pk>/watch/", notification_views.case_watch, name="case_watch"),
    path("notifications/", notification_views.notification_list, name="notification_list"),
    path(
        "notifications/<int:pk>/read/",
        notification_views.notification_read,
        name="notification_read",
    ),
    path(
        "notifications/read-all/",
        notification_views.notifications_read_all,
        name="notifications_read_all",
    ),
]

# Kept evidence: capture a finding's page, attach a file, read either back (sandboxed).
urlpatterns += [
    path("cases/<int:pk>/evidence/", evidence_views.case_evidence, name="case_evidence"),
    path("findings/<int:pk>/capture/", evidence_views.finding_capture, name="finding_capture"),
    path("findings/<int:pk>/attach/", evidence_views.finding_attach, name="finding_attach"),
    path("evidence/<int:pk>/<slug:part>/", evidence_views.evidence_file, name="evidence_file"),
]
