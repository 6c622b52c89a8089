"""Base classes of the REST API: pagination, filters, error format. Every app's API builds on these; the partner
API's scoped viewset, idempotency and throttles are in ``partner``, its OpenAPI documentation in ``schema``."""

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
    """A filter set that refuses an empty parameter (400) instead of silently ignoring it: ``?commune=`` is a
    mistake to report, not a filter to drop."""

    def is_valid(self):
        valid = super().is_valid()
        for name in self.filters:
            if self.data.get(name, None) == "" and name not in self.form.errors:
                self.form.add_error(name, "Ce paramètre ne peut pas être vide : donnez-lui une valeur ou retirez-le.")
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
