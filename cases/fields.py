"""A model field holding several choices in one column, portable to SQLite and PostgreSQL.

Stored as ",a,b," so that one method can be matched with a plain LIKE
(`cooperation_methods__has="joint_venture"`) on every database, and counted per method
inside one aggregate query.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db import models


class ChoiceListField(models.CharField):
    description = "A list of choices"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 300)
        kwargs.setdefault("default", list)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("default") is list:
            del kwargs["default"]
        if kwargs.get("max_length") == 300:
            del kwargs["max_length"]
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        return self.to_python(value)

    def to_python(self, value):
        if value is None or value == "":
            return []
        if isinstance(value, list | tuple):
            return list(value)
        return [part for part in value.split(",") if part]

    def get_prep_value(self, value):
        values = self.to_python(value)
        return "," + ",".join(values) + "," if values else ""

    def value_to_string(self, obj):
        return ";".join(self.value_from_object(obj))

    def validate(self, value, model_instance):
        allowed = {str(key) for key, _ in self.flatchoices}
        bad = [v for v in value if v not in allowed]
        if bad:
            raise ValidationError(f"Unknown choice(s): {', '.join(bad)}")
        if not value and not self.blank:
            raise ValidationError(self.error_messages["blank"], code="blank")

    def formfield(self, **kwargs):
        return forms.TypedMultipleChoiceField(
            choices=self.choices,
            required=not self.blank,
            label=self.verbose_name.capitalize(),
            help_text=self.help_text,
            widget=forms.CheckboxSelectMultiple,
        )

    def _check_choices(self):
        return []


class HasChoice(models.Lookup):
    """`field__has="x"`: the list holds x (a LIKE on the delimited column)."""

    lookup_name = "has"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        pattern = f"%,{connection.ops.prep_for_like_query(str(self.rhs))},%"
        return f"{lhs} {connection.operators['contains'] % '%s'}", [*lhs_params, pattern]


ChoiceListField.register_lookup(HasChoice)
