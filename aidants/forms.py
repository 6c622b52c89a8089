"""Forms of the aidants network. Forms only validate input: views hand ``cleaned_data`` to ``aidants.services`` and map
the services' ValidationError back onto the form (``structures.forms.add_service_error``)."""

from django import forms
from django.contrib.auth import get_user_model

from accompagnements.choices import THEMATIQUES
from accounts.models import Role
from conseillers.forms import StructureChoiceField, _FilterForm, _french_blank, date_field
from structures.forms import PhoneField, _TransitionForm, communes_for_select
from structures.models import Commune, Structure
from structures.selectors import communes_territoire

from .models import TRANSITIONS_HABILITATION, Aidant, FormationAidant, StatutHabilitation, TypeAidant

HABILITATION_CHOICES = [("", "Indifférent"), ("oui", "Habilités"), ("non", "Non habilités")]
ACTIF_CHOICES = [("", "Actifs"), ("non", "Inactifs"), ("tous", "Tous")]


class CommunesField(forms.ModelMultipleChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Communes couvertes")
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        kwargs.setdefault(
            "error_messages",
            {
                "invalid_choice": "Cette commune n'existe pas dans le référentiel de la plateforme.",
                "invalid_pk_value": "Cette commune n'existe pas dans le référentiel de la plateforme.",
                "invalid_list": "Choisissez des communes de la liste.",
            },
        )
        super().__init__(queryset=Commune.objects.none(), to_field_name="code_insee", **kwargs)


class AidantFilterForm(_FilterForm):
    q = forms.CharField(
        label="Rechercher",
        required=False,
        max_length=100,
        help_text="Nom, prénom ou profession.",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    commune = forms.ModelChoiceField(
        communes_for_select(),
        label="Commune couverte",
        required=False,
        to_field_name="code_insee",
        empty_label="Toutes les communes",
        error_messages={"invalid_choice": "Cette commune n'existe pas dans le référentiel de la plateforme."},
    )
    structure = StructureChoiceField(Structure.objects.none(), label="Structure", required=False)
    thematique = forms.ChoiceField(
        label="Aide pour",
        required=False,
        choices=[("", "Toutes les thématiques"), *THEMATIQUES],
        error_messages={"invalid_choice": "Choisissez une thématique de la liste nationale."},
    )
    habilitation = forms.ChoiceField(
        label="Habilitation Aidants Connect",
        required=False,
        choices=HABILITATION_CHOICES,
        error_messages={"invalid_choice": "Choisissez « Habilités » ou « Non habilités »."},
    )

    def __init__(self, *args, structures, with_inactive=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = structures
        self.fields["structure"].empty_label = "Toutes les structures"
        if with_inactive:
            self.fields["actif"] = forms.ChoiceField(
                label="Actifs ou non",
                required=False,
                choices=ACTIF_CHOICES,
                error_messages={"invalid_choice": "Choisissez une situation de la liste."},
            )


class AidantForm(forms.ModelForm):
    structure = StructureChoiceField(Structure.objects.none(), label="Structure")
    telephone = PhoneField(label="Téléphone professionnel")
    communes = CommunesField()
    thematiques = forms.MultipleChoiceField(
        label="Aide pour",
        required=False,
        choices=THEMATIQUES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choisissez les thématiques dans la liste nationale."},
    )
    date_habilitation = date_field(
        "Habilité depuis le", required=False, help_text="Laissez vide pour aujourd'hui lors de l'habilitation."
    )

    class Meta:
        model = Aidant
        fields = [
            "structure",
            "prenom",
            "nom",
            "email",
            "telephone",
            "profession",
            "type",
            "communes",
            "thematiques",
            "habilite_aidants_connect",
            "date_habilitation",
        ]
        help_texts = {
            "habilite_aidants_connect": "Professionnels seulement, dans une structure habilitée, après une formation "
            "Aidants Connect de 7 h ou 14 h.",
        }

    def __init__(self, *args, structures, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = structures.order_by("nom")
        self.fields["structure"].empty_label = "Choisissez une structure"
        self.fields["communes"].queryset = communes_territoire().order_by("nom")  # read per form, not at import
        self.fields["email"].widget.attrs["autocomplete"] = "off"
        _french_blank(self.fields["type"], "Choisissez un statut")
        self.fields["type"].error_messages["invalid_choice"] = "Choisissez un statut de la liste."
        if self.instance.pk:
            self.initial.setdefault("communes", [c.code_insee for c in self.instance.communes.all()])

    def _post_clean(self):
        """The service validates the model and its rules (in French); the form does not save."""

    def service_fields(self):
        data = dict(self.cleaned_data)
        data["communes"] = list(data.get("communes") or [])
        return data


class FormationAidantForm(forms.ModelForm):
    prefix = "formation"
    date = date_field("Date")

    class Meta:
        model = FormationAidant
        fields = ["type", "intitule", "date", "heures"]
        help_texts = {"heures": "7 ou 14 h par défaut pour Aidants Connect."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _french_blank(self.fields["type"], "Choisissez un type")
        self.fields["type"].error_messages["invalid_choice"] = "Choisissez un type de formation de la liste."
        self.fields["heures"].error_messages["invalid"] = "Saisissez un nombre d'heures (par exemple 7 ou 3,5)."
        self.fields["heures"].localize = True
        self.fields["heures"].widget.is_localized = True

    def _post_clean(self):
        """Checked by the service."""


class AccountForm(forms.Form):
    prefix = "compte"

    def __init__(self, *args, aidant, **kwargs):
        super().__init__(*args, **kwargs)
        users = (
            get_user_model()
            .objects.filter(memberships__structure=aidant.structure_id, memberships__role=Role.AIDANT)
            .order_by("last_name", "first_name", "email")
        )
        self.fields["user"] = forms.ModelChoiceField(
            users.distinct(),
            label="Compte « Aidant » de la structure",
            required=False,
            empty_label="Aucun compte",
            error_messages={"invalid_choice": "Choisissez un compte de la liste."},
        )
        self.fields["user"].label_from_instance = lambda u: f"{u.get_full_name() or u.email} ({u.email})"


class ActifForm(forms.Form):
    actif = forms.TypedChoiceField(
        choices=[("1", "Actif"), ("0", "Inactif")],
        coerce=lambda v: v == "1",
        error_messages={"invalid_choice": "Choix invalide.", "required": "Choix invalide."},
    )


# --- Habilitation requests ------------------------------------------------------------------------------------------
class DemandeForm(forms.Form):
    prefix = "demande"
    motif = forms.CharField(
        label="Commentaire", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, structure, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["aidants_pressentis"] = forms.ModelMultipleChoiceField(
            Aidant.objects.filter(structure=structure, actif=True, type=TypeAidant.PROFESSIONNEL).order_by(
                "nom", "prenom"
            ),
            label="Aidants à habiliter",
            required=False,
            to_field_name="uuid",
            widget=forms.CheckboxSelectMultiple,
            error_messages={
                "invalid_choice": "Choisissez des professionnels actifs de la structure.",
                "invalid_pk_value": "Choisissez des professionnels actifs de la structure.",
            },
        )
        self.order_fields(["aidants_pressentis", "motif"])


class DemandeTransitionForm(_TransitionForm):
    field_name = "statut"
    label = "Nouveau statut"
    enum = StatutHabilitation
    transitions = TRANSITIONS_HABILITATION

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if not user.is_staff:  # deciding is Sicoval staff's call
            decisions = {StatutHabilitation.VALIDEE, StatutHabilitation.REFUSEE}
            field = self.fields["statut"]
            field.choices = [(v, label) for v, label in field.choices if v not in decisions]
        self.fields["motif"] = forms.CharField(
            label="Motif ou commentaire",
            required=False,
            max_length=2000,
            help_text="Obligatoire pour un refus.",
            widget=forms.Textarea(attrs={"rows": 2}),
        )
        self.fields["date"] = date_field("Date", required=False, help_text="Laissez vide pour aujourd'hui.")
