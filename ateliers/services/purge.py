"""Retention of registrants' data: contact details are kept 12 months after the session (what the registration form
and every e-mail promise), then erased, in the registrations and in their history. What remains is anonymous
(status, presence, optional profile) and keeps the figures of the workshops right. ``inscriptions_erase`` is the one
erasure, used by the nightly purge and by the erasure a person asks for (``donnees_personnelles``)."""

import datetime
import uuid

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from ateliers.models import Inscription

RETENTION_MONTHS = 12
ERASED = {"prenom": "Personne", "nom": "anonymisée", "email": "", "telephone": ""}
# The key of an erased registration starts so (``Inscription`` allows such a row without contact).
PURGED = "purge:"
REASON = "Anonymisation (12 mois après la séance)"


def purge_cutoff(now=None):
    """Registrations of sessions that ended before this moment are erased."""
    return (now or timezone.now()) - relativedelta(months=RETENTION_MONTHS)


def inscriptions_erase(inscriptions, *, reason=REASON):
    """Erase the contact details of ``inscriptions`` (a queryset), in the rows and in every version of their history;
    registrations already erased are left as they are. Joins the caller's transaction when there is one. Returns how
    many registrations were erased. Used by the nightly purge and by the erasure asked by a person."""
    with transaction.atomic():
        rows = list(
            inscriptions.select_for_update(of=("self",)).exclude(cle_personne__startswith=PURGED).order_by("pk")
        )
        if not rows:
            return 0
        for row in rows:
            for name, value in ERASED.items():
                setattr(row, name, value)
            # Unique per row: the seat constraint (one live registration per person and session) must still hold.
            row.cle_personne = f"{PURGED}{uuid.uuid4()}"
        Inscription.objects.bulk_update(rows, [*ERASED, "cle_personne"])
        # The history keeps every version of a row: the erased fields go from all of them.
        Inscription.history.filter(id__in=[row.pk for row in rows]).update(
            **ERASED, cle_personne=PURGED, history_change_reason=reason
        )
    return len(rows)


def inscriptions_purger(*, now=None, batch=500):
    """Erase the contact details of the registrations whose session ended more than 12 months ago (idempotent).
    Returns how many registrations were erased."""
    erased = 0
    cutoff = purge_cutoff(now)
    while True:
        with transaction.atomic():
            ids = list(
                Inscription.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(seance__fin__lt=cutoff)
                .exclude(cle_personne__startswith=PURGED)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                return erased
            erased += inscriptions_erase(Inscription.objects.filter(pk__in=ids))


def inscription_retention_until(inscription):
    """The day a registration's contact details are erased."""
    fin = timezone.localtime(inscription.seance.fin).date()
    return fin + relativedelta(months=RETENTION_MONTHS) + datetime.timedelta(days=1)
