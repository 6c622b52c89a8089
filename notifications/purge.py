"""Retention of the outbox: an e-mail holds its recipient's address and a body that may name a registrant or a
referred person, with their contact details. It is kept 12 months after it was sent (or written, when it never
left: failed, cancelled, missed), then deleted.

Deleted rather than blanked: nothing points to an e-mail (no foreign key; the pages reach one by its uuid and list
what is there), and a blanked row would still have to keep a unique (recipient, kind, object) to satisfy the outbox's
constraint. The constraint's other use, never writing the same reminder twice, looks back a few days only (the
family's window plus ``rappels.services.HORIZON``), far shorter than the retention, so nothing is sent again.
"""

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import Email

RETENTION_MONTHS = 12


def purge_cutoff(now=None):
    """E-mails sent (or, never sent, written) before this moment are deleted."""
    return (now or timezone.now()) - relativedelta(months=RETENTION_MONTHS)


def emails_erase(emails):
    """Delete ``emails`` (a queryset): recipient, subject, bodies and attachments go with the row. Joins the
    caller's transaction when there is one. Returns how many were deleted. Used by the nightly purge and by the
    erasure asked by a person (``donnees_personnelles``)."""
    with transaction.atomic():
        deleted, _by_model = emails.delete()
    return deleted


def emails_purger(*, now=None, batch=1000):
    """Delete the e-mails sent more than 12 months ago, and those never sent written more than 12 months ago (every
    night; idempotent). Returns how many were deleted."""
    cutoff = purge_cutoff(now)
    # An e-mail is sent after it is written: « written before the cutoff » holds for both cases and reads the
    # index on ``created_at``.
    old = Email.objects.filter(created_at__lt=cutoff).filter(Q(envoye_le__lt=cutoff) | Q(envoye_le__isnull=True))
    deleted = 0
    while ids := list(old.order_by("pk").values_list("pk", flat=True)[:batch]):
        deleted += emails_erase(Email.objects.filter(pk__in=ids))
    return deleted
