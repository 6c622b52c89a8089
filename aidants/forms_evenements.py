"""Forms of the network's events and of the coordination log. They only validate input: the views hand
``cleaned_data`` to ``aidants.services_evenements`` / ``aidants.services_coordination`` and put the services' errors
back on the form."""

import datetime

from django import forms
from django.utils import timezone

from accompagnements.choices import THEMATIQUES
from ateliers.forms import UuidChoiceField, lieu_label
from conseillers.forms import _FilterForm, date_field
from structures.models import Lieu, Structure

from .models import (
    EchelleTerritoriale,
    PublicEvenement,
    StatutParticipation,
    TypeCoordination,
    TypeEvenement,
    TypeFormationAidant,
)

PRESENCE_CHOICES = [("present", "Présent(e)"), ("absent", "Absent(e)")]


def _time_field(label, **kwargs):
    return forms.TimeField(
        label=label,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": "Saisissez une heure valide (hh:mm).", "required": "Indiquez l'heure."},
        **kwargs,
    )


def _choice(label, choices, *, required=True, blank="", invalid="Choisissez une valeur de la liste.", **kwargs):
    choices = list(choices)
    if blank:
        choices = [("", blank), *choices]
    return forms.ChoiceField(
        label=label,
        choices=choices,
        required=required,
        error_messages={"invalid_choice": invalid, "required": invalid},
        **kwargs,
    )


class EvenementForm(forms.Form):
    type = _choice("Type", TypeEvenement.choices, blank="Choisissez un type")
    titre = forms.CharField(
        label="Titre", max_length=200, error_messages={"required": "Indiquez le titre de l'événement."}
    )
    description = forms.CharField(label="Description", required=False, max_length=5000, widget=forms.Textarea)
    date = date_field("Date")
    heure_debut = _time_field("Heure de début")
    date_fin = date_field("Date de fin", required=False, help_text="Si l'événement dure plusieurs jours.")
    heure_fin = _time_field("Heure de fin")
    lieu = UuidChoiceField(
        None,
        label="Lieu du réseau",
        required=False,
        label_of=lieu_label,
        empty_label="Aucun",
        invalid="Ce lieu n'existe pas.",
    )
    adresse = forms.CharField(label="Ou adresse", required=False, max_length=255)
    lien = forms.URLField(
        label="Lien de connexion",
        required=False,
        max_length=200,
        help_text="Pour un webinaire ou un événement à distance (adresse commençant par https://).",
        error_messages={"invalid": "Saisissez une adresse web valide, commençant par https://."},
        assume_scheme="https",
    )
    public = _choice("Public", PublicEvenement.choices, initial=PublicEvenement.RESEAU)
    capacite = forms.IntegerField(
        label="Nombre de places",
        required=False,
        min_value=1,
        max_value=5000,
        help_text="Laissez vide pour un nombre de places illimité.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"invalid": "Saisissez un nombre entier.", "min_value": "Au moins une place."},
    )
    formation = _choice(
        "Formation au dossier des aidants",
        TypeFormationAidant.choices,
        required=False,
        blank="Aucune",
        help_text="Une formation suivie s'ajoute au dossier de chaque aidant présent, à la clôture des présences.",
    )
    heures = forms.DecimalField(
        label="Durée de la formation (heures)",
        required=False,
        min_value=0.5,
        max_value=500,
        max_digits=5,
        decimal_places=1,
        help_text="7 ou 14 h par défaut pour Aidants Connect.",
        error_messages={"invalid": "Saisissez un nombre d'heures (par exemple 3,5)."},
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.5"}),
    )

    def __init__(self, *args, evenement=None, **kwargs):
        if evenement is not None and not kwargs.get("initial"):
            debut, fin = timezone.localtime(evenement.debut), timezone.localtime(evenement.fin)
            kwargs["initial"] = {
                "type": evenement.type,
                "titre": evenement.titre,
                "description": evenement.description,
                "date": debut.date(),
                "heure_debut": debut.time(),
                "date_fin": fin.date() if fin.date() != debut.date() else None,
                "heure_fin": fin.time(),
                "lieu": evenement.lieu.uuid if evenement.lieu_id else None,
                "adresse": evenement.adresse,
                "lien": evenement.lien,
                "public": evenement.public,
                "capacite": evenement.capacite,
                "formation": evenement.formation,
                "heures": evenement.heures,
            }
        super().__init__(*args, **kwargs)
        self.fields["lieu"].queryset = Lieu.objects.select_related("commune").order_by("nom", "pk")

    def service_fields(self):
        data = dict(self.cleaned_data)
        date, date_fin = data.pop("date"), data.pop("date_fin") or None
        heure_debut, heure_fin = data.pop("heure_debut"), data.pop("heure_fin")
        tz = timezone.get_current_timezone()
        data["debut"] = datetime.datetime.combine(date, heure_debut, tzinfo=tz)
        data["fin"] = datetime.datetime.combine(date_fin or date, heure_fin, tzinfo=tz)
        return data


