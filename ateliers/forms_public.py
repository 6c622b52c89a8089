"""Forms of the public pages of the workshops: the agenda's filters and the registration to a session."""

import datetime
import re

from django import forms
from django.core.exceptions import ValidationError

from accompagnements import choices as cra
from structures.models import Commune
from structures.selectors import communes_territoire

from .models import Public
from .selectors import communes_agenda

INSEE_RE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
PHONE_CHARS_RE = re.compile(r"^\+?[\d\s.\-()]+$")
DATE_MIN = datetime.date(2000, 1, 1)
DATE_MAX = datetime.date(2100, 12, 31)


class CommuneField(forms.ModelChoiceField):
    """A commune chosen by its INSEE code; anything that is not shaped like one is refused before any query."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not isinstance(value, str) or not INSEE_RE.match(value):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class DateFilterField(forms.DateField):
    widget = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})

    def validate(self, value):
        super().validate(value)
        if value is not None and not DATE_MIN <= value <= DATE_MAX:
            raise ValidationError("Indiquez une date entre 2000 et 2100.", code="out_of_range")


THEME_CHOICES = [
    ("", "Tous les thèmes"),
    ("Usages du numérique", cra.THEMATIQUES_GENERALES),
    ("Démarches administratives", cra.THEMATIQUES_ADMINISTRATIVES),
]


class AgendaFilterForm(forms.Form):
    """The agenda's filters, in the query string. Every value is checked: an unknown one is an error (400) that
    says which filter to correct, never an empty list that looks like "no workshop"."""

    commune = CommuneField(
        queryset=Commune.objects.none(),
        required=False,
        label="Commune",
        empty_label="Toutes les communes",
        to_field_name="code_insee",
        help_text="Là où a lieu l'atelier, y compris les arrêts du bus numérique, et les communes voisines (même code "
        "postal).",
        error_messages={"invalid_choice": "Cette commune n'est pas dans la liste : choisissez-en une autre."},
    )
    theme = forms.ChoiceField(
        choices=THEME_CHOICES,
        required=False,
        label="Thème",
        error_messages={"invalid_choice": "Ce thème n'existe pas : choisissez-en un dans la liste."},
    )
    public = forms.ChoiceField(
        choices=[("", "Tous les publics"), *Public.choices],
        required=False,
        label="Public",
        help_text="Les ateliers « tout public » sont toujours inclus.",
        error_messages={"invalid_choice": "Ce public n'existe pas : choisissez-en un dans la liste."},
    )
    du = DateFilterField(
        required=False,
        label="À partir du",
        help_text="Format : jj/mm/aaaa.",
        error_messages={"invalid": "Indiquez une date valide, par exemple 15/03/2026."},
    )
    au = DateFilterField(
        required=False,
        label="Jusqu'au",
        help_text="Format : jj/mm/aaaa.",
        error_messages={"invalid": "Indiquez une date valide, par exemple 30/04/2026."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commune"].queryset = communes_agenda()

    def clean(self):
        data = super().clean()
        du, au = data.get("du"), data.get("au")
        if du and au and au < du:
            self.add_error("au", "La date de fin doit être la même que la date de début ou la suivre.")
        return data

    def filters(self):
        """The keyword arguments of ``selectors.seances_publiques`` (call once the form is valid)."""
        data = self.cleaned_data
        return {
            "commune": data.get("commune"),
            "thematique": data.get("theme") or "",
            "public": data.get("public") or "",
            "du": data.get("du"),
            "au": data.get("au"),
        }


def _clean_phone(value):
    value = (value or "").strip()
    if not value:
        return ""
    digits = re.sub(r"\D", "", value)
    if not PHONE_CHARS_RE.match(value) or not 8 <= len(digits) <= 15 or (value[0] != "+" and len(digits) != 10):
        raise ValidationError("Indiquez un numéro de téléphone valide, par exemple 06 12 34 56 78.", code="invalid")
    return value


TRANCHES_AGE = [(code, label) for code, label in cra.TRANCHE_AGE if code != cra.NON_COMMUNIQUE]


class InscriptionForm(forms.Form):
    """Only what is needed to reach the person, their consent, and two optional answers for the anonymous
    statistics. ``site_web`` is a honeypot: hidden from everyone, a robot fills it in."""

    HONEYPOT = "site_web"

    prenom = forms.CharField(
        label="Prénom", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    nom = forms.CharField(label="Nom", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "family-name"}))
    email = forms.EmailField(
        label="Adresse e-mail",
        required=False,
        max_length=254,
        help_text="Vous y recevez la confirmation, le rendez-vous à ajouter à votre agenda et le lien pour annuler.",
        error_messages={"invalid": "Indiquez une adresse e-mail valide, par exemple nom@exemple.fr."},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    telephone = forms.CharField(
        label="Numéro de téléphone",
        required=False,
        max_length=20,
        help_text="Sans e-mail, l'organisateur vous appelle en cas de changement. Exemple : 06 12 34 56 78.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    consentement = forms.BooleanField(
        label=(
            "J'accepte que mes nom, prénom et coordonnées servent uniquement à gérer mon inscription à cette "
            "séance : confirmation, liste d'attente, changement ou annulation."
        ),
        help_text=(
            "Seuls l'organisateur de l'atelier et l'équipe du Sicoval y ont accès. Elles sont conservées 12 mois "
            "après la séance, puis supprimées. Vous pouvez annuler votre inscription à tout moment avec le lien "
            "reçu."
        ),
        error_messages={
            "required": "Cochez la case pour donner votre accord : sans lui, nous ne pouvons pas vous inscrire."
        },
    )
    commune = CommuneField(
        queryset=Commune.objects.none(),
        required=False,
        label="Commune de résidence",
        empty_label="Je préfère ne pas répondre",
        to_field_name="code_insee",
        error_messages={"invalid_choice": "Choisissez une commune dans la liste, ou « Je préfère ne pas répondre »."},
    )
    tranche_age = forms.ChoiceField(
        choices=[("", "Je préfère ne pas répondre"), *TRANCHES_AGE],
        required=False,
        label="Tranche d'âge",
        error_messages={"invalid_choice": "Choisissez une tranche d'âge dans la liste."},
    )
    site_web = forms.CharField(
        label="Ne pas remplir",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    contact_fields = ("email", "telephone")
    optional_fields = ("commune", "tranche_age")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commune"].queryset = communes_territoire().order_by("nom")

    def clean_telephone(self):
        return _clean_phone(self.cleaned_data.get("telephone"))

    def clean(self):
        data = super().clean()
        if data.get(self.HONEYPOT):
            # A robot, or a browser that filled in a field no one sees: nothing is written, and the person (if it
            # is one) sends the form again (the hidden field comes back empty).
            raise ValidationError(
                "Votre inscription n'a pas pu être envoyée. Vérifiez vos informations et envoyez le formulaire "
                "à nouveau.",
                code="honeypot",
            )
        if "email" in data and "telephone" in data and not data["email"] and not data["telephone"]:
            self.add_error("email", "Indiquez une adresse e-mail ou un numéro de téléphone pour être prévenu(e).")
        return data

    @property
    def is_spam(self):
        return any(error.code == "honeypot" for error in self.non_field_errors().as_data())

    def contact_bound_fields(self):
        return [self[name] for name in self.contact_fields]

    def optional_bound_fields(self):
        return [self[name] for name in self.optional_fields]

    def service_data(self):
        data = {name: self.cleaned_data.get(name) for name in ("prenom", "nom", "email", "telephone")}
        data["consentement"] = self.cleaned_data["consentement"]
        data["commune"] = self.cleaned_data.get("commune")
        data["tranche_age"] = self.cleaned_data.get("tranche_age") or ""
        return data
