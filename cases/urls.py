"""Routes of the research pages."""

from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("cases/", views.case_list, name="case_list"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/status/", views.case_status, name="case_status"),
    path("cases/<int:pk>/assign/", views.case_assign, name="case_assign"),
    path("cases/<int:pk>/entity/", views.case_entity, name="case_entity"),
    path("cases/<int:pk>/findings/", views.case_finding_add, name="case_finding_add"),
    path("cases/<int:pk>/check/", views.case_check_now, name="case_check_now"),
    path("findings/<int:pk>/review/", views.finding_review, name="finding_review"),
    path("review/", views.review_queue, name="review_queue"),
    path("review/bulk/", views.review_bulk, name="review_bulk"),
    path("my/", views.my_work, name="my_work"),
]
