"""Back-office forms of the workshops: filters, a programme, a session (with its weekly repetition), a registration
by phone, a walk-in, a move, a cancellation and the attendance sheet. Forms only check the input's shape; the rules
live in ``ateliers.services``, whose French errors come back onto the form (``structures.forms.add_service_error``)."""

import datetime
import re
import uuid

from django import forms
from django.core.validators import MaxValueValidator
from django.utils import timezone

from accompagnements import choices as cra
from structures.forms import CommuneChoiceField

from . import selectors_gestion as selectors
from .models import Presence, Public
from .services.planning import CAPACITE_MAX, DUREE_MAX, DUREE_MIN, SERIE_MAX

PHONE_RE = re.compile(r"^\+?\d{6,15}$")


def _select_blank(label, choices):
    return [("", label), *choices]


class UuidChoiceField(forms.ModelChoiceField):
    """A choice of rows by their public identifier, labelled by ``label`` (a callable)."""

    def __init__(self, queryset, *, label_of=str, invalid="Choisissez une valeur de la liste.", **kwargs):
        self.label_of = label_of
        kwargs.setdefault("to_field_name", "uuid")
        kwargs["error_messages"] = {"invalid_choice": invalid, **kwargs.get("error_messages", {})}
        super().__init__(queryset=queryset, **kwargs)

    def to_python(self, value):
        if value not in self.empty_values:
            try:
                uuid.UUID(str(value))
            except ValueError:
                raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice") from None
        return super().to_python(value)

    def label_from_instance(self, obj):
        return self.label_of(obj)


def person_label(user):
    return user.get_full_name() or user.email


def lieu_label(lieu):
    return f"{lieu.nom} — {lieu.commune.nom}"


def arret_label(arret):
    return (
        f"{arret.lieu.nom} à {arret.commune.nom}, le {arret.date:%d/%m/%Y} de {arret.heure_debut:%H:%M} "
        f"à {arret.heure_fin:%H:%M} ({arret.emplacement})"
    )


def seance_label(seance):
    debut = timezone.localtime(seance.debut)
    place = seance.lieu.nom if seance.lieu_id else f"{seance.arret.commune.nom} (lieu itinérant)"
    free = max(seance.capacite - getattr(seance, "nb_confirmees", 0), 0)
    seats = f"{free} place{'s' if free > 1 else ''} libre{'s' if free > 1 else ''}" if free else "complète"
    return f"{debut:%d/%m/%Y à %H:%M} — {place} — {seats}"


