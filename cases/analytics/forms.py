"""Forms of the analytics pages: the dimension and outcome picker, cohorts, second readings
and control cases.
"""

from django import forms
from django.contrib.auth import get_user_model

from cases import access
from cases.analytics import estimates
from cases.models import Case, Entity, Finding, MatchCriterion
from cases.validators import country_code_clean


class AnalyticsForm(forms.Form):
    dimension = forms.ChoiceField(
        choices=[
            ("year", "referral year"),
            ("host_country", "host country"),
            ("bloc", "alliance bloc at referral"),
            ("post", "referring post"),
            ("technology_field", "technology field"),
            ("entity_type", "entity type"),
            ("cooperation_method", "cooperation sought"),
            ("team", "team"),
            ("cohort", "named cohort"),
        ],
        initial="year",
        required=False,
    )
    outcome = forms.ChoiceField(
        choices=[("any", "any outcome"), *Finding.Kind.choices], initial="any", required=False
    )
    interval = forms.ChoiceField(
        choices=list(estimates.INTERVAL_METHODS.items()), initial="wilson", required=False
    )
    small = forms.ChoiceField(
        label="Small cohorts",
        choices=[("flag", "flagged"), ("group", 'grouped as "other, small"')],
        initial="flag",
        required=False,
    )

    def clean(self):
        data = super().clean()
        data["dimension"] = data.get("dimension") or "year"
        data["outcome"] = data.get("outcome") or "any"
        data["interval"] = data.get("interval") or "wilson"
        data["small"] = data.get("small") or "flag"
        if data["small"] == "group" and data["dimension"] == "cooperation_method":
            # A referral seeks several methods, so pooled small cohorts would count a case
            # once per method it lists.
            self.add_error(
                "small",
                "A case can be in several cooperation-method cohorts, so small ones cannot "
                "be pooled; choose flagged.",
            )
        return data


class CohortForm(forms.Form):
    """Save the filtered case list as a cohort, or draw a random sample from it."""

    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    filter_query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
    size = forms.IntegerField(
        required=False, min_value=1, max_value=100000, help_text="Leave empty to save all."
    )
    seed = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=2**62,
        help_text="Leave empty for a fresh one; it is recorded either way.",
    )

    def clean(self):
        data = super().clean()
        if data.get("seed") is not None and not data.get("size"):
            self.add_error("size", "A seed is for drawing a sample: give its size.")
        return data


class SecondCoderForm(forms.Form):
    coder = forms.ModelChoiceField(queryset=None, label="Second coder")

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(is_active=True, groups__name=access.ANALYST)
        if case.team_id is not None:
            users = users.filter(teams=case.team_id)
        if case.assignee_id is not None:
            users = users.exclude(pk=case.assignee_id)
        self.fields["coder"].queryset = users.order_by("username").distinct()


class SecondCodingDrawForm(forms.Form):
    """Draw concluded cases for blind second readings, stratified by the first reading."""

    coder = forms.ModelChoiceField(queryset=None, label="Second coder")
    cohort = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="all my cases", help_text="Draw from"
    )
    size = forms.IntegerField(min_value=1, max_value=10000, label="Cases")
    seed = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=2**62,
        help_text="Leave empty for a fresh one; it is recorded either way.",
    )

    def __init__(self, *args, user, cases, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(is_active=True, groups__name=access.ANALYST)
        users = users.filter(teams__in=access.visible_teams(user))
        self.fields["coder"].queryset = users.order_by("username").distinct()
        self.fields["cohort"].queryset = access.visible_cohorts(user, cases=cases).order_by("name")


class SecondReadingForm(forms.Form):
    positive_kinds = forms.MultipleChoiceField(
        choices=Finding.Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Outcome kinds the evidence shows (with a Chinese counterparty, after the "
        "referral); tick none for no outcome",
    )
    note = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ControlCaseForm(forms.Form):
    """A comparable entity that was never referred, matched to a referred case."""

    name = forms.CharField(max_length=300)
    country = forms.CharField(max_length=60, help_text="ISO code or English name")
    kind = forms.ChoiceField(choices=Entity.Kind.choices)
    technology_fields = forms.CharField(max_length=500, required=False)
    matched_case = forms.IntegerField(min_value=1, help_text="Id of the referred case")
    relaxed = forms.MultipleChoiceField(
        choices=MatchCriterion.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Relax criteria",
        help_text="A control must share the referred case's host country, entity kind and "
        "technology field; tick only those you knowingly waive.",
    )
    match_note = forms.CharField(
        max_length=500, required=False, label="Why relaxed", help_text="Required to relax."
    )

    def clean_country(self) -> str:
        return country_code_clean(self.cleaned_data["country"])
