"""The intermediate page of an admin action that needs input before it runs."""

from django.contrib.admin import helpers
from django.template.response import TemplateResponse


def action_form_response(modeladmin, request, queryset, *, form, action, title, submit):
    """Render the page asking for the action's input.

    The page posts back to the changelist with the same action and selection, plus
    `apply`, which is how the action knows the form was submitted.
    """
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": modeladmin.model._meta,
        "objects": queryset,
        "form": form,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "submit": submit,
        "media": modeladmin.media + form.media,
    }
    return TemplateResponse(request, "admin/cases/action_form.html", context)
