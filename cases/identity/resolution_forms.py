"""Forms of the pages where people judge identifiers."""

from django import forms

from cases.identity.judging import JUDGE

MAX_FILTER_QUERY = 2000  # as a cohort's: a case-list filter's query string


class JudgeForm(forms.Form):
    """One judgement of a candidate, with the version it was read at."""

    decision = forms.ChoiceField(choices=[(value, value) for value in JUDGE])
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    reason = forms.CharField(required=False, max_length=500)


class ResolutionJobForm(forms.Form):
    """Start "find identifiers" for the case list as the filter shows it."""

    filter_query = forms.CharField(
        required=False, max_length=MAX_FILTER_QUERY, widget=forms.HiddenInput
    )
