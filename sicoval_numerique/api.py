"""Base classes of the REST API: pagination, error format. Every app's API builds on these."""

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import filters, pagination, serializers
from rest_framework.views import exception_handler as drf_exception_handler


class StandardPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "taille"
    max_page_size = 200

    def get_page_size(self, request):
        """A page size out of bounds is an error (400 with a French message), never silently replaced."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise serializers.ValidationError(
                {self.page_size_query_param: [f"La taille de page est un entier entre 1 et {self.max_page_size}."]}
            )
        return int(raw)

    def get_page_number(self, request, paginator):
        """A malformed page number is a 400; a page past the end stays a 404, as DRF answers."""
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if not raw.isdigit() or int(raw) < 1:
            raise serializers.ValidationError(
                {self.page_query_param: ["Le numéro de page est un entier à partir de 1."]}
            )
        return raw

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
            elif parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters


class StrictFilterSet(django_filters.FilterSet):
    """A filter set whose enumerated filters refuse an empty value (400) instead of silently ignoring it."""

    def is_valid(self):
        valid = super().is_valid()
        for name, filter_ in self.filters.items():
            if isinstance(filter_, django_filters.ChoiceFilter) and self.data.get(name, None) == "":
                self.form.add_error(name, "Ce paramètre ne peut pas être vide : choisissez une valeur de la liste.")
                valid = False
        return valid


class StrictOrderingFilter(filters.OrderingFilter):
    """Ordering by one documented field (``nom`` or ``-nom``); anything else is a 400, never silently ignored."""

    def _allowed(self, view):
        fields = [name for name, _label in self.get_valid_fields(view.get_queryset(), view, {"request": None})]
        return [value for name in fields for value in (name, f"-{name}")]

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if raw is None:
            return self.get_default_ordering(view)
        allowed = self._allowed(view)
        if raw not in allowed:
            raise serializers.ValidationError(
                {self.ordering_param: [f"Tri inconnu. Valeurs possibles : {', '.join(allowed)}."]}
            )
        return [raw]

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = {"type": "string", "enum": self._allowed(view)}
        return parameters


def exception_handler(exc, context):
    """DRF's handler, plus service-layer validation errors turned into 400 answers with their French message."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = serializers.ValidationError(detail)
    return drf_exception_handler(exc, context)


ERROR_SCHEMA = {
    "type": "object",
    "description": "Une erreur : un message en français, ou les messages par champ pour une saisie invalide.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
ERROR_RESPONSES = {
    "400": "Paramètres invalides (filtre, tri ou saisie) : les messages disent lesquels.",
    "401": "Authentification absente ou invalide.",
    "403": "Droits insuffisants pour cette opération.",
    "404": "Objet introuvable ou hors de votre périmètre, ou page de résultats inexistante.",
    "429": "Trop de requêtes : réessayez après le délai indiqué par l'en-tête Retry-After.",
}


NO_NUL_PATTERN = "^[^\\x00]*$"


def document_error_responses(result, generator, request, public):
    """drf-spectacular post-processing hook: every operation documents the errors the API can answer, with one
    shared error schema, so that clients (and the contract tests) know every status they may receive."""
    result.setdefault("components", {}).setdefault("schemas", {})["Erreur"] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if schema.get("type") == "string" and "pattern" not in schema and "enum" not in schema:
                    schema["pattern"] = NO_NUL_PATTERN  # Django refuses NUL characters in text input (400)
            responses = operation.setdefault("responses", {})
            security = operation.get("security", [{}])
            for status, description in ERROR_RESPONSES.items():
                if status in ("401", "403") and security in ([{}], []):
                    continue  # anonymous operations never answer 401/403
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Erreur"}}},
                    },
                )
    return result
