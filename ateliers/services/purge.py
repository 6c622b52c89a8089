"""Retention of registrants' data: contact details are kept 12 months after the session (what the registration form
and every e-mail promise), then erased, in the registrations and in their history. What remains is anonymous
(status, presence, optional profile) and keeps the figures of the workshops right."""

import datetime
import uuid

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from ateliers.models import Inscription

RETENTION_MONTHS = 12
ERASED = {"prenom": "Personne", "nom": "anonymisée", "email": "", "telephone": ""}


def purge_cutoff(now=None):
    """Registrations of sessions that ended before this moment are erased."""
    return (now or timezone.now()) - relativedelta(months=RETENTION_MONTHS)


def inscriptions_purger(*, now=None, batch=500):
    """Erase the contact details of the registrations whose session ended more than 12 months ago (idempotent).
    Returns how many registrations were erased."""
    erased = 0
    cutoff = purge_cutoff(now)
    while True:
        with transaction.atomic():
            rows = list(
                Inscription.objects.select_for_update(skip_locked=True)
                .filter(seance__fin__lt=cutoff)
                .exclude(cle_personne__startswith="purge:")
                .order_by("pk")[:batch]
            )
            if not rows:
                return erased
            for row in rows:
                for name, value in ERASED.items():
                    setattr(row, name, value)
                row.cle_personne = f"purge:{uuid.uuid4()}"
            Inscription.objects.bulk_update(rows, [*ERASED, "cle_personne"])
            # The history keeps every version of a row: the erased fields go from all of them.
            Inscription.history.filter(id__in=[row.pk for row in rows]).update(
                **ERASED, cle_personne="purge:", history_change_reason="Anonymisation (12 mois après la séance)"
            )
            erased += len(rows)


def inscription_retention_until(inscription):
    """The day a registration's contact details are erased."""
    fin = timezone.localtime(inscription.seance.fin).date()
    return fin + relativedelta(months=RETENTION_MONTHS) + datetime.timedelta(days=1)
