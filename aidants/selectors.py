"""Every read of the aidants network that encodes visibility.

The directory is a network directory: Sicoval staff, référents, conseillers and aidants see the active aidants of
every structure (professional contacts only); staff and a structure's référents also see that structure's inactive
aidants. Funders and anonymous visitors see nothing. Only staff and the structure's référents edit.
"""

from django.db.models import Prefetch, Q

from accounts.models import Role
from sicoval_numerique.history import HistorySource, history_entries
from structures.fields import list_contains
from structures.models import Structure
from structures.selectors import structures_editable_by

from .models import Aidant, DemandeHabilitation, FormationAidant, StatutHabilitation, TypeFormationAidant

DIRECTORY_ROLES = {Role.REFERENT, Role.CONSEILLER, Role.AIDANT}
FORMATIONS_AIDANTS_CONNECT = (TypeFormationAidant.AIDANTS_CONNECT_7H, TypeFormationAidant.AIDANTS_CONNECT_14H)
OPEN_STATUSES = (StatutHabilitation.BROUILLON, StatutHabilitation.EN_ATTENTE)


def can_see_directory(user):
    if not user.is_authenticated:
        return False
    return user.is_staff or user.memberships.filter(role__in=DIRECTORY_ROLES).exists()


def aidants_visible_to(user):
    """Active aidants of the whole network, plus every aidant of the structures the user edits."""
    if not can_see_directory(user):
        return Aidant.objects.none()
    if user.is_staff:
        return Aidant.objects.all()
    return Aidant.objects.filter(Q(actif=True) | Q(structure__in=structures_editable_by(user).values("pk")))


def aidants_editable_by(user):
    """Staff edit every aidant; a référent edits the aidants of their structures."""
    if not user.is_authenticated:
        return Aidant.objects.none()
    if user.is_staff:
        return Aidant.objects.all()
    return Aidant.objects.filter(structure__in=structures_editable_by(user).values("pk"))


def directory(user, *, q="", commune=None, structure=None, thematique="", habilitation="", actif=""):
    """The filtered directory, ready to display or export in a fixed number of queries (structure joined, covered
    communes prefetched)."""
    qs = aidants_visible_to(user).select_related("structure", "structure__commune")
    if q:
        qs = qs.filter(Q(nom__icontains=q) | Q(prenom__icontains=q) | Q(profession__icontains=q))
    if commune is not None:
        qs = qs.filter(pk__in=Aidant.communes.through.objects.filter(commune=commune).values("aidant_id"))
    if structure is not None:
        qs = qs.filter(structure=structure)
    if thematique:
        qs = qs.filter(list_contains("thematiques", thematique))
    if habilitation == "oui":
        qs = qs.filter(habilite_aidants_connect=True)
    elif habilitation == "non":
        qs = qs.filter(habilite_aidants_connect=False)
    if actif == "non":
        qs = qs.filter(actif=False)
    elif actif != "tous":
        qs = qs.filter(actif=True)
    return qs.prefetch_related("communes").order_by("nom", "prenom", "pk")


def directory_structures(user):
    """The structures offered by the directory's structure filter: those with an aidant the user sees."""
    return Structure.objects.filter(pk__in=aidants_visible_to(user).values("structure_id")).order_by("nom")


def aidant_detail(queryset, uuid):
    """One aidant with their structure, covered communes and trainings (``None`` when not in ``queryset``)."""
    return (
        queryset.select_related("structure", "structure__commune", "user")
        .prefetch_related("communes", Prefetch("formations", queryset=FormationAidant.objects.order_by("-date", "-pk")))
        .filter(uuid=uuid)
        .first()
    )


def has_aidants_connect_training(aidant):
    return aidant.formations.filter(type__in=FORMATIONS_AIDANTS_CONNECT).exists()


def aidant_history(aidant, *, limit=30):
    return history_entries(
        [
            HistorySource(Aidant.history.filter(id=aidant.pk), "Aidant"),
            HistorySource(
                FormationAidant.history.filter(aidant_id=aidant.pk),
                lambda record, label_of: f"Formation {label_of('type', record.type)}",
                exclude=("aidant",),
            ),
        ],
        limit=limit,
    )


# --- Aidants Connect habilitation requests ------------------------------------------------------------------------
def demandes_visible_to(user):
    """Staff see every request; a référent the requests of their structures."""
    if not user.is_authenticated:
        return DemandeHabilitation.objects.none()
    if user.is_staff:
        return DemandeHabilitation.objects.all()
    return DemandeHabilitation.objects.filter(structure__in=structures_editable_by(user).values("pk"))


def demandes_of_structure(structure):
    return (
        DemandeHabilitation.objects.filter(structure=structure)
        .prefetch_related(Prefetch("aidants_pressentis", queryset=Aidant.objects.order_by("nom", "prenom")))
        .order_by("-created_at", "-pk")
    )


def demandes_ouvertes(user):
    return (
        demandes_visible_to(user)
        .filter(statut__in=OPEN_STATUSES)
        .select_related("structure", "structure__commune")
        .order_by("structure__nom", "pk")
    )
