"""Every read of the referrals (orientations) that encodes visibility, the choice of "the conseiller covering the
commune", and the working-days delay after which a referral not taken in charge is flagged to staff.

Who sees what:
- an aidant sees the referrals they sent (status and outcome, and the person's details they typed themselves);
- a conseiller sees the referrals addressed to them, with the person's details (they contact the person);
- Sicoval staff see every referral, without the person's details (status, dates, commune, need, who is in charge);
- a référent sees no referral of their structure's conseillers: the person's details are for the conseiller in
  charge and the aidant who sent it, and nothing of a referral is needed to run a structure.
Anyone else sees none; another person's referral answers 404.
"""

import datetime

from dateutil.relativedelta import relativedelta
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from accompagnements.models import Activite
from accounts.models import Role
from conseillers.models import Affectation, Conseiller, Contrat
from structures.models import Membership

from .models import Aidant, Orientation, StatutOrientation

LATE_WORKING_DAYS = 3
COVERAGE_MONTHS = 6
OPEN_STATUSES = (StatutOrientation.NOUVELLE, StatutOrientation.ACCEPTEE)
CLOSED_STATUSES = (StatutOrientation.REALISEE, StatutOrientation.REORIENTEE, StatutOrientation.ANNULEE)


def _base():
    return Orientation.objects.select_related(
        "aidant", "aidant__structure", "commune", "conseiller", "seance", "seance__atelier", "activite"
    )


def aidant_of(user):
    """The active aidant record linked to a user's account, or None."""
    if not user.is_authenticated:
        return None
    return Aidant.objects.filter(user=user, actif=True).select_related("structure").first()


def conseiller_of_user(user):
    if not user.is_authenticated:
        return None
    return Conseiller.objects.filter(user=user).first()


def orientations_visible_to(user):
    """Staff: all; otherwise the referrals the user sent (as an aidant) or received (as a conseiller)."""
    if not user.is_authenticated:
        return Orientation.objects.none()
    if user.is_staff:
        return _base()
    return _base().filter(Q(aidant__user=user) | Q(conseiller__user=user))


def orientations_sent_by(user):
    """'Mes orientations': the referrals the aidant linked to this account sent."""
    if not user.is_authenticated:
        return Orientation.objects.none()
    return _base().filter(aidant__user=user)


def orientations_received_by(user):
    """'Orientations reçues': the referrals addressed to the conseiller linked to this account."""
    if not user.is_authenticated:
        return Orientation.objects.none()
    return _base().filter(conseiller__user=user)


def sees_person(user, orientation):
    """The person's first name, contact details and the free precision: only the author and the conseiller in
    charge (staff included only when they are one of them)."""
    if not user.is_authenticated:
        return False
    return orientation.aidant.user_id == user.pk or (
        orientation.conseiller_id is not None and orientation.conseiller.user_id == user.pk
    )


# --- Destination --------------------------------------------------------------------------------------------------
def conseillers_destinataires(today=None):
    """Conseillers who can receive a referral: an active account, and currently in post (a running assignment or
    contract, or the conseiller role in a structure)."""
    today = today or timezone.localdate()
    running_contract = Contrat.objects.filter(conseiller=OuterRef("pk"), date_debut__lte=today).filter(
        Q(date_fin__isnull=True) | Q(date_fin__gte=today)
    )
    running_contract = running_contract.filter(Q(date_rupture__isnull=True) | Q(date_rupture__gt=today))
    return (
        Conseiller.objects.filter(user__isnull=False, user__is_active=True)
        .filter(
            Exists(Affectation.objects.filter(conseiller=OuterRef("pk"), date_debut__lte=today, date_fin__isnull=True))
            | Exists(running_contract)
            | Exists(Membership.objects.filter(user=OuterRef("user"), role=Role.CONSEILLER))
        )
        .order_by("nom", "prenom")
    )


