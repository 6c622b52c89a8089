"""Reads of the network's events and of the coordination log, scoped to the caller.

Events: staff see and manage every event; an aidant (an aidant's account or role) sees the events for aidants and for
the whole network, a conseiller those for conseillers and for the whole network, and anyone the events they are
invited to. Others see none. Coordination: staff only; ``coordination_totaux`` gives the totals the territorial
reports count.
"""

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Prefetch, Q, Sum
from django.utils import timezone

from accounts.models import Role

from .models import (
    ActiviteCoordination,
    Evenement,
    ParticipationEvenement,
    PublicEvenement,
    StatutParticipation,
    TypeCoordination,
)


def _audiences(user):
    """The audiences a (non-staff) user belongs to."""
    roles = set(user.memberships.filter(role__in=[Role.AIDANT, Role.CONSEILLER]).values_list("role", flat=True))
    audiences = set()
    if Role.AIDANT in roles or hasattr_related(user, "aidant"):
        audiences.add(PublicEvenement.AIDANTS)
    if Role.CONSEILLER in roles or hasattr_related(user, "conseiller"):
        audiences.add(PublicEvenement.CONSEILLERS)
    if audiences:
        audiences.add(PublicEvenement.RESEAU)
    return audiences


def hasattr_related(user, name):
    """Whether a reverse one-to-one exists (``user.aidant``…), without an exception escaping."""
    try:
        return getattr(user, name) is not None
    except ObjectDoesNotExist:
        return False


def own_participations(user):
    """The user's invitations: as a user, or as the aidant linked to their account."""
    if not (user and user.is_authenticated):
        return ParticipationEvenement.objects.none()
    return ParticipationEvenement.objects.filter(Q(user=user) | Q(aidant__user=user))


def can_see_events(user):
    if not (user and user.is_authenticated):
        return False
    return user.is_staff or bool(_audiences(user)) or own_participations(user).exists()


def evenements_visible_to(user):
    if not (user and user.is_authenticated):
        return Evenement.objects.none()
    if user.is_staff:
        return Evenement.objects.all()
    invited = own_participations(user).values("evenement_id")
    return Evenement.objects.filter(Q(public__in=_audiences(user)) | Q(pk__in=invited))


def _with_counts(queryset):
    return queryset.select_related("lieu", "lieu__commune").annotate(
        nb_invites=Count("participations", distinct=True),
        nb_inscrits=Count(
            "participations", filter=Q(participations__statut=StatutParticipation.INSCRIT), distinct=True
        ),
        nb_attente=Count("participations", filter=Q(participations__statut=StatutParticipation.ATTENTE), distinct=True),
        nb_presents=Count("participations", filter=Q(participations__present=True), distinct=True),
    )


def evenements_a_venir(user, *, now=None):
    """Events not yet over, soonest first, with their counts."""
    now = now or timezone.now()
    return _with_counts(evenements_visible_to(user).filter(fin__gte=now)).order_by("debut", "pk")


def evenements_passes(user, *, now=None):
    """Events over, latest first, with their counts and the people who came (prefetched)."""
    now = now or timezone.now()
    presents = (
        ParticipationEvenement.objects.filter(present=True)
        .select_related("aidant", "aidant__structure", "user")
        .order_by("aidant__nom", "user__last_name", "pk")
    )
    return (
        _with_counts(evenements_visible_to(user).filter(fin__lt=now))
        .prefetch_related(Prefetch("participations", queryset=presents, to_attr="presents"))
        .order_by("-debut", "-pk")
    )


def evenement_detail(user, uuid):
    return evenements_visible_to(user).select_related("lieu", "lieu__commune", "organisateur").filter(uuid=uuid).first()


def participations_of(evenement):
    """Every invitation of the event with the person, for staff: registered, waiting (in order), invited, declined."""
    order = {
        StatutParticipation.INSCRIT: 0,
        StatutParticipation.ATTENTE: 1,
        StatutParticipation.INVITE: 2,
        StatutParticipation.DECLINE: 3,
    }
    rows = list(
        ParticipationEvenement.objects.filter(evenement=evenement)
        .select_related("aidant", "aidant__structure", "user")
        .order_by("updated_at", "pk")
    )
    return sorted(rows, key=lambda p: order.get(p.statut, 9))


