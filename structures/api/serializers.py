from decimal import Decimal, InvalidOperation

from drf_spectacular.utils import OpenApiExample
from rest_framework import serializers

from structures import lieux_standard
from structures.models import Commune, Structure

# Columns of the standard holding several values, joined with "|" (as in the standard's CSV).
MULTI_VALUED = {
    "typologie",
    "courriels",
    "site_web",
    "services",
    "publics_specifiquement_adresses",
    "prise_en_charge_specifique",
    "frais_a_charge",
    "dispositif_programmes_nationaux",
    "formations_labels",
    "modalites_acces",
    "modalites_accompagnement",
}
# Columns computed by the platform, never written by a client.
COMPUTED = {"id", "commune", "date_maj", "source"}


class CommuneSerializer(serializers.ModelSerializer):
    """Une commune : code INSEE, nom, codes postaux, population et EPCI."""

    epci_siren = serializers.CharField(source="epci.siren", default=None, read_only=True, allow_null=True)
    epci_nom = serializers.CharField(source="epci.nom", default=None, read_only=True, allow_null=True)

    class Meta:
        model = Commune
        fields = ["code_insee", "nom", "siren", "codes_postaux", "population", "departement", "epci_siren", "epci_nom"]


class StructureSerializer(serializers.ModelSerializer):
    """Une structure de l'annuaire public : identité, adresse et rôles sur le territoire (aucune personne de
    contact)."""

    code_insee = serializers.CharField(source="commune.code_insee", read_only=True)
    commune = serializers.CharField(source="commune.nom", read_only=True)
    site_web = serializers.URLField(read_only=True, allow_null=True, help_text="Null quand il n'est pas connu.")

    class Meta:
        model = Structure
        fields = [
            "uuid",
            "nom",
            "siret",
            "rna",
            "type_juridique",
            "secteur",
            "adresse",
            "code_postal",
            "code_insee",
            "commune",
            "site_web",
            "qpv",
            "zrr",
            *Structure.ROLE_FIELDS,
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["site_web"] = data["site_web"] or None
        return data


def _standard_fields():
    """One read-only serializer field per column of the national standard, typed and titled as in its schema."""
    fields = {"uuid": serializers.UUIDField(read_only=True)}
    for column in lieux_standard.schema()["fields"]:
        kind = serializers.FloatField if column.get("type") == "number" else serializers.CharField
        required = column.get("constraints", {}).get("required", False)
        fields[column["name"]] = kind(read_only=True, allow_null=not required, help_text=column.get("title", ""))
    fields["publie"] = serializers.BooleanField(
        source="is_active", read_only=True, help_text="Faux pour un lieu retiré de la publication."
    )
    return fields


class LieuSerializer(serializers.Serializer):
    """Un lieu de médiation numérique dans les champs du standard national « Lieux de médiation numérique » v1.0.2
    (mêmes noms, mêmes valeurs, null quand un champ est vide), plus `uuid` et `publie`."""

    locals().update(_standard_fields())

    def to_representation(self, instance):
        numbers = {c["name"] for c in lieux_standard.schema()["fields"] if c.get("type") == "number"}
        row = lieux_standard.lieu_to_row(instance)
        data = {"uuid": str(instance.uuid)}
        for name, value in row.items():
            data[name] = None if value == "" else float(value) if name in numbers else value
        data["publie"] = instance.is_active
        return data


def _writable_fields():
    """The standard's columns a client writes, with the standard's constraints (patterns, lengths)."""
    fields = {}
    for column in lieux_standard.schema()["fields"]:
        name = column["name"]
        if name in COMPUTED:
            continue
        constraints = column.get("constraints", {})
        required = (constraints.get("required", False) or name in {"services", "code_insee"}) and name != "pivot"
        options = {"required": required, "help_text": column.get("description", column.get("title", ""))}
        if name == "pivot":
            options["help_text"] = "SIRET du lieu s'il a le sien ; sinon celui de la structure est utilisé."
        if column.get("type") == "number":
            fields[name] = serializers.FloatField(allow_null=True, **options)
            continue
        if "maxLength" in constraints:
            options["max_length"] = constraints["maxLength"]
        if name in MULTI_VALUED:
            options["help_text"] += " Plusieurs valeurs séparées par « | »."
        fields[name] = serializers.CharField(allow_blank=not required, **options)
    fields["publie"] = serializers.BooleanField(
        required=False, help_text="Faux retire le lieu de la publication, vrai le publie de nouveau."
    )
    return fields


class LieuWriteSerializer(serializers.Serializer):
    """Un lieu écrit dans les champs du standard national, aux mêmes noms et formats qu'à la lecture (valeurs
    multiples séparées par « | »). `id`, `commune`, `date_maj` et `source` sont calculés par la plateforme."""

    locals().update(_writable_fields())

    def validate_code_insee(self, value):
        commune = Commune.objects.filter(code_insee=value).first()
        if commune is None:
            raise serializers.ValidationError(f"Aucune commune de la plateforme n'a le code INSEE « {value} ».")
        return commune

    def _number(self, name, value):
        if value is None:
            return None
        try:
            return Decimal(str(value)).quantize(Decimal("0.000001"))
        except (InvalidOperation, ValueError):
            raise serializers.ValidationError({name: ["Un nombre est attendu."]}) from None

    def model_fields(self):
        """The validated data as the place's model fields (lists split, numbers as decimals, the commune)."""
        fields = {}
        for name, value in self.validated_data.items():
            if name == "code_insee":
                fields["commune"] = value
            elif name == "publie":
                continue
            elif name in ("latitude", "longitude"):
                fields[name] = self._number(name, value)
            elif name in MULTI_VALUED:
                fields[name] = [item.strip() for item in value.split("|") if item.strip()]
            else:
                fields[name] = value
        return fields


LIEU_WRITE_EXAMPLE = OpenApiExample(
    "Un lieu fixe",
    value={
        "nom": "Espace numérique de la médiathèque",
        "adresse": "1 place de la Mairie",
        "code_postal": "31670",
        "code_insee": "31254",
        "latitude": 43.5531,
        "longitude": 1.5361,
        "typologie": "BIB",
        "telephone": "+33561000000",
        "courriels": "mediatheque@example.org",
        "horaires": "Tu-Sa 10:00-12:00,14:00-18:00",
        "services": "Maîtrise des outils numériques du quotidien|Aide aux démarches administratives",
        "frais_a_charge": "Gratuit",
        "modalites_acces": "Se présenter|Téléphoner",
        "modalites_accompagnement": "Accompagnement individuel|Dans un atelier collectif",
    },
    request_only=True,
)
