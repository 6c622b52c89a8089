"""What a partner client sees of the workshops. Its structure's own objects are those of the workshops it organises
(``Atelier.structure``); a session another structure reserved to its public (``reservee_a``) is also open to it for
reading and for registering its people, without the registrants' personal data.

Lists annotate their counts in correlated subqueries: one query whatever the number of rows.
"""

from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Greatest

from ateliers.models import Atelier, Inscription, Seance, SourceInscription, StatutInscription
from structures.models import ArretItinerant, Lieu, Structure

SEANCE_RELATED = ("atelier", "atelier__structure", "lieu", "arret", "reservee_a")


def _reserved_to(structure, prefix=""):
    return Q(**{f"{prefix}publique": False, f"{prefix}reservee_a": structure})


def _count(queryset):
    return Coalesce(
        Subquery(
            queryset.order_by().values("seance").annotate(n=Count("pk")).values("n")[:1], output_field=IntegerField()
        ),
        Value(0),
    )


def with_seats(seances):
    """Sessions with ``nb_places_prises`` (confirmed, walk-ins excepted: they sit beyond capacity),
    ``nb_places_restantes`` (never below 0), ``nb_attente`` and the commune's INSEE code of their place or stop."""
    registrations = Inscription.objects.filter(seance=OuterRef("pk"))
    taken = registrations.filter(statut=StatutInscription.CONFIRMEE).exclude(source=SourceInscription.SUR_PLACE)
    return seances.annotate(
        nb_places_prises=_count(taken),
        nb_attente=_count(registrations.filter(statut=StatutInscription.ATTENTE)),
        code_commune=Coalesce(F("lieu__commune__code_insee"), F("arret__commune__code_insee")),
    ).annotate(nb_places_restantes=Greatest(F("capacite") - F("nb_places_prises"), Value(0)))


# --- Programmes ----------------------------------------------------------------------------------------------------
def ateliers_of(structure):
    return Atelier.objects.filter(structure=structure).select_related("structure")


# --- Sessions ------------------------------------------------------------------------------------------------------
def seances_organised_by(structure):
    """The sessions a client plans, cancels and takes attendance of: those of its structure's workshops."""
    return Seance.objects.filter(atelier__structure=structure)


def seances_open_to(structure):
    """The sessions a client reads and registers people to: its own, and those reserved to its structure's public."""
    return Seance.objects.filter(Q(atelier__structure=structure) | _reserved_to(structure))


# --- Registrations -------------------------------------------------------------------------------------------------
def inscriptions_open_to(structure):
    """Registrations to the sessions open to the client, each with its position on the waiting list."""
    ahead = Inscription.objects.filter(
        seance=OuterRef("seance"), statut=StatutInscription.ATTENTE, rang__lte=OuterRef("rang")
    )
    return (
        Inscription.objects.filter(Q(seance__atelier__structure=structure) | _reserved_to(structure, "seance__"))
        .select_related("seance", "seance__atelier")
        .annotate(
            position_attente=Case(
                When(statut=StatutInscription.ATTENTE, then=_count(ahead)), default=None, output_field=IntegerField()
            )
        )
    )


# --- What a write may point to -------------------------------------------------------------------------------------
def lieux_for_seances(structure):
    """A client plans its sessions at its structure's published places."""
    return Lieu.objects.filter(structure=structure, is_active=True)


def arrets_for_seances(structure):
    """…or at the stops of its structure's itinerant places."""
    return ArretItinerant.objects.filter(lieu__structure=structure)


def structures_for_reservation(structure):
    """A session may be reserved to the public of any structure of the territory (as on the back-office)."""
    return Structure.objects.all()
