"""Routes of the admin's own pages, added to their model admins' URLs: the referral import
and the case export."""

from functools import partial

from django.contrib import admin
from django.urls import URLPattern, path, re_path

from cases.admin import views


def referral_import_urls(model_admin: admin.ModelAdmin) -> list[URLPattern]:
    view = model_admin.admin_site.admin_view(partial(views.referral_import_view, model_admin))
    return [path("import/", view, name="cases_referral_import")]


def case_export_urls(model_admin: admin.ModelAdmin) -> list[URLPattern]:
    view = model_admin.admin_site.admin_view(partial(views.case_export_view, model_admin))
    return [re_path(r"^export/(?P<format>csv|json)/$", view, name="cases_case_export")]
