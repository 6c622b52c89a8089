"""Back-office forms of posts, conseillers, recruitment, contracts, training and avenants. Forms only validate
input: views hand ``cleaned_data`` to ``conseillers.services`` and map the services' ValidationError back onto the
form (``structures.forms.add_service_error``)."""

from django import forms
from django.db.models import Exists, OuterRef
from django.utils import timezone

from structures.forms import PhoneField, _TransitionForm
from structures.models import Commune, Structure

from . import choices
from .models import Affectation, Avenant, Conseiller, Contrat, Formation, Poste
from .selectors import TrainingStatus

ENDING_WITHIN_DAYS = 60


def _french_blank(field, label):
    """Replace Django's « --------- » empty choice of a select by a French prompt."""
    field.choices = [("", label) if value == "" else (value, text) for value, text in field.choices]


def date_field(label, *, required=True, help_text="", **kwargs):
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Saisissez une date valide (jj/mm/aaaa).", "required": "Indiquez la date."},
        **kwargs,
    )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.prenom} {obj.nom}"


class StructureChoiceField(forms.ModelChoiceField):
    def __init__(self, queryset, **kwargs):
        kwargs.setdefault("to_field_name", "uuid")
        kwargs.setdefault("error_messages", {"invalid_choice": "Choisissez une structure de la liste."})
        super().__init__(queryset=queryset, **kwargs)

    def label_from_instance(self, obj):
        return obj.nom


