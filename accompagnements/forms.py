"""The "Nouvelle activité" form: one screen for the common case, on a phone.

The form collects what was typed; the service checks the rules. ``sections()`` says which groups of fields apply to
the current answers (type, place type, thématiques, redirection), so that the page shows only those — re-rendered by
htmx when a controlling answer changes, all shown when scripts are off (the service then ignores what does not
apply).
"""

from django import forms
from django.db.models import Q
from django.utils import timezone

from structures.forms import CommuneChoiceField, communes_for_select, departements_offerts
from structures.models import Structure

from . import choices as c
from .selectors import beneficiaires_of, lieux_for_activites
from .services import Participants

DUREE_AUTRE = "autre"


def _pk(value):
    return getattr(value, "pk", value)


class LieuChoiceIterator(forms.models.ModelChoiceIterator):
    """The conseiller's structures' places first, then the territory's."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        mine, others = [], []
        own = self.field.own_structures
        own = set(own() if callable(own) else own)
        for lieu in self.queryset:
            choice = (self.choice(lieu)[0], f"{lieu.nom} — {lieu.commune.nom}")
            (mine if lieu.structure_id in own else others).append(choice)
        if mine and others:
            yield ("Lieux de ma structure", mine)
            yield ("Autres lieux du territoire", others)
        else:
            yield from mine or others


class LieuChoiceField(forms.ModelChoiceField):
    iterator = LieuChoiceIterator

    def __init__(self, *, own_structures=(), **kwargs):
        self.own_structures = own_structures  # ids, or a callable giving them (only evaluated to render)
        super().__init__(queryset=lieux_for_activites(), **kwargs)


class BeneficiairesChoiceField(forms.ModelMultipleChoiceField):
    """Several followed people; a key no integer column can hold is an invalid choice, not a database error (SQLite
    refuses such integers in an ``IN`` list)."""

    def _check_values(self, value):
        for pk in value:
            try:
                if abs(int(str(pk))) >= 2**63:
                    raise ValueError
            except ValueError:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": pk}
                ) from None
        return super()._check_values(value)


def _duree_label(minutes):
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


def _radio(choices, **kwargs):
    return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **kwargs)


class ActiviteForm(forms.Form):
    type = _radio(
        c.TYPE_ACTIVITE,
        label="Type d'activité",
        error_messages={"required": "Choisissez le type d'activité.", "invalid_choice": "Type d'activité inconnu."},
    )
    date = forms.DateField(
        label="Date",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "Indiquez la date.", "invalid": "Saisissez une date valide (jj/mm/aaaa)."},
    )
    duree_choix = _radio(
        [(str(m), _duree_label(m)) for m in c.DUREES_RAPIDES] + [(DUREE_AUTRE, "Autre")],
        label="Durée",
        error_messages={"required": "Choisissez la durée.", "invalid_choice": "Durée inconnue."},
    )
    duree_autre = forms.IntegerField(
        label="Autre durée (minutes)",
        required=False,
        min_value=1,
        max_value=c.DUREE_MAX,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "invalid": "Saisissez un nombre de minutes.",
            "min_value": "La durée doit être comprise entre 1 et 480 minutes.",
            "max_value": "La durée doit être comprise entre 1 et 480 minutes.",
        },
    )
    type_lieu = _radio(c.TYPE_LIEU, label="Où ?", error_messages={"required": "Indiquez où s'est déroulée l'activité."})
    lieu = LieuChoiceField(
        label="Lieu d'activité",
        required=False,
        empty_label="Choisissez un lieu",
        error_messages={"invalid_choice": "Ce lieu n'existe pas ou n'est plus publié."},
    )
    commune = CommuneChoiceField(label="Commune", required=False)
    thematiques = forms.MultipleChoiceField(
        label="Thématiques",
        choices=c.THEMATIQUES_GENERALES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choisissez au moins une thématique.", "invalid_choice": "Thématique inconnue."},
    )
    thematiques_administratives = forms.MultipleChoiceField(
        label="Démarches administratives concernées",
        choices=c.THEMATIQUES_ADMINISTRATIVES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": "Thématique inconnue."},
    )
    nom_demarche = forms.CharField(
        label="Nom de la démarche", max_length=255, required=False, help_text="Par exemple : demande de carte grise."
    )
    materiel = forms.MultipleChoiceField(
        label="Matériel utilisé",
        choices=c.MATERIEL,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": "Matériel inconnu."},
    )
    # Individual session: who, how autonomous, redirected
    beneficiaire = forms.ModelChoiceField(
        label="Bénéficiaire",
        queryset=None,
        required=False,
        empty_label="Personne anonyme",
        help_text="Par défaut, l'accompagnement est anonyme.",
        error_messages={"invalid_choice": "Choisissez une personne que vous suivez."},
    )
    genre = _radio(c.GENRE, label="Genre", required=False)
    tranche_age = forms.ChoiceField(
        label="Tranche d'âge", choices=[("", "Non renseignée"), *c.TRANCHE_AGE], required=False
    )
    statut_social = forms.ChoiceField(label="Statut", choices=[("", "Non renseigné"), *c.STATUT_SOCIAL], required=False)
    commune_residence = CommuneChoiceField(label="Commune de résidence", required=False, empty_label="Non renseignée")
    deja_accompagne = forms.BooleanField(label="Déjà accompagné(e) par vous", required=False)
    autonomie = _radio(c.AUTONOMIE, label="Niveau d'autonomie", required=False)
    oriente = forms.TypedChoiceField(
        label="Réorienté(e) vers une autre structure ?",
        choices=[("", "Non renseigné"), ("oui", "Oui"), ("non", "Non")],
        coerce=lambda value: value == "oui",
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    structure_redirection = forms.ChoiceField(
        label="Vers quelle structure ?", choices=[("", "Choisissez"), *c.STRUCTURE_REDIRECTION], required=False
    )
    # Workshop
    titre_atelier = forms.CharField(label="Titre de l'atelier", max_length=255, required=False)
    niveau = _radio(c.NIVEAU_ATELIER, label="Niveau", required=False)
    beneficiaires = BeneficiairesChoiceField(
        label="Participants que vous suivez",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": "Choisissez des personnes que vous suivez.",
            "invalid_pk_value": "Choix invalide.",
        },
    )
    anonymes = forms.IntegerField(
        label="Participants anonymes",
        required=False,
        min_value=0,
        max_value=500,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "invalid": "Saisissez un nombre de participants.",
            "min_value": "Nombre invalide.",
            "max_value": "Un atelier compte au plus 500 participants.",
        },
    )
    notes = forms.CharField(
        label="Notes (visibles de vous seul)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="N'y notez aucune information sensible sur la personne.",
    )

    def __init__(self, *args, user, conseiller, own_structures=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.conseiller = conseiller
        followed = beneficiaires_of(user).order_by("nom", "prenom")
        self.fields["beneficiaire"].queryset = followed
        self.fields["beneficiaires"].queryset = followed
        self.fields["lieu"].own_structures = own_structures
        # The communes and places of the départements where the conseiller works (and of the territory), not those
        # of all France; an edited activity keeps its own.
        employeurs = Structure.objects.filter(
            Q(memberships__user=user)
            | Q(postes__affectations__conseiller=conseiller)
            | Q(postes__contrats__conseiller=conseiller)
        )
        departements = departements_offerts(employeurs.values("pk"))
        initial = self.initial
        self.fields["lieu"].queryset = lieux_for_activites(departements, aussi=[_pk(initial.get("lieu"))])
        self.fields["commune"].queryset = communes_for_select(departements, aussi=[_pk(initial.get("commune"))])
        residences = [_pk(value) for key, value in initial.items() if key.startswith("commune_residence")]
        self.fields["commune_residence"].queryset = communes_for_select(departements, aussi=residences)
        self.repartition_fields = {}
        for attribut, vocabulary, label in c.ATTRIBUTS_BENEFICIAIRE:
            names = []
            for code, code_label in vocabulary:
                if code == c.NON_COMMUNIQUE:
                    continue
                name = f"rep_{attribut}_{code}"
                self.fields[name] = forms.IntegerField(
                    label=code_label,
                    required=False,
                    min_value=0,
                    max_value=500,
                    widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                    error_messages={
                        "invalid": "Saisissez un nombre.",
                        "min_value": "Nombre invalide.",
                        "max_value": "Nombre trop grand.",
                    },
                )
                names.append(name)
            self.repartition_fields[attribut] = (label, names)

    # --- what the page shows ---------------------------------------------------------------------------------
    def value(self, name):
        """The current answer of a field: submitted data when bound, else the initial value."""
        if self.is_bound:
            field = self.fields[name]
            return field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
        return self.initial.get(name)

    def sections(self):
        """Which groups of fields apply to the current answers."""
        type = self.value("type") or c.INDIVIDUEL
        type_lieu = self.value("type_lieu")
        themes = self.value("thematiques") or []
        oriente = self.value("oriente")
        return {
            "individuel": type != c.COLLECTIF,
            "collectif": type == c.COLLECTIF,
            "lieu": type_lieu == c.LIEU_ACTIVITE,
            "commune": type_lieu != c.LIEU_ACTIVITE,
            "demarches": c.AIDE_DEMARCHES in themes,
            "duree_autre": self.value("duree_choix") == DUREE_AUTRE,
            "redirection": oriente in ("oui", True),
            "anonyme": not self.value("beneficiaire"),
        }

    def repartition_groups(self):
        return [
            (attribut, label, [self[name] for name in names])
            for attribut, (label, names) in self.repartition_fields.items()
        ]

    # --- what the service receives ---------------------------------------------------------------------------
    def clean(self):
        data = super().clean()
        choix = data.get("duree_choix")
        if choix == DUREE_AUTRE:
            if data.get("duree_autre") is None and "duree_autre" not in self.errors:
                self.add_error("duree_autre", "Indiquez la durée en minutes.")
            data["duree"] = data.get("duree_autre")
        elif choix:
            data["duree"] = int(choix)
        return data

    def activite_data(self):
        data = self.cleaned_data
        return {
            "type": data["type"],
            "date": data["date"],
            "duree": data.get("duree"),
            "type_lieu": data["type_lieu"],
            "lieu": data.get("lieu"),
            "commune": data.get("commune"),
            "thematiques": list(data.get("thematiques") or []) + list(data.get("thematiques_administratives") or []),
            "nom_demarche": data.get("nom_demarche", ""),
            "materiel": data.get("materiel") or [],
            "autonomie": data.get("autonomie", ""),
            "oriente": data.get("oriente"),
            "structure_redirection": data.get("structure_redirection", ""),
            "titre_atelier": data.get("titre_atelier", ""),
            "niveau": data.get("niveau", ""),
            "notes": data.get("notes", ""),
        }

    def participants(self):
        data = self.cleaned_data
        if data["type"] == c.INDIVIDUEL:
            beneficiaire = data.get("beneficiaire")
            return Participants(
                beneficiaires=[beneficiaire] if beneficiaire else [],
                anonyme={
                    "genre": data.get("genre") or "",
                    "tranche_age": data.get("tranche_age") or "",
                    "statut_social": data.get("statut_social") or "",
                    "commune_residence": data.get("commune_residence"),
                },
                deja_accompagne=bool(data.get("deja_accompagne")),
            )
        repartition = {
            attribut: {name.removeprefix(f"rep_{attribut}_"): data.get(name) or 0 for name in names if data.get(name)}
            for attribut, (_label, names) in self.repartition_fields.items()
        }
        return Participants(
            beneficiaires=list(data.get("beneficiaires") or []),
            anonymes=data.get("anonymes") or 0,
            repartition=repartition,
        )


def initial_from(activite, participants, *, duplicate=False):
    """The form's initial answers for editing (or duplicating, dated today) an activity."""
    duree = activite.duree
    initial = {
        "type": activite.type,
        "date": timezone.localdate() if duplicate else activite.date,
        "duree_choix": str(duree) if duree in c.DUREES_RAPIDES else DUREE_AUTRE,
        "duree_autre": None if duree in c.DUREES_RAPIDES else duree,
        "type_lieu": activite.type_lieu,
        "lieu": activite.lieu_id,
        "commune": activite.commune_id,
        "thematiques": [t for t in activite.thematiques if t not in c.CODES_ADMINISTRATIFS],
        "thematiques_administratives": [t for t in activite.thematiques if t in c.CODES_ADMINISTRATIFS],
        "nom_demarche": activite.nom_demarche,
        "materiel": activite.materiel,
        "autonomie": activite.autonomie,
        "oriente": {True: "oui", False: "non"}.get(activite.oriente, ""),
        "structure_redirection": activite.structure_redirection,
        "titre_atelier": activite.titre_atelier,
        "niveau": activite.niveau,
        "notes": "" if duplicate else activite.notes,
    }
    if activite.type == c.INDIVIDUEL:
        if participants.beneficiaires and not duplicate:
            initial["beneficiaire"] = participants.beneficiaires[0].pk
        elif not duplicate:
            anonyme = participants.anonyme
            initial.update(
                genre=anonyme.get("genre"),
                tranche_age=anonyme.get("tranche_age") if anonyme.get("tranche_age") != c.NON_COMMUNIQUE else "",
                statut_social=anonyme.get("statut_social") if anonyme.get("statut_social") != c.NON_COMMUNIQUE else "",
                commune_residence=getattr(anonyme.get("commune_residence"), "pk", None),
                deja_accompagne=participants.deja_accompagne,
            )
    else:
        initial["beneficiaires"] = [b.pk for b in participants.beneficiaires]
        initial["anonymes"] = participants.anonymes
        for attribut, counts in participants.repartition.items():
            for code, n in counts.items():
                initial[f"rep_{attribut}_{code}"] = n
    return initial
