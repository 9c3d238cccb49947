"""The form attaching a file to a finding; what the file is, is checked by the service."""

from django import forms


class AttachForm(forms.Form):
    file = forms.FileField(allow_empty_file=False, max_length=255)
