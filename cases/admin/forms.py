"""Forms of the admin's edit pages, bulk actions and referral import."""

from pathlib import Path

from django import forms
from django.contrib.auth import get_user_model
from django.db import models

from cases import normalize
from cases.models import Entity, Team
from cases.validators import validate_country

MAX_UPLOAD_BYTES = 100 * 1024 * 1024


class CountryCodeField(forms.CharField):
    """Accept "gb" for "GB": codes are stored upper-case and people type them either way."""

    def to_python(self, value):
        return super().to_python(value).upper()


class CountryCodeMixin:
    """Give every country-code field of a model admin or inline the upper-casing field,
    and URL fields Django 6's https default for addresses typed without a scheme."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if validate_country in db_field.validators:
            kwargs.setdefault("form_class", CountryCodeField)
        if isinstance(db_field, models.URLField):
            kwargs.setdefault("assume_scheme", "https")
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class EntityAdminForm(forms.ModelForm):
    """EntityAdmin's form; the admin supplies the model and fields."""

    def clean(self):
        # name_key is derived, so it is not a form field and Django skips its constraints
        # here; a clash would otherwise fail in entity_save, after the form was accepted.
        cleaned = super().clean()
        name, country = cleaned.get("name"), cleaned.get("country")
        if not name:
            return cleaned
        key = normalize.name_key(name)
        if not key:
            self.add_error("name", "A name needs at least one letter or digit.")
        elif country:
            clash = (
                Entity.objects.filter(name_key=key, country=country)
                .exclude(pk=self.instance.pk)
                .first()
            )
            if clash:
                self.add_error("name", f"This name matches the existing entity {clash}.")
        return cleaned


class FindingAdminForm(forms.ModelForm):
    """FindingAdmin's form; the admin supplies the model and fields."""

    def clean(self):
        # The database pairs a date with its precision; say so on the field instead of
        # naming the violated constraint.
        cleaned = super().clean()
        has_date = cleaned.get("event_date") is not None
        has_precision = bool(cleaned.get("event_date_precision"))
        if has_date and not has_precision:
            self.add_error("event_date_precision", "Say how precisely the date is known.")
        elif has_precision and not has_date and "event_date" not in self.errors:
            self.add_error("event_date", "A precision needs a date.")
        return cleaned


class AssignActionForm(forms.Form):
    """The assign action's choice of user; the service checks they may work the cases."""

    assignee = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="nobody (unassign)"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = (
            get_user_model().objects.filter(is_active=True).order_by("username")
        )


class TeamActionForm(forms.Form):
    """The move-to-team action's choice of team."""

    team = forms.ModelChoiceField(queryset=Team.objects.all(), empty_label=None)


class RejectActionForm(forms.Form):
    """The reject action's note, kept with each rejected lead."""

    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text="Why these leads are rejected; kept with each finding.",
    )


class ReferralImportForm(forms.Form):
    file = forms.FileField(help_text="CSV (UTF-8) or XLSX with the referral columns.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        suffix = Path(upload.name).suffix.casefold()
        if suffix not in {".csv", ".xlsx"}:
            raise forms.ValidationError("Give a .csv or .xlsx file.")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 100 MB.")
        return upload
