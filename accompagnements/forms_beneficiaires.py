"""Forms of followed beneficiaries: a person followed by name only with their consent, with as little data as the
follow-up needs (each optional field says what it is for). Forms only validate input; the views hand
``cleaned_data`` to ``accompagnements.services`` and map its errors back (``structures.forms.add_service_error``)."""

import re

from django import forms
from django.utils import timezone

from structures.forms import CommuneChoiceField, PhoneField, SectionsMixin

from . import choices as c

CONSENTEMENT_LABEL = "La personne a donné son accord pour que ses nom et coordonnées soient enregistrés pour son suivi"
PHONE_PATTERN = re.compile(r"^\+?\d{6,15}$")
AGE_MAX = 120


def _year_bounds():
    this_year = timezone.localdate().year
    return this_year - AGE_MAX, this_year


class BeneficiaireSearchForm(forms.Form):
    q = forms.CharField(
        label="Rechercher",
        required=False,
        max_length=100,
        help_text="Prénom ou nom.",
        widget=forms.TextInput(attrs={"type": "search"}),
    )

    def search(self):
        """The words typed (each one must be found in the first or last name), invalid input ignored."""
        if not self.is_bound or not self.is_valid():
            return []
        return self.cleaned_data["q"].split()[:5]


class BeneficiaireForm(SectionsMixin, forms.Form):
    section_fields = (
        ("Identité", ("prenom", "nom", "annee_naissance")),
        ("Coordonnées", ("telephone", "email")),
        ("Pour les statistiques", ("commune_residence", "genre", "tranche_age", "statut_social")),
        ("Consentement", ("consentement",)),
    )

    prenom = forms.CharField(
        label="Prénom",
        max_length=150,
        error_messages={"required": "Indiquez le prénom."},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    nom = forms.CharField(
        label="Nom",
        max_length=150,
        error_messages={"required": "Indiquez le nom."},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    annee_naissance = forms.IntegerField(
        label="Année de naissance",
        required=False,
        help_text="Facultatif. Sert seulement à distinguer deux personnes qui portent le même nom.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    telephone = PhoneField(
        label="Téléphone",
        help_text="Facultatif. Pour recontacter la personne (rendez-vous, suivi) ; par exemple 06 12 34 56 78.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    email = forms.EmailField(
        label="Adresse e-mail",
        required=False,
        help_text="Facultatif. Pour lui envoyer un document ou un rappel de rendez-vous.",
        error_messages={"invalid": "Saisissez une adresse e-mail valide, par exemple nom@exemple.fr."},
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    commune_residence = CommuneChoiceField(
        label="Commune de résidence",
        required=False,
        empty_label="Non renseignée",
        help_text="Facultatif. Reprise, sans le nom, dans les statistiques nationales de vos accompagnements.",
    )
    genre = forms.ChoiceField(
        label="Genre",
        required=False,
        choices=c.GENRE,
        initial=c.NON_COMMUNIQUE,
        help_text="Reprise, sans le nom, dans les statistiques nationales. « Non communiqué » si la personne "
        "préfère ne pas le dire.",
        error_messages={"invalid_choice": "Choisissez une valeur de la liste."},
    )
    tranche_age = forms.ChoiceField(
        label="Tranche d’âge",
        required=False,
        choices=c.TRANCHE_AGE,
        initial=c.NON_COMMUNIQUE,
        help_text="Reprise, sans le nom, dans les statistiques nationales.",
        error_messages={"invalid_choice": "Choisissez une valeur de la liste."},
    )
    statut_social = forms.ChoiceField(
        label="Statut",
        required=False,
        choices=c.STATUT_SOCIAL,
        initial=c.NON_COMMUNIQUE,
        help_text="Reprise, sans le nom, dans les statistiques nationales.",
        error_messages={"invalid_choice": "Choisissez une valeur de la liste."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        low, high = _year_bounds()
        field = self.fields["annee_naissance"]
        field.widget.attrs.update(min=low, max=high)
        field.error_messages["invalid"] = f"Saisissez une année sur quatre chiffres, entre {low} et {high}."

    def sections(self):
        return [(title, fields) for title, fields in super().sections() if fields]

    def clean_annee_naissance(self):
        year = self.cleaned_data.get("annee_naissance")
        low, high = _year_bounds()
        if year is not None and not low <= year <= high:
            raise forms.ValidationError(self.fields["annee_naissance"].error_messages["invalid"], code="invalid")
        return year

    def clean_telephone(self):
        telephone = self.cleaned_data.get("telephone") or ""
        if telephone and not PHONE_PATTERN.match(telephone):
            raise forms.ValidationError("Saisissez un numéro de téléphone valide, par exemple 06 12 34 56 78.")
        return telephone

    def service_data(self):
        return {name: value for name, value in self.cleaned_data.items() if name != "confirme_doublon"}


class BeneficiaireCreateForm(BeneficiaireForm):
    consentement = forms.BooleanField(
        label=CONSENTEMENT_LABEL,
        required=True,
        help_text="Sans cet accord, enregistrez l'accompagnement de façon anonyme : il compte tout autant dans vos "
        "statistiques.",
        error_messages={
            "required": "Le suivi nominatif demande l'accord de la personne : cochez la case une fois qu'elle l'a "
            "donné, ou enregistrez l'accompagnement de façon anonyme."
        },
    )
    confirme_doublon = forms.BooleanField(
        label="Il s'agit d'une autre personne : l'enregistrer quand même",
        required=False,
    )