class ReponseForm(forms.Form):
    reponse = _choice(
        "Votre réponse",
        [(StatutParticipation.INSCRIT, "Je viens"), (StatutParticipation.DECLINE, "Je ne viens pas")],
        invalid="Répondez « je viens » ou « je ne viens pas ».",
    )


class PresencesForm(forms.Form):
    """One « présent / absent » choice per invited person (fields ``presence_<uuid>``)."""

    def __init__(self, *args, participations, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for participation in participations:
            name = f"presence_{participation.uuid}"
            person = participation.aidant or participation.user
            structure = f" — {participation.aidant.structure.nom}" if participation.aidant_id else ""
            initial = {True: "present", False: "absent"}.get(participation.present)
            self.fields[name] = forms.ChoiceField(
                label=f"{person}{structure}",
                help_text=f"Réponse : {participation.get_statut_display()}.",
                choices=PRESENCE_CHOICES,
                widget=forms.RadioSelect,
                required=False,
                initial=initial,
                error_messages={"invalid_choice": "Choisissez présent(e) ou absent(e)."},
            )
            self.rows.append((participation, name))

    def bound_rows(self):
        return [(participation, self[name]) for participation, name in self.rows]

    def presences(self):
        return {
            str(participation.uuid): self.cleaned_data[name] == "present"
            for participation, name in self.rows
            if self.cleaned_data.get(name)
        }


# --- Coordination log ----------------------------------------------------------------------------------------------
class CoordinationForm(forms.Form):
    type = forms.ChoiceField(
        label="Type d'activité",
        choices=TypeCoordination.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choisissez le type d'activité.",
            "invalid_choice": "Choisissez animation, événement ou partenariat.",
        },
    )
    intitule = forms.CharField(label="Intitulé", max_length=200, error_messages={"required": "Indiquez l'intitulé."})
    date = date_field("Date")
    duree = forms.IntegerField(
        label="Durée (minutes)",
        required=False,
        min_value=1,
        max_value=1440,
        help_text="Animation : obligatoire. Événement : facultative.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "invalid": "Saisissez un nombre de minutes.",
            "min_value": "Au moins 1 minute.",
            "max_value": "Au plus 24 heures (1 440 minutes).",
        },
    )
    participants = forms.IntegerField(
        label="Nombre de participants",
        required=False,
        min_value=1,
        max_value=100_000,
        help_text="Animation et événement : obligatoire.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"invalid": "Saisissez un nombre entier.", "min_value": "Au moins 1 participant."},
    )
    thematiques = forms.MultipleChoiceField(
        label="Thématiques",
        required=False,
        choices=THEMATIQUES,
        widget=forms.CheckboxSelectMultiple,
        help_text="Animation : au moins une.",
        error_messages={"invalid_choice": "Choisissez les thématiques dans la liste nationale."},
    )
    echelle = _choice(
        "Échelle territoriale",
        EchelleTerritoriale.choices,
        required=False,
        blank="Choisissez une échelle",
        help_text="Événement et partenariat : obligatoire.",
    )
    structures_partenaires = forms.ModelMultipleChoiceField(
        Structure.objects.none(),
        label="Structures partenaires",
        required=False,
        to_field_name="uuid",
        help_text="Partenariat : au moins une. Maintenez Ctrl (ou Cmd) pour en choisir plusieurs.",
        error_messages={
            "invalid_choice": "Choisissez des structures du réseau.",
            "invalid_pk_value": "Choisissez des structures du réseau.",
            "invalid_list": "Choisissez des structures du réseau.",
        },
    )
    notes = forms.CharField(label="Notes", required=False, max_length=5000, widget=forms.Textarea)

    def __init__(self, *args, activite=None, **kwargs):
        if activite is not None and not kwargs.get("initial"):
            kwargs["initial"] = {
                "type": activite.type,
                "intitule": activite.intitule,
                "date": activite.date,
                "duree": activite.duree,
                "participants": activite.participants,
                "thematiques": activite.thematiques,
                "echelle": activite.echelle,
                "structures_partenaires": [s.uuid for s in activite.structures_partenaires.all()],
                "notes": activite.notes,
            }
        super().__init__(*args, **kwargs)
        self.fields["structures_partenaires"].queryset = Structure.objects.order_by("nom")
        self.fields["structures_partenaires"].widget.attrs["size"] = 8

    def service_fields(self):
        data = dict(self.cleaned_data)
        data["structures_partenaires"] = list(data["structures_partenaires"])
        return data


class CoordinationFilterForm(_FilterForm):
    type = _choice("Type", TypeCoordination.choices, required=False, blank="Tous les types")
    du = date_field("Du", required=False)
    au = date_field("Au", required=False)
    tous = forms.BooleanField(label="Toute l'équipe", required=False, help_text="Sinon, vos activités seulement.")

    def clean(self):
        data = super().clean()
        if data.get("du") and data.get("au") and data["du"] > data["au"]:
            self.add_error("au", "La fin de la période doit suivre son début.")
            data.pop("au", None)
        return data
