"""Hypothesis strategies that build raw request data (what a browser or a robot sends) for a Django form, from the
form's own fields: garbage of every kind for « the form never raises », valid values for « a valid form saves ».

A strategy draws a plain ``dict`` ``{name: str | list[str]}`` keyed by the form's HTML names (its prefix applied),
``to_querydict`` turns it into what ``request.POST`` / ``request.GET`` would be, and the test client accepts it as is.
"""

import datetime
import decimal

from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.utils import timezone
from django.utils.http import urlencode
from hypothesis import strategies as st

from ateliers.forms import PhoneInput
from sicoval_numerique.forms import MoisField
from structures.forms import PhoneField, ValueListField

# A key the valid strategy draws to keep the known-good example's value of a field.
KEEP = object()
# Absent from the data altogether (a field the browser did not send).
ABSENT = object()

ODD_CHARACTERS = (
    "\x00\x01\x07\x08\t\n\x0b\x0c\r\x1b\x7f\x85\xa0\xad"  # controls, NEL, no-break space, soft hyphen
    "\u0301\u200b\u200d\u200e\u202e\u2028\u2029\u2066\ufeff\ufffd"  # combining, zero-width, bidi, separators, BOM
    "\U0001f600\U0001f469\u200d\U0001f4bb\U000e0041\U0010ffff"  # emoji (with a joiner), tag, last code point
    "ÉéçÇœŒß𝔘𝔫𝔦ﬁ١٢٣４５"  # accents, ligatures, mathematical letters, other digits
)
SPECIAL_STRINGS = [
    "",
    " ",
    "\t\n",
    "0",
    "-0",
    "-1",
    "1e309",
    "NaN",
    "Infinity",
    "0x1F",
    "1_000",
    "١٢٣",
    "１２",
    "null",
    "None",
    "true",
    "on",
    "[]",
    "{}",
    "%00",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    '=HYPERLINK("http://x")',
    "9" * 40,
    "-" + "9" * 40,
    "2024-02-30",
    "31/02/2026",
    "0000-00-00",
    "2024-13-01",
    "99999-01-01",
    "9999-12-31",
    "0001-01-01",
    "2024-06",
    "24:61",
    "12:00:00.000000001",
]
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%m/%d/%Y", "%d.%m.%Y", "%Y%m%d", "%Y-%m", "%Y-%m-%dT%H:%M:%S"]


def text_without_surrogates(**kwargs):
    # A request never carries a lone surrogate: Django decodes its body and query string with replacement.
    return st.text(alphabet=st.characters(exclude_categories=("Cs",)), **kwargs)


@st.composite
def huge_text(draw):
    unit = draw(st.sampled_from(["x", "é", "9", " ", "\x00", "\U0001f600", "ab,", "a@b.fr;"]))
    return unit * draw(st.integers(min_value=300, max_value=20_000))


def date_strings(min_value=datetime.date(1, 1, 1), max_value=datetime.date(9999, 12, 31)):
    return st.builds(
        lambda day, fmt: day.strftime(fmt),
        st.dates(min_value=min_value, max_value=max_value),
        st.sampled_from(DATE_FORMATS),
    )


def numbers_as_text():
    return st.one_of(
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
    )


def garbage_text():
    """Any text a request can carry, with extra weight on what breaks parsers: odd unicode and control characters,
    huge lengths, numbers out of any range, impossible dates, identifiers of nothing."""
    return st.one_of(
        st.sampled_from(SPECIAL_STRINGS),
        text_without_surrogates(max_size=30),
        st.text(alphabet=ODD_CHARACTERS, min_size=1, max_size=12),
        numbers_as_text(),
        date_strings(),
        st.uuids().map(str),
        huge_text(),
    )


# --- valid values, field by field ----------------------------------------------------------------------------------
def _flat_choices(choices):
    for key, label in choices:
        if isinstance(label, (list, tuple)):
            yield from _flat_choices(label)
        else:
            yield key


