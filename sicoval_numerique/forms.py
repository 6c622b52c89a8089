"""Form fields shared by the apps."""

import calendar
import datetime
import re

from django import forms

_MOIS = re.compile(r"^\s*(\d{4})-(\d{1,2})(?:-(\d{1,2}))?\s*$")
_MOIS_FR = re.compile(r"^\s*(?:(\d{1,2})/)?(\d{1,2})/(\d{4})\s*$")


class MoisInput(forms.DateInput):
    """``<input type="month">``: a month picker where browsers have one, a text field taking AAAA-MM elsewhere."""

    input_type = "month"

    def __init__(self, attrs=None):
        super().__init__(attrs={"placeholder": "AAAA-MM", **(attrs or {})}, format="%Y-%m")


class MoisField(forms.DateField):
    """A whole month, typed AAAA-MM (what a month picker sends), MM/AAAA, or as any date of the month (AAAA-MM-JJ or
    JJ/MM/AAAA, as older links carry): the first day of the month, or its last day with ``fin=True``."""

    widget = MoisInput
    default_error_messages = {"invalid": "Saisissez un mois valide, par exemple 2025-01 (janvier 2025)."}

    def __init__(self, *, fin=False, **kwargs):
        self.fin = fin
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            value = value.date()
        if isinstance(value, datetime.date):
            year, month = value.year, value.month
        else:
            iso, french = _MOIS.match(str(value)), _MOIS_FR.match(str(value))
            if iso:
                year, month, day = int(iso[1]), int(iso[2]), iso[3]
            elif french:
                day, month, year = french[1], int(french[2]), int(french[3])
            else:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            if not 1 <= month <= 12 or not 1 <= year <= 9999:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            if day is not None:
                try:
                    datetime.date(year, month, int(day))
                except ValueError:
                    raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        last = calendar.monthrange(year, month)[1]
        return datetime.date(year, month, last if self.fin else 1)


# Months outside this range mean nothing for the programme and would overflow month arithmetic.
MOIS_MIN = datetime.date(2000, 1, 1)
MOIS_MAX = datetime.date(2100, 12, 31)


class PeriodeMoisForm(forms.Form):
    """A period of whole months, ``du`` to ``au`` included (the first day of the first month, the last day of the
    last): the figures of the platform are kept by month. Subclasses may rename the fields."""

    start_field, end_field = "du", "au"
    du = MoisField(
        label="Du mois", help_text="Un mois, par exemple 2025-01.", error_messages={"required": "Indiquez le mois."}
    )
    au = MoisField(
        label="Au mois", fin=True, help_text="Un mois, inclus.", error_messages={"required": "Indiquez le mois."}
    )

    def clean(self):
        data = super().clean()
        for name in (self.start_field, self.end_field):
            value = data.get(name)
            if value is not None and not MOIS_MIN <= value <= MOIS_MAX:
                self.add_error(name, f"Choisissez un mois entre {MOIS_MIN:%m/%Y} et {MOIS_MAX:%m/%Y}.")
        start, end = data.get(self.start_field), data.get(self.end_field)
        if start and end and start > end:
            self.add_error(self.end_field, "Le mois de fin doit suivre le mois de début.")
        return data


def douze_derniers_mois(today):
    """The default period of figures: the twelve whole months ending with the current one."""
    start = datetime.date(today.year - (1 if today.month < 12 else 0), today.month % 12 + 1, 1)
    return start, datetime.date(today.year, today.month, calendar.monthrange(today.year, today.month)[1])
