"""Every read of the activity log that encodes visibility.

- A conseiller sees their own activities (notes included) and the people they follow.
- A structure référent sees the activities recorded while employed by their structures, read-only, without notes.
- Sicoval staff see every activity, without notes.
Nobody else sees any activity. Deleted activities are in no list and no figure.
"""

import datetime
import re

from dateutil.relativedelta import relativedelta
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import Role
from conseillers.models import Conseiller
from structures.models import Commune, Lieu, Structure
from structures.selectors import communes_territoire

from .models import Activite, Beneficiaire, PartageStatistiques


def referent_structure_ids(user):
    return Structure.objects.filter(memberships__user=user, memberships__role=Role.REFERENT).values("pk")


def visibilite_activites(user):
    """Which activities a user may read, as a condition on ``conseiller`` and ``structure`` (the employer at the
    date): it applies to the activities and to their summaries (``reporting``) alike."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    if user.is_staff:
        return Q()
    return Q(conseiller__user=user) | Q(structure__in=referent_structure_ids(user))


def activites_visible_to(user):
    """The live activities a user may read."""
    return Activite.objects.actives().filter(visibilite_activites(user))


def sees_team(user):
    """Whether a user reads other conseillers' activities (staff, référents)."""
    if not user.is_authenticated:
        return False
    return user.is_staff or user.memberships.filter(role=Role.REFERENT).exists()


def conseillers_of_activites_visible_to(user):
    """The conseillers whose activities a user may read (for the "conseiller" filter of team views)."""
    if not user.is_authenticated:
        return Conseiller.objects.none()
    if user.is_staff:
        return (
            Conseiller.objects.filter(activites__isnull=False, activites__supprimee_le__isnull=True)
            .distinct()
            .order_by("nom", "prenom")
        )
    return (
        Conseiller.objects.filter(
            Q(user=user)
            | Q(activites__structure__in=referent_structure_ids(user), activites__supprimee_le__isnull=True)
        )
        .distinct()
        .order_by("nom", "prenom")
    )


def own_conseiller(user):
    if not user.is_authenticated:
        return None
    return Conseiller.objects.filter(user=user).first()


def is_author(user, activite):
    return user.is_authenticated and activite.conseiller.user_id == user.pk


def beneficiaires_of(user):
    """The people a conseiller follows by name (nobody else sees them)."""
    if not user.is_authenticated:
        return Beneficiaire.objects.none()
    return Beneficiaire.objects.filter(conseiller__user=user)


def similar_beneficiaires(conseiller, *, prenom, nom, annee_naissance=None, telephone="", exclude=None):
    same_name = Q(prenom__iexact=(prenom or "").strip(), nom__iexact=(nom or "").strip())
    if annee_naissance:
        same_name &= Q(annee_naissance=annee_naissance) | Q(annee_naissance__isnull=True)
    match = same_name
    digits = "".join(ch for ch in telephone or "" if ch.isdigit())
    if len(digits) >= 9:
        # Numbers are stored normalised (+33612345678) by the services; rows written otherwise (imports, admin)
        # may hold the usual spaced form "06 12 34 56 78".
        last = digits[-9:]
        spaced = f"{last[0]} {last[1:3]} {last[3:5]} {last[5:7]} {last[7:9]}"
        match |= Q(telephone__endswith=last) | Q(telephone__endswith=spaced)
    qs = Beneficiaire.objects.filter(conseiller=conseiller).filter(match)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return qs.order_by("nom", "prenom")


def usual_place(conseiller):
    """The place type, place and commune the conseiller used most in their last 30 activities; else the first
    place of their structure. Two queries."""
    recent = list(
        Activite.objects.actives()
        .filter(conseiller=conseiller)
        .order_by("-date", "-created_at")
        .values_list("type_lieu", "lieu_id", "commune_id")[:30]
    )
    if recent:
        counts = {}
        for key in recent:
            counts[key] = counts.get(key, 0) + 1
        type_lieu, lieu_id, commune_id = max(counts, key=lambda key: (counts[key], -recent.index(key)))
        return {"type_lieu": type_lieu, "lieu": lieu_id, "commune": commune_id}
    if conseiller.user_id is None:
        return {}
    lieu = (
        Lieu.objects.filter(is_active=True, structure__memberships__user_id=conseiller.user_id)
        .order_by("nom")
        .values_list("pk", "commune_id")
        .first()
    )
    if lieu:
        return {"type_lieu": "lieu_activite", "lieu": lieu[0], "commune": lieu[1]}
    return {}


def lieux_for_activites(departements=None, *, aussi=()):
    """The places a conseiller can pick: the published places of ``departements`` (by default every one), their
    own first in the form, plus the places ``aussi`` (ids: an activity's own place when it is edited)."""
    from structures.forms import communes_offertes

    lieux = Lieu.objects.filter(is_active=True)
    if departements is not None:
        offerts = Q(commune__in=Commune.objects.filter(communes_offertes(departements)))
        lieux = lieux.filter(offerts | Q(pk__in=[pk for pk in aussi if pk]))
    return lieux.select_related("commune", "structure").order_by("nom")


def communes_for_activites():
    """Communes that can be recorded: the territory's first, then the rest of the département(s) known."""
    return Commune.objects.order_by("nom")


def territory_commune_ids():
    return set(communes_territoire().values_list("pk", flat=True))


def default_period(today=None):
    """Statistics open on the last twelve months, from the first day of the month eleven months ago to today."""
    today = today or timezone.localdate()
    return today.replace(day=1) - relativedelta(months=11), today


def month_starts(start, end):
    month = start.replace(day=1)
    while month <= end:
        yield month
        month += relativedelta(months=1)


def partages_of(user):
    if not user.is_authenticated:
        return PartageStatistiques.objects.none()
    return PartageStatistiques.objects.filter(conseiller__user=user)


SHARE_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def partage_by_token(token):
    """A live share (not revoked), or None. Only the shape of a token is looked up (no NUL, no other character)."""
    if not token or not SHARE_TOKEN.fullmatch(token):
        return None
    return PartageStatistiques.objects.select_related("conseiller").filter(token=token, revoque_le__isnull=True).first()


def counts_by_conseiller(qs):
    return dict(qs.values_list("conseiller").annotate(n=Count("pk")))


def clamp_period(start, end):
    """A period never wider than ten years (a bound on work for any URL)."""
    if end - start > datetime.timedelta(days=3660):
        start = end - datetime.timedelta(days=3660)
    return start, end
