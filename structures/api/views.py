"""Public, read-only reference endpoints: the territory's communes and its published places. The partner API
(OAuth2, writes) builds on the same base classes."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, viewsets

from sicoval_numerique.api import StrictFilterSet
from structures import choices
from structures.fields import list_contains
from structures.models import Commune, Lieu
from structures.selectors import lieux_in_commune, lieux_publics

from .serializers import CommuneSerializer, LieuSerializer


class CommuneFilter(StrictFilterSet):
    departement = django_filters.CharFilter(help_text="Code du département, par exemple 31.")
    epci = django_filters.CharFilter(field_name="epci__siren", help_text="SIREN de l'EPCI.")
    nom = django_filters.CharFilter(lookup_expr="icontains", help_text="Partie du nom.")

    class Meta:
        model = Commune
        fields = ["departement", "epci", "nom"]


@extend_schema_view(
    list=extend_schema(summary="Communes", description="Les communes chargées sur la plateforme."),
    retrieve=extend_schema(summary="Une commune", description="Une commune par son code INSEE."),
)
class CommuneViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CommuneSerializer
    permission_classes = [permissions.AllowAny]
    queryset = Commune.objects.select_related("epci").order_by("code_insee")
    lookup_field = "code_insee"
    lookup_value_regex = r"[0-9AB]{5}"
    filterset_class = CommuneFilter
    ordering_fields = ["code_insee", "nom", "population"]


class LieuFilter(StrictFilterSet):
    commune = django_filters.CharFilter(
        method="filter_commune", help_text="Code INSEE d'une commune : les lieux qui y sont ou y passent (itinérants)."
    )
    service = django_filters.ChoiceFilter(
        choices=choices.SERVICES, method="filter_service", help_text="Un service du standard."
    )

    class Meta:
        model = Lieu
        fields = ["commune", "service"]

    def filter_commune(self, queryset, name, value):
        return lieux_in_commune(queryset, value)

    def filter_service(self, queryset, name, value):
        return queryset.filter(list_contains("services", value))


@extend_schema_view(
    list=extend_schema(
        summary="Lieux de médiation numérique",
        description="Les lieux publiés, au format du standard national « Lieux de médiation numérique » v1.0.2.",
    ),
    retrieve=extend_schema(summary="Un lieu de médiation numérique"),
)
class LieuViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = LieuSerializer
    permission_classes = [permissions.AllowAny]
    lookup_field = "uuid"
    filterset_class = LieuFilter
    ordering_fields = ["nom"]

    def get_queryset(self):
        return lieux_publics(with_stops=False)
