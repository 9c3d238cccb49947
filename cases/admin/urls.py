"""Routes of the admin's own pages, added to their model admins' URLs: the referral import
and the case export."""

from functools import partial

from django.contrib import admin
from django.urls import URLPattern, path, re_path

from cases.admin import views


def referral_import_urls(model_admin: admin.ModelAdmin) -> list[URLPattern]:
    def view(function):
        return model_admin.admin_site.admin_view(partial(function, model_admin))

    return [
        path("import/", view(views.referral_import_view), name="cases_referral_import"),
        path(
            "import/<int:record_id>/",
            view(views.referral_import_status_view),
            name="cases_referral_import_status",
        ),
    ]


def case_export_urls(model_admin: admin.ModelAdmin) -> list[URLPattern]:
    view = model_admin.admin_site.admin_view(partial(views.case_export_view, model_admin))
    return [re_path(r"^export/(?P<format>csv|json)/$", view, name="cases_case_export")]
