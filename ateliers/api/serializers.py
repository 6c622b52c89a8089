"""Serializers of the workshops' partner API. Reads expose no personal data but the registrants' contact details,
and those only to the structure organising their session; writes are checked here for shape and type, then by the
services for the rules (the services' messages reach the client as they are, in a 400)."""

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema_field
from rest_framework import serializers

from accompagnements import choices as cra
from ateliers.models import Atelier, Inscription, Presence, Public, Seance
from ateliers.services import planning
from sicoval_numerique.api.partner import ScopedRelatedField

TELEPHONE = re.compile(r"^\+?[0-9 .()-]{6,19}$")
# The person's key is "email:" + the address, in 255 characters.
EMAIL_MAX = 255 - len("email:")


class MomentField(serializers.DateTimeField):
    """DRF's date and time, whose overflow at the edge of the calendar (a naive 0001-01-01T00:00 made aware in
    Europe/Paris) is a 400 like any other invalid date, not an exception."""

    def enforce_timezone(self, value):
        try:
            return super().enforce_timezone(value)
        except OverflowError:
            self.fail("overflow")


class StrictBooleanField(serializers.BooleanField):
    """true or false (in a form body, "true" or "false"): 0, 1, "oui" or "on" are refused, not guessed."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and data in ("true", "false"):
            return data == "true"
        self.fail("invalid", input=data)


def _uuid_of(name, help_text):
    return serializers.UUIDField(
        source=f"{name}.uuid", read_only=True, allow_null=True, default=None, help_text=help_text
    )


# --- Programmes ----------------------------------------------------------------------------------------------------
class AtelierSerializer(serializers.ModelSerializer):
    structure = serializers.UUIDField(source="structure.uuid", read_only=True, help_text="La structure organisatrice.")
    thematiques = serializers.ListField(
        child=serializers.ChoiceField(choices=cra.THEMATIQUES), read_only=True, help_text="Thématiques nationales."
    )
    publics = serializers.ListField(child=serializers.ChoiceField(choices=Public.choices), read_only=True)
    niveau = serializers.ChoiceField(
        choices=cra.NIVEAU_ATELIER, allow_blank=True, read_only=True, help_text="Vide quand il n'est pas précisé."
    )

    class Meta:
        model = Atelier
        fields = [
            "uuid",
            "structure",
            "titre",
            "description",
            "thematiques",
            "niveau",
            "publics",
            "prevention",
            "formation_pass",
            "duree",
            "actif",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AtelierWriteSerializer(serializers.Serializer):
    titre = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    thematiques = serializers.ListField(
        child=serializers.ChoiceField(choices=cra.THEMATIQUES),
        min_length=1,
        max_length=len(cra.THEMATIQUES),
        help_text="Codes des thématiques nationales (au moins une) ; les sous-thématiques administratives vont avec "
        "« aide_aux_demarches_administratives ».",
    )
    niveau = serializers.ChoiceField(choices=cra.NIVEAU_ATELIER, required=False, allow_blank=True)
    publics = serializers.ListField(
        child=serializers.ChoiceField(choices=Public.choices), min_length=1, max_length=len(Public.choices)
    )
    prevention = StrictBooleanField(required=False, help_text="Un atelier de prévention.")
    formation_pass = StrictBooleanField(required=False, help_text="Une inscription peut être réglée en Pass.")
    duree = serializers.IntegerField(
        min_value=planning.DUREE_MIN,
        max_value=planning.DUREE_MAX,
        required=False,
        help_text="Durée d'une séance en minutes (15 à 480) ; 120 par défaut.",
    )
    actif = StrictBooleanField(required=False, help_text="Faux : plus de nouvelle séance planifiée.")


ATELIER_WRITE_EXAMPLE = OpenApiExample(
    "Un atelier de sécurité numérique",
    value={
        "titre": "Se protéger des arnaques en ligne",
        "description": "Reconnaître un hameçonnage, choisir ses mots de passe, sécuriser son téléphone.",
        "thematiques": ["securite_numerique"],
        "niveau": "debutant",
        "publics": ["seniors", "tout_public"],
        "prevention": True,
        "duree": 120,
    },
    request_only=True,
)


# --- Sessions ------------------------------------------------------------------------------------------------------
# A session and its seats, without anyone's personal data. (Comments, not docstrings, on serializers: a docstring
# would become the schema's description, which partners read in French.)
class SeanceSerializer(serializers.ModelSerializer):
    atelier = serializers.UUIDField(source="atelier.uuid", read_only=True)
    atelier_titre = serializers.CharField(source="atelier.titre", read_only=True)
    structure = serializers.UUIDField(
        source="atelier.structure.uuid", read_only=True, help_text="La structure organisatrice."
    )
    lieu = _uuid_of("lieu", "Le lieu de la séance, ou null (séance à un arrêt du lieu itinérant).")
    arret = _uuid_of("arret", "L'arrêt du lieu itinérant, ou null.")
    commune = serializers.CharField(
        source="code_commune", read_only=True, allow_null=True, help_text="Code INSEE de la commune de la séance."
    )
    reservee_a = _uuid_of("reservee_a", "La structure au public de laquelle la séance est réservée, ou null.")
    places_prises = serializers.IntegerField(
        source="nb_places_prises",
        read_only=True,
        help_text="Places confirmées (hors personnes venues sans inscription).",
    )
    places_restantes = serializers.IntegerField(source="nb_places_restantes", read_only=True)
    nb_attente = serializers.IntegerField(read_only=True, help_text="Personnes sur la liste d'attente.")
    appel_clos = serializers.SerializerMethodField(help_text="Vrai quand la feuille d'appel est close.")

    class Meta:
        model = Seance
        fields = [
            "uuid",
            "atelier",
            "atelier_titre",
            "structure",
            "debut",
            "fin",
            "lieu",
            "arret",
            "commune",
            "capacite",
            "places_prises",
            "places_restantes",
            "nb_attente",
            "publique",
            "reservee_a",
            "statut",
            "motif_annulation",
            "appel_clos",
            "serie",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_appel_clos(self, seance):
        return seance.appel_cloture_le is not None


class SeanceUpdateSerializer(serializers.Serializer):
    debut = MomentField(help_text="Début (ISO 8601 avec décalage horaire), dans le futur.")
    fin = MomentField(
        required=False,
        help_text="Fin ; par défaut le début plus la durée de l'atelier (à la création) ou la durée "
        "actuelle de la séance (quand seul le début change).",
    )
    lieu = ScopedRelatedField("lieux", required=False, allow_null=True, help_text="Un lieu publié de votre structure.")
    arret = ScopedRelatedField(
        "arrets", required=False, allow_null=True, help_text="Ou un arrêt d'un lieu itinérant de votre structure."
    )
    capacite = serializers.IntegerField(min_value=1, max_value=planning.CAPACITE_MAX, help_text="Nombre de places.")
    publique = StrictBooleanField(
        required=False, help_text="Ouverte au public (vrai par défaut) ; faux : réservée à `reservee_a`."
    )
    reservee_a = ScopedRelatedField(
        "structures",
        required=False,
        allow_null=True,
        help_text="UUID de la structure (annuaire) au public de laquelle la séance est réservée.",
    )


class SeanceCreateSerializer(SeanceUpdateSerializer):
    atelier = ScopedRelatedField("ateliers", help_text="L'atelier de votre structure dont c'est une séance.")


class SeanceAnnulationSerializer(serializers.Serializer):
    motif = serializers.CharField(
        max_length=planning.MOTIF_MAX, help_text="Envoyé aux personnes inscrites (par exemple : salle indisponible)."
    )


SEANCE_WRITE_EXAMPLE = OpenApiExample(
    "Une séance dans un lieu de la structure",
    value={
        "atelier": "6b1f3c2a-4d5e-4f60-8a71-92b3c4d5e6f7",
        "debut": "2026-12-03T14:00:00+01:00",
        "lieu": "0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f",
        "capacite": 10,
    },
    request_only=True,
)
SEANCE_RESERVEE_EXAMPLE = OpenApiExample(
    "Une séance réservée au public d'une structure partenaire",
    value={
        "atelier": "6b1f3c2a-4d5e-4f60-8a71-92b3c4d5e6f7",
        "debut": "2026-12-10T09:30:00+01:00",
        "fin": "2026-12-10T11:30:00+01:00",
        "lieu": "0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f",
        "capacite": 8,
        "publique": False,
        "reservee_a": "2e4f6a8b-1c3d-4e5f-8a9b-0c1d2e3f4a5b",
    },
    request_only=True,
)
ANNULATION_EXAMPLE = OpenApiExample(
    "Animateur absent", value={"motif": "Animateur malade : la séance est reportée."}, request_only=True
)


# --- Registrations -------------------------------------------------------------------------------------------------
# A registration. The person's name and contact are shown only to the structure organising the session (null for a
# structure the session is reserved to); nothing else about them.
class InscriptionSerializer(serializers.ModelSerializer):
    seance = serializers.UUIDField(source="seance.uuid", read_only=True)
    position_attente = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="1 pour la première personne en attente ; null hors liste d'attente."
    )
    presence = serializers.SerializerMethodField(help_text="`present`, `absent`, ou null tant que non pointée.")
    prenom = serializers.SerializerMethodField()
    nom = serializers.SerializerMethodField()
    email = serializers.SerializerMethodField()
    telephone = serializers.SerializerMethodField()

    class Meta:
        model = Inscription
        fields = [
            "uuid",
            "seance",
            "statut",
            "position_attente",
            "source",
            "presence",
            "promue_le",
            "annulee_le",
            "created_at",
            "updated_at",
            "prenom",
            "nom",
            "email",
            "telephone",
        ]
        read_only_fields = fields

    def _organiser(self, inscription):
        structure = self.context.get("structure")
        return structure is not None and inscription.seance.atelier.structure_id == structure.pk

    def _personal(self, inscription, name):
        return getattr(inscription, name) if self._organiser(inscription) else None

    @extend_schema_field({"type": "string", "enum": Presence.values, "nullable": True})
    def get_presence(self, inscription):
        return inscription.presence or None

    @extend_schema_field({"type": "string", "nullable": True})
    def get_prenom(self, inscription):
        return self._personal(inscription, "prenom")

    @extend_schema_field({"type": "string", "nullable": True})
    def get_nom(self, inscription):
        return self._personal(inscription, "nom")

    @extend_schema_field({"type": "string", "nullable": True})
    def get_email(self, inscription):
        return self._personal(inscription, "email")

    @extend_schema_field({"type": "string", "nullable": True})
    def get_telephone(self, inscription):
        return self._personal(inscription, "telephone")


class InscriptionWriteSerializer(serializers.Serializer):
    seance = ScopedRelatedField(
        "seances", help_text="Une séance de votre structure, ou réservée au public de votre structure."
    )
    prenom = serializers.CharField(max_length=150)
    nom = serializers.CharField(max_length=150)
    email = serializers.EmailField(max_length=EMAIL_MAX, required=False, allow_blank=True)
    telephone = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text="Par exemple 06 12 34 56 78 ou +33612345678."
    )
    consentement = StrictBooleanField(
        help_text="Vrai : la personne accepte que ses coordonnées servent à l'informer de cette séance (obligatoire)."
    )

    def validate_telephone(self, value):
        if value and (not TELEPHONE.match(value) or sum(ch.isdigit() for ch in value) < 6):
            raise serializers.ValidationError("Numéro de téléphone invalide : des chiffres, espaces, points ou « + ».")
        return value

    def validate_consentement(self, value):
        if not value:
            raise serializers.ValidationError(
                "La personne doit accepter que ses coordonnées servent à l'informer de cette séance."
            )
        return value

    def validate(self, attrs):
        if not attrs.get("email") and not attrs.get("telephone"):
            raise serializers.ValidationError(
                {"email": ["Indiquez un e-mail ou un numéro de téléphone pour prévenir la personne."]}
            )
        return attrs

    def service_data(self):
        data = dict(self.validated_data)
        data.pop("seance")
        return data


INSCRIPTION_WRITE_EXAMPLE = OpenApiExample(
    "Une inscription par e-mail",
    value={
        "seance": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        "prenom": "Josiane",
        "nom": "Martin",
        "email": "josiane.martin@example.org",
        "consentement": True,
    },
    request_only=True,
)


# --- Attendance ----------------------------------------------------------------------------------------------------
class PresenceItemSerializer(serializers.Serializer):
    inscription = serializers.UUIDField(help_text="Une inscription (non annulée) de la séance.")
    presence = serializers.ChoiceField(choices=Presence.choices)


class PresencesSerializer(serializers.Serializer):
    presences = PresenceItemSerializer(many=True, allow_empty=False, max_length=1000)

    def validate_presences(self, items):
        seen = set()
        for item in items:
            if item["inscription"] in seen:
                raise serializers.ValidationError("Une inscription figure deux fois dans la liste.")
            seen.add(item["inscription"])
        return items

    def marks(self):
        return {str(item["inscription"]): item["presence"] for item in self.validated_data["presences"]}


class PresencesResultSerializer(serializers.Serializer):
    modifiees = serializers.IntegerField(help_text="Nombre de présences changées par cet envoi.")
    seance = SeanceSerializer()


PRESENCES_EXAMPLE = OpenApiExample(
    "L'appel d'une séance",
    value={
        "presences": [
            {"inscription": "3f2c9a40-8d1e-4b7a-9a55-0c7d2e1f6b21", "presence": "present"},
            {"inscription": "7d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a", "presence": "absent"},
        ]
    },
    request_only=True,
)
