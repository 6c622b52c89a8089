"""The territory's directory (communes, structures) and its places of digital mediation. Public reads need no token;
with a token of a structure holding ``lieux:read``, the places list also shows that structure's retired places, and
``lieux:write`` creates, updates and retires them."""

import django_filters
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.response import Response

from sicoval_numerique.api import StandardPagination, StrictFilterSet
from sicoval_numerique.api.partner import PartnerViewSet, SyncFilterSet
from structures import choices, services
from structures.fields import list_contains
from structures.models import Commune, Lieu, Structure
from structures.selectors import lieux_in_commune

from .serializers import (
    LIEU_WRITE_EXAMPLE,
    CommuneSerializer,
    LieuSerializer,
    LieuWriteSerializer,
    StructureSerializer,
)


class CommuneFilter(StrictFilterSet):
    departement = django_filters.CharFilter(help_text="Code du département, par exemple 31.")
    epci = django_filters.CharFilter(field_name="epci__siren", help_text="SIREN de l'EPCI.")
    nom = django_filters.CharFilter(lookup_expr="icontains", help_text="Partie du nom.")

    class Meta:
        model = Commune
        fields = ["departement", "epci", "nom"]


@extend_schema_view(
    list=extend_schema(summary="Communes", description="Les communes chargées sur la plateforme.", tags=["annuaire"]),
    retrieve=extend_schema(summary="Une commune", description="Une commune par son code INSEE.", tags=["annuaire"]),
)
class CommuneViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PartnerViewSet):
    serializer_class = CommuneSerializer
    public_read = True
    queryset = Commune.objects.none()
    lookup_field = "code_insee"
    lookup_value_regex = r"[0-9AB]{5}"
    pagination_class = StandardPagination
    filterset_class = CommuneFilter
    ordering_fields = ["code_insee", "nom", "population"]

    def public_queryset(self):
        return Commune.objects.select_related("epci").order_by("code_insee")


class StructureFilter(StrictFilterSet):
    commune = django_filters.CharFilter(field_name="commune__code_insee", help_text="Code INSEE de la commune.")
    type_juridique = django_filters.ChoiceFilter(choices=choices.TypeJuridique.choices, help_text="Type juridique.")
    role = django_filters.ChoiceFilter(
        choices=[(name, Structure._meta.get_field(name).verbose_name) for name in Structure.ROLE_FIELDS],
        method="filter_role",
        help_text="Un rôle sur le territoire.",
    )
    nom = django_filters.CharFilter(lookup_expr="icontains", help_text="Partie du nom.")

    class Meta:
        model = Structure
        fields = ["commune", "type_juridique", "role", "nom"]

    def filter_role(self, queryset, name, value):
        return queryset.filter(**{value: True})


def structures_annuaire():
    """The public directory: structures with a role on the territory or a published place."""
    published = Lieu.objects.filter(structure=OuterRef("pk"), is_active=True)
    roles = Q()
    for name in Structure.ROLE_FIELDS:
        roles |= Q(**{name: True})
    return Structure.objects.filter(roles | Q(Exists(published))).select_related("commune")


@extend_schema_view(
    list=extend_schema(
        summary="Structures",
        description="L'annuaire public des structures du territoire : celles qui y ont un rôle (conseillers "
        "numériques, France Services, Aidants Connect, Pass numérique, réseau des aidants) ou un lieu publié.",
        tags=["annuaire"],
    ),
    retrieve=extend_schema(summary="Une structure", tags=["annuaire"]),
)
class StructureViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PartnerViewSet):
    serializer_class = StructureSerializer
    public_read = True
    queryset = Structure.objects.none()
    pagination_class = StandardPagination
    filterset_class = StructureFilter
    ordering_fields = ["nom"]

    def public_queryset(self):
        return structures_annuaire().order_by("nom")


class LieuFilter(SyncFilterSet):
    commune = django_filters.CharFilter(
        method="filter_commune", help_text="Code INSEE d'une commune : les lieux qui y sont ou y passent (itinérants)."
    )
    service = django_filters.ChoiceFilter(
        choices=choices.SERVICES, method="filter_service", help_text="Un service du standard."
    )

    class Meta:
        model = Lieu
        fields = ["commune", "service", "modified_since"]

    def filter_commune(self, queryset, name, value):
        return lieux_in_commune(queryset, value)

    def filter_service(self, queryset, name, value):
        return queryset.filter(list_contains("services", value))


@extend_schema_view(
    list=extend_schema(
        summary="Lieux de médiation numérique",
        description="Les lieux publiés, au format du standard national « Lieux de médiation numérique » v1.0.2. "
        "Avec un jeton `lieux:read`, aussi les lieux retirés de votre structure (champ `publie`).",
        tags=["lieux"],
    ),
    retrieve=extend_schema(summary="Un lieu de médiation numérique", tags=["lieux"]),
    create=extend_schema(
        summary="Créer un lieu",
        description="Un lieu de votre structure, dans les champs du standard national. Publié dès sa création.",
        request=LieuWriteSerializer,
        responses={201: LieuSerializer},
        examples=[LIEU_WRITE_EXAMPLE],
        tags=["lieux"],
    ),
    partial_update=extend_schema(
        summary="Modifier un lieu",
        description="Seuls les champs envoyés changent. `publie: false` retire le lieu de la publication.",
        request=LieuWriteSerializer,
        responses={200: LieuSerializer},
        tags=["lieux"],
    ),
    destroy=extend_schema(
        summary="Retirer un lieu",
        description="Le lieu n'est plus publié ; il reste dans l'historique (un lieu n'est jamais effacé).",
        responses={204: None},
        tags=["lieux"],
    ),
)
class LieuViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    PartnerViewSet,
):
    serializer_class = LieuSerializer
    scope_family = "lieux"
    public_read = True
    queryset = Lieu.objects.none()
    filterset_class = LieuFilter
    ordering_fields = ["nom", "updated_at"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def public_queryset(self):
        return Lieu.objects.filter(is_active=True).select_related("structure", "commune")

    def scoped_queryset(self, structure):
        if self.request.method in ("GET", "HEAD", "OPTIONS"):
            # Every published place, and the structure's own retired ones.
            return Lieu.objects.filter(Q(is_active=True) | Q(structure=structure)).select_related(
                "structure", "commune"
            )
        return Lieu.objects.filter(structure=structure).select_related("structure", "commune")

    def get_serializer_class(self):
        if self.action in ("create", "partial_update"):
            return LieuWriteSerializer
        return LieuSerializer

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            lieu = services.lieu_create(structure=self.client.structure, by=self.actor, **serializer.model_fields())
            if serializer.validated_data.get("publie") is False:
                lieu = services.lieu_set_active(lieu=lieu, is_active=False, by=self.actor)
            self.check_in_scope(lieu)
        return Response(self._read(lieu), status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        lieu = self.get_object()
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            fields = serializer.model_fields()
            if fields:
                lieu = services.lieu_update(lieu=lieu, by=self.actor, **fields)
            publie = serializer.validated_data.get("publie")
            if publie is not None and publie != lieu.is_active:
                lieu = services.lieu_set_active(lieu=lieu, is_active=publie, by=self.actor)
            self.check_in_scope(lieu)
        return Response(self._read(lieu))

    def destroy(self, request, *args, **kwargs):
        lieu = self.get_object()
        if lieu.is_active:
            services.lieu_set_active(lieu=lieu, is_active=False, by=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _read(self, lieu):
        lieu = Lieu.objects.select_related("structure", "commune").get(pk=lieu.pk)
        return LieuSerializer(lieu, context=self.get_serializer_context()).data
