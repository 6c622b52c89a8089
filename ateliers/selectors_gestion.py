"""Scoped reads of the workshops' back-office. Who sees what is decided here once:

- Sicoval staff see every workshop and session;
- a référent sees the workshops of the structures they edit, and all their sessions;
- a facilitator (conseiller or aidant) sees the sessions they facilitate, and those sessions' workshops;
- anyone else sees nothing (another structure's workshop or session answers 404).

What one sees one manages (``ateliers.services.permissions`` says the same), except that creating a workshop or
planning a session needs a programme's manager (staff or référent).

Lists annotate their counts in the same query: a page costs the same number of queries at 2 or at 50 rows.
"""

from django.contrib.auth import get_user_model
from django.db.models import Count, Min, Q
from django.utils import timezone

from accounts.models import Role
from structures.fields import list_contains
from structures.models import ArretItinerant, Lieu, Structure
from structures.selectors import structures_editable_by

from .models import Atelier, Inscription, Seance, SourceInscription, StatutInscription, StatutSeance

SEAT_SOURCES = [s for s in SourceInscription.values if s != SourceInscription.SUR_PLACE]  # walk-ins hold no seat
SEANCE_RELATED = (
    "atelier",
    "atelier__structure",
    "lieu",
    "lieu__commune",
    "arret",
    "arret__commune",
    "animateur",
    "reservee_a",
)


class Periode:
    A_VENIR = "a_venir"
    PASSEES = "passees"
    TOUTES = "toutes"
    CHOICES = [(A_VENIR, "À venir"), (PASSEES, "Passées"), (TOUTES, "Toutes")]


# --- Scope ---------------------------------------------------------------------------------------------------------
def _editable_structure_ids(user):
    return structures_editable_by(user).values("pk")


def ateliers_visible_to(user):
    if not user.is_authenticated:
        return Atelier.objects.none()
    if user.is_staff:
        return Atelier.objects.all()
    facilitated = Seance.objects.filter(animateur=user).values("atelier_id")
    return Atelier.objects.filter(Q(structure__in=_editable_structure_ids(user)) | Q(pk__in=facilitated))


def seances_visible_to(user):
    if not user.is_authenticated:
        return Seance.objects.none()
    if user.is_staff:
        return Seance.objects.all()
    return Seance.objects.filter(Q(atelier__structure__in=_editable_structure_ids(user)) | Q(animateur=user))


def ateliers_manageable_by(user):
    """Programmes whose sessions the user may plan: staff all, a référent their structures'."""
    if not user.is_authenticated:
        return Atelier.objects.none()
    if user.is_staff:
        return Atelier.objects.all()
    return Atelier.objects.filter(structure__in=_editable_structure_ids(user))


def can_create_atelier(user):
    return user.is_authenticated and (user.is_staff or structures_editable_by(user).exists())


def structures_organisatrices(user):
    """Structures a user may create workshops for."""
    return structures_editable_by(user).order_by("nom")


# --- Lists ---------------------------------------------------------------------------------------------------------
def _with_counts(seances):
    return seances.select_related(*SEANCE_RELATED).annotate(
        nb_confirmees=Count(
            "inscriptions",
            filter=Q(inscriptions__statut=StatutInscription.CONFIRMEE, inscriptions__source__in=SEAT_SOURCES),
        ),
        nb_attente=Count("inscriptions", filter=Q(inscriptions__statut=StatutInscription.ATTENTE)),
        nb_sur_place=Count(
            "inscriptions",
            filter=Q(
                inscriptions__statut=StatutInscription.CONFIRMEE, inscriptions__source=SourceInscription.SUR_PLACE
            ),
        ),
    )


def seance_list(user, *, q="", structure=None, thematique="", public="", periode=Periode.A_VENIR, mes_seances=False):
    """Sessions for the list page, with their counts; upcoming ones soonest first, past ones latest first."""
    now = timezone.now()
    seances = seances_visible_to(user)
    if q:
        seances = seances.filter(atelier__titre__icontains=q)
    if structure is not None:
        seances = seances.filter(atelier__structure=structure)
    if thematique:
        seances = seances.filter(list_contains("atelier__thematiques", thematique))
    if public:
        seances = seances.filter(list_contains("atelier__publics", public))
    if mes_seances:
        seances = seances.filter(animateur=user)
    if periode == Periode.A_VENIR:
        seances = seances.filter(fin__gte=now).order_by("debut", "pk")
    elif periode == Periode.PASSEES:
        seances = seances.filter(fin__lt=now).order_by("-debut", "-pk")
    else:
        seances = seances.order_by("-debut", "-pk")
    return _with_counts(seances)


