from rest_framework import serializers

from structures import lieux_standard
from structures.models import Commune


class CommuneSerializer(serializers.ModelSerializer):
    epci_siren = serializers.CharField(source="epci.siren", default=None, read_only=True, allow_null=True)
    epci_nom = serializers.CharField(source="epci.nom", default=None, read_only=True, allow_null=True)

    class Meta:
        model = Commune
        fields = ["code_insee", "nom", "siren", "codes_postaux", "population", "departement", "epci_siren", "epci_nom"]


def _standard_fields():
    """One read-only serializer field per column of the national standard, typed and titled as in its schema."""
    fields = {"uuid": serializers.UUIDField(read_only=True)}
    for column in lieux_standard.schema()["fields"]:
        kind = serializers.FloatField if column.get("type") == "number" else serializers.CharField
        required = column.get("constraints", {}).get("required", False)
        fields[column["name"]] = kind(read_only=True, allow_null=not required, help_text=column.get("title", ""))
    return fields


class LieuSerializer(serializers.Serializer):
    """A place in the national standard's representation: its field names and values, null where empty."""

    locals().update(_standard_fields())

    def to_representation(self, instance):
        numbers = {c["name"] for c in lieux_standard.schema()["fields"] if c.get("type") == "number"}
        row = lieux_standard.lieu_to_row(instance)
        data = {"uuid": str(instance.uuid)}
        for name, value in row.items():
            data[name] = None if value == "" else float(value) if name in numbers else value
        return data
