"""Forms of the referrals (orientations). They only validate input: views hand ``cleaned_data`` to
``aidants.services_orientations`` and put its ValidationError back on the form. Every choice is looked up by a code
or a UUID (never a raw integer key), so that garbage is an invalid choice, never a database error."""

from django import forms
from django.utils import timezone

from accompagnements import choices as c
from accompagnements.forms import LieuChoiceField
from ateliers.selectors import seances_publiques
from structures.forms import CommuneChoiceField, PhoneField

from . import selectors_orientations as sel
from .models import Aidant, ContactPrefere, StatutOrientation, Urgence

MAX_SEANCES = 60
COVERAGE_HELP = (
    "Laissez « choix automatique » : l'orientation va au conseiller qui a le plus souvent accompagné des personnes "
    "dans cette commune ces 6 derniers mois (à défaut, à un conseiller employé dans la commune)."
)


def _duree_label(minutes):
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


class _ByUuid:
    """A choice by UUID: anything that is not one is an invalid choice, said with the field's own message."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError as error:
            if error.code == "invalid_choice":
                raise
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice") from None


class _ByUuidChoiceField(_ByUuid, forms.ModelChoiceField):
    pass


class LieuParUuidField(_ByUuid, LieuChoiceField):
    pass


class ConseillerChoiceField(_ByUuidChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.prenom} {obj.nom}"


class SeanceChoiceField(_ByUuidChoiceField):
    def label_from_instance(self, obj):
        debut = timezone.localtime(obj.debut)
        where = obj.lieu.commune.nom if obj.lieu_id else (obj.arret.commune.nom if obj.arret_id else "")
        return f"{obj.atelier.titre} — {debut:%d/%m/%Y à %Hh%M}{f' — {where}' if where else ''}"


class AidantChoiceField(_ByUuidChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.prenom} {obj.nom} — {obj.structure.nom}"


INVALID = "Choisissez une valeur de la liste."


class OrientationForm(forms.Form):
    """'Orienter une personne': the need, where the person lives, how to reach them, their consent, and where the
    referral goes. Phone first: one column, large choices, the optional fields last."""

    thematiques = forms.MultipleChoiceField(
        label="Besoin de la personne",
        choices=c.THEMATIQUES_GENERALES,
        widget=forms.CheckboxSelectMultiple,
        help_text="Cochez un ou plusieurs besoins.",
        error_messages={"required": "Choisissez au moins un besoin.", "invalid_choice": INVALID},
    )
    precision = forms.CharField(
        label="Précision",
        required=False,
        max_length=280,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Facultatif, 280 caractères au plus, sans information sensible (santé, situation familiale…).",
        error_messages={"max_length": "La précision compte au plus 280 caractères."},
    )
    commune = CommuneChoiceField(
        label="Commune où habite la personne",
        to_field_name="code_insee",
        error_messages={
            "required": "Choisissez la commune de la personne.",
            "invalid_choice": "Cette commune n'existe pas dans le référentiel de la plateforme.",
        },
    )
    prenom = forms.CharField(
        label="Prénom de la personne",
        max_length=150,
        help_text="Le prénom suffit : le nom n'est pas demandé.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": "Indiquez le prénom de la personne."},
    )
    contact_prefere = forms.ChoiceField(
        label="Comment la joindre ?",
        choices=ContactPrefere.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez comment joindre la personne.", "invalid_choice": INVALID},
    )
    telephone = PhoneField(label="Téléphone de la personne", widget=forms.TextInput(attrs={"type": "tel"}))
    email = forms.EmailField(
        label="E-mail de la personne",
        required=False,
        max_length=254,
        error_messages={"invalid": "Saisissez une adresse e-mail valide."},
    )
    urgence = forms.ChoiceField(
        label="Urgence",
        choices=Urgence.choices,
        initial=Urgence.NORMALE,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez l'urgence.", "invalid_choice": INVALID},
    )
    conseiller = ConseillerChoiceField(
        sel.conseillers_destinataires(),
        label="Conseiller numérique",
        required=False,
        to_field_name="uuid",
        empty_label="Choix automatique : le conseiller qui intervient dans la commune",
        help_text=COVERAGE_HELP,
        error_messages={"invalid_choice": "Ce conseiller ne reçoit pas d'orientation : choisissez-en un autre."},
    )
    seance = SeanceChoiceField(
        seances_publiques(),
        label="Proposer une séance d'atelier",
        required=False,
        to_field_name="uuid",
        empty_label="Pas de séance",
        help_text="Facultatif : une séance publique à venir qui répond au besoin.",
        error_messages={"invalid_choice": "Cette séance n'est plus proposée : choisissez une séance à venir."},
    )
    consentement = forms.BooleanField(
        label="La personne est d'accord pour que ses coordonnées soient transmises à un conseiller numérique",
        help_text="Elles sont effacées 12 mois après la clôture de l'orientation.",
        error_messages={"required": "Recueillez l'accord de la personne avant de transmettre ses coordonnées."},
    )

    def __init__(self, *args, with_aidant=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["conseiller"].queryset = sel.conseillers_destinataires()
        self.fields["seance"].queryset = self.seances()
        if with_aidant:
            self.fields["aidant"] = AidantChoiceField(
                Aidant.objects.filter(actif=True).select_related("structure").order_by("nom", "prenom"),
                label="Aidant qui oriente",
                to_field_name="uuid",
                empty_label="Choisissez l'aidant",
                help_text="Vous orientez au nom de cet aidant : il verra la suite donnée.",
                error_messages={"required": "Choisissez l'aidant.", "invalid_choice": "Choisissez un aidant actif."},
            )
            self.order_fields(["aidant"])

    @staticmethod
    def seances():
        # The next sessions only: a long select is unusable on a phone.
        ids = list(seances_publiques().values_list("pk", flat=True)[:MAX_SEANCES])
        return (
            seances_publiques()
            .filter(pk__in=ids)
            .select_related("atelier", "lieu__commune", "arret__commune")
            .order_by("debut", "pk")
        )

    def service_kwargs(self):
        data = self.cleaned_data
        kwargs = {
            name: data.get(name)
            for name in (
                "thematiques",
                "precision",
                "commune",
                "prenom",
                "contact_prefere",
                "telephone",
                "email",
                "urgence",
                "conseiller",
                "seance",
            )
        }
        kwargs["consentement"] = bool(data.get("consentement"))
        if "aidant" in self.fields:
            kwargs["aidant"] = data.get("aidant")
        return kwargs


DUREE_CHOICES = [(str(m), _duree_label(m)) for m in c.DUREES_RAPIDES]


class ClotureForm(forms.Form):
    """Close as done: the activity recorded in the conseiller's log in the same step."""

    duree = forms.TypedChoiceField(
        label="Durée de l'accompagnement",
        choices=DUREE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez la durée.", "invalid_choice": "Choisissez une durée de la liste."},
    )
    type_lieu = forms.ChoiceField(
        label="Où ?",
        choices=c.TYPE_LIEU,
        widget=forms.RadioSelect,
        error_messages={"required": "Indiquez où l'accompagnement a eu lieu.", "invalid_choice": INVALID},
    )
    lieu = LieuParUuidField(
        label="Lieu d'activité",
        required=False,
        to_field_name="uuid",
        empty_label="Choisissez un lieu",
        help_text="Si l'accompagnement a eu lieu dans un lieu d'activité.",
        error_messages={"invalid_choice": "Ce lieu n'existe pas ou n'est plus publié."},
    )
    commune = CommuneChoiceField(
        label="Commune",
        required=False,
        to_field_name="code_insee",
        empty_label="La commune de la personne",
        help_text="Pour un accompagnement à domicile ou ailleurs ; par défaut, la commune de la personne.",
    )
    resultat = forms.CharField(
        label="Suite donnée, pour l'aidant",
        required=False,
        max_length=280,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Ce que l'aidant lira, sans détail personnel. Facultatif.",
        error_messages={"max_length": "Ce texte compte au plus 280 caractères."},
    )

    def __init__(self, *args, own_structures=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lieu"].own_structures = own_structures


class ReorientationForm(forms.Form):
    motif = forms.CharField(
        label="Vers qui ou quoi, et pourquoi",
        max_length=280,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Ce que l'aidant lira, sans détail personnel. Par exemple : « Orientée vers France services ».",
        error_messages={
            "required": "Indiquez vers qui ou quoi la personne est réorientée, et pourquoi.",
            "max_length": "Ce texte compte au plus 280 caractères.",
        },
    )


class StatutFilterForm(forms.Form):
    statut = forms.ChoiceField(
        label="Statut",
        required=False,
        choices=[("", "Tous les statuts"), ("ouvertes", "En cours"), *StatutOrientation.choices],
        error_messages={"invalid_choice": "Choisissez un statut de la liste."},
    )

    def statut_value(self):
        return self.cleaned_data.get("statut", "") if self.is_valid() else ""
