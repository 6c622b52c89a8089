"""Retention of the activity log's personal data: two years after the last contact with a followed person, their
identity and contact details are erased, in the row and in every version of its history; the free notes of
activities older than two years are emptied.

A followed person's row is kept, with its links to their accompaniments: the statistics count distinct people
followed by these links, and the national attributes (gender, age band, status, commune of residence) were copied on
each accompaniment at the time, so that no figure moves. ``anonymise_le`` marks an erased person: a run is
idempotent, and the pages show « Personne anonymisée ».

Simple-history does not see ``QuerySet.update()``: the history is cleaned by an update of the historical model
itself, the rows by ``bulk_update`` (the erasure is not a change worth a new version: it removes what the versions
held). The notes are not in the activity history (``Activite.history`` excludes them), so emptying the rows is
enough; a plain update also leaves ``updated_at`` alone, which the partner API's ``modified_since`` reads.

The same erase functions serve the per-person erasure asked by the person (``donnees_personnelles``).
"""

import datetime

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accompagnements import choices as c
from accompagnements.models import Activite, Beneficiaire
from sicoval_numerique.effacement import effacer

RETENTION_YEARS = 2
ERASED = {
    "prenom": "Personne",
    "nom": "anonymisée",
    "annee_naissance": None,
    "telephone": "",
    "email": "",
    "commune_residence": None,
}
REASON = "Anonymisation (2 ans après le dernier contact)"


def purge_cutoff(now=None):
    """People last seen (and whose consent was recorded) before this moment are anonymised."""
    return (now or timezone.now()) - relativedelta(years=RETENTION_YEARS)


def _due(now):
    """The followed people to anonymise at ``now``: no contact for two years (the last contact, or the consent when
    there was never one). The consent must be that old too, so that a file opened today for an activity typed
    with an old date is not erased tonight."""
    cutoff = purge_cutoff(now)
    cutoff_day = timezone.localtime(cutoff).date()
    return Beneficiaire.objects.filter(
        Q(dernier_contact__isnull=True) | Q(dernier_contact__lt=cutoff_day),
        anonymise_le__isnull=True,
        consentement_le__lt=cutoff,
    )


def beneficiaires_erase(beneficiaires, *, now=None, reason=REASON):
    """Erase the identity and contact details of ``beneficiaires`` (a queryset), in the rows and in every version of
    their history, and set ``anonymise_le``; people already anonymised are left as they are. Joins the caller's
    transaction when there is one. Returns how many people were anonymised."""
    return effacer(beneficiaires, champs=ERASED, marque="anonymise_le", now=now or timezone.now(), reason=reason)


def beneficiaires_anonymiser(*, now=None, batch=500):
    """Anonymise the followed people without contact for two years (every night; idempotent). Returns how many
    were anonymised."""
    now = now or timezone.now()
    erased = 0
    while True:
        with transaction.atomic():
            ids = list(
                _due(now).select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True)[:batch]
            )
            if not ids:
                return erased
            erased += beneficiaires_erase(Beneficiaire.objects.filter(pk__in=ids), now=now)


def activites_notes_erase(activites):
    """Empty the free notes of ``activites`` (a queryset). The notes are outside the activity history. Returns how
    many activities had notes."""
    return activites.exclude(notes="").update(notes="")


def activites_notes_purger(*, now=None, batch=2000):
    """Empty the notes of activities dated more than two years ago, deleted ones included (every night;
    idempotent). Returns how many activities had notes."""
    cutoff_day = timezone.localtime(purge_cutoff(now)).date()
    old = Activite.objects.filter(date__lt=cutoff_day).exclude(notes="")
    emptied = 0
    while ids := list(old.order_by("pk").values_list("pk", flat=True)[:batch]):
        emptied += activites_notes_erase(Activite.objects.filter(pk__in=ids))
    return emptied


def activites_about(beneficiaires):
    """The individual activities of ``beneficiaires``: their notes are about that one person (a workshop's notes
    are about a group and stay with the conseiller)."""
    return Activite.objects.filter(type=c.INDIVIDUEL, accompagnements__beneficiaire__in=beneficiaires)


def beneficiaire_retention_until(beneficiaire):
    """The day a followed person is anonymised if nobody sees them again (None once anonymised)."""
    if beneficiaire.anonymise_le is not None:
        return None
    consent = timezone.localtime(beneficiaire.consentement_le).date()
    last = max(consent, beneficiaire.dernier_contact or consent)
    return last + relativedelta(years=RETENTION_YEARS) + datetime.timedelta(days=1)
