"""Public reads of the workshops: the agenda of upcoming public sessions (page and iCal feed), a session's public page,
and what a registration's own pages show.

Every list here runs a fixed number of queries whatever its length: confirmed registrations are counted in a
correlated subquery (no GROUP BY over the joined rows), the workshop, the place, the stop and their communes are
joined in the same query.
"""

import datetime

from django.conf import settings
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from structures.fields import list_contains
from structures.models import Commune

from .models import Inscription, Public, Seance, SourceInscription, StatutInscription, StatutSeance

RELATED = ("atelier", "atelier__structure", "lieu", "lieu__commune", "arret", "arret__commune", "arret__lieu")
FEED_HORIZON = datetime.timedelta(days=183)  # the iCal feed covers the next six months


def _confirmed_count():
    """Seats taken, as ``services.seats_taken`` counts them: walk-ins added on the day hold none."""
    return Subquery(
        Inscription.objects.filter(seance=OuterRef("pk"), statut=StatutInscription.CONFIRMEE)
        .exclude(source=SourceInscription.SUR_PLACE)
        .order_by()
        .values("seance")
        .annotate(n=Count("pk"))
        .values("n")[:1],
        output_field=IntegerField(),
    )


def with_places(qs):
    """Sessions annotated with ``nb_confirmees`` and ``nb_places_restantes`` (never below 0), in the same query."""
    return qs.annotate(nb_confirmees=Coalesce(_confirmed_count(), Value(0))).annotate(
        nb_places_restantes=Greatest(F("capacite") - F("nb_confirmees"), Value(0))
    )


def seances_visibles():
    """Sessions that have a public page: open to the public, whatever their status or date (a cancelled session
    says so on its page, a past one too). Sessions reserved to a partner structure have none."""
    return with_places(Seance.objects.filter(publique=True).select_related(*RELATED))


def _start_of_day(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def seances_publiques(*, commune=None, thematique="", public="", du=None, au=None, jusqu_au=None):
    """The public agenda: upcoming scheduled sessions open to the public, of active workshops, in date order.

    - ``commune``: a ``Commune``; the session takes place there or in a neighbouring commune sharing one of its
      postal codes (its place, or the stop of the itinerant unit): a resident of Pechbusque (31320) sees the
      sessions of Castanet-Tolosan;
    - ``thematique``: a code of ``accompagnements.choices.THEMATIQUES`` among the workshop's;
    - ``public``: a ``Public``; workshops for everyone (« Tout public ») are included, they welcome that public too;
    - ``du`` / ``au``: dates (local, inclusive); ``jusqu_au``: a moment (the feed's horizon).
    """
    now = timezone.now()
    qs = seances_visibles().filter(statut=StatutSeance.PLANIFIEE, debut__gte=now, atelier__actif=True)
    if commune is not None:
        nearby = communes_voisines(commune)
        qs = qs.filter(Q(lieu__commune__in=nearby) | Q(arret__commune__in=nearby))
    if thematique:
        qs = qs.filter(list_contains("atelier__thematiques", thematique))
    if public:
        audience = list_contains("atelier__publics", public)
        if public != Public.TOUT_PUBLIC:
            audience |= list_contains("atelier__publics", Public.TOUT_PUBLIC)
        qs = qs.filter(audience)
    if du is not None:
        qs = qs.filter(debut__gte=_start_of_day(du))
    if au is not None:
        qs = qs.filter(debut__lt=_start_of_day(au + datetime.timedelta(days=1)))
    if jusqu_au is not None:
        qs = qs.filter(debut__lt=jusqu_au)
    return qs.order_by("debut", "pk")


def communes_voisines(commune):
    """A commune and those sharing one of its postal codes (in one postal area, a few kilometres apart)."""
    near = Q(pk=commune.pk)
    for code in commune.codes_postaux or []:
        near |= list_contains("codes_postaux", code)
    return Commune.objects.filter(near).values("pk")


def seances_du_flux(**filters):
    """The sessions of the iCal feed: the agenda over the next six months."""
    return seances_publiques(**filters, jusqu_au=timezone.now() + FEED_HORIZON)


def communes_agenda():
    """The communes a visitor can filter the agenda on: those of the territory, and any other where an upcoming
    public session takes place. A commune of the territory with no session stays valid (an old bookmark shows an
    empty agenda, not an error)."""
    upcoming = Seance.objects.filter(publique=True, statut=StatutSeance.PLANIFIEE, debut__gte=timezone.now())
    return Commune.objects.filter(
        Q(epci__siren=settings.TERRITOIRE_EPCI_SIREN)
        | Q(pk__in=upcoming.filter(lieu__isnull=False).values("lieu__commune"))
        | Q(pk__in=upcoming.filter(arret__isnull=False).values("arret__commune"))
    ).order_by("nom")


def seance_of_inscription(inscription):
    """The session of a registration with what its pages show (public or reserved: the person holds the link)."""
    return with_places(Seance.objects.select_related(*RELATED)).get(pk=inscription.seance_id)


def position_attente(inscription):
    """1 for the first person waiting, and so on; None when not on the waiting list."""
    if inscription.statut != StatutInscription.ATTENTE:
        return None
    return Inscription.objects.filter(
        seance_id=inscription.seance_id, statut=StatutInscription.ATTENTE, rang__lte=inscription.rang
    ).count()
