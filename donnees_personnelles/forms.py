"""The search of a person: by e-mail address, by phone number, or by first and last names together (one of the three).
The same fields travel, hidden, to the export and erasure steps, which check them again."""

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from .models import TypeCritere, TypeDemande
from .selectors import Critere

CHECKED_AGAIN = "Le nombre d'enregistrements vérifiés est invalide : recommencez la recherche."
ONE_CRITERION = "Indiquez une adresse e-mail, un numéro de téléphone, ou un prénom et un nom : un seul de ces critères."


class RechercheForm(forms.Form):
    email = forms.CharField(
        label="Adresse e-mail",
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    telephone = forms.CharField(
        label="Numéro de téléphone",
        required=False,
        max_length=30,
        help_text="Par exemple 06 12 34 56 78 ou +33 6 12 34 56 78.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    prenom = forms.CharField(
        label="Prénom", required=False, max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    nom = forms.CharField(
        label="Nom", required=False, max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if email:
            try:
                validate_email(email)
            except ValidationError as error:
                raise ValidationError("Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.") from error
        return email

    def clean_telephone(self):
        telephone = self.cleaned_data["telephone"].strip()
        if telephone:
            digits = "".join(ch for ch in telephone if ch.isdigit())
            if any(ch not in "+0123456789 .-()" for ch in telephone) or not 9 <= len(digits) <= 15:
                raise ValidationError("Saisissez un numéro de téléphone valide, par exemple 06 12 34 56 78.")
        return telephone

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        email, telephone = data.get("email"), data.get("telephone")
        prenom, nom = " ".join(data.get("prenom", "").split()), " ".join(data.get("nom", "").split())
        given = [bool(email), bool(telephone), bool(prenom or nom)]
        if sum(given) != 1:
            raise ValidationError(ONE_CRITERION, code="one_criterion")
        if (prenom or nom) and not (prenom and nom):
            raise ValidationError("Pour chercher par nom, indiquez le prénom et le nom.", code="full_name")
        if email:
            data["critere"] = Critere(type=TypeCritere.EMAIL, email=email)
        elif telephone:
            data["critere"] = Critere(type=TypeCritere.TELEPHONE, telephone=telephone)
        else:
            data["critere"] = Critere(type=TypeCritere.NOM, prenom=prenom, nom=nom)
        return data


class ExportForm(RechercheForm):
    format = forms.ChoiceField(
        label="Format",
        choices=[(TypeDemande.EXPORT_JSON, "JSON"), (TypeDemande.EXPORT_CSV, "CSV")],
        widget=forms.HiddenInput,
        error_messages={
            "required": "Choisissez un export JSON ou CSV.",
            "invalid_choice": "Choisissez un export JSON ou CSV.",
        },
    )


class EffacementForm(RechercheForm):
    attendu = forms.IntegerField(
        min_value=1,
        max_value=1_000_000,
        required=False,
        widget=forms.HiddenInput,
        error_messages={
            "invalid": CHECKED_AGAIN,
            "min_value": CHECKED_AGAIN,
            "max_value": CHECKED_AGAIN,
        },
    )
    confirme = forms.BooleanField(required=False, widget=forms.HiddenInput)