# --- Filters ----------------------------------------------------------------------------------------------------
class _FilterForm(forms.Form):
    def filters(self):
        """The valid filters (an invalid one is ignored, and shown as an error on its field)."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "", False)}


class PosteFilterForm(_FilterForm):
    structure = StructureChoiceField(Structure.objects.none(), label="Structure", required=False)
    commune = forms.ModelChoiceField(
        label="Commune",
        queryset=Commune.objects.none(),
        required=False,
        empty_label="Toutes les communes",
        to_field_name="code_insee",
        error_messages={"invalid_choice": "Choisissez une commune de la liste."},
    )
    typologie = forms.ChoiceField(
        label="Typologie", required=False, choices=[("", "Toutes les typologies"), *choices.Typologie.choices]
    )
    etat = forms.ChoiceField(label="État", required=False, choices=[("", "Tous les états"), *choices.EtatPoste.choices])
    fin_contrat = forms.BooleanField(label=f"Contrat se terminant dans les {ENDING_WITHIN_DAYS} jours", required=False)
    formation_due = forms.BooleanField(label="Occupant devant une formation cette année", required=False)
    date = date_field(
        "À la date du",
        required=False,
        help_text="Date des effectifs ci-dessous (aujourd'hui par défaut ; pas dans le futur).",
    )

    def __init__(self, *args, postes, **kwargs):
        super().__init__(*args, **kwargs)
        structure_ids = postes.order_by().values("structure")
        self.fields["structure"].queryset = Structure.objects.filter(pk__in=structure_ids).order_by("nom")
        self.fields["structure"].empty_label = "Toutes les structures"
        communes = Commune.objects.filter(structures__in=structure_ids).distinct()
        self.fields["commune"].queryset = communes.order_by("nom")

    def clean_date(self):
        date = self.cleaned_data["date"]
        if date and date > timezone.localdate():
            raise forms.ValidationError("Les effectifs se lisent aujourd'hui ou à une date passée.")
        return date


class ConseillerFilterForm(_FilterForm):
    q = forms.CharField(
        label="Rechercher",
        required=False,
        max_length=100,
        help_text="Nom, prénom ou adresse e-mail.",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    structure = StructureChoiceField(Structure.objects.none(), label="Structure", required=False)
    formation = forms.ChoiceField(
        label="Formation de l'année",
        required=False,
        choices=[("", "Toutes les situations"), *TrainingStatus.LABELS.items(), ("aucune", "Hors programme")],
    )

    def __init__(self, *args, structures, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = structures.order_by("nom")
        self.fields["structure"].empty_label = "Toutes les structures"


# --- Posts ------------------------------------------------------------------------------------------------------
class PosteForm(forms.ModelForm):
    structure = StructureChoiceField(Structure.objects.order_by("nom"), label="Structure de rattachement")
    date_attribution = date_field("Date d'attribution")
    coselec_date = date_field("Date du comité de sélection", required=False)

    class Meta:
        model = Poste
        fields = ["structure", "typologie", "phase", "date_attribution", "coselec_date", "coselec_reference"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].empty_label = "Choisissez une structure"
        _french_blank(self.fields["typologie"], "Choisissez une typologie")
        _french_blank(self.fields["phase"], "Choisissez une phase")


class AssignForm(forms.Form):
    prefix = "affecter"
    conseiller = PersonChoiceField(
        label="Conseiller",
        queryset=Conseiller.objects.none(),
        to_field_name="uuid",
        empty_label="Choisissez une personne",
        error_messages={
            "invalid_choice": "Choisissez une personne de la liste (sans poste en cours).",
            "required": "Choisissez la personne qui prend le poste.",
        },
    )
    date = date_field("Date de prise de poste")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        holding = Affectation.objects.filter(conseiller=OuterRef("pk"), date_fin__isnull=True)
        self.fields["conseiller"].queryset = Conseiller.objects.filter(~Exists(holding)).order_by("nom", "prenom")


class ReleaseForm(forms.Form):
    prefix = "liberer"
    date = date_field("Date de départ", help_text="Le poste redevient vacant ce jour-là.")


class MoveForm(forms.Form):
    prefix = "deplacer"
    structure = StructureChoiceField(Structure.objects.none(), label="Nouvelle structure")
    date = date_field("Rattaché à la nouvelle structure à partir du")

    def __init__(self, *args, poste, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = Structure.objects.exclude(pk=poste.structure_id).order_by("nom")
        self.fields["structure"].empty_label = "Choisissez une structure"


class ReturnForm(forms.Form):
    prefix = "rendre"
    date = date_field("Date de rendu", help_text="Le poste quitte alors les postes attribués du territoire.")


class ContratForm(forms.ModelForm):
    prefix = "contrat"
    date_debut = date_field("Début")
    date_fin = date_field("Fin prévue", required=False, help_text="Aucune pour un CDI, obligatoire sinon.")

    class Meta:
        model = Contrat
        fields = ["type", "date_debut", "date_fin", "salaire_brut_mensuel", "cout_employeur_mensuel", "temps_plein"]
        widgets = {
            "salaire_brut_mensuel": forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
            "cout_employeur_mensuel": forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _french_blank(self.fields["type"], "Choisissez un type de contrat")

    def _post_clean(self):
        # The service validates the contract as a whole (type and end date, overlaps…) with French messages.
        pass


class RuptureForm(forms.Form):
    prefix = "rupture"
    contrat = forms.ModelChoiceField(
        label="Contrat",
        queryset=Contrat.objects.none(),
        to_field_name="uuid",
        empty_label="Choisissez un contrat",
        error_messages={"invalid_choice": "Choisissez un contrat en cours de ce poste."},
    )
    date_rupture = date_field("Date de rupture")
    motif_rupture = forms.ChoiceField(
        label="Motif de rupture",
        choices=[("", "Choisissez un motif"), *choices.MotifRupture.choices],
        error_messages={"required": "Choisissez un motif de rupture de la liste nationale."},
    )

    def __init__(self, *args, poste, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["contrat"]
        field.queryset = poste.contrats.filter(date_rupture__isnull=True).select_related("conseiller")
        field.label_from_instance = lambda contrat: (
            f"{contrat.get_type_display()} de {contrat.conseiller} (depuis le {contrat.date_debut:%d/%m/%Y})"
        )


# --- Conseillers ------------------------------------------------------------------------------------------------
class ConseillerForm(forms.ModelForm):
    telephone = PhoneField(label="Téléphone professionnel", max_length=20)
    coordinateur = PersonChoiceField(
        label="Coordonné par",
        queryset=Conseiller.objects.none(),
        required=False,
        to_field_name="uuid",
        empty_label="Personne",
        error_messages={"invalid_choice": "Choisissez un coordinateur de la liste."},
    )
    structure = StructureChoiceField(
        Structure.objects.none(),
        label="Structure qui recrute",
        required=False,
        help_text="Une candidature (mise en relation) relie la personne à cette structure.",
    )

    class Meta:
        model = Conseiller
        fields = ["prenom", "nom", "email", "telephone", "est_coordinateur", "coordinateur"]
        widgets = {"email": forms.EmailInput(attrs={"autocomplete": "off"})}

    def __init__(self, *args, user, coordinateurs, structures=None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            coordinateurs = coordinateurs.exclude(pk=self.instance.pk)
        self.fields["coordinateur"].queryset = coordinateurs.filter(est_coordinateur=True).order_by("nom", "prenom")
        if structures is None:
            del self.fields["structure"]
        else:
            self.fields["structure"].queryset = structures.order_by("nom")
            self.fields["structure"].empty_label = "Aucune" if user.is_staff else "Choisissez une structure"
            if not user.is_staff:
                self.fields["structure"].required = True
                self.fields["structure"].error_messages["required"] = "Choisissez la structure qui recrute."

    def _post_clean(self):
        # The service checks the person as a whole (coordination rules) with French messages.
        pass

    def service_fields(self):
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class FormationForm(forms.ModelForm):
    prefix = "formation"
    date_debut = date_field("Début")
    date_fin = date_field("Fin", required=False)
    date_certification = date_field("Date de certification", required=False)

    class Meta:
        model = Formation
        fields = [
            "type",
            "intitule",
            "date_debut",
            "date_fin",
            "heures",
            "parcours_heures",
            "certification",
            "titre",
            "date_certification",
            "pix",
        ]
        help_texts = {
            "parcours_heures": "Formation initiale seulement.",
            "certification": "Formation initiale seulement.",
            "titre": "Formation initiale seulement.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _french_blank(self.fields["type"], "Choisissez un type")
        for name in ("parcours_heures", "certification", "titre"):
            _french_blank(self.fields[name], "Sans objet")

    def _post_clean(self):
        pass

    def service_fields(self):
        data = dict(self.cleaned_data)
        data["certification"] = data.get("certification") or ""
        data["titre"] = data.get("titre") or ""
        return data


# --- Recruitment --------------------------------------------------------------------------------------------------
class MiseEnRelationFilterForm(_FilterForm):
    structure = StructureChoiceField(Structure.objects.none(), label="Structure", required=False)
    statut = forms.ChoiceField(
        label="Statut",
        required=False,
        choices=[("", "Tous les statuts"), *choices.StatutMiseEnRelation.choices],
        error_messages={"invalid_choice": "Choisissez un statut de la liste."},
    )
    conseiller = PersonChoiceField(
        label="Conseiller",
        queryset=Conseiller.objects.none(),
        required=False,
        to_field_name="uuid",
        empty_label="Toutes les personnes",
        error_messages={"invalid_choice": "Choisissez une personne de la liste."},
    )

    def __init__(self, *args, structures, conseillers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = structures.order_by("nom")
        self.fields["structure"].empty_label = "Toutes les structures"
        self.fields["conseiller"].queryset = conseillers.order_by("nom", "prenom")


class MiseEnRelationForm(forms.Form):
    prefix = "recrutement"
    conseiller = PersonChoiceField(
        label="Conseiller",
        queryset=Conseiller.objects.none(),
        to_field_name="uuid",
        empty_label="Choisissez une personne",
        error_messages={
            "invalid_choice": "Choisissez une personne de la liste.",
            "required": "Choisissez la personne candidate.",
        },
    )
    structure = StructureChoiceField(
        Structure.objects.none(),
        label="Structure qui recrute",
        empty_label="Choisissez une structure",
        error_messages={
            "invalid_choice": "Choisissez une structure de la liste.",
            "required": "Choisissez la structure qui recrute.",
        },
    )

    def __init__(self, *args, conseillers, structures, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["conseiller"].queryset = conseillers.order_by("nom", "prenom")
        self.fields["structure"].queryset = structures.order_by("nom")


class MiseEnRelationStatutForm(_TransitionForm):
    prefix = "statut"
    field_name = "statut"
    label = "Nouveau statut"
    enum = choices.StatutMiseEnRelation
    transitions = choices.MISE_EN_RELATION_TRANSITIONS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date"] = date_field(
            "Date",
            required=False,
            help_text="Date du recrutement ou de la rupture demandée (aujourd'hui par défaut).",
        )


# --- Avenants -----------------------------------------------------------------------------------------------------
class AvenantForm(forms.ModelForm):
    prefix = "avenant"

    class Meta:
        model = Avenant
        fields = ["type", "typologie", "nombre_postes", "motif"]
        widgets = {
            "nombre_postes": forms.NumberInput(attrs={"min": "1", "inputmode": "numeric"}),
            "motif": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _french_blank(self.fields["type"], "Choisissez un type de demande")
        _french_blank(self.fields["typologie"], "Choisissez une typologie")

    def _post_clean(self):
        # The service checks the request as a whole (pending request, phase 1, posts held) with French messages.
        pass


class AvenantDecisionForm(forms.Form):
    statut = forms.ChoiceField(
        label="Décision",
        choices=[
            (choices.StatutAvenant.VALIDEE, "Valider"),
            (choices.StatutAvenant.REFUSEE, "Refuser"),
        ],
        error_messages={
            "invalid_choice": "Une demande se valide ou se refuse.",
            "required": "Une demande se valide ou se refuse.",
        },
    )
