"""Back-office forms of the funding. Forms only read the input: the views hand ``cleaned_data`` to the services, which
check every money rule (negative amounts, instalments outside the financing period, overpayments…) and whose
ValidationError is put back on the form by ``structures.forms.add_service_error``."""

import datetime
import re

from django import forms
from django.db.models import Q
from django.utils import timezone

from conseillers.models import Poste
from structures.models import Structure

from . import choices, services
from .models import Bareme, Financeur

DATE_WIDGET = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


def _date_field(label, **kwargs):
    kwargs.setdefault("error_messages", {"invalid": "Saisissez une date valide, par exemple 31/12/2025."})
    return forms.DateField(label=label, input_formats=["%Y-%m-%d", "%d/%m/%Y"], **DATE_WIDGET, **kwargs)


class MoneyField(forms.DecimalField):
    """An amount in euros as people type it: « 12 500,50 », « 12500.50 » or « 12 500 € ». Its sign is checked by the
    service, so that a negative amount gets the same French message everywhere."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        kwargs.setdefault(
            "error_messages",
            {
                "invalid": "Saisissez un montant en euros, par exemple 12 500,50.",
                "max_decimal_places": "Un montant s'exprime en euros et centimes (deux décimales au plus).",
            },
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = re.sub(r"[\s\u00a0\u202f€]", "", value).replace(",", ".")
        return super().to_python(value)


class SectionsMixin:
    """Fields grouped under titled sections for ``includes/form_sections.html``."""

    section_fields = ()

    def sections(self):
        return [(title, [self[name] for name in names if name in self.fields]) for title, names in self.section_fields]


# --- Overview and list filters -------------------------------------------------------------------------------------
def _current_year():
    today = timezone.localdate()
    return datetime.date(today.year, 1, 1), datetime.date(today.year, 12, 31)


class OverviewForm(forms.Form):
    """The date of the figures and the period of the employer's remaining cost (GET). Invalid values are reported
    on their field and replaced by the defaults."""

    on_date = _date_field("À la date du", required=False, help_text="Les montants versés et en retard à cette date.")
    start = _date_field("Coût employeur : du", required=False)
    end = _date_field("Coût employeur : au", required=False)
    structure = forms.ModelChoiceField(
        label="Structure employeuse",
        queryset=Structure.objects.none(),
        required=False,
        to_field_name="uuid",
        empty_label="Tout le territoire",
        error_messages={"invalid_choice": "Cette structure n'est pas dans la liste."},
    )

    def __init__(self, *args, structures=None, territory_choice=True, **kwargs):
        super().__init__(*args, **kwargs)
        if structures is None:
            del self.fields["structure"]
        else:
            self.fields["structure"].queryset = structures
            if not territory_choice:
                self.fields["structure"].empty_label = None

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", "La fin de la période doit suivre son début.")
        return cleaned

    def values(self):
        """(on_date, start, end, structure or None) with the defaults: today and the current calendar year."""
        data = {}
        if self.is_bound:
            self.is_valid()
            data = self.cleaned_data  # the valid fields only
        default_start, default_end = _current_year()
        start, end = data.get("start") or default_start, data.get("end") or default_end
        if end < start:
            start, end = default_start, default_end
        return data.get("on_date") or timezone.localdate(), start, end, data.get("structure")


class ConventionFilterForm(forms.Form):
    financeur = forms.ModelChoiceField(
        label="Financeur",
        queryset=Financeur.objects.none(),
        required=False,
        to_field_name="uuid",
        empty_label="Tous les financeurs",
    )
    structure = forms.ModelChoiceField(
        label="Structure bénéficiaire",
        queryset=Structure.objects.none(),
        required=False,
        to_field_name="uuid",
        empty_label="Toutes les structures",
    )
    enveloppe = forms.ChoiceField(
        label="Enveloppe", required=False, choices=[("", "Toutes les enveloppes"), *choices.Enveloppe.choices]
    )
    statut = forms.ChoiceField(
        label="Statut", required=False, choices=[("", "Tous les statuts"), *choices.StatutConvention.choices]
    )

    def __init__(self, *args, conventions, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the funders and structures of the agreements the user can see.
        visible = conventions.values("pk")
        self.fields["financeur"].queryset = Financeur.objects.filter(conventions__in=visible).distinct()
        self.fields["structure"].queryset = Structure.objects.filter(conventions__in=visible).distinct().order_by("nom")

    def filters(self):
        """The valid filters (an invalid one is ignored, and shown as an error on its field)."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}


# --- Funders -------------------------------------------------------------------------------------------------------
class FinanceurForm(forms.Form):
    nom = forms.CharField(label="Nom", max_length=255)
    type = forms.ChoiceField(label="Type", choices=[("", "Choisissez"), *choices.TypeFinanceur.choices])
    structure = forms.ModelChoiceField(
        label="Structure du financeur sur la plateforme",
        queryset=Structure.objects.order_by("nom"),
        required=False,
        to_field_name="uuid",
        empty_label="Aucune",
        help_text="Facultatif : les membres « financeur » de cette structure liront les conventions de ce financeur.",
    )