def conseiller_covering(commune, *, today=None):
    """The conseiller covering a commune: the one whose activities of the last 6 months were most often in that
    commune; failing that, one employed by (or member of) a structure located in that commune; else None."""
    today = today or timezone.localdate()
    since = today - relativedelta(months=COVERAGE_MONTHS)
    eligible = conseillers_destinataires(today)
    best = (
        eligible.annotate(
            n=Count(
                "activites",
                filter=Q(
                    activites__commune=commune,
                    activites__date__gte=since,
                    activites__supprimee_le__isnull=True,
                ),
            )
        )
        .filter(n__gt=0)
        .order_by("-n", "nom", "prenom", "pk")
        .first()
    )
    if best is not None:
        return best
    local = (
        Exists(
            Affectation.objects.filter(
                conseiller=OuterRef("pk"), date_fin__isnull=True, poste__structure__commune=commune
            )
        )
        | Exists(
            Contrat.objects.filter(conseiller=OuterRef("pk"), poste__structure__commune=commune).filter(
                Q(date_fin__isnull=True) | Q(date_fin__gte=today)
            )
        )
        | Exists(Membership.objects.filter(user=OuterRef("user"), role=Role.CONSEILLER, structure__commune=commune))
    )
    return eligible.filter(local).order_by("nom", "prenom", "pk").first()


def activity_count_in(conseiller, commune, *, today=None):
    today = today or timezone.localdate()
    since = today - relativedelta(months=COVERAGE_MONTHS)
    return Activite.objects.actives().filter(conseiller=conseiller, commune=commune, date__gte=since).count()


# --- Working days -------------------------------------------------------------------------------------------------
def working_days_cutoff(now=None, days=LATE_WORKING_DAYS):
    """The latest moment a referral may have been sent to have waited ``days`` working days by ``now``. Working
    days are Monday to Friday; French public holidays are not taken out (a holiday counts as a working day), so a
    referral may be flagged a day early around them. Walks back through local (Paris) wall-clock time."""
    now = timezone.localtime(now or timezone.now())
    tz = now.tzinfo
    cur = now.replace(tzinfo=None)
    remaining = datetime.timedelta(days=days)
    while remaining > datetime.timedelta(0):
        midnight = datetime.datetime.combine(cur.date(), datetime.time.min)
        if cur == midnight:  # at a day boundary: step into the previous day
            previous = midnight - datetime.timedelta(days=1)
            if previous.weekday() >= 5:
                cur = previous
                continue
            take = min(remaining, datetime.timedelta(days=1))
        elif cur.weekday() >= 5:
            cur = midnight
            continue
        else:
            take = min(remaining, cur - midnight)
        cur -= take
        remaining -= take
    return timezone.make_aware(cur, tz)


def working_days_between(start, end):
    """Whole working days (Mon–Fri) elapsed from ``start`` to ``end`` (local dates), for display."""
    start, end = timezone.localtime(start).date(), timezone.localtime(end).date()
    days, cur = 0, start
    while cur < end:
        cur += datetime.timedelta(days=1)
        if cur.weekday() < 5:
            days += 1
    return days


def orientations_en_retard(now=None):
    """Referrals still 'Nouvelle' after 3 working days (staff's flag), oldest first."""
    return (
        _base()
        .filter(statut=StatutOrientation.NOUVELLE, created_at__lte=working_days_cutoff(now))
        .order_by("created_at", "pk")
    )


def is_late(orientation, now=None, cutoff=None):
    cutoff = cutoff or working_days_cutoff(now)
    return orientation.statut == StatutOrientation.NOUVELLE and orientation.created_at <= cutoff


# --- Status history -----------------------------------------------------------------------------------------------
def status_history(orientation):
    """The referral's status changes, oldest first: (moment, status label, who), from its audit history."""
    entries, previous = [], None
    rows = orientation.history.order_by("history_date", "history_id").select_related("history_user")
    for row in rows:
        if row.statut == previous:
            continue
        previous = row.statut
        who = row.history_user
        entries.append(
            {
                "date": row.history_date,
                "statut": StatutOrientation(row.statut).label,
                "par": (who.get_full_name() or who.email) if who is not None else "",
            }
        )
    return entries
