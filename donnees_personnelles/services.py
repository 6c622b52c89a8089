"""Staff's actions on one person's data, each recorded in the journal (``Demande``) in the same transaction.

- ``demande_export``: the person's records as a JSON or CSV file (right of access).
- ``demande_effacement``: the person's records erased at once (right to erasure), by the same functions as the
  retention purges, so that what « erased » means is written once per table: followed people anonymised (their rows
  and links kept for the statistics) and the notes of their individual accompaniments emptied, registrations and
  referrals stripped of their contact details, e-mails deleted; every version of the history cleaned. All or
  nothing: one failure rolls everything back, the journal row included.

Only staff (who log in with MFA) act; the journal keeps who, when, what and how many, with the criterion masked.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accompagnements.models import Beneficiaire
from accompagnements.services.purge import activites_about, activites_notes_erase, beneficiaires_erase
from aidants.models import Orientation
from aidants.services_orientations import orientations_erase
from ateliers.models import Inscription
from ateliers.services.purge import inscriptions_erase
from notifications.models import Email
from notifications.purge import emails_erase

from . import exports, selectors
from .models import Demande, TypeDemande

REASON = "Effacement à la demande de la personne"
EXPORTS = (TypeDemande.EXPORT_JSON, TypeDemande.EXPORT_CSV)


def _require_staff(by):
    if not (by.is_authenticated and by.is_staff):
        raise PermissionDenied("Les demandes sur les données personnelles sont traitées par l'équipe Sicoval.")


def _record(*, by, type, critere, counts, now, **extra):
    return Demande.objects.create(
        type=type,
        par=by,
        le=now,
        type_critere=critere.type,
        critere_masque=critere.masque(),
        nombre_enregistrements=sum(counts.values()),
        detail={**counts, **extra},
    )


@transaction.atomic
def demande_export(*, by, critere, type):
    """The person's records as a file; returns (the journal row, the file's bytes). An export that finds nothing
    is a valid answer (« we hold nothing about you ») and is journaled too."""
    _require_staff(by)
    if type not in EXPORTS:
        raise ValidationError({"format": "Choisissez un export JSON ou CSV."})
    now = timezone.now()
    dossier = selectors.dossier_of(critere, with_bodies=True)
    content = exports.as_json(dossier, now=now) if type == TypeDemande.EXPORT_JSON else exports.as_csv(dossier)
    demande = _record(by=by, type=type, critere=critere, counts=dossier.counts(), now=now)
    return demande, content


@transaction.atomic
def demande_effacement(*, by, critere, attendu=None):
    """Erase every record found for the person; ``attendu`` is the number of records the staff member confirmed:
    when the records changed in between, nothing is erased and they check again. Returns the journal row."""
    _require_staff(by)
    dossier = selectors.dossier_of(critere)
    total = dossier.total
    if total == 0:
        raise ValidationError("Aucun enregistrement ne correspond à cette recherche : il n'y a rien à effacer.")
    if attendu is not None and attendu != total:
        raise ValidationError(
            f"Les enregistrements trouvés ont changé depuis votre vérification ({total} au lieu de {attendu}) : "
            "vérifiez-les de nouveau avant d'effacer.",
            code="changed",
        )
    now = timezone.now()
    beneficiaires = Beneficiaire.objects.filter(pk__in=[row.pk for row in dossier.beneficiaires])
    notes = activites_notes_erase(activites_about(beneficiaires))
    beneficiaires_erase(beneficiaires, now=now, reason=REASON)
    inscriptions_erase(Inscription.objects.filter(pk__in=[row.pk for row in dossier.inscriptions]), reason=REASON)
    orientations_erase(
        Orientation.objects.filter(pk__in=[row.pk for row in dossier.orientations]), now=now, reason=REASON
    )
    emails_erase(Email.objects.filter(pk__in=[row.pk for row in dossier.emails]))
    return _record(
        by=by, type=TypeDemande.EFFACEMENT, critere=critere, counts=dossier.counts(), now=now, notes_effacees=notes
    )
