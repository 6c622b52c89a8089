"""Form fields shared by the apps."""

import calendar
import datetime
import re

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join

_MOIS = re.compile(r"^\s*(\d{4})-(\d{1,2})(?:-(\d{1,2}))?\s*$")
_MOIS_FR = re.compile(r"^\s*(?:(\d{1,2})/)?(\d{1,2})/(\d{4})\s*$")
# Months outside this range mean nothing for the programme and would overflow month arithmetic.
MOIS_MIN = datetime.date(2000, 1, 1)
MOIS_MAX = datetime.date(2100, 12, 31)


class SelectRapide(forms.Select):
    """A ``<select>`` whose options are written in Python rather than through one template each: a list of
    thousands of choices (the structures of a national scope) renders in milliseconds instead of half a second. The
    same markup as ``forms.Select``, without option groups."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        choisies = {str(v) for v in self.format_value(value)}
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((str(option), " selected" if str(option) in choisies else "", label) for option, label in self.choices),
        )
        return format_html("<select{}>{}</select>", flatatt(attrs), options)


class MoisInput(forms.DateInput):
    """``<input type="month">``: a month picker where browsers have one, a text field taking AAAA-MM elsewhere."""

    input_type = "month"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m")


class MoisField(forms.DateField):
    """A whole month, typed AAAA-MM (what a month picker sends) or MM/AAAA, or given as any date of the month
    (AAAA-MM-JJ or JJ/MM/AAAA, as older links carry): the first day of the month, or its last day with
    ``fin=True``."""

    widget = MoisInput
    default_error_messages = {
        "invalid": "Saisissez un mois au format AAAA-MM, par exemple 2024-09.",
        "out_of_range": "Choisissez un mois entre janvier 2000 et décembre 2100.",
    }

    def __init__(self, *, fin=False, **kwargs):
        self.fin = fin
        kwargs.setdefault("help_text", "Format AAAA-MM, par exemple 2024-09.")
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        # Where the browser has no month picker the field is a text field: say what to type (RGAA 11.10).
        attrs.update({"placeholder": "AAAA-MM", "min": f"{MOIS_MIN:%Y-%m}", "max": f"{MOIS_MAX:%Y-%m}"})
        attrs["autocomplete"] = "off"
        return attrs

    def _invalid(self, code="invalid"):
        return forms.ValidationError(self.error_messages[code], code=code)

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
                raise self._invalid()
            if not 1 <= month <= 12 or not 1 <= year <= 9999:
                raise self._invalid()
            if day is not None:
                try:
                    datetime.date(year, month, int(day))
                except ValueError:
                    raise self._invalid() from None
        if not MOIS_MIN <= datetime.date(year, month, 1) <= MOIS_MAX:
            raise self._invalid("out_of_range")
        last = calendar.monthrange(year, month)[1]
        return datetime.date(year, month, last if self.fin else 1)


class PeriodeMoisForm(forms.Form):
    """A period of whole months, ``du`` to ``au`` included (the first day of the first month, the last day of the
    last): the figures of the platform are kept by month. Subclasses may rename the fields."""

    start_field, end_field = "du", "au"
    du = MoisField(label="Du mois", error_messages={"required": "Indiquez le mois."})
    au = MoisField(label="Au mois (inclus)", fin=True, error_messages={"required": "Indiquez le mois."})

    def clean(self):
        data = super().clean()
        start, end = data.get(self.start_field), data.get(self.end_field)
        if start and end and start > end:
            self.add_error(self.end_field, "Le mois de fin doit suivre le mois de début.")
        return data


def douze_derniers_mois(today):
    """The default period of figures: the twelve whole months ending with the current one."""
    start = datetime.date(today.year - (1 if today.month < 12 else 0), today.month % 12 + 1, 1)
    return start, datetime.date(today.year, today.month, calendar.monthrange(today.year, today.month)[1])
