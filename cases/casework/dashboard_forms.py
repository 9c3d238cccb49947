"""Forms of the dashboards: how many days make a case idle on My work, and the digest a
person chooses."""

from django import forms
from django.conf import settings

from cases.casework.dashboard import IDLE_DAYS_MAX
from cases.models import UserPreferences


class IdleDaysForm(forms.Form):
    idle_days = forms.IntegerField(
        label="Idle after (days)", min_value=1, max_value=IDLE_DAYS_MAX, required=False
    )

    def days(self) -> int:
        """The days asked for, or the setting's when none or nonsense was asked for."""
        if self.is_valid() and self.cleaned_data["idle_days"]:
            return self.cleaned_data["idle_days"]
        return settings.WISHLIST_IDLE_DAYS


class DigestForm(forms.Form):
    digest = forms.ChoiceField(
        label="Email digest",
        choices=UserPreferences.Digest.choices,
        widget=forms.RadioSelect,
        help_text="What is new on My work, sent only when there is something to say.",
    )

    def clean_digest(self) -> str:
        # A form posting two choices is not one person's choice: refuse rather than keep
        # whichever came last.
        if hasattr(self.data, "getlist") and len(self.data.getlist("digest")) > 1:
            raise forms.ValidationError("Choose one.")
        return self.cleaned_data["digest"]
