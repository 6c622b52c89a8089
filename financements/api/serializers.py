# Serializer docstrings are the OpenAPI descriptions partners read: they are in French.
from drf_spectacular.utils import OpenApiExample
from rest_framework import serializers

from financements.models import Convention, Financeur, LigneFinancement


def _euros(help_text, **kwargs):
    """An amount in euros, as a decimal string with two decimals (``"12500.00"``)."""
    return serializers.DecimalField(
        max_digits=12, decimal_places=2, coerce_to_string=True, read_only=True, help_text=help_text, **kwargs
    )


class MontantsSerializer(serializers.Serializer):
    """Les montants le jour de la requête, en euros (chaînes décimales à deux décimales), tels que les pages de la
    plateforme les montrent."""

    accorde = _euros("Montant accordé (€).", source="agreed")
    verse = _euros("Montant versé à ce jour (€).", source="paid")
    reste_a_verser = _euros("Reste à verser : accordé moins versé (€).", source="remaining")
    reverse = _euros("Montant reversé au financeur (avoirs) à ce jour (€).", source="repaid")


class FinanceurSerializer(serializers.ModelSerializer):
    """Le financeur de la convention."""

    class Meta:
        model = Financeur
        fields = ["uuid", "nom", "type"]
        read_only_fields = fields


class LigneSerializer(serializers.ModelSerializer):
    """Ce que la convention accorde pour un poste."""

    poste = serializers.UUIDField(source="poste.uuid", read_only=True, help_text="Identifiant du poste financé.")
    montant_base = _euros("Montant de base (€).")
    bonus_qpv_zrr = _euros("Bonification QPV/ZRR (€).")
    montants = MontantsSerializer(source="figures", read_only=True)

    class Meta:
        model = LigneFinancement
        fields = ["uuid", "poste", "montant_base", "bonus_qpv_zrr", "montants"]
        read_only_fields = fields


class ConventionSerializer(serializers.ModelSerializer):
    """Une convention de financement dont votre structure est bénéficiaire."""

    financeur = FinanceurSerializer(read_only=True)
    montants = MontantsSerializer(
        source="figures", read_only=True, help_text="Les montants de la convention (somme de ses lignes) à ce jour."
    )
    lignes = LigneSerializer(many=True, read_only=True, help_text="Une ligne par poste financé.")

    class Meta:
        model = Convention
        fields = [
            "uuid",
            "reference",
            "financeur",
            "enveloppe",
            "phase",
            "statut",
            "date_signature",
            "date_debut",
            "date_fin",
            "date_debut_financement",
            "date_fin_financement",
            "montants",
            "lignes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "enveloppe": {"help_text": "`V1` (conventionnement initial), `V2` (reconventionnement), `cofinancement`."},
            "statut": {"help_text": "`en_preparation`, `signee`, `soldee` ou `resiliee`."},
            "updated_at": {
                "help_text": "Dernière modification de la convention elle-même ; `modified_since` retrouve aussi les "
                "conventions dont une ligne, un versement ou un avoir a changé."
            },
        }


CONVENTION_EXAMPLE = OpenApiExample(
    "Une convention de reconventionnement",
    value={
        "uuid": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        "reference": "ANCT-2023-0042",
        "financeur": {"uuid": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e", "nom": "État (ANCT)", "type": "etat"},
        "enveloppe": "V2",
        "phase": 2,
        "statut": "signee",
        "date_signature": "2023-03-15",
        "date_debut": "2023-04-01",
        "date_fin": "2026-03-31",
        "date_debut_financement": "2023-04-01",
        "date_fin_financement": "2026-03-31",
        "montants": {"accorde": "42500.00", "verse": "30000.00", "reste_a_verser": "12500.00", "reverse": "0.00"},
        "lignes": [
            {
                "uuid": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
                "poste": "6f1c2a8e-3b4d-4e5f-9a0b-1c2d3e4f5a6b",
                "montant_base": "42500.00",
                "bonus_qpv_zrr": "0.00",
                "montants": {
                    "accorde": "42500.00",
                    "verse": "30000.00",
                    "reste_a_verser": "12500.00",
                    "reverse": "0.00",
                },
            }
        ],
        "created_at": "2023-03-01T10:00:00+01:00",
        "updated_at": "2023-03-15T16:20:00+01:00",
    },
    response_only=True,
)