# --- Agreements ----------------------------------------------------------------------------------------------------
class ConventionForm(SectionsMixin, forms.Form):
    financeur = forms.ModelChoiceField(
        label="Financeur", queryset=Financeur.objects.all(), to_field_name="uuid", empty_label="Choisissez"
    )
    structure = forms.ModelChoiceField(
        label="Structure bénéficiaire",
        queryset=Structure.objects.order_by("nom"),
        to_field_name="uuid",
        empty_label="Choisissez",
    )
    enveloppe = forms.ChoiceField(label="Enveloppe", choices=[("", "Choisissez"), *choices.Enveloppe.choices])
    phase = forms.TypedChoiceField(
        label="Phase",
        choices=[("", "Non précisée"), ("1", "Phase 1"), ("2", "Phase 2")],
        coerce=int,
        empty_value=None,
        required=False,
    )
    reference = forms.CharField(label="Référence", max_length=100, required=False)
    date_debut = _date_field("Début de la convention")
    date_fin = _date_field("Fin de la convention")
    date_debut_financement = _date_field("Début du financement")
    date_fin_financement = _date_field(
        "Fin du financement", help_text="Aucune échéance ne peut être prévue après cette date."
    )

    section_fields = (
        ("Parties", ["financeur", "structure", "enveloppe", "phase", "reference"]),
        ("Dates", ["date_debut", "date_fin", "date_debut_financement", "date_fin_financement"]),
    )

    @classmethod
    def initial_from(cls, convention):
        return {
            "financeur": convention.financeur,
            "structure": convention.structure,
            "enveloppe": convention.enveloppe,
            "phase": convention.phase,
            "reference": convention.reference,
            "date_debut": convention.date_debut,
            "date_fin": convention.date_fin,
            "date_debut_financement": convention.date_debut_financement,
            "date_fin_financement": convention.date_fin_financement,
        }

    def service_fields(self):
        return {name: self.cleaned_data[name] for name in services.CONVENTION_EDITABLE_FIELDS}


class SignatureForm(forms.Form):
    prefix = "signature"
    date_signature = _date_field("Date de signature", initial=timezone.localdate)


class StatutForm(forms.Form):
    """Closing (soldée) or terminating (résiliée) a signed agreement; signing has its own form (it needs a date)."""

    prefix = "statut"

    def __init__(self, *args, current, **kwargs):
        super().__init__(*args, **kwargs)
        current = choices.StatutConvention(current)
        reachable = services.STATUT_TRANSITIONS[current] - {choices.StatutConvention.SIGNEE}
        allowed = [value for value in choices.StatutConvention if value in reachable]
        self.fields["statut"] = forms.ChoiceField(
            label="Nouveau statut",
            choices=[("", "Choisissez"), *((value.value, value.label) for value in allowed)],
            error_messages={
                "invalid_choice": f"Ce changement n'est pas possible depuis le statut « {current.label} ».",
                "required": "Choisissez le nouveau statut.",
            },
        )

    @property
    def has_choices(self):
        return len(self.fields["statut"].choices) > 1


# --- Lines, instalments, repayments --------------------------------------------------------------------------------
class PosteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, poste):
        return f"{poste.get_typologie_display()} — poste {str(poste.uuid)[:8]} ({poste.get_etat_display().lower()})"


def postes_of_structure(postes, structure):
    """The posts attached to the structure now or at some time (the service checks the financing period)."""
    return postes.filter(Q(structure=structure) | Q(rattachements__structure=structure)).distinct()


class LigneForm(forms.Form):
    poste = PosteChoiceField(
        label="Poste financé",
        queryset=Poste.objects.none(),
        empty_label="Choisissez",
        to_field_name="uuid",
        error_messages={"invalid_choice": "Ce poste n'est pas un poste de la structure bénéficiaire."},
    )
    bareme = forms.ModelChoiceField(
        label="Barème",
        queryset=Bareme.objects.none(),
        required=False,
        empty_label="Celui en vigueur au début de la convention",
        help_text="Utile seulement lorsque plusieurs barèmes s'appliquent (outre-mer).",
    )
    montant_base = MoneyField(
        label="Montant de base (€)",
        required=False,
        help_text="Laissez vide pour reprendre le montant du barème en vigueur au début de la convention (pour une "
        "convention V2, la somme des trois années). Obligatoire pour un cofinancement local.",
    )
    bonus_qpv_zrr = MoneyField(
        label="Bonification QPV/ZRR (€)",
        required=False,
        help_text="Laissez vide : reprise du barème si le montant de base est vide et la structure en QPV ou en ZRR, "
        "0 sinon.",
    )

    def __init__(self, *args, convention, postes, **kwargs):
        super().__init__(*args, **kwargs)
        structure = convention.structure
        self.fields["poste"].queryset = postes_of_structure(postes, structure).order_by("date_attribution", "pk")
        if convention.enveloppe == choices.Enveloppe.COFINANCEMENT:
            del self.fields["bareme"]
        else:
            self.fields["bareme"].queryset = Bareme.objects.filter(
                enveloppe=convention.enveloppe,
                secteur=structure.secteur,
                outre_mer=services.is_outre_mer(structure),
            ).order_by("annee", "-valide_du")


class VersementPlanForm(forms.Form):
    numero = forms.IntegerField(
        label="Numéro d'échéance",
        min_value=1,
        max_value=99,
        error_messages={"min_value": "Le numéro d'échéance commence à 1."},
    )
    date_prevue = _date_field("Date prévue")
    montant_prevu = MoneyField(label="Montant prévu (€)")


class VersementRecordForm(forms.Form):
    date_versement = _date_field("Date du versement", help_text="Elle ne peut pas être dans le futur.")
    montant_verse = MoneyField(
        label="Montant versé (€)", help_text="Le total versé sur la ligne ne peut pas dépasser le montant accordé."
    )


class AvoirForm(forms.Form):
    date = _date_field("Date de l'avoir")
    montant = MoneyField(
        label="Montant reversé (€)",
        help_text="Au plus ce qui a été versé sur la ligne, moins les avoirs déjà enregistrés.",
    )
    motif = forms.ChoiceField(label="Motif", choices=[("", "Choisissez"), *choices.MotifAvoir.choices])
    commentaire = forms.CharField(label="Commentaire", required=False, widget=forms.Textarea(attrs={"rows": 3}))