def choice_values(field):
    """The values the field accepts, as the browser sends them (at most 50)."""
    if isinstance(field, forms.ModelChoiceField):
        key = field.to_field_name or "pk"
        return [str(value) for value in field.queryset.values_list(key, flat=True)[:50]]
    if isinstance(field, forms.ChoiceField):
        return [str(getattr(value, "value", value)) for value in _flat_choices(field.choices) if value != ""][:50]
    return []


def _max_length(field, default=60):
    return min(field.max_length or default, default)


def clean_text(max_size, min_size=0):
    """Text a person types: letters, digits, spaces and punctuation of any script, nothing invisible."""
    alphabet = st.characters(categories=("L", "N", "P", "Zs"), exclude_characters="\x00")
    return st.text(alphabet=alphabet, min_size=min_size, max_size=max_size).filter(
        lambda text: len(text.strip()) >= min_size
    )


def valid_dates(field):
    today = timezone.localdate()
    formats = [fmt for fmt in getattr(field, "input_formats", None) or ["%Y-%m-%d"] if "%H" not in fmt][:3]
    return st.builds(
        lambda day, fmt: day.strftime(fmt),
        st.dates(min_value=today - datetime.timedelta(days=800), max_value=today + datetime.timedelta(days=400)),
        st.sampled_from(formats or ["%Y-%m-%d"]),
    )


def valid_integers(field):
    low = field.min_value if field.min_value is not None else -1000
    high = field.max_value if field.max_value is not None else 1_000_000
    return st.integers(min_value=low, max_value=high).map(str)


def valid_decimals(field):
    places = field.decimal_places if field.decimal_places is not None else 2
    digits = field.max_digits or 12
    bound = decimal.Decimal(10) ** (digits - places) - 1
    low = field.min_value if field.min_value is not None else -bound
    high = field.max_value if field.max_value is not None else bound
    return st.decimals(min_value=low, max_value=min(high, bound), places=places).map(str)


PHONES = ["05 61 00 00 00", "+33561000000", "06.12.34.56.78", "0612345678", "(05) 61 00 00 00"]


def valid_value(field):
    """A strategy for one value the field accepts on its own (cross-field rules may still refuse the whole)."""
    if isinstance(field, forms.FileField):
        return st.just(ABSENT)
    if isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
        values = choice_values(field)
        return st.lists(st.sampled_from(values), unique=True, max_size=4) if values else st.just([])
    if isinstance(field, forms.ChoiceField | forms.ModelChoiceField):
        values = choice_values(field)
        if not field.required:
            values = ["", *values]
        return st.sampled_from(values) if values else st.just("")
    if isinstance(field, forms.BooleanField):
        return st.sampled_from(["on", ""])
    if isinstance(field, forms.DateTimeField):
        return valid_dates(field).map(lambda day: f"{day} 10:00")
    if isinstance(field, MoisField):
        return st.dates(min_value=datetime.date(2021, 1, 1), max_value=datetime.date(2027, 12, 1)).map(
            lambda day: day.strftime("%Y-%m")
        )
    if isinstance(field, forms.DateField):
        return valid_dates(field)
    if isinstance(field, forms.TimeField):
        return st.times().map(lambda moment: moment.strftime("%H:%M"))
    # DecimalField and FloatField derive from IntegerField: they come first.
    if isinstance(field, forms.DecimalField):
        return valid_decimals(field)
    if isinstance(field, forms.FloatField):
        low = field.min_value if field.min_value is not None else -1e6
        high = field.max_value if field.max_value is not None else 1e6
        return st.floats(min_value=low, max_value=high).map(str)
    if isinstance(field, forms.IntegerField):
        return valid_integers(field)
    if isinstance(field, forms.EmailField):
        return st.from_regex(r"\A[a-z][a-z0-9.]{0,15}@[a-z]{2,12}\.(fr|org|com)\Z")
    if isinstance(field, forms.URLField):
        return st.from_regex(r"\Ahttps://[a-z]{2,12}\.fr(/[a-z]{0,10})?\Z")
    if isinstance(field, PhoneField | PhoneInput):
        return st.sampled_from(["", *PHONES])
    if isinstance(field, ValueListField):
        return st.just("")
    if isinstance(field, forms.UUIDField):
        return st.uuids().map(str)
    if isinstance(field, forms.CharField):
        return clean_text(_max_length(field), min_size=1 if field.required else 0)
    return st.just(ABSENT)


