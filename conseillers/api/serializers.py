# Serializer docstrings are the OpenAPI descriptions partners read: they are in French.
from django.utils.functional import cached_property
from drf_spectacular.utils import OpenApiExample, extend_schema_field
from rest_framework import serializers

from conseillers.choices import EtatPoste
from conseillers.models import Poste


class OccupantSerializer(serializers.Serializer):
    """Le conseiller qui occupe le poste : son identifiant et son nom, jamais ses coordonnées ni son contrat."""

    uuid = serializers.UUIDField(source="conseiller.uuid", read_only=True, help_text="Identifiant du conseiller.")
    prenom = serializers.CharField(source="conseiller.prenom", read_only=True)
    nom = serializers.CharField(source="conseiller.nom", read_only=True)
    depuis = serializers.DateField(source="date_debut", read_only=True, help_text="Date de prise de poste.")


class PosteSerializer(serializers.ModelSerializer):
    """Un poste de conseiller numérique ou de coordinateur rattaché à votre structure."""

    attribue = serializers.SerializerMethodField(
        help_text="Vrai pour un poste attribué à la structure (vacant ou occupé), faux pour un poste rendu."
    )
    rattache_depuis = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="Date depuis laquelle le poste est rattaché à votre structure (il a pu venir d'une autre).",
    )
    occupant = serializers.SerializerMethodField(help_text="Le conseiller qui occupe le poste ; null s'il est vacant.")

    class Meta:
        model = Poste
        fields = [
            "uuid",
            "typologie",
            "etat",
            "attribue",
            "phase",
            "date_attribution",
            "date_rendu",
            "coselec_date",
            "rattache_depuis",
            "occupant",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "etat": {"help_text": "État actuel : `vacant`, `occupe` (occupé) ou `rendu`."},
            "typologie": {"help_text": "`conum` (conseiller numérique) ou `coordo` (coordinateur)."},
            "coselec_date": {"help_text": "Date du comité de sélection qui a accordé le poste."},
            "created_at": {"help_text": "Création de la fiche du poste sur la plateforme."},
            "updated_at": {"help_text": "Dernière modification (état, occupant, rattachement, rendu)."},
        }

    def get_attribue(self, poste) -> bool:
        return poste.etat != EtatPoste.RENDU

    @cached_property
    def _occupant_serializer(self):
        # One for the whole list: a serializer built per row deep-copies its fields every time.
        return OccupantSerializer(context=self.context)

    @extend_schema_field(OccupantSerializer(allow_null=True))
    def get_occupant(self, poste):
        current = poste.affectations_en_cours
        return self._occupant_serializer.to_representation(current[0]) if current else None


POSTE_EXAMPLE = OpenApiExample(
    "Un poste occupé",
    value={
        "uuid": "6f1c2a8e-3b4d-4e5f-9a0b-1c2d3e4f5a6b",
        "typologie": "conum",
        "etat": "occupe",
        "attribue": True,
        "phase": 1,
        "date_attribution": "2021-06-01",
        "date_rendu": None,
        "coselec_date": "2021-05-20",
        "rattache_depuis": "2021-06-01",
        "occupant": {
            "uuid": "0b9e7d6c-5a4b-4c3d-8e2f-1a0b9c8d7e6f",
            "prenom": "Inès",
            "nom": "Martin",
            "depuis": "2023-02-01",
        },
        "created_at": "2021-06-01T09:30:00+02:00",
        "updated_at": "2023-02-01T10:12:45+01:00",
    },
    response_only=True,
)