def answer_counts(evenement):
    counts = dict(
        ParticipationEvenement.objects.filter(evenement=evenement)
        .values_list("statut")
        .annotate(n=Count("pk"))
        .values_list("statut", "n")
    )
    return {statut: counts.get(statut, 0) for statut in StatutParticipation.values}


def waiting_position(participation):
    if participation.statut != StatutParticipation.ATTENTE:
        return None
    ahead = ParticipationEvenement.objects.filter(
        evenement_id=participation.evenement_id, statut=StatutParticipation.ATTENTE
    ).filter(
        Q(updated_at__lt=participation.updated_at) | Q(updated_at=participation.updated_at, pk__lt=participation.pk)
    )
    return ahead.count() + 1


def waiting_positions(participations):
    """``{participation pk: position}`` for the rows on a waiting list, in one query whatever their number."""
    waiting = [p for p in participations if p.statut == StatutParticipation.ATTENTE]
    if not waiting:
        return {}
    queue = ParticipationEvenement.objects.filter(
        evenement_id__in={p.evenement_id for p in waiting}, statut=StatutParticipation.ATTENTE
    ).order_by("evenement_id", "updated_at", "pk")
    positions, counters = {}, {}
    for pk, evenement_id in queue.values_list("pk", "evenement_id"):
        counters[evenement_id] = counters.get(evenement_id, 0) + 1
        positions[pk] = counters[evenement_id]
    return positions


def mes_invitations(user, *, now=None):
    """The user's invitations to events not yet over, soonest first."""
    now = now or timezone.now()
    return (
        own_participations(user)
        .filter(evenement__fin__gte=now)
        .select_related("evenement", "evenement__lieu", "evenement__lieu__commune")
        .order_by("evenement__debut", "pk")
    )


# --- Coordination log ----------------------------------------------------------------------------------------------
def coordinations_visible_to(user):
    """Staff read the log of the whole team (kept rows only); others nothing."""
    if not (user and user.is_authenticated and user.is_staff):
        return ActiviteCoordination.objects.none()
    return ActiviteCoordination.objects.filter(supprimee_le__isnull=True)


def coordination_list(user, *, type="", du=None, au=None, auteur=None):
    qs = coordinations_visible_to(user)
    if type:
        qs = qs.filter(type=type)
    if du:
        qs = qs.filter(date__gte=du)
    if au:
        qs = qs.filter(date__lte=au)
    if auteur is not None:
        qs = qs.filter(auteur=auteur)
    return (
        qs.select_related("auteur").prefetch_related("structures_partenaires").order_by("-date", "-created_at", "-pk")
    )


def _totals(queryset):
    rows = {
        row["type"]: row
        for row in queryset.order_by()
        .values("type")
        .annotate(nombre=Count("pk"), participants=Sum("participants"), minutes=Sum("duree"))
    }
    result = {}
    for kind in TypeCoordination:
        row = rows.get(kind.value, {})
        minutes = row.get("minutes") or 0
        result[kind.value] = {
            "label": kind.label,
            "nombre": row.get("nombre", 0),
            "participants": row.get("participants") or 0,
            "minutes": minutes,
            "heures": round(minutes / 60, 1),
        }
    total_minutes = sum(r["minutes"] for r in result.values())
    result["total"] = {
        "label": "Total",
        "nombre": sum(r["nombre"] for r in result.values()),
        "participants": sum(r["participants"] for r in result.values()),
        "minutes": total_minutes,
        "heures": round(total_minutes / 60, 1),
    }
    return result


def coordination_totaux(du=None, au=None, *, auteur=None):
    """Totals of the coordination log between two dates (included), per type and overall: number of activities,
    participants, hours. Removed activities are not counted. For the territorial reports (no user scoping: the
    caller decides who reads them)."""
    qs = ActiviteCoordination.objects.filter(supprimee_le__isnull=True)
    if du:
        qs = qs.filter(date__gte=du)
    if au:
        qs = qs.filter(date__lte=au)
    if auteur is not None:
        qs = qs.filter(auteur=auteur)
    return _totals(qs)


def totals_of(queryset):
    """The same totals over an already filtered list."""
    return _totals(queryset)