def any_value(field):
    """A strategy for anything the field may receive: a valid value, garbage, or several values at once."""
    valid = valid_value(field).filter(lambda value: value is not ABSENT)
    one = st.one_of(valid, garbage_text()) if not isinstance(field, forms.FileField) else st.nothing()
    if isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
        values = choice_values(field)
        element = st.sampled_from(values) if values else st.just("")
        return st.one_of(valid, st.lists(st.one_of(element, garbage_text()), max_size=6))
    return st.one_of(one, st.lists(one, min_size=2, max_size=3))


def any_file():
    contents = st.one_of(
        st.binary(max_size=300),
        st.sampled_from([b"", b"PK\x03\x04", b"\xef\xbb\xbfa;b\r\n1;2", b'{"a": [1, 2]}', b"\x00" * 64]),
    )
    names = st.sampled_from(["donnees.csv", "donnees.xlsx", "donnees.json", "..\\x.csv", "sans-extension", "é.CSV"])
    return st.builds(lambda content, name: SimpleUploadedFile(name, content), contents, names)


def field_names(form):
    """``{html name: field}`` of a form (its prefix applied)."""
    return {form.add_prefix(name): field for name, field in form.fields.items()}


def any_data(form):
    """Raw data for ``form`` (an instance, only read for its fields): each field absent, valid, garbage or repeated,
    plus a few unknown keys."""
    fields = {name: field for name, field in field_names(form).items() if not isinstance(field, forms.FileField)}
    optional = {name: any_value(field) for name, field in fields.items()}
    extra = st.dictionaries(st.sampled_from(["page", "csrfmiddlewaretoken", "_refresh", "x" * 300]), garbage_text())
    return st.builds(lambda known, unknown: {**unknown, **known}, st.fixed_dictionaries({}, optional=optional), extra)


def any_files(form):
    names = [name for name, field in field_names(form).items() if isinstance(field, forms.FileField)]
    return st.fixed_dictionaries({}, optional={name: any_file() for name in names})


def valid_data(form, example, *, fixed=()):
    """Valid raw data for ``form``: the known-good ``example`` with any number of its fields replaced by other valid
    values of their own (each field's choices, dates, bounded numbers, clean text); the ``fixed`` names keep the
    example's value (a honeypot)."""
    replacements = {
        name: st.one_of(st.just(KEEP), valid_value(field))
        for name, field in field_names(form).items()
        if name not in fixed
    }

    def merge(drawn):
        data = dict(example)
        for name, value in drawn.items():
            if value is KEEP:
                continue
            if value is ABSENT:
                data.pop(name, None)
            else:
                data[name] = value
        return data

    return st.fixed_dictionaries(replacements).map(merge)


def urlencoded(data):
    """The body (or query string) a browser sends for ``data``: an empty list sends nothing."""
    return urlencode(data, doseq=True)


def to_querydict(data):
    """``data`` as the view reads it (``request.POST`` or ``request.GET``), parsed from what the browser sends."""
    return QueryDict(urlencoded(data))


def printable(data, limit=80):
    """The data shortened for a failure message (huge values would drown it)."""
    return {
        name: (value[:limit] + f"…({len(value)})" if isinstance(value, str) and len(value) > limit else value)
        for name, value in data.items()
    }
