import json

from django import forms
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import Q


class UnicodeJSONEncoder(json.JSONEncoder):
    """Stores accented values as they are, so that text lookups match the same bytes on SQLite and PostgreSQL."""

    def __init__(self, *args, **kwargs):
        kwargs["ensure_ascii"] = False
        super().__init__(*args, **kwargs)


class ChoiceListField(models.JSONField):
    """A list of values taken from a fixed vocabulary (the national standard's multi-valued fields).

    Stored as a JSON array (jsonb on PostgreSQL, countable with ``jsonb_array_elements_text``), validated against
    ``item_choices``, edited with checkboxes.
    """

    def __init__(self, *args, item_choices=(), **kwargs):
        self.item_choices = list(item_choices)
        kwargs.setdefault("default", list)
        kwargs.setdefault("blank", True)
        kwargs["encoder"] = UnicodeJSONEncoder
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("encoder", None)
        return name, path, args, kwargs

    def validate(self, value, model_instance):
        super().validate(value, model_instance)
        if not isinstance(value, list):
            raise ValidationError("Une liste de valeurs est attendue.", code="invalid")
        allowed = {code for code, _label in self.item_choices}
        unknown = [item for item in value if item not in allowed]
        if unknown:
            raise ValidationError(
                "Valeur(s) inconnue(s) : %(values)s.",
                code="invalid_choice",
                params={"values": ", ".join(map(str, unknown))},
            )

    def formfield(self, **kwargs):
        return forms.MultipleChoiceField(
            choices=self.item_choices,
            required=not self.blank,
            label=self.verbose_name.capitalize(),
            help_text=self.help_text,
            widget=forms.CheckboxSelectMultiple,
        )


def list_contains(field_name, value):
    """Rows whose JSON list ``field_name`` holds ``value`` (a GIN-indexable containment on PostgreSQL)."""
    if connection.vendor == "postgresql":
        return Q(**{f"{field_name}__contains": [value]})
    return Q(**{f"{field_name}__icontains": json.dumps(value, ensure_ascii=False)})
