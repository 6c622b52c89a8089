"""Every read that encodes visibility. Views and API endpoints scope through these, never on their own."""

import unicodedata

from django.conf import settings
from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from accounts.models import Role
from sicoval_numerique.history import history_entries

from .fields import list_contains
from .models import ArretItinerant, Commune, Epci, Lieu, Membership, Structure

EDITOR_ROLES = {Role.REFERENT}


def structures_visible_to(user):
    """Staff and funders see every structure; other members see their own structures; anyone else, none."""
    if not user.is_authenticated:
        return Structure.objects.none()
    if user.is_staff or user.memberships.filter(role=Role.FINANCEUR).exists():
        return Structure.objects.all()
    return Structure.objects.filter(memberships__user=user).distinct()


def structures_editable_by(user):
    """Staff edit every structure; a référent edits their own structures."""
    if not user.is_authenticated:
        return Structure.objects.none()
    if user.is_staff:
        return Structure.objects.all()
    return Structure.objects.filter(memberships__user=user, memberships__role__in=EDITOR_ROLES).distinct()


def can_edit_structure(user, structure):
    return structures_editable_by(user).filter(pk=structure.pk).exists()


def structure_list(user, *, q="", commune=None, type_juridique="", statut="", role=""):
    """The structures list with search and filters, with the counts the list shows (fixed number of queries)."""
    qs = structures_visible_to(user).select_related("commune")
    if q:
        qs = qs.filter(Q(nom__icontains=q) | Q(siret__startswith=q) | Q(rna__iexact=q))
    if commune:
        qs = qs.filter(commune=commune)
    if type_juridique:
        qs = qs.filter(type_juridique=type_juridique)
    if statut:
        qs = qs.filter(statut=statut)
    if role in Structure.ROLE_FIELDS:
        qs = qs.filter(**{role: True})
    return qs.annotate(
        nb_lieux=Count("lieux", filter=Q(lieux__is_active=True), distinct=True),
        nb_membres=Count("memberships", distinct=True),
    ).order_by("nom")


def lieux_visible_to(user):
    """Places in the back-office: all for staff, their structures' places for référents."""
    return Lieu.objects.filter(structure__in=structures_editable_by(user)).select_related("structure", "commune")


def memberships_editable_by(user):
    """Memberships a user may manage: those of the structures they edit."""
    return Membership.objects.filter(structure__in=structures_editable_by(user).values("pk"))


def arrets_editable_by(user):
    """Stops of the itinerant places a user may manage."""
    return ArretItinerant.objects.filter(lieu__in=lieux_visible_to(user).values("pk"))


def memberships_of(user):
    return (
        Membership.objects.filter(user=user)
        .select_related("structure", "structure__commune")
        .order_by("structure__nom")
    )


def structure_members(structure):
    return Membership.objects.filter(structure=structure).select_related("user").order_by("role", "user__last_name")


def lieux_in_commune(qs, code_insee):
    """Places based in a commune, or whose itinerant unit stops there in the future."""
    today = timezone.localdate()
    return qs.filter(
        Q(commune__code_insee=code_insee) | Q(arrets__commune__code_insee=code_insee, arrets__date__gte=today)
    ).distinct()


def lieux_publics(*, commune=None, service="", with_stops=True):
    """Published places for the public directory, the API and the national export (``with_stops`` prefetches the
    upcoming stops of itinerant places as ``prochains_arrets``)."""
    qs = Lieu.objects.filter(is_active=True).select_related("structure", "commune")
    if with_stops:
        upcoming = ArretItinerant.objects.filter(date__gte=timezone.localdate()).select_related("commune")
        qs = qs.prefetch_related(Prefetch("arrets", queryset=upcoming, to_attr="prochains_arrets"))
    if commune:
        qs = lieux_in_commune(qs, commune.code_insee)
    if service:
        qs = qs.filter(list_contains("services", service))
    return qs.order_by("commune__nom", "nom")


def territoire_epci():
    return Epci.objects.filter(siren=settings.TERRITOIRE_EPCI_SIREN).first()


def communes_territoire():
    """The communes of the territory running the platform (its EPCI), or every commune if none is loaded."""
    epci = territoire_epci()
    qs = Commune.objects.all()
    return qs.filter(epci=epci) if epci else qs


def territoire_summary():
    """Figures for the public home page."""
    epci = territoire_epci()
    communes = communes_territoire()
    return {
        "epci": epci,
        "nb_communes": communes.count(),
        "nb_lieux": Lieu.objects.filter(is_active=True, commune__in=communes).count(),
        "nb_structures": Structure.objects.filter(commune__in=communes).count(),
    }


def structure_history(structure, *, limit=30):
    """The last changes of a structure with what changed, in a fixed number of queries whatever their number."""
    return history_entries([structure.history.all()], limit=limit)


def normalise_nom(name):
    """A name for comparisons: no accents, no case, no punctuation, without « de », « la »… (« Médiathèque de
    l'Envol » and « mediatheque envol » are the same)."""
    # Punctuation (’ ' - …) separates words before accents are dropped: « l’Envol » and « l'Envol » are alike.
    letters = (c for c in unicodedata.normalize("NFKD", name or "") if not unicodedata.combining(c))
    text = "".join(c if c.isalnum() else " " for c in letters).encode("ascii", "ignore").decode().lower()
    words = [w for w in text.split() if w not in {"de", "du", "la", "le", "l", "d", "des"}]
    return " ".join(words)


def lieux_par_nom(codes_insee):
    """The places (published or not) of these communes, keyed by (INSEE code, normalised name): how a place named
    in another tool is found here. One query."""
    index = {}
    for lieu in Lieu.objects.filter(commune__code_insee__in=set(codes_insee)).select_related("commune"):
        index.setdefault((lieu.commune.code_insee, normalise_nom(lieu.nom)), lieu)
    return index