def atelier_list(user, *, q="", structure=None, thematique="", public="", mes_seances=False, **_ignored):
    """Programmes for the list page, with their number of upcoming sessions and the next one's date."""
    now = timezone.now()
    ateliers = ateliers_visible_to(user).select_related("structure")
    if q:
        ateliers = ateliers.filter(titre__icontains=q)
    if structure is not None:
        ateliers = ateliers.filter(structure=structure)
    if thematique:
        ateliers = ateliers.filter(list_contains("thematiques", thematique))
    if public:
        ateliers = ateliers.filter(list_contains("publics", public))
    if mes_seances:
        ateliers = ateliers.filter(pk__in=Seance.objects.filter(animateur=user).values("atelier_id"))
    upcoming = Q(seances__debut__gte=now, seances__statut=StatutSeance.PLANIFIEE)
    return ateliers.annotate(
        nb_a_venir=Count("seances", filter=upcoming), prochaine=Min("seances__debut", filter=upcoming)
    ).order_by("-actif", "titre", "pk")


def structures_for_filter(user):
    """Structures offered by the list's filter: those organising a workshop the user sees."""
    return Structure.objects.filter(pk__in=ateliers_visible_to(user).values("structure_id")).order_by("nom")


def seances_of_atelier(user, atelier):
    """An atelier's sessions the user sees (a facilitator: theirs), latest first, with their counts."""
    return _with_counts(seances_visible_to(user).filter(atelier=atelier)).order_by("-debut", "-pk")


# --- One session ---------------------------------------------------------------------------------------------------
def seance_for_page(user):
    """The queryset a session's pages read from (404 outside the user's scope)."""
    return seances_visible_to(user).select_related(*SEANCE_RELATED, "activite")


def inscriptions_by_statut(seance):
    """The session's registrations in one query: confirmed (then walk-ins), waiting list in order, cancelled."""
    groups = {StatutInscription.CONFIRMEE: [], StatutInscription.ATTENTE: [], StatutInscription.ANNULEE: []}
    rows = Inscription.objects.filter(seance=seance).select_related("commune", "cree_par").order_by("rang")
    for row in rows:
        groups[row.statut].append(row)
    return groups


def seances_destination(user, seance):
    """Sessions a registration can move to: the other upcoming, scheduled sessions of the same workshop that the
    user manages, with their free seats."""
    seances = (
        seances_visible_to(user)
        .filter(atelier_id=seance.atelier_id, statut=StatutSeance.PLANIFIEE, debut__gt=timezone.now())
        .exclude(pk=seance.pk)
        .order_by("debut", "pk")
    )
    return _with_counts(seances)


def appel_resume(seance):
    """Counts shown before closing the sheet (non-cancelled registrations only)."""
    active = Inscription.objects.filter(seance=seance).exclude(statut=StatutInscription.ANNULEE)
    return active.aggregate(
        presents=Count("pk", filter=Q(presence="present")),
        absents=Count("pk", filter=Q(presence="absent")),
        non_pointes=Count("pk", filter=Q(presence="", statut=StatutInscription.CONFIRMEE)),
        sur_place=Count("pk", filter=Q(source=SourceInscription.SUR_PLACE)),
    )


# --- Choices of the planning forms ---------------------------------------------------------------------------------
def lieux_for_seances(current=None):
    """Published places of the territory (workshops are often hosted by a partner), and the session's current
    place even if it was unpublished since."""
    condition = Q(is_active=True)
    if current is not None:
        condition |= Q(pk=current.pk)
    return Lieu.objects.filter(condition).select_related("commune").order_by("commune__nom", "nom")


def arrets_for_seances(current=None):
    """Upcoming stops of the itinerant units (and the session's current stop, even past)."""
    today = timezone.localdate()
    condition = Q(date__gte=today)
    if current is not None:
        condition |= Q(pk=current.pk)
    return ArretItinerant.objects.filter(condition).select_related("lieu", "commune").order_by("date", "heure_debut")


def animateurs_for(user, atelier, current=None):
    """People who may facilitate: for staff, any active conseiller or aidant of the territory; otherwise the active
    members of the organising structure (référents, conseillers, aidants). The current facilitator stays offered."""
    User = get_user_model()
    roles = [Role.REFERENT, Role.CONSEILLER, Role.AIDANT]
    if user.is_staff:
        condition = Q(memberships__role__in=[Role.CONSEILLER, Role.AIDANT]) | Q(conseiller__isnull=False)
    else:
        condition = Q(memberships__structure_id=atelier.structure_id, memberships__role__in=roles)
    people = User.objects.filter(condition, is_active=True)
    if current is not None:
        people = User.objects.filter(Q(pk__in=people.values("pk")) | Q(pk=current.pk))
    else:
        people = User.objects.filter(pk__in=people.values("pk"))
    return people.order_by("last_name", "first_name", "email")


def structures_for_reservation():
    return Structure.objects.order_by("nom")
