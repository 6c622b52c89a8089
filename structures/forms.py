"""Back-office forms of structures and places. Forms only validate input: views hand ``cleaned_data`` to the
services, which do every write, and map the services' ValidationError back onto the form."""

import re

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import BooleanField, Exists, ExpressionWrapper, Q
from django.utils.text import capfirst

from accounts.models import Role

from . import choices, services
from .models import ArretItinerant, Commune, Lieu, Structure

POSSIBLE_DUPLICATE = "possible_duplicate"


def _formfield(model_field, **kwargs):
    """Web addresses typed without a scheme are taken as https (Django 6 default, explicit here)."""
    if isinstance(model_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return model_field.formfield(**kwargs)


def add_service_error(form, error):
    """Put a service's ValidationError on the form: on its field when the form has it, else above the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def is_possible_duplicate(error):
    """The service refuses a similar name in the same commune until it is confirmed. The code travels either on
    the error itself (``ValidationError({...}, code=...)`` keeps it only in ``args``) or on the inner errors."""
    if len(error.args) > 1 and error.args[1] == POSSIBLE_DUPLICATE:
        return True
    inner = error.error_dict.values() if hasattr(error, "error_dict") else [error.error_list]
    return any(item.code == POSSIBLE_DUPLICATE for errors in inner for item in errors)


# --- Communes ---------------------------------------------------------------------------------------------------
def departements_offerts(structures=()):
    """The départements whose communes the forms offer (a subquery, no query until used): the territory's, and
    those of ``structures`` (ids), e.g. a conseiller's employers when the platform serves a wider network."""
    territoire = Q(epci__siren=settings.TERRITOIRE_EPCI_SIREN)
    return Commune.objects.filter(territoire | Q(structures__in=structures)).values("departement")


def communes_offertes(departements):
    """The Q of the communes of ``departements`` (the activity form: a list of the 35,000 communes of France would
    weigh megabytes on every conseiller's page), or of every commune before the territory is loaded (a fresh
    install, tests)."""
    sans_territoire = ~Exists(Commune.objects.filter(epci__siren=settings.TERRITOIRE_EPCI_SIREN))
    return Q(departement__in=departements) | Q(departement="") | Q(sans_territoire)


def communes_for_select(departements=None, *, aussi=()):
    """The communes a form offers, those of the territory's EPCI first, each group ordered by name: every loaded
    commune, or those of ``departements`` (``communes_offertes``) plus the communes ``aussi`` (ids: an activity's own
    commune when it is edited). No query until used."""
    in_territoire = ExpressionWrapper(Q(epci__siren=settings.TERRITOIRE_EPCI_SIREN), output_field=BooleanField())
    communes = Commune.objects.all()
    if departements is not None:
        communes = communes.filter(communes_offertes(departements) | Q(pk__in=[pk for pk in aussi if pk]))
    return communes.annotate(in_territoire=in_territoire).order_by("-in_territoire", "nom")


class CommuneChoiceIterator(forms.models.ModelChoiceIterator):
    """Two option groups, the territory's communes then the others; a flat list when one group is empty."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        territoire, autres = [], []
        for commune in self.queryset:
            (territoire if getattr(commune, "in_territoire", False) else autres).append(self.choice(commune))
        if territoire and autres:
            yield ("Communes du territoire", territoire)
            yield ("Autres communes", autres)
        else:
            yield from territoire or autres


class CommuneChoiceField(forms.ModelChoiceField):
    iterator = CommuneChoiceIterator

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Commune")
        kwargs.setdefault("empty_label", "Choisissez une commune")
        kwargs.setdefault(
            "error_messages", {"invalid_choice": "Cette commune n'existe pas dans le référentiel de la plateforme."}
        )
        super().__init__(queryset=communes_for_select(), **kwargs)


# --- Small input helpers ----------------------------------------------------------------------------------------
class PhoneField(forms.CharField):
    """A French number as people type it (05 61 00 00 00) becomes the stored international form (+33561000000)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 25)
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "Par exemple 05 61 00 00 00 ou +33561000000.")
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        value = re.sub(r"[\s.\-()]", "", super().to_python(value))
        if re.fullmatch(r"0[1-9]\d{8}", value):
            value = "+33" + value[1:]
        return value


class ValueListField(forms.CharField):
    """A list typed as text, one value per line or separated by « | », each value checked by ``item_field``."""

    def __init__(self, *, item_field, item_name, **kwargs):
        self.item_field = item_field
        self.item_name = item_name
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
        kwargs.setdefault("help_text", "Une valeur par ligne, ou plusieurs séparées par « | ».")
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return value

    def clean(self, value):
        text = super().clean(value) or ""
        items, errors = [], []
        for part in re.split(r"[\r\n|]+", text):
            part = part.strip()
            if not part:
                continue
            try:
                items.append(self.item_field.clean(part))
            except ValidationError:
                errors.append(
                    ValidationError(
                        "« %(value)s » n'est pas %(name)s valide.",
                        code="invalid_item",
                        params={"value": part, "name": self.item_name},
                    )
                )
        if errors:
            raise ValidationError(errors)
        return list(dict.fromkeys(items))


