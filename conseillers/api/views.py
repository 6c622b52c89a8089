"""The structure's posts for its partner systems: each post with its current state and occupant (read only)."""

import django_filters
from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins

from conseillers.choices import EtatPoste, Typologie
from conseillers.models import Affectation, Conseiller, Poste, Rattachement
from sicoval_numerique.api.partner import PartnerViewSet, SyncFilterSet, UtcIsoDateTimeFilter

from .serializers import POSTE_EXAMPLE, PosteSerializer


def postes_of_structure(structure):
    """The posts attached to ``structure`` now (the rule ``conseillers.selectors.postes_visible_to`` applies to a
    référent: a post moved to another structure leaves with it), with their current occupant prefetched
    (``affectations_en_cours``, a list of zero or one assignment) and ``rattache_depuis``: the start of their
    latest attachment to the structure. Two queries, whatever the number of posts."""
    current = Affectation.objects.filter(date_fin__isnull=True).select_related("conseiller")
    attached_since = (
        Rattachement.objects.filter(poste=OuterRef("pk"), structure=OuterRef("structure"))
        .order_by("-date_debut")
        .values("date_debut")[:1]
    )
    return (
        Poste.objects.filter(structure=structure)
        .annotate(rattache_depuis=Subquery(attached_since))
        .prefetch_related(Prefetch("affectations", queryset=current, to_attr="affectations_en_cours"))
    )


class PosteFilter(SyncFilterSet):
    etat = django_filters.ChoiceFilter(
        choices=EtatPoste.choices, help_text="État du poste : `vacant`, `occupe` (occupé) ou `rendu`."
    )
    typologie = django_filters.ChoiceFilter(
        choices=Typologie.choices, help_text="`conum` (conseiller numérique) ou `coordo` (coordinateur)."
    )
    modified_since = UtcIsoDateTimeFilter(
        method="filter_modified_since",
        help_text="Seulement les postes créés ou modifiés depuis cette date (ISO 8601, par exemple "
        "2026-11-01T00:00:00+01:00), y compris ceux dont la fiche de l'occupant (son nom) a changé depuis.",
    )

    class Meta:
        model = Poste
        fields = ["etat", "typologie", "modified_since"]

    def filter_modified_since(self, queryset, name, value):
        """The post's own row (state, occupant, attachment), or its current occupant's record (their history)."""
        renamed = Conseiller.history.model.objects.filter(history_date__gte=value).values("id")
        occupant_changed = Affectation.objects.filter(
            poste=OuterRef("pk"), date_fin__isnull=True, conseiller__in=renamed
        )
        return queryset.filter(Q(updated_at__gte=value) | Q(Exists(occupant_changed)))


@extend_schema_view(
    list=extend_schema(
        summary="Postes de conseillers numériques",
        description="Les postes rattachés à votre structure, avec leur état actuel (vacant, occupé, rendu) et le "
        "conseiller qui les occupe (identifiant et nom seulement). Un poste rattaché depuis à une autre structure "
        "n'apparaît plus.\n\n**Synchronisation.** Suivez `next` jusqu'au bout, puis, la fois suivante, passez en "
        "`modified_since` l'heure à laquelle vous aviez commencé : un poste dont l'occupant a changé de nom revient "
        "sans que son `updated_at` bouge.",
        tags=["postes"],
    ),
    retrieve=extend_schema(
        summary="Un poste",
        description="Un poste rattaché à votre structure, par son identifiant (404 pour tout autre poste).",
        examples=[POSTE_EXAMPLE],
        tags=["postes"],
    ),
)
class PosteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PartnerViewSet):
    serializer_class = PosteSerializer
    scope_family = "postes"
    queryset = Poste.objects.none()
    filterset_class = PosteFilter
    ordering_fields = ["updated_at", "date_attribution"]

    def scoped_queryset(self, structure):
        return postes_of_structure(structure)
