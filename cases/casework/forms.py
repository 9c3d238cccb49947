"""Forms of the research pages. Each state-changing form carries the version of the row
it was rendered from, so the service can refuse a save over someone else's edit.
"""

from django import forms
from django.contrib.auth import get_user_model

from cases import normalize
from cases.casework.services import ENTITY_EDITABLE
from cases.models import Case, Entity, Finding
from cases.validators import country_code_clean


class RejectNeedsNote:
    """A form whose "decision" may reject, which then needs a "note" saying why."""

    reject_message = "Say why the lead is rejected."

    def clean(self):
        data = super().clean()
        if (
            data.get("decision") == Finding.ReviewState.REJECTED
            and not data.get("note", "").strip()
        ):
            self.add_error("note", self.reject_message)
        return data


class VersionedForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class StatusForm(VersionedForm):
    status = forms.ChoiceField(choices=Case.Status.choices)


class ReopenForm(VersionedForm):
    """Undo a review or a conclusion: the reason is required, so the history says why."""

    reason = forms.CharField(
        max_length=2000,
        strip=True,
        error_messages={"required": "Say why it is reopened; nothing was changed."},
    )


class AssignForm(VersionedForm):
    assignee = forms.ModelChoiceField(queryset=None, required=False, empty_label="nobody")

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(is_active=True).order_by("username")
        if case.team_id is not None:
            users = users.filter(teams=case.team_id)
        self.fields["assignee"].queryset = users


class EntityForm(forms.ModelForm):
    """The entity's other names and identifiers, checked by the model's validators."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    website = forms.URLField(max_length=500, required=False, assume_scheme="https")

    class Meta:
        model = Entity
        fields = list(ENTITY_EDITABLE)
        widgets = {"aliases": forms.Textarea(attrs={"rows": 3})}

    def entity_values(self) -> dict:
        return {name: self.cleaned_data[name] for name in ENTITY_EDITABLE}


class FindingForm(forms.Form):
    """A finding recorded by hand: a person read the evidence, so it is confirmed."""

    kind = forms.ChoiceField(choices=Finding.Kind.choices)
    counterparty_name = forms.CharField(max_length=300)
    counterparty_country = forms.CharField(
        max_length=60, help_text="ISO code or English name, e.g. CN, Hong Kong"
    )
    event_date = forms.CharField(
        label="Date", max_length=10, help_text="YYYY, YYYY-MM or YYYY-MM-DD"
    )
    source_url = forms.URLField(label="Evidence URL", max_length=1000, assume_scheme="https")
    excerpt = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    confidence = forms.ChoiceField(
        choices=Finding.Confidence.choices, initial=Finding.Confidence.MEDIUM
    )
    # Shown as a box only once the finding was refused as looking like one on the case.
    record_anyway = forms.BooleanField(
        required=False, widget=forms.HiddenInput, label="Record anyway: it is a different event"
    )

    def offer_record_anyway(self) -> None:
        """Show the "record anyway" box, unticked, after a look-alike refusal."""
        self.fields["record_anyway"].widget = forms.CheckboxInput()

    def clean_counterparty_country(self) -> str:
        return country_code_clean(self.cleaned_data["counterparty_country"])

    def clean_event_date(self) -> normalize.PartialDate:
        try:
            return normalize.parse_partial_date(self.cleaned_data["event_date"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_source_url(self) -> str:
        url = self.cleaned_data["source_url"]
        if not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError("Give an http or https address.")
        return url


class ReviewForm(RejectNeedsNote, VersionedForm):
    decision = forms.ChoiceField(
        choices=[
            (Finding.ReviewState.CONFIRMED, "confirm"),
            (Finding.ReviewState.REJECTED, "reject"),
        ]
    )
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea)


class BulkReviewForm(RejectNeedsNote, forms.Form):
    """Several leads at once: the ids picked and, for each, the version it was shown at."""

    reject_message = "Say why the leads are rejected."

    # Checkboxes named "findings" with the value "id:version", one per lead shown.
    findings = forms.Field(widget=forms.MultipleHiddenInput, required=False)
    decision = ReviewForm.base_fields["decision"]
    note = forms.CharField(required=False, max_length=2000)

    def clean_findings(self) -> dict[int, int]:
        picked = {}
        for item in self.cleaned_data["findings"] or []:
            pk, _, version = item.partition(":")
            # Digits only, and few enough for a database integer (a longer one overflowed).
            if not all(part.strip().isdigit() and len(part.strip()) < 19 for part in (pk, version)):
                raise forms.ValidationError("The selection could not be read; reload the page.")
            picked[int(pk)] = int(version)
        if not picked:
            raise forms.ValidationError("Pick at least one lead.")
        if len(picked) > 500:
            raise forms.ValidationError("Review at most 500 leads at once.")
        return picked


class CommentForm(forms.Form):
    """A comment on the case, or on one of its leads (`finding`, its id)."""

    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        strip=True,
        error_messages={"required": "Write something; an empty comment was not saved."},
    )
    finding = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


class CommentEditForm(VersionedForm):
    body = CommentForm.base_fields["body"]