class SectionsMixin:
    """Fields grouped under titled sections for the template: ``form.sections`` yields (title, bound fields)."""

    section_fields = ()

    def sections(self):
        return [(title, [self[name] for name in names if name in self.fields]) for title, names in self.section_fields]


# --- Structures -------------------------------------------------------------------------------------------------
class StructureForm(SectionsMixin, forms.ModelForm):
    siret = forms.CharField(
        label="SIRET",
        required=False,
        max_length=20,
        empty_value=None,
        help_text="14 chiffres ; les espaces sont acceptés.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    rna = forms.CharField(
        label="RNA",
        required=False,
        max_length=12,
        empty_value=None,
        help_text="Pour une association sans SIRET : W suivi de 9 chiffres.",
    )
    commune = CommuneChoiceField()
    contact_telephone = PhoneField(label="Téléphone de contact")
    confirm_not_duplicate = forms.BooleanField(label="Je confirme qu'il ne s'agit pas d'un doublon", required=False)

    section_fields = (
        ("Identité", ["nom", "siret", "rna", "type_juridique", "secteur", "phase"]),
        ("Adresse", ["commune", "adresse", "code_postal", "qpv", "zrr"]),
        ("Contact", ["contact_nom", "contact_email", "contact_telephone", "site_web"]),
        ("Rôles sur le territoire", list(Structure.ROLE_FIELDS)),
    )

    class Meta:
        model = Structure
        fields = services.STRUCTURE_EDITABLE_FIELDS
        formfield_callback = _formfield
        widgets = {
            "code_postal": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
            "contact_email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The confirmation shows once the service has flagged a possible duplicate, and stays while it is ticked.
        self.show_confirm = bool(self.data.get("confirm_not_duplicate"))
        if user is not None and not user.is_staff:
            # Official identity, labels and funding zones are shown but set by Sicoval staff only.
            for name in services.STRUCTURE_STAFF_ONLY_FIELDS:
                self.fields[name].disabled = True
                self.fields[name].help_text = "Modifiable par l'équipe Sicoval uniquement."

    def clean_siret(self):
        return re.sub(r"\s", "", self.cleaned_data["siret"] or "") or None

    def clean_rna(self):
        return re.sub(r"\s", "", self.cleaned_data["rna"] or "").upper() or None

    def service_fields(self):
        return {name: self.cleaned_data[name] for name in services.STRUCTURE_EDITABLE_FIELDS}

    def add_service_error(self, error):
        if is_possible_duplicate(error):
            self.show_confirm = True
        add_service_error(self, error)


class _TransitionForm(forms.Form):
    """A status change offering only the statuses reachable from the current one."""

    field_name = ""
    label = ""
    enum = None
    transitions = None

    def __init__(self, *args, current, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.enum(current)
        allowed = sorted(self.transitions[current], key=list(self.enum).index)
        self.current_label = current.label
        self.fields[self.field_name] = forms.ChoiceField(
            label=self.label,
            choices=[("", "Choisissez"), *((value.value, value.label) for value in allowed)],
            error_messages={
                "invalid_choice": f"Ce changement n'est pas possible depuis « {current.label} ».",
                "required": "Choisissez le nouveau statut.",
            },
        )

    @property
    def has_choices(self):
        return len(self.fields[self.field_name].choices) > 1


class StatutForm(_TransitionForm):
    field_name = "statut"
    label = "Nouveau statut de la candidature"
    enum = choices.StatutCandidature
    transitions = choices.STATUT_TRANSITIONS


class ConventionnementForm(_TransitionForm):
    field_name = "conventionnement"
    label = "Nouveau conventionnement"
    enum = choices.Conventionnement
    transitions = choices.CONVENTIONNEMENT_TRANSITIONS


class MembershipForm(forms.Form):
    email = forms.EmailField(
        label="Adresse e-mail de la personne",
        help_text="La personne doit déjà avoir un compte sur la plateforme.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(label="Rôle dans la structure", choices=Role.choices)

    def __init__(self, *args, roles=None, **kwargs):
        super().__init__(*args, **kwargs)
        if roles is not None:
            self.fields["role"].choices = [(value, label) for value, label in Role.choices if value in roles]
        self.user = None

    def clean_email(self):
        email = self.cleaned_data["email"]
        self.user = get_user_model().objects.filter(email__iexact=email, is_active=True).first()
        if self.user is None:
            raise ValidationError(
                "Aucun compte actif n'utilise l'adresse « %(email)s ». La personne doit d'abord avoir un compte "
                "sur la plateforme.",
                code="unknown_user",
                params={"email": email},
            )
        return email


# --- Places -----------------------------------------------------------------------------------------------------
class LieuForm(SectionsMixin, forms.ModelForm):
    commune = CommuneChoiceField()
    telephone = PhoneField(label="Téléphone")
    courriels = ValueListField(label="Courriels", item_field=forms.EmailField(), item_name="une adresse e-mail")
    site_web = ValueListField(
        label="Sites web", item_field=forms.URLField(assume_scheme="https"), item_name="une adresse web"
    )

    section_fields = (
        ("Identification", ["nom", "typologie", "pivot", "structure_parente"]),
        ("Adresse", ["commune", "code_postal", "adresse", "complement_adresse", "latitude", "longitude"]),
        ("Accueil", ["horaires", "itinerance", "modalites_acces", "modalites_accompagnement", "frais_a_charge"]),
        ("Contact", ["telephone", "courriels", "site_web", "prise_rdv", "fiche_acces_libre"]),
        ("Présentation", ["presentation_resume", "presentation_detail", "source"]),
        ("Services et publics", ["services", "publics_specifiquement_adresses", "prise_en_charge_specifique"]),
        ("Dispositifs et labels", ["dispositif_programmes_nationaux", "formations_labels", "autres_formations_labels"]),
    )

    class Meta:
        model = Lieu
        fields = services.LIEU_FIELDS
        formfield_callback = _formfield
        widgets = {
            "presentation_resume": forms.Textarea(attrs={"rows": 3}),
            "code_postal": forms.TextInput(attrs={"inputmode": "numeric"}),
            "pivot": forms.TextInput(attrs={"inputmode": "numeric"}),
        }

    def service_fields(self):
        return {name: self.cleaned_data[name] for name in services.LIEU_FIELDS}


class ArretForm(forms.ModelForm):
    prefix = "arret"  # shares its page with the place's form: distinct field ids
    commune = CommuneChoiceField()

    class Meta:
        model = ArretItinerant
        fields = ["commune", "emplacement", "date", "heure_debut", "heure_fin"]
        labels = {"heure_debut": "Heure de début", "heure_fin": "Heure de fin"}
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "heure_debut": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "heure_fin": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def clean(self):
        cleaned = super().clean()
        debut, fin = cleaned.get("heure_debut"), cleaned.get("heure_fin")
        if debut and fin and fin <= debut:
            self.add_error("heure_fin", "L'heure de fin doit suivre l'heure de début.")
        return cleaned


# --- Filters ----------------------------------------------------------------------------------------------------
ROLE_CHOICES = [(name, capfirst(Structure._meta.get_field(name).verbose_name)) for name in Structure.ROLE_FIELDS]


class StructureFilterForm(forms.Form):
    q = forms.CharField(
        label="Rechercher",
        required=False,
        max_length=100,
        help_text="Nom, début du SIRET ou numéro RNA.",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    commune = forms.ModelChoiceField(
        label="Commune",
        queryset=Commune.objects.none(),
        required=False,
        empty_label="Toutes les communes",
        to_field_name="code_insee",
    )
    type_juridique = forms.ChoiceField(
        label="Type juridique", required=False, choices=[("", "Tous les types"), *choices.TypeJuridique.choices]
    )
    statut = forms.ChoiceField(
        label="Statut de la candidature",
        required=False,
        choices=[("", "Tous les statuts"), *choices.StatutCandidature.choices],
    )
    role = forms.ChoiceField(label="Rôle", required=False, choices=[("", "Tous les rôles"), *ROLE_CHOICES])

    def __init__(self, *args, structures, **kwargs):
        super().__init__(*args, **kwargs)
        # Only communes where the user can see a structure.
        self.fields["commune"].queryset = (
            Commune.objects.filter(structures__in=structures.values("pk")).distinct().order_by("nom")
        )

    def filters(self):
        """The valid filters (an invalid one is ignored, and shown as an error on its field)."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}


class LieuFilterForm(forms.Form):
    q = forms.CharField(
        label="Rechercher",
        required=False,
        max_length=100,
        help_text="Nom du lieu ou de sa structure.",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    publication = forms.ChoiceField(
        label="Publication",
        required=False,
        choices=[("", "Tous les lieux"), ("publie", "Publiés"), ("retire", "Retirés")],
    )
    itinerance = forms.ChoiceField(
        label="Itinérance", required=False, choices=[("", "Fixes et itinérants"), *choices.Itinerance.choices]
    )

    def filters(self):
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}
