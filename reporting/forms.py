"""The dashboard's filters: a period of whole months (``<input type="month">``, typed AAAA-MM where the browser has
no month picker), a commune of the territory and a structure of the user's scope."""

import calendar

from django import forms
from django.utils import timezone

from sicoval_numerique.forms import MoisField, SelectRapide, douze_derniers_mois
from structures.selectors import communes_territoire

MOIS_MAX_PAR_PERIODE = 120


def periode_par_defaut(today=None):
    """The last twelve whole months, ending with the current month: (first day, last day)."""
    return douze_derniers_mois(today or timezone.localdate())


def fin_du_mois(day):
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def mois_iso(day):
    return f"{day:%Y-%m}"


class ChoixNomsIterator(forms.models.ModelChoiceIterator):
    """The options as two columns read from the database, the value and the name (``__str__`` of a commune and of a
    structure), without a model instance per option: a nation's 2,300 structures cost 25 ms to build as models."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        yield from self.queryset.values_list(self.field.to_field_name, "nom").iterator()

    def __len__(self):
        return self.queryset.count() + (self.field.empty_label is not None)


class ChoixField(forms.ModelChoiceField):
    """A choice in a list: any value that is not one of its choices (a malformed UUID too) gets the same message.
    Its options are listed by ``ChoixNomsIterator``."""

    iterator = ChoixNomsIterator

    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice") from None


class TableauForm(forms.Form):
    du = MoisField(label="Du mois de", error_messages={"required": "Indiquez le premier mois de la période."})
    au = MoisField(label="Au mois de", error_messages={"required": "Indiquez le dernier mois de la période."})
    commune = ChoixField(
        label="Commune",
        queryset=None,
        required=False,
        to_field_name="code_insee",
        empty_label="Toutes les communes",
        widget=SelectRapide,
        error_messages={"invalid_choice": "Choisissez une commune du territoire dans la liste."},
    )
    departement = forms.ChoiceField(
        label="Département",
        required=False,
        choices=[],
        help_text="Les activités tenues dans ses communes (les activités à distance n'y comptent pas).",
        error_messages={"invalid_choice": "Choisissez un département de la liste."},
    )
    structure = ChoixField(
        label="Structure",
        queryset=None,
        required=False,
        to_field_name="uuid",
        empty_label="Toutes les structures",
        widget=SelectRapide,
        error_messages={"invalid_choice": "Choisissez une structure de votre périmètre dans la liste."},
    )

    def __init__(self, data, *, structures):
        """``data``: the GET parameters (the default period fills what is missing); ``structures``: those the user
        may pick (their scope)."""
        data = data.copy()
        du, au = periode_par_defaut()
        for name, default in (("du", du), ("au", au)):
            if not (data.get(name) or "").strip():
                data[name] = mois_iso(default)
        super().__init__(data)
        self.fields["commune"].queryset = communes_territoire().order_by("nom")
        self.fields["structure"].queryset = structures.order_by("nom").only("pk", "uuid", "nom", "commune_id")
        # The départements where the structures of the scope are: offered only when there are several.
        codes = sorted(set(structures.order_by().values_list("commune__departement", flat=True).distinct()) - {""})
        self.fields["departement"].choices = [("", "Tous les départements"), *((code, code) for code in codes)]
        self.plusieurs_departements = len(codes) > 1 or bool(data.get("departement"))

    def clean(self):
        data = super().clean()
        du, au = data.get("du"), data.get("au")
        if du and au:
            if du > au:
                self.add_error("au", "Le dernier mois doit suivre le premier mois de la période.")
            elif (au.year - du.year) * 12 + au.month - du.month + 1 > MOIS_MAX_PAR_PERIODE:
                self.add_error("au", "Choisissez une période de dix ans au plus.")
            else:
                data["au"] = fin_du_mois(au)
        return data

    def query_string(self):
        """The filters of a valid form as GET parameters (for the export links)."""
        data = self.cleaned_data
        params = {"du": mois_iso(data["du"]), "au": mois_iso(data["au"])}
        if data.get("commune"):
            params["commune"] = data["commune"].code_insee
        if data.get("departement"):
            params["departement"] = data["departement"]
        if data.get("structure"):
            params["structure"] = str(data["structure"].uuid)
        return params

    def error_text(self):
        return "\n".join(
            f"{self.fields[name].label} : {' '.join(errors)}" if name in self.fields else " ".join(errors)
            for name, errors in self.errors.items()
        )