# --- Filters -------------------------------------------------------------------------------------------------------
class GestionFilterForm(forms.Form):
    q = forms.CharField(
        label="Rechercher un atelier",
        required=False,
        max_length=100,
        help_text="Une partie du titre.",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    structure = UuidChoiceField(
        None, label="Structure organisatrice", required=False, label_of=lambda s: s.nom, empty_label="Toutes"
    )
    thematique = forms.ChoiceField(
        label="Thématique",
        required=False,
        choices=_select_blank("Toutes les thématiques", cra.THEMATIQUES_GENERALES),
        error_messages={"invalid_choice": "Thématique inconnue."},
    )
    public = forms.ChoiceField(
        label="Public",
        required=False,
        choices=_select_blank("Tous les publics", Public.choices),
        error_messages={"invalid_choice": "Public inconnu."},
    )
    periode = forms.ChoiceField(
        label="Séances",
        required=False,
        choices=selectors.Periode.CHOICES,
        error_messages={"invalid_choice": "Période inconnue."},
    )
    mes_seances = forms.BooleanField(label="Seulement les séances que j'anime", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = selectors.structures_for_filter(user)

    def filters(self):
        """The valid filters (an invalid one is ignored, and shown as an error on its field)."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        filters = {name: value for name, value in cleaned.items() if value not in (None, "", False)}
        filters.setdefault("periode", selectors.Periode.A_VENIR)
        return filters


# --- A programme ---------------------------------------------------------------------------------------------------
class AtelierForm(forms.Form):
    structure = UuidChoiceField(
        None,
        label="Structure organisatrice",
        label_of=lambda s: s.nom,
        empty_label="Choisissez une structure",
        invalid="Choisissez une de vos structures.",
        error_messages={"required": "Choisissez la structure organisatrice."},
    )
    titre = forms.CharField(label="Titre", max_length=200, error_messages={"required": "Donnez un titre à l'atelier."})
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Ce que l'on y apprend, ce qu'il faut apporter : affichée sur l'agenda public.",
    )
    thematiques = forms.MultipleChoiceField(
        label="Thématiques",
        choices=cra.THEMATIQUES_GENERALES,
        widget=forms.CheckboxSelectMultiple,
        help_text="Celles du compte rendu d'activité national : elles passent telles quelles au journal d'activité.",
        error_messages={"required": "Choisissez au moins une thématique.", "invalid_choice": "Thématique inconnue."},
    )
    thematiques_administratives = forms.MultipleChoiceField(
        label="Démarches administratives concernées",
        choices=cra.THEMATIQUES_ADMINISTRATIVES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Seulement avec « Aide aux démarches administratives ».",
        error_messages={"invalid_choice": "Thématique inconnue."},
    )
    niveau = forms.ChoiceField(
        label="Niveau",
        required=False,
        choices=[("", "Non précisé"), *cra.NIVEAU_ATELIER],
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Niveau inconnu."},
    )
    publics = forms.MultipleChoiceField(
        label="Publics",
        choices=Public.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choisissez au moins un public.", "invalid_choice": "Public inconnu."},
    )
    duree = forms.IntegerField(
        label="Durée d'une séance (minutes)",
        min_value=DUREE_MIN,
        max_value=DUREE_MAX,
        initial=120,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": "Indiquez la durée d'une séance.",
            "invalid": "Saisissez un nombre de minutes.",
            "min_value": f"Une séance dure de {DUREE_MIN} à {DUREE_MAX} minutes.",
            "max_value": f"Une séance dure de {DUREE_MIN} à {DUREE_MAX} minutes.",
        },
    )
    prevention = forms.BooleanField(label="Atelier de prévention", required=False)
    formation_pass = forms.BooleanField(
        label="Formation payable en Pass numérique",
        required=False,
        help_text="Une inscription peut être réglée en Pass numérique.",
    )
    actif = forms.BooleanField(
        label="Atelier actif",
        required=False,
        help_text="Un atelier inactif ne se propose plus pour de nouvelles séances.",
    )

    def __init__(self, *args, user, atelier=None, **kwargs):
        if atelier is not None:
            themes = list(atelier.thematiques)
            kwargs.setdefault(
                "initial",
                {
                    "titre": atelier.titre,
                    "description": atelier.description,
                    "thematiques": [t for t in themes if t not in cra.CODES_ADMINISTRATIFS],
                    "thematiques_administratives": [t for t in themes if t in cra.CODES_ADMINISTRATIFS],
                    "niveau": atelier.niveau,
                    "publics": list(atelier.publics),
                    "duree": atelier.duree,
                    "prevention": atelier.prevention,
                    "formation_pass": atelier.formation_pass,
                    "actif": atelier.actif,
                },
            )
        super().__init__(*args, **kwargs)
        if atelier is None:
            structures = selectors.structures_organisatrices(user)
            self.fields["structure"].queryset = structures
            del self.fields["actif"]
        else:
            del self.fields["structure"]

    def atelier_data(self):
        data = dict(self.cleaned_data)
        data.pop("structure", None)
        data["thematiques"] = list(data["thematiques"]) + list(data.pop("thematiques_administratives", []))
        return data


# --- A session -----------------------------------------------------------------------------------------------------
def _time_field(label, **kwargs):
    return forms.TimeField(
        label=label,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": "Saisissez une heure valide (hh:mm).", "required": "Indiquez l'heure."},
        **kwargs,
    )


class SeanceForm(forms.Form):
    date = forms.DateField(
        label="Date",
        widget=forms.DateInput(attrs={"type": "date", "max": "2100-12-31"}, format="%Y-%m-%d"),
        validators=[MaxValueValidator(datetime.date(2100, 12, 31), "Choisissez une date avant 2101.")],
        error_messages={"required": "Indiquez la date.", "invalid": "Saisissez une date valide (jj/mm/aaaa)."},
    )
    heure_debut = _time_field("Heure de début")
    heure_fin = _time_field("Heure de fin", required=False)
    lieu = UuidChoiceField(
        None,
        label="Lieu",
        required=False,
        label_of=lieu_label,
        empty_label="Aucun (séance à un arrêt du lieu itinérant)",
        invalid="Ce lieu n'existe pas ou n'est plus publié.",
    )
    arret = UuidChoiceField(
        None,
        label="Ou arrêt du lieu itinérant",
        required=False,
        label_of=arret_label,
        empty_label="Aucun",
        invalid="Cet arrêt n'existe pas ou est passé.",
        help_text="La séance a lieu le jour de l'arrêt.",
    )
    animateur = UuidChoiceField(
        None,
        label="Animateur ou animatrice",
        required=False,
        label_of=person_label,
        empty_label="À désigner",
        invalid="Choisissez une personne de la liste.",
        help_text="Un conseiller numérique ou un aidant. L'atelier rejoint le journal d'activité du conseiller à la "
        "clôture de l'appel.",
    )
    capacite = forms.IntegerField(
        label="Nombre de places",
        min_value=1,
        max_value=CAPACITE_MAX,
        initial=10,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": "Indiquez le nombre de places.",
            "invalid": "Saisissez un nombre de places.",
            "min_value": f"Une séance compte de 1 à {CAPACITE_MAX} places.",
            "max_value": f"Une séance compte de 1 à {CAPACITE_MAX} places.",
        },
    )
    publique = forms.BooleanField(
        label="Ouverte au public (inscription en ligne sur l'agenda)", required=False, initial=True
    )
    reservee_a = UuidChoiceField(
        None,
        label="Sinon, réservée au public de",
        required=False,
        label_of=lambda s: s.nom,
        empty_label="Choisissez une structure partenaire",
        invalid="Choisissez une structure de la liste.",
    )
    nombre = forms.IntegerField(
        label="Répéter chaque semaine : nombre de séances",
        min_value=1,
        max_value=SERIE_MAX,
        initial=1,
        help_text=f"1 pour une séance unique ; jusqu'à {SERIE_MAX} séances, chaque semaine le même jour à la même "
        "heure.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": "Indiquez le nombre de séances.",
            "invalid": "Saisissez un nombre de séances.",
            "min_value": f"Un cycle compte de 1 à {SERIE_MAX} séances.",
            "max_value": f"Un cycle compte de 1 à {SERIE_MAX} séances.",
        },
    )

    def __init__(self, *args, user, atelier, seance=None, can_change_animateur=True, **kwargs):
        if seance is not None:
            debut, fin = timezone.localtime(seance.debut), timezone.localtime(seance.fin)
            kwargs.setdefault(
                "initial",
                {
                    "date": debut.date(),
                    "heure_debut": debut.time(),
                    "heure_fin": fin.time(),
                    "lieu": seance.lieu.uuid if seance.lieu_id else None,
                    "arret": seance.arret.uuid if seance.arret_id else None,
                    "animateur": seance.animateur.uuid if seance.animateur_id else None,
                    "capacite": seance.capacite,
                    "publique": seance.publique,
                    "reservee_a": seance.reservee_a.uuid if seance.reservee_a_id else None,
                },
            )
        super().__init__(*args, **kwargs)
        self.atelier = atelier
        self.fields["heure_fin"].help_text = f"Par défaut : la durée de l'atelier ({atelier.duree} minutes)."
        self.fields["lieu"].queryset = selectors.lieux_for_seances(current=seance.lieu if seance else None)
        self.fields["arret"].queryset = selectors.arrets_for_seances(current=seance.arret if seance else None)
        current = seance.animateur if seance is not None else None
        self.fields["animateur"].queryset = selectors.animateurs_for(user, atelier, current=current)
        self.fields["reservee_a"].queryset = selectors.structures_for_reservation()
        if not can_change_animateur:
            self.fields["animateur"].disabled = True
            self.fields["animateur"].help_text = "Seuls l'équipe et les référents de la structure le changent."
        if seance is not None:
            del self.fields["nombre"]

    def clean(self):
        cleaned = super().clean()
        day, start, end = cleaned.get("date"), cleaned.get("heure_debut"), cleaned.get("heure_fin")
        if day is None or start is None:
            return cleaned
        cleaned["debut"] = timezone.make_aware(datetime.datetime.combine(day, start))
        cleaned["fin"] = None
        if end is not None:
            if end <= start:
                self.add_error("heure_fin", "L'heure de fin doit suivre l'heure de début (le même jour).")
            else:
                cleaned["fin"] = timezone.make_aware(datetime.datetime.combine(day, end))
        return cleaned

    def seance_data(self):
        cleaned = self.cleaned_data
        names = ("debut", "fin", "lieu", "arret", "animateur", "capacite", "publique", "reservee_a")
        return {name: cleaned.get(name) for name in names}


# --- People --------------------------------------------------------------------------------------------------------
class PhoneInput(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Téléphone")
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 25)
        kwargs.setdefault("help_text", "Par exemple 06 12 34 56 78.")
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        compact = re.sub(r"[\s.\-()]", "", value or "")
        if compact and not PHONE_RE.match(compact):
            raise forms.ValidationError("Saisissez un numéro de téléphone valide, par exemple 06 12 34 56 78.")
        return compact


class _PersonForm(forms.Form):
    prenom = forms.CharField(label="Prénom", max_length=150, error_messages={"required": "Indiquez le prénom."})
    nom = forms.CharField(label="Nom", max_length=150, error_messages={"required": "Indiquez le nom."})
    telephone = PhoneInput()
    email = forms.EmailField(
        label="E-mail",
        required=False,
        max_length=254,
        help_text="La confirmation et le rendez-vous y sont envoyés.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        error_messages={"invalid": "Saisissez une adresse e-mail valide."},
    )
    consentement = forms.BooleanField(required=False)
    genre = forms.ChoiceField(
        label="Genre", required=False, choices=_select_blank("Non renseigné", cra.GENRE), widget=forms.RadioSelect
    )
    tranche_age = forms.ChoiceField(
        label="Tranche d'âge", required=False, choices=_select_blank("Non renseignée", cra.TRANCHE_AGE)
    )
    statut_social = forms.ChoiceField(
        label="Situation", required=False, choices=_select_blank("Non renseignée", cra.STATUT_SOCIAL)
    )
    commune = CommuneChoiceField(label="Commune de résidence", required=False, empty_label="Non renseignée")

    PROFILE = ("genre", "tranche_age", "statut_social", "commune")

    def person_data(self):
        return dict(self.cleaned_data)

    def contact_fields(self):
        return [self[name] for name in ("prenom", "nom", "telephone", "email", "consentement")]

    def profile_fields(self):
        return [self[name] for name in self.PROFILE]


class InscriptionTelephoneForm(_PersonForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[
            "consentement"
        ].label = "La personne accepte que ses coordonnées servent à la prévenir au sujet de cette séance."
        self.fields["telephone"].help_text = "Par exemple 06 12 34 56 78. Un e-mail ou un téléphone est obligatoire."


class SurPlaceForm(_PersonForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[
            "consentement"
        ].label = "La personne accepte que ses coordonnées soient gardées pour cet atelier (si elle en donne)."
        self.fields["telephone"].help_text = "Facultatif : seulement si la personne veut être recontactée."
        self.fields["email"].help_text = "Facultatif."


class MoveForm(forms.Form):
    seance = UuidChoiceField(
        None,
        label="Vers la séance",
        label_of=seance_label,
        empty_label="Choisissez une séance",
        invalid="Choisissez une séance à venir du même atelier.",
        error_messages={"required": "Choisissez la séance vers laquelle déplacer la personne."},
    )

    def __init__(self, *args, destinations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seance"].queryset = destinations


class SeanceCancelForm(forms.Form):
    motif = forms.CharField(
        label="Motif de l'annulation",
        max_length=255,
        help_text="Il est envoyé aux personnes inscrites. Par exemple : animateur malade, salle indisponible.",
        widget=forms.TextInput(),
        error_messages={
            "required": "Indiquez le motif de l'annulation.",
            "max_length": "Le motif compte au plus 255 caractères.",
        },
    )


# --- The attendance sheet ------------------------------------------------------------------------------------------
class AppelForm(forms.Form):
    """One « présent / absent » choice per registration (fields ``presence_<uuid>``)."""

    def __init__(self, *args, inscriptions, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        position = 0
        for inscription in inscriptions:
            name = f"presence_{inscription.uuid}"
            if inscription.statut == "attente":
                position += 1
                help_text = f"En liste d'attente (position {position})."
            elif inscription.source == "sur_place":
                help_text = "Venu(e) sans inscription."
            elif inscription.promue_le:
                help_text = f"Venu(e) de la liste d'attente le {timezone.localtime(inscription.promue_le):%d/%m/%Y}."
            else:
                help_text = ""
            self.fields[name] = forms.ChoiceField(
                label=f"{inscription.prenom} {inscription.nom}",
                help_text=help_text,
                choices=[(Presence.PRESENT, "Présent(e)"), (Presence.ABSENT, "Absent(e)")],
                widget=forms.RadioSelect,
                required=False,
                initial=inscription.presence or None,
                error_messages={"invalid_choice": "Choisissez présent(e) ou absent(e)."},
            )
            self.rows.append((inscription, name))

    def groups(self):
        """The bound fields, split between confirmed people and the waiting list."""
        confirmed, waiting = [], []
        for inscription, name in self.rows:
            (waiting if inscription.statut == "attente" else confirmed).append((inscription, self[name]))
        return confirmed, waiting

    def presences(self):
        return {
            str(inscription.uuid): self.cleaned_data[name]
            for inscription, name in self.rows
            if self.cleaned_data.get(name)
        }
