"""The columns of the national standard « Lieux de médiation numérique » as the places' import reads them, and the
row validator (the API's own writer, fed with the batch's communes)."""

import re
from functools import cache

from rest_framework import serializers

from structures import lieux_standard
from structures.api.serializers import COMPUTED, LieuWriteSerializer

RNA_RE = re.compile(r"W\d{9}")
DECIMAL_COMMA_RE = re.compile(r"-?\d+,\d+")
# The model fields reported under another name of the standard.
COLUMN_OF_FIELD = {"commune": "code_insee", "id_source": "id"}


def _schema_fields():
    return lieux_standard.schema()["fields"]


@cache
def standard_columns():
    return tuple(lieux_standard.columns())


@cache
def required_columns():
    return tuple(f["name"] for f in _schema_fields() if f.get("constraints", {}).get("required"))


@cache
def _number_columns():
    return frozenset(f["name"] for f in _schema_fields() if f.get("type") == "number")


@cache
def _writable_columns():
    """The columns the API's serializer validates (the standard's, minus those computed by the platform)."""
    return tuple(name for name in standard_columns() if name not in COMPUTED)


@cache
def _code_insee_re():
    pattern = next(f for f in _schema_fields() if f["name"] == "code_insee")["constraints"]["pattern"]
    return re.compile(pattern)


class _LigneSerializer(LieuWriteSerializer):
    """The API's validation of a place, with the territory's communes given once per batch (no query per row)."""

    def validate_code_insee(self, value):
        commune = self.context["communes"].get(value)
        if commune is None:
            raise serializers.ValidationError(f"Aucune commune de la plateforme n'a le code INSEE « {value} ».")
        return commune
