"""Tags and saved searches in the admin: tags are made by tagging cases on the research
pages; here an admin renames or deletes them and sees who saved which search."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count

from cases.casework import tags
from cases.models import SavedSearch, Tag


class TagAdminForm(forms.ModelForm):
    def clean_name(self):
        try:
            return tags.tag_name_clean(self.cleaned_data["name"]).name
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    form = TagAdminForm
    list_display = ["name", "team", "case_count", "created_by", "created_at"]
    list_filter = ["team"]
    search_fields = ["name"]
    fields = ["team", "name", "created_by", "created_at"]
    readonly_fields = ["team", "created_by", "created_at"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("team", "created_by")
            .annotate(case_count=Count("case_tags"))
        )

    @admin.display(description="cases", ordering="case_count")
    def case_count(self, tag):
        return tag.case_count

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        tags.tag_rename(tag=obj, name=form.cleaned_data["name"])


@admin.register(SavedSearch)
class SavedSearchAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "team", "query", "updated_at"]
    list_filter = ["team"]
    search_fields = ["name", "owner__username", "query"]
    readonly_fields = ["owner", "name", "query", "team", "created_at", "updated_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner", "team")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
