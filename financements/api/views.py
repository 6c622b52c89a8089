"""The structure's funding agreements for its partner systems: each agreement with its funder, its lines (one per
post) and the money agreed, paid, still to pay and repaid on the day of the request (read only)."""

import django_filters
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins

from financements import selectors
from financements.choices import Enveloppe, StatutConvention
from financements.models import Avoir, Convention, LigneFinancement, Versement
from sicoval_numerique.api.partner import PartnerViewSet, SyncFilterSet, UtcIsoDateTimeFilter

from .serializers import CONVENTION_EXAMPLE, ConventionSerializer


def conventions_of_structure(structure):
    """The agreements whose beneficiary is ``structure`` (the rule ``financements.selectors.conventions_visible_to``
    applies to a référent), with their funder and lines (two queries). A funder's agreements with other structures
    never appear, even when the client's structure is that funder."""
    lignes = LigneFinancement.objects.select_related("poste").order_by("poste__date_attribution", "poste__pk", "pk")
    return (
        Convention.objects.filter(structure=structure)
        .select_related("financeur")
        .prefetch_related(Prefetch("lignes", queryset=lignes))
    )


def attach_figures(conventions, *, on_date):
    """Sets ``figures`` on each agreement and each of its prefetched lines: the selectors' figures per line, an
    agreement's being the sum of its lines' (as ``selectors.figures_by_convention`` computes them). Three queries,
    whatever the number of agreements."""
    conventions = list(conventions)
    if not conventions:
        return
    lignes = LigneFinancement.objects.filter(convention__in=[convention.pk for convention in conventions])
    # One group per line. ``financements.selectors`` offers no public per-line grouping yet (its ``figures_by_poste``
    # would merge two agreements funding the same post): the grouping function itself is reused, not re-implemented.
    by_ligne = selectors._grouped_figures(lignes, on_date, "pk")
    for convention in conventions:
        total = selectors.Figures()
        for ligne in convention.lignes.all():
            ligne.figures = by_ligne.get(ligne.pk, selectors.Figures())
            total += ligne.figures
        convention.figures = total


class ConventionFilter(SyncFilterSet):
    statut = django_filters.ChoiceFilter(
        choices=StatutConvention.choices, help_text="`en_preparation`, `signee`, `soldee` ou `resiliee`."
    )
    enveloppe = django_filters.ChoiceFilter(
        choices=Enveloppe.choices,
        help_text="`V1` (conventionnement initial), `V2` (reconventionnement), `cofinancement`.",
    )
    modified_since = UtcIsoDateTimeFilter(
        method="filter_modified_since",
        help_text="Seulement les conventions créées ou modifiées depuis cette date (ISO 8601, par exemple "
        "2026-11-01T00:00:00+01:00), y compris celles dont une ligne, un versement ou un avoir a changé depuis.",
    )

    class Meta:
        model = Convention
        fields = ["statut", "enveloppe", "modified_since"]

    def filter_modified_since(self, queryset, name, value):
        """The agreement's own row, or its lines, instalments and repayments (their history dates every change)."""
        changed = Q(updated_at__gte=value)
        for model, path in (
            (LigneFinancement, "convention"),
            (Versement, "ligne__convention"),
            (Avoir, "ligne__convention"),
        ):
            history = model.history.model.objects.filter(**{path: OuterRef("pk")}, history_date__gte=value)
            changed |= Q(Exists(history))
        return queryset.filter(changed)


@extend_schema_view(
    list=extend_schema(
        summary="Conventions de financement",
        description="Les conventions dont votre structure est bénéficiaire, avec leur financeur, une ligne par poste "
        "financé et, pour chaque ligne et pour la convention, les montants accordé, versé, reste à verser et "
        "reversé, calculés le jour de la requête. Montants en euros, chaînes décimales à deux décimales "
        '(`"12500.00"`).\n\n'
        "**Synchronisation.** Suivez `next` jusqu'au bout, puis, la fois suivante, passez en "
        "`modified_since` l'heure à laquelle vous aviez commencé : une convention dont une ligne, un versement ou "
        "un avoir a changé revient sans que son `updated_at` bouge.",
        tags=["conventions"],
    ),
    retrieve=extend_schema(
        summary="Une convention de financement",
        description="Une convention dont votre structure est bénéficiaire (404 pour toute autre).",
        examples=[CONVENTION_EXAMPLE],
        tags=["conventions"],
    ),
)
class ConventionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PartnerViewSet):
    serializer_class = ConventionSerializer
    scope_family = "postes"
    queryset = Convention.objects.none()
    filterset_class = ConventionFilter
    ordering_fields = ["updated_at", "date_debut"]

    def scoped_queryset(self, structure):
        return conventions_of_structure(structure)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None:
            attach_figures(page, on_date=timezone.localdate())
        return page

    def get_object(self):
        convention = super().get_object()
        attach_figures([convention], on_date=timezone.localdate())
        return convention
