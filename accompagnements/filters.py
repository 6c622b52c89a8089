"""The filters of the activity history and of its exports: period, type, thématique, place type, commune and, in team
views (staff, référents), conseiller.

``filter_activites(qs, params, user)`` is shared by the history page and the exports, so that an export holds exactly
the rows the page lists.
"""

from django import forms
from django.db.models import Exists, OuterRef

from conseillers.models import Conseiller
from structures.models import Commune

from . import choices as c
from . import selectors
from .models import ActiviteThematique

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


def _date_field(label):
    return forms.DateField(
        label=label,
        required=False,
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Saisissez une date valide (jj/mm/aaaa)."},
    )


def _choice_field(label, empty_label, vocabulary, invalid):
    return forms.ChoiceField(
        label=label,
        required=False,
        choices=[("", empty_label), *vocabulary],
        error_messages={"invalid_choice": invalid},
    )


class ConseillerFilterChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.prenom} {obj.nom}"


class ActiviteFilterForm(forms.Form):
    du = _date_field("Du")
    au = _date_field("Au")
    type = _choice_field("Type", "Tous les types", c.TYPE_ACTIVITE, "Choisissez un type d'activité de la liste.")
    thematique = forms.ChoiceField(
        label="Thématique",
        required=False,
        choices=[
            ("", "Toutes les thématiques"),
            ("Thématiques", c.THEMATIQUES_GENERALES),
            ("Démarches administratives", c.THEMATIQUES_ADMINISTRATIVES),
        ],
        error_messages={"invalid_choice": "Choisissez une thématique de la liste."},
    )
    type_lieu = _choice_field("Lieu", "Tous les lieux", c.TYPE_LIEU, "Choisissez un type de lieu de la liste.")
    commune = forms.ModelChoiceField(
        label="Commune",
        queryset=Commune.objects.none(),
        required=False,
        empty_label="Toutes les communes",
        to_field_name="code_insee",
        error_messages={"invalid_choice": "Choisissez une commune de la liste."},
    )
    conseiller = ConseillerFilterChoiceField(
        label="Conseiller",
        queryset=Conseiller.objects.none(),
        required=False,
        empty_label="Tous les conseillers",
        to_field_name="uuid",
        error_messages={"invalid_choice": "Choisissez un conseiller de la liste."},
    )

    def __init__(self, *args, user, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the communes where the user's visible activities took place (no query until the list is read): one
        # index probe per commune rather than a scan of every activity.
        visible_here = selectors.activites_visible_to(user).filter(commune=OuterRef("pk")).order_by()
        self.fields["commune"].queryset = Commune.objects.filter(Exists(visible_here)).order_by("nom")
        if team is None:
            team = selectors.sees_team(user)
        if team:
            self.fields["conseiller"].queryset = selectors.conseillers_of_activites_visible_to(user)
        else:
            del self.fields["conseiller"]

    def clean(self):
        cleaned = super().clean()
        du, au = cleaned.get("du"), cleaned.get("au")
        if du and au and du > au:
            self.add_error("au", "La fin de la période doit suivre son début.")
        return cleaned

    def filters(self):
        """The valid filters only: an invalid one is ignored here, and shown as an error on its field."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}

    def error_text(self):
        """The errors as one plain French sentence per field (for the exports' 400 answer)."""
        lines = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else "Filtres"
            lines.append(f"{label} : {' '.join(errors)}")
        return "\n".join(lines)


def apply_filters(qs, filters):
    """Narrow an ``Activite`` queryset with cleaned filters."""
    if du := filters.get("du"):
        qs = qs.filter(date__gte=du)
    if au := filters.get("au"):
        qs = qs.filter(date__lte=au)
    if type_activite := filters.get("type"):
        qs = qs.filter(type=type_activite)
    if thematique := filters.get("thematique"):
        qs = qs.filter(
            Exists(ActiviteThematique.objects.filter(activite=OuterRef("pk"), thematique=thematique)),
        )
    if type_lieu := filters.get("type_lieu"):
        qs = qs.filter(type_lieu=type_lieu)
    if commune := filters.get("commune"):
        qs = qs.filter(commune=commune)
    if conseiller := filters.get("conseiller"):
        qs = qs.filter(conseiller=conseiller)
    return qs


def filter_activites(qs, params, user, *, team=None):
    """Filter an ``Activite`` queryset with GET parameters. Returns ``(qs, form)``: invalid filters are left out of
    the queryset and carried as French errors by ``form.errors`` (the caller decides: show them, or answer 400).
    ``team`` saves the "sees team" query when the caller already knows it."""
    form = ActiviteFilterForm(params or None, user=user, team=team)
    return apply_filters(qs, form.filters()), form
