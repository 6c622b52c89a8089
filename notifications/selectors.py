"""Reads of the outbox for staff: the filtered list (without the bodies), the counts by status, the kinds known."""

import datetime

from django.db.models import Count
from django.utils import timezone

from .models import Email, StatutEmail

LIST_FIELDS = (
    "uuid",
    "destinataire",
    "type",
    "objet",
    "sujet",
    "statut",
    "tentatives",
    "prochain_essai",
    "envoye_le",
    "derniere_erreur",
    "created_at",
)


def _start_of(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def emails_for_staff(*, statut=None, type=None, du=None, au=None, destinataire=None):
    """The outbox, newest first, filtered; bodies and attachments are not read."""
    emails = Email.objects.only(*LIST_FIELDS).order_by("-created_at", "-pk")
    if statut:
        emails = emails.filter(statut=statut)
    if type:
        emails = emails.filter(type=type)
    if du:
        emails = emails.filter(created_at__gte=_start_of(du))
    if au:
        emails = emails.filter(created_at__lt=_start_of(au + datetime.timedelta(days=1)))
    if destinataire:
        emails = emails.filter(destinataire=destinataire.strip().lower())
    return emails


def counts_by_statut():
    """{statut: number} for every status, in one query."""
    counts = dict.fromkeys(StatutEmail.values, 0)
    rows = Email.objects.order_by().values_list("statut").annotate(n=Count("pk"))
    counts.update(dict(rows))
    return counts


def email_types():
    """The kinds of e-mail present in the outbox, for the filter."""
    return list(Email.objects.order_by("type").values_list("type", flat=True).distinct())
