"""Forms of the Pass numérique pages. They only read the input: the services check every rule, and their
ValidationError is put back on the form (``structures.forms.add_service_error``)."""

import datetime
import re
import uuid

from django import forms
from django.utils import timezone

from financements.forms import MoneyField
from financements.models import Financeur

from .models import CategoriePass, PassNumerique
from .services.pass_numerique import MAX_PASS_PAR_COMMANDE, TAILLES_CARNET, lieu_de_seance

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


def date_field(label, **kwargs):
    kwargs.setdefault("error_messages", {"invalid": "Saisissez une date valide, par exemple 31/01/2026."})
    return forms.DateField(
        label=label,
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        **kwargs,
    )


class UuidChoiceField(forms.ModelChoiceField):
    """A choice posted by its public identifier: a malformed one gets the same message as an unknown one."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("to_field_name", "uuid")
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if value not in self.empty_values and not isinstance(value, uuid.UUID):
            try:
                uuid.UUID(str(value))
            except ValueError:
                raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice") from None
        return super().to_python(value)


class CommandeForm(forms.Form):
    financeur = UuidChoiceField(
        label="Financeur",
        queryset=Financeur.objects.order_by("nom"),
        empty_label="Choisissez",
        error_messages={
            "required": "Choisissez le financeur de la commande.",
            "invalid_choice": "Ce financeur n'est pas dans la liste.",
        },
    )
    reference = forms.CharField(
        label="Référence de la commande",
        max_length=100,
        required=False,
        help_text="Par exemple le numéro du bon de commande.",
        error_messages={"max_length": "La référence compte au plus 100 caractères."},
    )
    date_commande = date_field("Date de commande", error_messages={"required": "Indiquez la date de commande."})
    nombre = forms.IntegerField(
        label="Nombre de pass",
        min_value=1,
        max_value=MAX_PASS_PAR_COMMANDE,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": "Indiquez le nombre de pass commandés.",
            "invalid": "Le nombre de pass est un nombre entier, par exemple 100.",
            "min_value": "Une commande compte au moins un pass.",
            "max_value": f"Une commande compte au plus {MAX_PASS_PAR_COMMANDE} pass.",
        },
    )
    valeur_faciale = MoneyField(label="Valeur d'un pass (€)", help_text="Par exemple 10,00.")
    taille_carnet = forms.TypedChoiceField(
        label="Pass par carnet",
        choices=[(size, f"{size} pass") for size in TAILLES_CARNET],
        coerce=int,
        initial=10,
        error_messages={"invalid_choice": "Un carnet compte 10 ou 5 pass.", "required": "Choisissez la taille."},
    )
    annee = forms.IntegerField(
        label="Année de validité",
        required=False,
        help_text="Les pass sont valables jusqu'au 31/12 de cette année et acceptés jusqu'au 31/01 suivant. "
        "Par défaut : l'année de la commande.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"invalid": "L'année s'écrit sur quatre chiffres, par exemple 2026."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["valeur_faciale"].error_messages.update(
            {
                "required": "Indiquez la valeur d'un pass.",
                "max_digits": "La valeur d'un pass est trop grande.",
                "max_whole_digits": "La valeur d'un pass est trop grande.",
            }
        )


class AttributionForm(forms.Form):
    distributeur = UuidChoiceField(
        label="Structure distributrice",
        queryset=None,
        empty_label="Choisissez",
        error_messages={
            "required": "Choisissez la structure distributrice.",
            "invalid_choice": "Cette structure n'est pas une structure distributrice.",
        },
    )
    carnets = forms.ModelMultipleChoiceField(
        label="Carnets à lui confier",
        queryset=None,
        to_field_name="uuid",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choisissez au moins un carnet.",
            "invalid_choice": "Un des carnets choisis n'est plus disponible.",
            "invalid_pk_value": "Un des carnets choisis n'existe pas.",
        },
    )

    def __init__(self, *args, distributeurs, carnets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["distributeur"].queryset = distributeurs
        self.fields["carnets"].queryset = carnets
        self.fields["carnets"].label_from_instance = lambda carnet: (
            f"{carnet.numero} (confié à {carnet.distributeur.nom})" if carnet.distributeur_id else carnet.numero
        )


class RemiseForm(forms.Form):
    distributeur = UuidChoiceField(
        label="Structure distributrice",
        queryset=None,
        empty_label="Choisissez",
        error_messages={
            "required": "Choisissez la structure distributrice qui remet le carnet.",
            "invalid_choice": "Cette structure n'est pas une structure distributrice.",
        },
    )
    categorie = forms.ChoiceField(
        label="Public",
        choices=[("", "Choisissez"), *CategoriePass.choices],
        help_text="Seuls le public et la date sont conservés, jamais le nom de la personne.",
        error_messages={
            "required": "Choisissez le public : demandeur d'emploi ou senior.",
            "invalid_choice": "Choisissez le public : demandeur d'emploi ou senior.",
        },
    )
    date = date_field("Date de remise", error_messages={"required": "Indiquez la date de remise."})

    def __init__(self, *args, distributeurs=None, **kwargs):
        super().__init__(*args, **kwargs)
        if distributeurs is None:
            del self.fields["distributeur"]
        else:
            self.fields["distributeur"].queryset = distributeurs


def normalise_numero(value):
    return re.sub(r"\s+", "", value or "").upper()


def numero_field():
    return forms.CharField(
        label="Numéro du pass",
        max_length=60,
        help_text="Tel qu'imprimé sur le pass, par exemple 2026-AG2R-001-03.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={
            "required": "Indiquez le numéro du pass.",
            "max_length": "Un numéro de pass compte au plus 60 caractères.",
        },
    )


class PassNumeroMixin:
    def clean_numero(self):
        numero = normalise_numero(self.cleaned_data["numero"])
        self.pass_numerique = PassNumerique.objects.filter(numero=numero).first()
        if self.pass_numerique is None:
            raise forms.ValidationError("Aucun pass ne porte ce numéro : vérifiez-le.")
        return numero


class UtilisationForm(PassNumeroMixin, forms.Form):
    numero = numero_field()
    inscription = UuidChoiceField(
        label="Inscription réglée avec ce pass",
        queryset=None,
        empty_label="Choisissez",
        help_text="Inscriptions confirmées, sans pass, aux formations payables en Pass numérique de vos lieux "
        "qualifiés (séances des trois derniers mois et du mois à venir).",
        error_messages={
            "required": "Choisissez l'inscription réglée avec ce pass.",
            "invalid_choice": "Cette inscription n'est pas dans la liste (elle a peut-être déjà son pass).",
        },
    )
    date = date_field("Date d'utilisation", error_messages={"required": "Indiquez la date d'utilisation."})

    def __init__(self, *args, inscriptions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inscription"].queryset = inscriptions
        self.fields["inscription"].label_from_instance = self.inscription_label

    @staticmethod
    def inscription_label(inscription):
        seance = inscription.seance
        lieu = lieu_de_seance(seance)
        when = timezone.localtime(seance.debut)
        return (
            f"{inscription.prenom} {inscription.nom} — {seance.atelier.titre}, le {when:%d/%m/%Y} "
            f"à {lieu.nom if lieu else '?'}"
        )


class MoisField(forms.Field):
    """A month typed « 2026-03 » (the browser's month picker) or « 03/2026 »; cleaned to its first day."""

    widget = forms.TextInput
    default_error_messages = {"invalid": "Saisissez un mois, par exemple 2026-03."}

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"type": "month", "placeholder": "AAAA-MM", "maxlength": "7"})
        return attrs

    def to_python(self, value):
        value = str(value).strip() if value not in self.empty_values else ""
        if not value:
            return None
        match = re.fullmatch(r"(\d{4})-(\d{1,2})", value) or re.fullmatch(r"(\d{1,2})/(\d{4})", value)
        if match is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        first, second = match.groups()
        year, month = (int(first), int(second)) if len(first) == 4 else (int(second), int(first))
        if not 1 <= month <= 12 or year < 2000:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return datetime.date(year, month, 1)

    def prepare_value(self, value):
        if isinstance(value, datetime.date):
            return f"{value:%Y-%m}"
        return value


class RemboursementForm(forms.Form):
    lieu = UuidChoiceField(
        label="Lieu qualifié",
        queryset=None,
        empty_label="Choisissez",
        error_messages={
            "required": "Choisissez le lieu à rembourser.",
            "invalid_choice": "Ce lieu n'a aucun pass à rembourser.",
        },
    )
    mois = MoisField(
        label="Mois d'utilisation des pass",
        help_text="Au format AAAA-MM, par exemple 2026-03.",
        error_messages={"required": "Indiquez le mois à rembourser."},
    )
    date = date_field("Date du remboursement", error_messages={"required": "Indiquez la date du remboursement."})

    def __init__(self, *args, lieux, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lieu"].queryset = lieux
        self.fields["lieu"].label_from_instance = lambda lieu: f"{lieu.nom} ({lieu.structure.nom})"


class AnnulationForm(PassNumeroMixin, forms.Form):
    numero = numero_field()
    motif = forms.CharField(
        label="Motif",
        max_length=100,
        required=False,
        help_text="Par exemple : carnet perdu, pass abîmé.",
        error_messages={"max_length": "Le motif compte au plus 100 caractères."},
    )
