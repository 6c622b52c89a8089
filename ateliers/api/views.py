"""The workshops' partner API: programmes (``ateliers`` scopes), sessions with their cancellation (``ateliers``) and
attendance (``inscriptions``), and registrations (``inscriptions``). Every write goes through ``ateliers.services``,
acting as the client (``self.actor``); the services' refusals answer 400 with their French message."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from ateliers import services
from ateliers.models import Atelier, Inscription, Seance, SourceInscription, StatutSeance
from sicoval_numerique.api.partner import PartnerViewSet

from . import selectors
from .filters import AtelierFilter, InscriptionFilter, SeanceFilter
from .serializers import (
    ANNULATION_EXAMPLE,
    ATELIER_WRITE_EXAMPLE,
    INSCRIPTION_WRITE_EXAMPLE,
    PRESENCES_EXAMPLE,
    SEANCE_RESERVEE_EXAMPLE,
    SEANCE_WRITE_EXAMPLE,
    AtelierSerializer,
    AtelierWriteSerializer,
    InscriptionSerializer,
    InscriptionWriteSerializer,
    PresencesResultSerializer,
    PresencesSerializer,
    SeanceAnnulationSerializer,
    SeanceCreateSerializer,
    SeanceSerializer,
    SeanceUpdateSerializer,
)

READS = ("GET", "HEAD", "OPTIONS")


# --- Programmes ----------------------------------------------------------------------------------------------------
@extend_schema_view(
    list=extend_schema(
        summary="Ateliers de votre structure",
        description="Les programmes d'ateliers que votre structure organise, filtrables par thématique, par état et "
        "par date de modification.",
        tags=["ateliers"],
    ),
    retrieve=extend_schema(summary="Un atelier", description="Un atelier de votre structure.", tags=["ateliers"]),
    create=extend_schema(
        summary="Créer un atelier",
        description="Un programme d'atelier de votre structure : titre, au moins une thématique nationale, au moins un "
        "public. Ses séances se planifient ensuite (`POST /seances/`).",
        request=AtelierWriteSerializer,
        responses={201: AtelierSerializer},
        examples=[ATELIER_WRITE_EXAMPLE],
        tags=["ateliers"],
    ),
    partial_update=extend_schema(
        summary="Modifier un atelier",
        description="Seuls les champs envoyés changent. `actif: false` empêche de planifier de nouvelles séances ; "
        "les séances déjà planifiées restent.",
        request=AtelierWriteSerializer,
        responses={200: AtelierSerializer},
        tags=["ateliers"],
    ),
)
class AtelierViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    PartnerViewSet,
):
    serializer_class = AtelierSerializer
    scope_family = "ateliers"
    queryset = Atelier.objects.none()
    filterset_class = AtelierFilter
    ordering_fields = ["titre", "updated_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def scoped_queryset(self, structure):
        return selectors.ateliers_of(structure)

    def get_serializer_class(self):
        if self.action in ("create", "partial_update"):
            return AtelierWriteSerializer
        return AtelierSerializer

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = {"duree": 120, **serializer.validated_data}
        with transaction.atomic():
            atelier = services.atelier_create(by=self.actor, structure=self.client.structure, data=data)
            self.check_in_scope(atelier)
        return Response(self._read(atelier), status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        atelier = self.get_object()
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            atelier = services.atelier_update(atelier=atelier, by=self.actor, data=serializer.validated_data)
            self.check_in_scope(atelier)
        return Response(self._read(atelier))

    def _read(self, atelier):
        atelier = selectors.ateliers_of(self.client.structure).get(pk=atelier.pk)
        return AtelierSerializer(atelier, context=self.get_serializer_context()).data


# --- Sessions ------------------------------------------------------------------------------------------------------
@extend_schema_view(
    list=extend_schema(
        summary="Séances",
        description="Les séances des ateliers de votre structure, et celles qu'une autre structure a réservées au "
        "public de la vôtre, avec leurs places (capacité, places prises, places restantes, liste d'attente), sans "
        "aucune donnée personnelle.",
        tags=["seances"],
    ),
    retrieve=extend_schema(summary="Une séance", description="Une séance et ses places.", tags=["seances"]),
    create=extend_schema(
        summary="Planifier une séance",
        description="Une séance d'un atelier actif de votre structure, dans le futur, dans un de ses lieux publiés ou "
        "à un arrêt de son lieu itinérant (le jour de l'arrêt), de 1 à 500 places ; ouverte au public, ou réservée "
        "au public d'une structure (`publique: false`, `reservee_a`). Sans `fin`, elle dure la durée de l'atelier.",
        request=SeanceCreateSerializer,
        responses={201: SeanceSerializer},
        examples=[SEANCE_WRITE_EXAMPLE, SEANCE_RESERVEE_EXAMPLE],
        tags=["seances"],
    ),
    partial_update=extend_schema(
        summary="Modifier une séance",
        description="Seuls les champs envoyés changent ; un nouveau début garde la durée de la séance si `fin` n'est "
        "pas envoyée. Un changement de date, d'heure ou de lieu prévient chaque personne inscrite ou en attente. La "
        "capacité ne descend pas sous les places confirmées ; l'augmenter donne les places à la liste d'attente, "
        "dans l'ordre d'arrivée. Une séance annulée ou dont l'appel est clos ne se modifie plus.",
        request=SeanceUpdateSerializer,
        responses={200: SeanceSerializer},
        tags=["seances"],
    ),
)
class SeanceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    PartnerViewSet,
):
    serializer_class = SeanceSerializer
    scope_family = "ateliers"
    queryset = Seance.objects.none()
    filterset_class = SeanceFilter
    ordering_fields = ["debut", "updated_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    related_scopes = {
        "ateliers": selectors.ateliers_of,
        "lieux": selectors.lieux_for_seances,
        "arrets": selectors.arrets_for_seances,
        "structures": selectors.structures_for_reservation,
    }

    def scoped_queryset(self, structure):
        if self.request.method in READS:
            seances = selectors.seances_open_to(structure)
        else:  # planning, cancelling and attendance: only the organising structure
            seances = selectors.seances_organised_by(structure)
        return selectors.with_seats(seances.select_related(*selectors.SEANCE_RELATED))

    def get_serializer_class(self):
        return {
            "create": SeanceCreateSerializer,
            "partial_update": SeanceUpdateSerializer,
            "annuler": SeanceAnnulationSerializer,
            "presences": PresencesSerializer,
        }.get(self.action, SeanceSerializer)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        atelier = data.pop("atelier")
        with transaction.atomic():
            seance = services.seance_create(atelier=atelier, by=self.actor, data=data)
            self.check_in_scope(seance)
        return Response(self._read(seance), status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        seance = self.get_object()
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "debut" in data and "fin" not in data:
            data["fin"] = _keep_length(seance, data["debut"])  # None: the service then reads the workshop's duration
        with transaction.atomic():
            seance, _promoted = services.seance_update(seance=seance, by=self.actor, data=data)
            self.check_in_scope(seance)
        return Response(self._read(seance))

    @extend_schema(
        summary="Annuler une séance",
        description="La séance est annulée avec son motif, et chaque personne inscrite ou en attente est prévenue "
        "(par e-mail quand elle en a laissé un). Annuler une séance déjà annulée ne change rien ; une séance dont "
        "l'appel est clos ne s'annule plus.",
        request=SeanceAnnulationSerializer,
        responses={200: SeanceSerializer},
        examples=[ANNULATION_EXAMPLE],
        tags=["seances"],
    )
    @action(detail=True, methods=["post"])
    def annuler(self, request, *args, **kwargs):
        seance = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        seance = services.seance_cancel(seance=seance, motif=serializer.validated_data["motif"], by=self.actor)
        return Response(self._read(seance))

    @extend_schema(
        summary="Enregistrer les présences",
        description="Présent ou absent, pour des inscriptions (non annulées) de la séance ; celles qui ne sont pas "
        "citées gardent leur pointage. La feuille d'appel s'ouvre le jour de la séance et se ferme à la clôture de "
        "l'appel ; une séance annulée n'en a pas. Droit `inscriptions:write`.",
        request=PresencesSerializer,
        responses={200: PresencesResultSerializer},
        examples=[PRESENCES_EXAMPLE],
        tags=["inscriptions"],
    )
    @action(detail=True, methods=["post"], scope_family="inscriptions")
    def presences(self, request, *args, **kwargs):
        seance = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changed = services.appel_enregistrer(seance=seance, presences=serializer.marks(), by=self.actor)
        return Response({"modifiees": changed, "seance": self._read(seance)})

    def _read(self, seance):
        seance = self.scoped_queryset(self.client.structure).get(pk=seance.pk)
        return SeanceSerializer(seance, context=self.get_serializer_context()).data


def _keep_length(seance, debut):
    """A session moved without a new end keeps its length."""
    try:
        return debut + (seance.fin - seance.debut)
    except OverflowError:  # a start at the end of the calendar, which the service refuses anyway
        return None


# --- Registrations -------------------------------------------------------------------------------------------------
DEJA_INSCRIT = "Cette personne est déjà inscrite à cette séance (même e-mail ou même téléphone)."


@extend_schema_view(
    list=extend_schema(
        summary="Inscriptions",
        description="Les inscriptions aux séances de votre structure (nom et coordonnées des personnes compris), et "
        "à celles réservées au public de votre structure (sans nom ni coordonnées : seule la structure "
        "organisatrice les voit).",
        tags=["inscriptions"],
    ),
    retrieve=extend_schema(
        summary="Une inscription", description="Une inscription et son statut.", tags=["inscriptions"]
    ),
    create=extend_schema(
        summary="Inscrire une personne",
        description="Inscrit une personne, avec son consentement, à une séance de votre structure ou réservée au "
        "public de votre structure : place confirmée tant qu'il en reste, sinon liste d'attente (`statut`, "
        "`position_attente`). La personne reçoit la confirmation par e-mail quand elle en a laissé un. Une personne "
        "déjà inscrite (même e-mail ou même téléphone) est refusée ; une séance annulée ou commencée aussi.",
        request=InscriptionWriteSerializer,
        responses={201: InscriptionSerializer},
        examples=[INSCRIPTION_WRITE_EXAMPLE],
        tags=["inscriptions"],
    ),
)
class InscriptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, PartnerViewSet):
    serializer_class = InscriptionSerializer
    scope_family = "inscriptions"
    queryset = Inscription.objects.none()
    filterset_class = InscriptionFilter
    ordering_fields = ["created_at", "updated_at"]
    related_scopes = {"seances": selectors.seances_open_to}

    def scoped_queryset(self, structure):
        return selectors.inscriptions_open_to(structure)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["structure"] = self.client.structure if self.client is not None else None
        return context

    def get_serializer_class(self):
        if self.action == "create":
            return InscriptionWriteSerializer
        if self.action == "annuler":
            return serializers.Serializer
        return InscriptionSerializer

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        seance = serializer.validated_data["seance"]
        try:
            with transaction.atomic():
                inscription = services.inscription_create(
                    seance=seance, data=serializer.service_data(), by=self.actor, source=SourceInscription.API
                )
                self.check_in_scope(inscription)
        except DjangoValidationError as error:
            if getattr(error, "code", None) == "deja_inscrit":
                raise serializers.ValidationError({"detail": [DEJA_INSCRIT]}) from error
            raise
        return Response(self._read(inscription), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Annuler une inscription",
        description="La place libérée va à la première personne en attente, qui est prévenue. Annuler deux fois ne "
        "change rien ; les inscriptions d'une séance annulée ou dont l'appel est clos ne changent plus.",
        request=None,
        responses={200: InscriptionSerializer},
        tags=["inscriptions"],
    )
    @action(detail=True, methods=["post"])
    def annuler(self, request, *args, **kwargs):
        inscription = self.get_object()
        seance = inscription.seance
        if seance.statut == StatutSeance.ANNULEE:
            raise serializers.ValidationError(
                {"detail": ["La séance est annulée : ses inscriptions ne changent plus."]}
            )
        if seance.appel_cloture_le is not None:
            raise serializers.ValidationError(
                {"detail": ["L'appel est clos : les inscriptions de la séance ne changent plus."]}
            )
        inscription, _promoted = services.inscription_cancel(inscription=inscription, by=self.actor)
        return Response(self._read(inscription))

    def _read(self, inscription):
        inscription = self.scoped_queryset(self.client.structure).get(pk=inscription.pk)
        return InscriptionSerializer(inscription, context=self.get_serializer_context()).data
